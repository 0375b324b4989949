/**
 * `meow import-mig`: a mig_meow meow_directory (files without extensions,
 * recipes in a YAML wrapper) becomes a workgroup that loads and validates;
 * every change is reported; nothing is overwritten without --force.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { makeProgram } from '../../../src/service/cli';
import { validate } from '../../../src/service/cliInspect';
import { formatImport, importMig } from '../../../src/service/cliImportMig';
import { makeWorkgroup, removeWorkgroup } from '../../helpers/workgroup';

const EXAMPLE = path.join(__dirname, '../../data/mig_meow_directory');
const NB =
  '{cells: [{cell_type: code, source: "infile = 1", metadata: {}, outputs: []}], metadata: {}, nbformat: 4, nbformat_minor: 4}';

/** Run the real `meow` program, capturing stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: any) => (out.push(String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: any) => (err.push(String(c)), true));
  process.exitCode = undefined;
  try {
    await makeProgram()
      .exitOverride()
      .parseAsync(['node', 'meow', ...args]);
    return { code: Number(process.exitCode ?? 0), out: out.join(''), err: err.join('') };
  } finally {
    process.exitCode = undefined;
    o.mockRestore();
    e.mockRestore();
  }
}

describe('meow import-mig', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeWorkgroup();
  });
  afterEach(async () => {
    await removeWorkgroup(root);
  });

  it('imports the thesis meow_directory: patterns renamed to .yaml unchanged, recipes taken out of YAML', async () => {
    const { code, out } = await cli(['import-mig', EXAMPLE, '--into', root]);
    expect(code).toBe(0);
    const patterns = (await fs.readdir(path.join(root, '.meow/patterns'))).sort();
    const recipes = (await fs.readdir(path.join(root, '.meow/recipes'))).sort();
    expect(patterns).toEqual(['adder.yaml', 'first_mult.yaml', 'pAppend.yaml', 'second_mult.yaml', 'third_choo.yaml']);
    expect(recipes).toEqual(['add.ipynb', 'choo.ipynb', 'mult.ipynb', 'rAppend.ipynb']);
    // Loads unchanged: the pattern file is the mig_meow file, comments and all.
    expect(await fs.readFile(path.join(root, '.meow/patterns/adder.yaml'), 'utf8')).toBe(
      await fs.readFile(path.join(EXAMPLE, 'patterns/adder'), 'utf8')
    );
    const nb = JSON.parse(await fs.readFile(path.join(root, '.meow/recipes/mult.ipynb'), 'utf8'));
    expect(nb.cells[0].source.join('')).toMatch(/^factor = 2$/m);
    expect(out).toMatch(
      /patterns\/adder → \.meow\/patterns\/adder\.yaml {2}imported, changed\n {2}- renamed to adder\.yaml/
    );
    expect(out).toMatch(
      /recipes\/mult → \.meow\/recipes\/mult\.ipynb .*\n {2}- notebook taken out of mig_meow's YAML wrapper \(source: multiplier\.ipynb\)/
    );
    expect(out).toMatch(/wrote 9 file\(s\), 0 already there, 0 not written, 0 refused/);
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await validate(root, { stateDir: '.meow' })).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('is idempotent, and never replaces a different file without --force', async () => {
    await importMig(EXAMPLE, { into: root });
    const again = await importMig(EXAMPLE, { into: root });
    expect(again.notes.every(n => n.outcome === 'unchanged')).toBe(true);
    const file = path.join(root, '.meow/patterns/pAppend.yaml');
    await fs.writeFile(file, 'mine\n');
    const { code, out } = await cli(['import-mig', path.join(EXAMPLE, 'patterns/pAppend'), '--into', root]);
    expect(code).toBe(1);
    expect(out).toMatch(/\.meow\/patterns\/pAppend\.yaml exists and differs; kept it \(use --force to replace it\)/);
    expect(await fs.readFile(file, 'utf8')).toBe('mine\n');
    expect((await cli(['import-mig', path.join(EXAMPLE, 'patterns/pAppend'), '--into', root, '--force'])).code).toBe(0);
    expect(await fs.readFile(file, 'utf8')).toMatch(/^input_file: infile$/m);
  });

  it('fixes what mig_meow allowed and reports each change', async () => {
    const src = await makeWorkgroup({
      'two.yaml':
        'input_file: infile\ninput_paths: [a/*, b/*]\nrecipes: [R]\nname: elsewhere\npersistence_id: "123"\n' +
        'variables: {outfile: x, k: 1}\noutput: {outfile: "{VGRID}/out/{FILENAME}"}\n',
      'R.yaml': `recipe: ${NB}\nsource: r.ipynb\nenvironments: {local: {dependencies: [numpy]}}\n`
    });
    try {
      const result = await importMig(src, { into: root, dryRun: true });
      expect(Object.keys(result.files).sort()).toEqual([
        '.meow/patterns/two_1.yaml',
        '.meow/patterns/two_2.yaml',
        '.meow/recipes/R.ipynb'
      ]);
      expect(result.files['.meow/patterns/two_2.yaml']).toMatch(/input_paths:\s*\[?\s*-? ?b\/\*/);
      const text = formatImport(result, true);
      expect(text).toMatch(/removed "name: elsewhere" \(the file name is the pattern name, as in mig_meow\)/);
      expect(text).toMatch(/removed "persistence_id", which mig_meow kept for itself/);
      expect(text).toMatch(/removed variables\.outfile: output\.outfile set it too, and mig_meow used that value/);
      expect(text).toMatch(/split into two_1, two_2: one per input path and recipe/);
      expect(text).toMatch(/dropped "environments"/);
      expect(text).toMatch(/would write 3 file\(s\)/);
      await expect(fs.stat(path.join(root, '.meow'))).rejects.toThrow(); // dry run
    } finally {
      await removeWorkgroup(src);
    }
  });

  it('refuses what meow cannot run, with the field and the fix, and notes how sweeps differ', async () => {
    const src = await makeWorkgroup({
      'patterns/noinput': 'input_paths: [a/*]\nrecipes: [R]\n',
      'patterns/floaty':
        'input_file: infile\ninput_paths: [a/*]\nrecipes: [R]\nparameterize_over: {x: {start: 0.0, stop: 0.3, increment: 0.1}}\n',
      'recipes/empty': 'recipe: {cells: [], metadata: {}, nbformat: 4, nbformat_minor: 4}\nsource: e.ipynb\n'
    });
    try {
      const { code, out } = await cli(['import-mig', src, '--into', root]);
      expect(code).toBe(1);
      expect(out).toMatch(
        /recipes\/empty → \.meow\/recipes\/empty\.ipynb {2}REFUSED\n {2}- meow refuses it: field "recipe\.cells" has no code cell/
      );
      expect(out).toMatch(
        /parameterize_over\.x: meow makes 4 value\(s\), stop included exactly; mig_meow's float additions made 3/
      );
      expect(out).toMatch(/recipe "R" is neither imported nor in the workgroup/);
      // Issue 11, point 4 (engineer A): a thesis pattern without input_file is refused.
      expect(out).toMatch(
        /patterns\/noinput → \.meow\/patterns\/noinput\.yaml {2}REFUSED\n {2}- meow refuses it: field "input_file"/
      );
      await expect(fs.stat(path.join(root, '.meow/recipes/empty.ipynb'))).rejects.toThrow();
    } finally {
      await removeWorkgroup(src);
    }
  });

  it('says clearly when the path is missing', async () => {
    const { code, err } = await cli(['import-mig', path.join(root, 'nope'), '--into', root]);
    expect(code).toBe(2);
    expect(err).toMatch(/nope does not exist; give a mig_meow meow_directory \(with patterns\/ and recipes\/\)/);
  });
});
