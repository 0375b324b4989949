/**
 * The Python literals are checked by Python itself: every literal is read
 * back with `ast.literal_eval` (or, for `float('inf')` / `float('nan')`,
 * `eval` with only `float` available) and compared, type and value, with
 * the JavaScript value it was made from. Parameterised notebooks are also
 * executed, to prove the rewritten cells run and set the variables.
 *
 * This is the only core test that does I/O (it spawns Python).
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { parameteriseNotebook } from '../../../src/core/parameterise';
import { substituteKeywords } from '../../../src/core/keywords';
import { PyDict, PyFloat, parseYamlValues, toPythonLiteral } from '../../../src/core/pyvalue';
import { sweepParameters } from '../../../src/core/sweep';
import type { INotebook } from '../../../src/core/types';

const VENV_PYTHON = path.resolve(__dirname, '../../../.venv/bin/python3');
const PYTHON = existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3';

/** Reads JSON requests on stdin; answers type-tagged values as JSON. */
const EVALUATOR = String.raw`
import ast, json, sys

def tag(v):
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, str):
        return {"str": v}
    if v is None:
        return {"none": None}
    if isinstance(v, list):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tag(k), tag(x)] for k, x in v.items()]}
    return {"other": repr(v)}

out = []
for req in json.load(sys.stdin):
    try:
        if req["mode"] == "literal":
            lit = req["text"]
            try:
                value = ast.literal_eval(lit)
            except ValueError:
                # float('inf') / float('nan') are calls, not literals.
                value = eval(compile(lit, "<literal>", "eval"), {"__builtins__": {}, "float": float})
            out.append({"ok": tag(value)})
        else:
            ns = {}
            for src in req["cells"]:
                exec(compile(src, "<cell>", "exec"), ns)
            out.append({"ok": {k: tag(ns[k]) for k in req["names"]}})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout, ensure_ascii=True)
`;

type Tagged = Record<string, unknown>;

function runPython(requests: unknown[]): { ok?: any; error?: string }[] {
  const res = spawnSync(PYTHON, ['-c', EVALUATOR], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  });
  if (res.status !== 0) {
    throw new Error(`python failed: ${res.stderr || res.error}`);
  }
  return JSON.parse(res.stdout);
}

/** The tag Python should report for a JavaScript value. */
function expectedTag(v: unknown): Tagged {
  if (v === null || v === undefined) {
    return { none: null };
  }
  if (typeof v === 'boolean') {
    return { bool: v };
  }
  if (typeof v === 'bigint') {
    return { int: v.toString() };
  }
  if (typeof v === 'number') {
    return Number.isInteger(v) && !Object.is(v, -0) ? { int: BigInt(v).toString() } : { float: v };
  }
  if (v instanceof PyFloat) {
    return { float: v.value };
  }
  if (typeof v === 'string') {
    return { str: v };
  }
  if (v instanceof Date) {
    return { str: v.toISOString() };
  }
  if (Array.isArray(v)) {
    return { list: v.map(expectedTag) };
  }
  if (v instanceof Map) {
    return { dict: [...v].map(([k, x]) => [expectedTag(k), expectedTag(x)]) };
  }
  if (v instanceof PyDict) {
    return { dict: v.entries.map(([k, x]) => [expectedTag(k), expectedTag(x)]) };
  }
  return { dict: Object.entries(v as object).map(([k, x]) => [{ str: k }, expectedTag(x)]) };
}

/** Python float repr → number, to compare with Object.is (-0, NaN exact). */
function pyFloat(repr: string): number {
  return repr === 'inf' ? Infinity : repr === '-inf' ? -Infinity : repr === 'nan' ? NaN : Number(repr);
}

/** Turn Python's answer into the expected shape (floats as numbers). */
function normalise(t: any): any {
  if (t && typeof t === 'object' && !Array.isArray(t)) {
    if ('float' in t) {
      return { float: pyFloat(t.float) };
    }
    if ('list' in t) {
      return { list: t.list.map(normalise) };
    }
    if ('dict' in t) {
      return { dict: t.dict.map(([k, x]: any) => [normalise(k), normalise(x)]) };
    }
  }
  return t;
}

function sameTagged(a: any, b: any): boolean {
  if (typeof a === 'number' || typeof b === 'number') {
    return Object.is(a, b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameTagged(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.join() === kb.join() && ka.every(k => sameTagged(a[k], b[k]));
  }
  return a === b;
}

const CASES: [string, unknown][] = [
  // strings: quote choice, escapes, control and non-BMP characters
  ['plain', 'hello world'],
  ['empty', ''],
  ['single quote', "it's"],
  ['double quote', 'say "hi"'],
  ['both quotes', `it's "both"`],
  ['backslashes', 'C:\\path\\to\\file \\n not a newline'],
  ['trailing backslash', 'ends with \\'],
  ['newline, tab, cr', 'a\nb\tc\rd\r\n'],
  ['C0 controls', '\x00\x01\x07\x08\x0b\x0c\x1b\x1f'],
  ['DEL and C1', '\x7f\x80\x85\x9f'],
  ['line separators', 'a\u2028b\u2029c'],
  ['BOM and zero width', '\ufeffx\u200by\u00adz'],
  ['non-ASCII letters', 'café Ærø 中文 Ελληνικά'],
  ['non-BMP emoji', 'cat 😺 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢'],
  ['lone high surrogate', 'x\ud800y'],
  ['lone low surrogate', 'x\udc00y'],
  ['nbsp and other spaces', 'a\u00a0b\u2003c\u3000d'],
  ['braces and keywords', '{VGRID}/first/{FILENAME}'],
  ['triple quotes', '\'\'\'"""'],
  ['python escapes in text', '\\x41\\u0041\\N{DASH}'],
  // ints
  ['zero', 0],
  ['negative int', -42],
  ['max safe int', Number.MAX_SAFE_INTEGER],
  ['min safe int', Number.MIN_SAFE_INTEGER],
  ['bigint', 2n ** 64n + 1n],
  ['negative bigint', -(10n ** 30n)],
  ['large integral number', 1e21],
  // floats
  ['float 1.5', 1.5],
  ['float 0.1', 0.1],
  ['float third', 1 / 3],
  ['float 1e-300', 1e-300],
  ['float subnormal', 5e-324],
  ['float max', Number.MAX_VALUE],
  ['float 1e-7', 1e-7],
  ['float -2.5e-8', -2.5e-8],
  ['negative zero', -0],
  ['PyFloat 1.0', new PyFloat(1)],
  ['PyFloat -3.0', new PyFloat(-3)],
  ['PyFloat 0.0', new PyFloat(0)],
  ['PyFloat -0.0', new PyFloat(-0)],
  ['PyFloat 1e20', new PyFloat(1e20)],
  ['PyFloat 1e21', new PyFloat(1e21)],
  ['inf', Infinity],
  ['-inf', -Infinity],
  ['nan', NaN],
  // others
  ['True', true],
  ['False', false],
  ['None from null', null],
  ['None from undefined', undefined],
  ['Date', new Date('2024-02-29T12:34:56.789Z')],
  ['list', [1, 'two', 3.5, null, true, [new PyFloat(2)]]],
  ['empty list', []],
  ['dict', { a: 1, 'b c': [1, 2], "k'ey": { nested: 'x\ny' }, '': null }],
  ['empty dict', {}],
  [
    'Map with number keys',
    new Map<unknown, unknown>([
      [1, 'one'],
      ['1', 'string one'],
      [false, 'no'],
      [null, 'none']
    ])
  ],
  ['list of floats', [Infinity, -Infinity, new PyFloat(1), -0]],
  [
    'PyDict with int keys',
    new PyDict([
      [1, 1],
      [2, 2]
    ])
  ],
  [
    'PyDict with mixed keys',
    new PyDict([
      [1, 'a'],
      ['b', 'c']
    ])
  ],
  [
    'PyDict with bool, None, float keys',
    new PyDict([
      [true, 'yes'],
      [null, 'none'],
      [1.5, 'x'],
      [new PyFloat(2), 'two'],
      [2n ** 64n, 'big']
    ])
  ],
  ['list of PyDicts in a dict', { l: [new PyDict([[0, new PyDict([[1, new PyFloat(1)]])]])] }]
];

describe('toPythonLiteral evaluated by Python', () => {
  const answers = runPython(CASES.map(([, v]) => ({ mode: 'literal', text: toPythonLiteral(v) })));

  it.each(CASES.map((c, i) => [c[0], i] as [string, number]))('%s round-trips', (_name, i) => {
    const value = CASES[i][1];
    const answer = answers[i];
    expect(answer.error).toBeUndefined();
    const got = normalise(answer.ok);
    const want = expectedTag(value);
    if (!sameTagged(got, want)) {
      // Show both on failure.
      expect({ literal: toPythonLiteral(value), got }).toEqual({ literal: toPythonLiteral(value), got: want });
    }
    expect(sameTagged(got, want)).toBe(true);
  });

  it('keeps YAML floats as floats and ints as ints through to Python', () => {
    const values = parseYamlValues(
      'a: 1.0\nb: 1\nc: -0.0\nd: 2e3\ne: .inf\nf: 123456789012345678901234567890\ng: 0x1F\nh: 2024-01-01\ni: "1.0"\nj: [1.5, 2.0]\n'
    ) as Record<string, unknown>;
    const literal = toPythonLiteral(values);
    const [answer] = runPython([{ mode: 'literal', text: literal }]);
    expect(answer.error).toBeUndefined();
    expect(normalise(answer.ok)).toEqual({
      dict: [
        [{ str: 'a' }, { float: 1 }],
        [{ str: 'b' }, { int: '1' }],
        [{ str: 'c' }, { float: -0 }],
        [{ str: 'd' }, { float: 2000 }],
        [{ str: 'e' }, { float: Infinity }],
        [{ str: 'f' }, { int: '123456789012345678901234567890' }],
        [{ str: 'g' }, { int: '31' }],
        [{ str: 'h' }, { str: '2024-01-01' }],
        [{ str: 'i' }, { str: '1.0' }],
        [{ str: 'j' }, { list: [{ float: 1.5 }, { float: 2 }] }]
      ]
    });
    expect(Object.is(normalise(answer.ok).dict[2][1].float, -0)).toBe(true);
  });
});

describe('YAML types reach Python (issue 11.2, 11.3)', () => {
  it('dict keys keep their type and whole floats stay floats, checked by Python', () => {
    // A pattern's variables as written, keyword substitution as a job does it.
    const variables = substituteKeywords(
      parseYamlValues(
        [
          'd: {1: 1, 2: 2}',
          'fl1: 1.0',
          'mixed: {1: a, b: "{FILENAME}"}',
          'flags: {true: on, null: none, 1.5: half}',
          'rows: [{1: x}, {2: y}]',
          'nested: {outer: {3: three}}'
        ].join('\n')
      ) as Record<string, unknown>,
      { root: '/w', path: 'in/f.txt', jobId: 'j' }
    );
    const swept = sweepParameters({
      s: { start: 0, stop: 1, step: 0.5 },
      t: { start: 0, stop: 2, step: 1, float: true }
    });
    const nb: INotebook = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: {},
      cells: [
        {
          cell_type: 'code',
          metadata: {},
          outputs: [],
          execution_count: null,
          source: [
            'd = {}\nfl1 = 0\nmixed = None\nflags = None\nrows = None\nnested = None\ns = 0\nt = 0\n',
            'ok_d = d[1] == 1 and d[2] == 2 and "1" not in d\n',
            'ok_fl1 = isinstance(fl1, float) and fl1 == 1.0\n',
            'ok_mixed = mixed[1] == "a" and mixed["b"] == "f.txt"\n',
            'ok_flags = flags[True] == "on" and flags[None] == "none" and flags[1.5] == "half"\n',
            'ok_rows = rows[0][1] == "x" and rows[1][2] == "y"\n',
            'ok_nested = nested["outer"][3] == "three"\n',
            'ok_sweep = all(isinstance(v, float) for v in (s, t))\n'
          ]
        }
      ]
    };
    const names = ['ok_d', 'ok_fl1', 'ok_mixed', 'ok_flags', 'ok_rows', 'ok_nested', 'ok_sweep'];
    const requests = swept.map(combo => {
      const { notebook } = parameteriseNotebook(nb, { ...variables, ...combo });
      return { mode: 'exec', cells: notebook.cells.map(c => (c.source as string[]).join('')), names };
    });
    const answers = runPython(requests);
    expect(answers).toHaveLength(9);
    for (const answer of answers) {
      expect(answer.error).toBeUndefined();
      expect(answer.ok).toEqual(Object.fromEntries(names.map(n => [n, { bool: true }])));
    }
  });
});

describe('parameterised notebooks run in Python', () => {
  const code = (source: string | string[]) => ({
    cell_type: 'code' as const,
    metadata: {},
    outputs: [],
    execution_count: null,
    source
  });

  it('rewritten assignments and injected cells set every variable', () => {
    const nb: INotebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { ...code(['import math\n', "infile = 'default.txt'  # the input\n", 'factor: int = 3\n']), id: 'c1' },
        {
          ...code([
            'data = [\n',
            '    1,  # one\n',
            '    2,\n',
            ']  # trailing\n',
            'text = """line one\n',
            'data = 99\n',
            '"""\n',
            'total = 1 + \\\n',
            '    2\n',
            'def f():\n',
            '    factor = 100\n',
            '    return factor\n',
            'check = factor == 3\n',
            'a = b = 5\n'
          ]),
          id: 'c2'
        },
        { ...code('result = [infile, factor, data, text, total, f(), check, a, b, extra]\n'), id: 'c3' }
      ]
    };
    const values = {
      infile: '/w/start/it\'s "here".txt',
      factor: new PyFloat(2),
      data: { k: [1, null, true] },
      text: 'multi\nline\u2028text 😺',
      total: 2n ** 70n,
      a: -0,
      extra: 'not in the notebook'
    };
    const { notebook, rewritten, injected } = parameteriseNotebook(nb, values);
    expect(rewritten).toEqual(['infile', 'factor', 'data', 'text', 'total', 'a']);
    expect(injected).toEqual(['extra']);
    const cells = notebook.cells.map(c => (Array.isArray(c.source) ? c.source.join('') : c.source));
    const [answer] = runPython([
      {
        mode: 'exec',
        cells,
        names: ['infile', 'factor', 'data', 'text', 'total', 'a', 'b', 'check', 'extra', 'result']
      }
    ]);
    expect(answer.error).toBeUndefined();
    const got = Object.fromEntries(Object.entries(answer.ok).map(([k, v]) => [k, normalise(v)])) as any;
    expect(got.infile).toEqual({ str: '/w/start/it\'s "here".txt' });
    expect(got.factor).toEqual({ float: 2 });
    expect(got.data).toEqual(expectedTag(values.data));
    expect(got.text).toEqual({ str: 'multi\nline\u2028text 😺' });
    expect(got.total).toEqual({ int: (2n ** 70n).toString() });
    expect(Object.is(got.a.float, -0)).toBe(true);
    // `a = b = 5` keeps b's assignment.
    expect(got.b).toEqual({ int: '5' });
    // `check = factor == 3` was not rewritten; factor is now 2.0.
    expect(got.check).toEqual({ bool: false });
    expect(got.extra).toEqual({ str: 'not in the notebook' });
    // f() still returns its local factor.
    expect(got.result.list[5]).toEqual({ int: '100' });
  });

  it('the papermill-style injected cell overrides the parameters cell', () => {
    const nb: INotebook = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: {},
      cells: [{ ...code('x = 1\ny = "a"\n'), metadata: { tags: ['parameters'] } }, code('z = x * 2\n')]
    };
    const { notebook, mode } = parameteriseNotebook(nb, { x: 21, y: 'b' });
    expect(mode).toBe('parameters-cell');
    const cells = notebook.cells.map(c => (Array.isArray(c.source) ? c.source.join('') : c.source));
    const [answer] = runPython([{ mode: 'exec', cells, names: ['x', 'y', 'z'] }]);
    expect(answer.error).toBeUndefined();
    expect(answer.ok).toEqual({ x: { int: '21' }, y: { str: 'b' }, z: { int: '42' } });
  });
});
