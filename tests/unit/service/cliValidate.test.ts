/**
 * `meow validate`: a keyword typo is an error (exit code 1) naming the file,
 * the field and the nearest keyword; a name the recipe does not assign is a
 * warning with "did you mean" (exit code 0 when that is all).
 */
import { validate } from '../../../src/service/cliInspect';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';

const RECIPE = recipeNotebook({ infile: "''", outfile: "''" });

async function run(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const root = await makeWorkgroup(files);
  const chunks: string[] = [];
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: any) => (chunks.push(String(chunk)), true));
  try {
    const code = await validate(root, { stateDir: '.meow' });
    return { code, out: chunks.join('') };
  } finally {
    spy.mockRestore();
    await removeWorkgroup(root);
  }
}

describe('meow validate', () => {
  it('a keyword typo is an error with the field and a suggestion; exit code 1', async () => {
    const { code, out } = await run({
      '.meow/recipes/Append.ipynb': RECIPE,
      '.meow/patterns/Typo.yaml':
        'recipe: Append\ntrigger: {path: "data/in/*"}\ninput: infile\noutputs:\n  outfile: "{VGRID}/data/out/{FILENAM}"\n'
    });
    expect(code).toBe(1);
    expect(out).toMatch(
      /\.meow\/patterns\/Typo\.yaml:\n {2}pattern "Typo": field "outputs\.outfile" uses \{FILENAM\}, which is not a keyword.*did you mean \{FILENAME\}\?/
    );
  });

  it('a name the recipe does not assign is a warning with "did you mean"; exit code 0', async () => {
    const { code, out } = await run({
      '.meow/recipes/Append.ipynb': RECIPE,
      '.meow/patterns/Names.yaml':
        'recipe: Append\ntrigger: {path: "data/in/*"}\ninput: infile\noutputs:\n  outfle: "{VGRID}/data/out/{FILENAME}"\n'
    });
    expect(code).toBe(0);
    expect(out).toMatch(
      /\.meow\/patterns\/Names\.yaml:\n {2}pattern "Names": field "outputs\.outfle" names "outfle", which recipe "Append" does not assign.*did you mean "outfile"\? \(warning\)/
    );
    expect(out).toMatch(/1 pattern\(s\), 1 recipe\(s\), 1 rule\(s\), 0 file\(s\) with problems, 1 with warnings/);
  });

  it('says which patterns match as mig_meow (fnmatch); refuses a thesis pattern without input_file', async () => {
    const { code, out } = await run({
      '.meow/recipes/Append.ipynb': RECIPE,
      '.meow/patterns/Thesis.yaml': "input_file: infile\ninput_paths: ['deep/*']\nrecipes: [Append]\n",
      '.meow/patterns/Native.yaml': 'recipe: Append\ntrigger: {path: "deep/*", glob: fnmatch}\ninput: infile\n',
      '.meow/patterns/Plain.yaml': 'recipe: Append\ntrigger: {path: "deep/*"}\ninput: infile\n',
      '.meow/patterns/NoInput.yaml': "input_paths: ['deep/*']\nrecipes: [Append]\n"
    });
    expect(code).toBe(1);
    expect(out).toContain(
      'note: pattern Thesis (thesis format) matches "deep/*" as mig_meow did (fnmatch: * and ? also match "/" and dot files)'
    );
    expect(out).toContain('note: pattern Native (glob: fnmatch) matches "deep/*" as mig_meow did');
    expect(out).not.toMatch(/pattern Plain \(/);
    expect(out).toMatch(
      /\.meow\/patterns\/NoInput\.yaml:\n {2}pattern "NoInput": field "input_file" is missing, so the jobs would never receive the triggering file's path/
    );
  });
});
