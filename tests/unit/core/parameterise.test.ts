import { INJECTED_TAG, findAssignments, parameteriseNotebook, splitLines } from '../../../src/core/parameterise';
import { PyDict, PyFloat, parseYamlValues } from '../../../src/core/pyvalue';
import type { INotebook, INotebookCell } from '../../../src/core/types';

function code(source: string | string[], extra: Partial<INotebookCell> = {}): INotebookCell {
  return { cell_type: 'code', metadata: {}, outputs: [], execution_count: null, source, ...extra };
}

function nbOf(cells: INotebookCell[], minor = 4): INotebook {
  return { nbformat: 4, nbformat_minor: minor, metadata: { kernelspec: { name: 'python3' } }, cells };
}

const text = (c: INotebookCell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

/** Parameterise one code cell and return its new text. */
function rewrite(source: string, values: Record<string, unknown>): string {
  const { notebook } = parameteriseNotebook(nbOf([code(source)]), values);
  return text(notebook.cells[notebook.cells.length - 1]);
}

describe('spec §4: the first top-level assignment is rewritten (no tags needed)', () => {
  it('rewrites `name = ...` to the literal', () => {
    expect(rewrite('infile = "default.txt"\nprint(infile)\n', { infile: 'start/a.txt' })).toBe(
      "infile = 'start/a.txt'\nprint(infile)\n"
    );
  });

  it('handles `name=3`, trailing comments and semicolons', () => {
    expect(rewrite('x=3\n', { x: 4 })).toBe('x = 4\n');
    expect(rewrite('x = 3  # the x\n', { x: 4 })).toBe('x = 4  # the x\n');
    expect(rewrite('x = "a#b"  # c\n', { x: 'z' })).toBe("x = 'z'  # c\n");
    expect(rewrite('x = 3; y = 4\n', { x: 5 })).toBe('x = 5; y = 4\n');
  });

  it('handles annotated assignments, keeping the annotation', () => {
    expect(rewrite('x: int = 3\n', { x: 4 })).toBe('x: int = 4\n');
    expect(rewrite('x: dict[str, int] = {"a": 1}\n', { x: {} })).toBe('x: dict[str, int] = {}\n');
    // An annotation without a value assigns nothing; the next line does.
    expect(rewrite('x: int\nx = 1\n', { x: 2 })).toBe('x: int\nx = 2\n');
  });

  it('replaces multi-line values whole: brackets, backslashes, triple quotes', () => {
    expect(rewrite('x = [\n    1,  # one\n    2,\n]  # tail\nprint(x)\n', { x: [3] })).toBe(
      'x = [3]  # tail\nprint(x)\n'
    );
    expect(rewrite('x = 1 + \\\n    2\ny = 0\n', { x: 9 })).toBe('x = 9\ny = 0\n');
    expect(rewrite('x = """a\nx = 5\n"""\ny = 1\n', { x: 'b' })).toBe("x = 'b'\ny = 1\n");
    expect(rewrite("x = f(\n  'a)',\n  ')'\n)\n", { x: 1 })).toBe('x = 1\n');
  });

  it('does not touch comparisons, augmented assignments, other names or tuple targets', () => {
    const src = 'x == 3\nx += 1\nx_other = 1\nother_x = 2\na, x = 1, 2\nx.attr = 3\nx[0] = 4\nx: int\n';
    const { notebook, rewritten, injected } = parameteriseNotebook(nbOf([code(src)]), { x: 7 });
    expect(rewritten).toEqual([]);
    expect(injected).toEqual(['x']);
    expect(text(notebook.cells[1])).toBe(src);
    expect(text(notebook.cells[0])).toBe('# Parameters not assigned in the notebook, injected by MEOW\nx = 7\n');
  });

  it('ignores indented code (def/class/if bodies), strings and comments', () => {
    const src = [
      'def f():',
      '    x = 1',
      'class C:',
      '    x = 2',
      'if True:',
      '    x = 3',
      's = """',
      'x = 4',
      '"""',
      '# x = 5',
      't = (',
      'x)',
      'x = 6',
      ''
    ].join('\n');
    expect(rewrite(src, { x: 0 })).toBe(src.replace('x = 6', 'x = 0'));
  });

  it('only the first assignment (in cell order) is rewritten', () => {
    const { notebook, rewritten } = parameteriseNotebook(
      nbOf([code('y = 1\n'), code('x = 1\nx = 2\n'), code('x = 3\n')]),
      { x: 'new' }
    );
    expect(rewritten).toEqual(['x']);
    expect(notebook.cells.map(text)).toEqual(['y = 1\n', "x = 'new'\nx = 2\n", 'x = 3\n']);
  });

  it('chained `name = other = v` keeps the other assignment', () => {
    expect(rewrite('x = y = 5\n', { x: 1 })).toBe('y = 5\nx = 1\n');
    // A lambda default is not a chained assignment.
    expect(rewrite('x = lambda a=1: a\n', { x: 2 })).toBe('x = 2\n');
  });

  it('skips IPython magics and non-Python cell magics', () => {
    expect(rewrite("%matplotlib inline\n!echo 'x = 1\nx = 2\n", { x: 3 })).toBe(
      "%matplotlib inline\n!echo 'x = 1\nx = 3\n"
    );
    const { notebook, injected } = parameteriseNotebook(nbOf([code('%%bash\nx=1\n')]), { x: 3 });
    expect(injected).toEqual(['x']);
    expect(text(notebook.cells[1])).toBe('%%bash\nx=1\n');
    expect(rewrite('%%time\nx = 1\n', { x: 3 })).toBe('%%time\nx = 3\n');
  });

  it('keeps the source form: list of lines or string', () => {
    const { notebook } = parameteriseNotebook(
      nbOf([code(['a = 1\n', 'b = [\n', '  2,\n', ']\n', 'c = 3']), code('a2 = 1\n')]),
      { b: 'x', a2: 5 }
    );
    expect(notebook.cells[0].source).toEqual(['a = 1\n', "b = 'x'\n", 'c = 3']);
    expect(notebook.cells[1].source).toBe('a2 = 5\n');
  });

  it('writes every kind of value as a Python literal', () => {
    expect(
      rewrite('a = 0\nb = 0\nc = 0\nd = 0\ne = 0\nf = 0\n', {
        a: new PyFloat(1),
        b: null,
        c: true,
        d: [1, 'x'],
        e: { k: 1.5 },
        f: "it's"
      })
    ).toBe(`a = 1.0\nb = None\nc = True\nd = [1, 'x']\ne = {'k': 1.5}\nf = "it's"\n`);
  });

  it('variables found nowhere are injected in a tagged cell at the top', () => {
    const { notebook, rewritten, injected, mode } = parameteriseNotebook(
      nbOf([{ cell_type: 'markdown', metadata: {}, source: 'x = 1' }, code('y = 1\n')]),
      { x: 1, y: 2, z: 'zz' }
    );
    expect(mode).toBe('assignments');
    expect(rewritten).toEqual(['y']);
    expect(injected).toEqual(['x', 'z']);
    expect(notebook.cells[0].metadata.tags).toEqual([INJECTED_TAG]);
    expect(text(notebook.cells[0])).toBe(
      "# Parameters not assigned in the notebook, injected by MEOW\nx = 1\nz = 'zz'\n"
    );
    // Markdown is never rewritten.
    expect(notebook.cells[1].source).toBe('x = 1');
  });
});

describe('spec §4: a `parameters`-tagged cell gets an injected cell after it (papermill)', () => {
  it('injects all values after the tagged cell and rewrites nothing', () => {
    const nb = nbOf([
      code('import os\n'),
      code('x = 1\ny = 2\n', { metadata: { tags: ['parameters'] } }),
      code('x = 5\n')
    ]);
    const { notebook, rewritten, injected, mode } = parameteriseNotebook(nb, { x: 10, z: 'new' });
    expect(mode).toBe('parameters-cell');
    expect(rewritten).toEqual([]);
    expect(injected).toEqual(['x', 'z']);
    expect(notebook.cells.map(text)).toEqual([
      'import os\n',
      'x = 1\ny = 2\n',
      "# Parameters\nx = 10\nz = 'new'\n",
      'x = 5\n'
    ]);
    expect(notebook.cells[2].metadata).toEqual({ tags: [INJECTED_TAG] });
    expect(notebook.cells[2].cell_type).toBe('code');
  });

  it('replaces an earlier injected cell instead of stacking', () => {
    const nb = nbOf([
      code('x = 1\n', { metadata: { tags: ['parameters'] } }),
      code('# Parameters\nx = 2\n', { metadata: { tags: [INJECTED_TAG] } }),
      code('print(x)\n')
    ]);
    const { notebook } = parameteriseNotebook(nb, { x: 3 });
    expect(notebook.cells.map(text)).toEqual(['x = 1\n', '# Parameters\nx = 3\n', 'print(x)\n']);
  });
});

describe('notebook hygiene', () => {
  it('never mutates the input and clears outputs and execution counts', () => {
    const nb = nbOf([
      code('x = 1\n', { outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi' }], execution_count: 4 }),
      { cell_type: 'markdown', metadata: {}, source: '# title' }
    ]);
    const before = JSON.stringify(nb);
    const { notebook } = parameteriseNotebook(nb, { x: 2, y: 3 });
    expect(JSON.stringify(nb)).toBe(before);
    expect(notebook).not.toBe(nb);
    const codeCells = notebook.cells.filter(c => c.cell_type === 'code');
    expect(codeCells.every(c => Array.isArray(c.outputs) && c.outputs.length === 0 && c.execution_count === null)).toBe(
      true
    );
    expect('outputs' in notebook.cells.find(c => c.cell_type === 'markdown')!).toBe(false);
  });

  it('injected cells get fresh unique ids from nbformat 4.5', () => {
    const nb = nbOf([code('a = 1\n', { id: 'injected-parameters', metadata: { tags: ['parameters'] } })], 5);
    const { notebook } = parameteriseNotebook(nb, { a: 2 });
    expect(notebook.cells[1].id).toBe('injected-parameters-2');
    const ids = notebook.cells.map(c => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const top = parameteriseNotebook(nbOf([code('b = 1\n', { id: 'c1' })], 5), { z: 1 }).notebook;
    expect(top.cells[0].id).toBe('injected-parameters');
    // Before 4.5 there are no ids.
    const old = parameteriseNotebook(nbOf([code('b = 1\n')], 4), { z: 1 }).notebook;
    expect('id' in old.cells[0]).toBe(false);
  });

  it('rejects names that are not Python identifiers', () => {
    expect(() => parameteriseNotebook(nbOf([code('')]), { 'my-var': 1 })).toThrow(/not a Python variable name/);
  });

  it('an empty set of values changes only outputs', () => {
    const nb = nbOf([code('x = 1\n', { metadata: { tags: ['parameters'] } })]);
    const r = parameteriseNotebook(nb, {});
    expect(r.notebook.cells.map(text)).toEqual(['x = 1\n']);
    expect(r.injected).toEqual([]);
  });
});

describe('scanner helpers', () => {
  it('splitLines keeps newlines as nbformat does', () => {
    expect(splitLines('a\nb\n')).toEqual(['a\n', 'b\n']);
    expect(splitLines('a\nb')).toEqual(['a\n', 'b']);
    expect(splitLines('')).toEqual([]);
  });

  it('findAssignments finds each wanted name once', () => {
    const edits = findAssignments('a = 1\nb = 2\na = 3\n', new Set(['a', 'b', 'c']));
    expect(edits.map(e => [e.name, e.start, e.end])).toEqual([
      ['a', 0, 5],
      ['b', 6, 11]
    ]);
  });
});

describe('YAML types in the notebook (issue 11.2, 11.3)', () => {
  it('dict keys keep their type and whole floats stay floats', () => {
    const values = parseYamlValues(
      'd: {1: 1, 2: 2}\nfl1: 1.0\nmixed: {1: a, b: c}\nflags: {true: t, null: n, 1.5: h}\nrows: [{1: x}]\nouter: {in: {2: y}}\n'
    ) as Record<string, unknown>;
    expect(values.d).toBeInstanceOf(PyDict);
    const out = rewrite('d = {}\nfl1 = 0\nmixed = {}\nflags = {}\nrows = []\nouter = {}\n', values);
    expect(out).toBe(
      [
        'd = {1: 1, 2: 2}',
        'fl1 = 1.0',
        "mixed = {1: 'a', 'b': 'c'}",
        "flags = {True: 't', None: 'n', 1.5: 'h'}",
        "rows = [{1: 'x'}]",
        "outer = {'in': {2: 'y'}}",
        ''
      ].join('\n')
    );
  });

  it('injected cells write PyDicts too', () => {
    const { notebook } = parameteriseNotebook(nbOf([code('x = 1\n', { metadata: { tags: ['parameters'] } })]), {
      d: new PyDict([[1, new PyFloat(1)]])
    });
    expect(text(notebook.cells[1])).toBe('# Parameters\nd = {1: 1.0}\n');
  });
});
