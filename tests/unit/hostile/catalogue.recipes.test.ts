/**
 * Hostile-input catalogue, part 2: recipe files (see harness.ts).
 */
import { promises as fs } from 'fs';
import { Catalogue } from './harness';

const R = (name: string) => `.meow/recipes/${name}`;
const nb = (cells: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 4, ...extra });
const code = { cell_type: 'code', source: 'x = 1', metadata: {}, outputs: [], execution_count: null };

const ENTRIES: [string, string, string | Buffer, RegExp][] = [
  [
    'JSON but not a notebook',
    'plainjson.ipynb',
    '{"hello": "world"}',
    /recipe "plainjson": field "cells" is missing or not a list/
  ],
  ['a JSON list', 'list.ipynb', '[1, 2, 3]', /recipe "list": must be a notebook \(a mapping with "cells"\)/],
  [
    'plain text',
    'text.ipynb',
    'print("hello")\n',
    /recipe "text": is not valid notebook JSON: .*; save the notebook again from Jupyter/
  ],
  ['binary', 'binary.ipynb', Buffer.from([0, 1, 2, 0xff, 0xfe, 0x89, 0x50]), /recipe "binary": is not UTF-8 text/],
  ['empty', 'empty.ipynb', '', /recipe "empty": is not valid notebook JSON/],
  [
    'no code cells',
    'nocode.ipynb',
    nb([{ cell_type: 'markdown', source: '# hi', metadata: {} }]),
    /recipe "nocode": field "cells" has no code cell/
  ],
  [
    'nbformat 3',
    'v3.ipynb',
    JSON.stringify({ nbformat: 3, nbformat_minor: 0, worksheets: [{ cells: [] }], metadata: {} }),
    /recipe "v3": field "nbformat" is 3; only nbformat 4 notebooks can run/
  ],
  [
    'bad cell type',
    'badcell.ipynb',
    nb([code, { cell_type: 'picture', source: '', metadata: {} }]),
    /field "cells\[1\]\.cell_type" must be "code", "markdown" or "raw"/
  ],
  [
    '50,000 broken cells: one short message',
    'manybad.ipynb',
    nb([code, ...Array(50000).fill({ cell_type: 'x' })]),
    /has problems in 49990 more cells than those listed/
  ],
  [
    'kernelspec without a name',
    'nokernel.ipynb',
    nb([code], { metadata: { kernelspec: { display_name: 'Python' } } }),
    /recipe "nokernel": field "metadata.kernelspec.name" must be the name of a Jupyter kernel/
  ],
  [
    'YAML recipe: bomb',
    'bomb.yaml',
    'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nrecipe: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    /recipe "bomb": is not valid YAML: .*billion laughs/
  ],
  [
    'YAML recipe: unknown key',
    'oldfmt.yaml',
    'recipe: {cells: [], nbformat: 4}\nsourec: x.ipynb\n',
    /recipe "oldfmt": field "sourec" is not a recipe field/
  ],
  [
    'a name with a space',
    'my recipe.ipynb',
    nb([code]),
    /recipe "my recipe": field "name" contains characters other than/
  ]
];

describe('hostile recipe files', () => {
  const c = new Catalogue();
  beforeAll(() => c.start(), 60000);
  afterAll(() => c.stop());

  it.each(ENTRIES)('%s', async (_entry, file, content, expected) => {
    await c.write(R(file), content);
    const problem = await c.problem(R(file));
    expect(problem).toMatch(expected);
    expect(problem.length).toBeLessThan(3000);
    expect(c.runner.workflow.recipes.has(file.replace(/\.(ipynb|ya?ml)$/, ''))).toBe(false);
    expect(c.logged(R(file)).some(l => l.startsWith('error:'))).toBe(true);
    await c.stillServing();
  });

  it('a BOM before the notebook JSON is accepted', async () => {
    await c.write(R('bom.ipynb'), '\ufeff' + nb([code]));
    await until(() => c.runner.workflow.recipes.has('bom'));
    await c.stillServing();
  });

  it('a recipe symlink loop is reported, not followed forever', async () => {
    await fs.symlink('loop.ipynb', c.abs(R('loop.ipynb')));
    expect(await c.problem(R('loop.ipynb'))).toMatch(/recipe "loop": is a symbolic link that loops/);
    await c.stillServing();
  });

  it('a broken recipe for the running pattern removes its rule but leaves other jobs alone', async () => {
    await c.write(R('Other.ipynb'), nb([code]));
    await c.write('.meow/patterns/UsesOther.yaml', 'recipe: Other\ntrigger: {path: "other/*"}\n');
    await until(() => [...c.runner.workflow.rules.values()].some(r => r.pattern.name === 'UsesOther'));
    await c.write(R('Other.ipynb'), 'not json');
    expect(await c.problem(R('Other.ipynb'))).toMatch(/recipe "Other": is not valid notebook JSON/);
    await until(() => ![...c.runner.workflow.rules.values()].some(r => r.pattern.name === 'UsesOther'));
    await c.stillServing();
  });
});

async function until(check: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await new Promise(r => setTimeout(r, 20));
  }
}
