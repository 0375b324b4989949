import {
  PyDict,
  PyFloat,
  formatYamlProblem,
  fromTransfer,
  losesTypeInJson,
  jsonReplacer,
  parseYaml,
  parseYamlValues,
  pyStringLiteral,
  stringifyYamlValues,
  toJSONValue,
  toPythonLiteral,
  toTransfer
} from '../../../src/core/pyvalue';
import type { PyKey } from '../../../src/core/pyvalue';
import { typedParameters } from '../../../src/core/typedParameters';

describe('toPythonLiteral', () => {
  it('writes strings repr-style, choosing the quote', () => {
    expect(toPythonLiteral('abc')).toBe("'abc'");
    expect(toPythonLiteral("it's")).toBe(`"it's"`);
    expect(toPythonLiteral('say "hi"')).toBe(`'say "hi"'`);
    expect(toPythonLiteral(`it's "both"`)).toBe(`'it\\'s "both"'`);
    expect(toPythonLiteral('')).toBe("''");
  });

  it('escapes backslash, newline, tab, cr and control characters', () => {
    expect(toPythonLiteral('a\\b')).toBe("'a\\\\b'");
    expect(toPythonLiteral('a\nb\tc\rd')).toBe("'a\\nb\\tc\\rd'");
    expect(toPythonLiteral('\x00\x1f\x7f\x85')).toBe("'\\x00\\x1f\\x7f\\x85'");
    expect(toPythonLiteral('\u2028\ufeff\u200b')).toBe("'\\u2028\\ufeff\\u200b'");
  });

  it('keeps printable non-ASCII, treats a surrogate pair as one character', () => {
    expect(toPythonLiteral('café 中文')).toBe("'café 中文'");
    expect(toPythonLiteral('😺')).toBe("'😺'");
    expect(toPythonLiteral('\ud800')).toBe("'\\ud800'");
    // An unassigned non-BMP code point is escaped as \U........
    expect(toPythonLiteral(String.fromCodePoint(0xe0080))).toBe("'\\U000e0080'");
  });

  it('writes ints, big ints and bigints exactly', () => {
    expect(toPythonLiteral(0)).toBe('0');
    expect(toPythonLiteral(-7)).toBe('-7');
    expect(toPythonLiteral(1e21)).toBe('1000000000000000000000');
    expect(toPythonLiteral(12345678901234567890n)).toBe('12345678901234567890');
  });

  it('writes floats so that Python reads floats', () => {
    expect(toPythonLiteral(1.5)).toBe('1.5');
    expect(toPythonLiteral(1e-300)).toBe('1e-300');
    expect(toPythonLiteral(new PyFloat(1))).toBe('1.0');
    expect(toPythonLiteral(new PyFloat(-3))).toBe('-3.0');
    expect(toPythonLiteral(new PyFloat(1e21))).toBe('1e+21');
    expect(toPythonLiteral(-0)).toBe('-0.0');
    expect(toPythonLiteral(new PyFloat(-0))).toBe('-0.0');
    expect(toPythonLiteral(Infinity)).toBe("float('inf')");
    expect(toPythonLiteral(-Infinity)).toBe("-float('inf')");
    expect(toPythonLiteral(NaN)).toBe("float('nan')");
  });

  it('writes booleans, None, lists, dicts and dates', () => {
    expect(toPythonLiteral(true)).toBe('True');
    expect(toPythonLiteral(false)).toBe('False');
    expect(toPythonLiteral(null)).toBe('None');
    expect(toPythonLiteral(undefined)).toBe('None');
    expect(toPythonLiteral([1, 'a', [null]])).toBe("[1, 'a', [None]]");
    expect(toPythonLiteral({ a: 1, "b'": { c: new PyFloat(2) } })).toBe(`{'a': 1, "b'": {'c': 2.0}}`);
    expect(toPythonLiteral(new Date('2024-01-02T03:04:05.000Z'))).toBe("'2024-01-02T03:04:05.000Z'");
    expect(toPythonLiteral(new Map<unknown, unknown>([[1, 'x']]))).toBe("{1: 'x'}");
  });

  it('refuses values with no Python literal', () => {
    expect(() => toPythonLiteral(() => 1)).toThrow(TypeError);
    expect(() => toPythonLiteral(Symbol('s'))).toThrow(TypeError);
    expect(() => toPythonLiteral(new (class Thing {})())).toThrow(/Thing/);
    const cyclic: any[] = [];
    cyclic.push(cyclic);
    expect(() => toPythonLiteral(cyclic)).toThrow(/contains itself/);
    // The same object twice is not a cycle.
    const shared = { a: 1 };
    expect(toPythonLiteral([shared, shared])).toBe("[{'a': 1}, {'a': 1}]");
  });

  it('pyStringLiteral is the string case', () => {
    expect(pyStringLiteral('x')).toBe("'x'");
  });
});

describe('parseYaml keeps Python types', () => {
  it('reads integral floats as PyFloat and ints as numbers', () => {
    const v = parseYamlValues('a: 1.0\nb: 1\nc: 2.5\nd: 1e3\ne: -0.0\nf: !!float 3\ng: !!int "7"\n') as any;
    expect(v.a).toBeInstanceOf(PyFloat);
    expect(v.a.value).toBe(1);
    expect(v.b).toBe(1);
    expect(v.c).toBe(2.5);
    expect(v.d).toEqual(new PyFloat(1000));
    expect(Object.is(v.e.value, -0)).toBe(true);
    expect(v.f).toEqual(new PyFloat(3));
    expect(v.g).toBe(7);
  });

  it('reads ints beyond 2^53 as exact bigints, others as numbers', () => {
    const v = parseYamlValues('a: 9007199254740993\nb: 9007199254740991\nc: 0x10\nd: 0o17\ne: -0\n') as any;
    expect(v.a).toBe(9007199254740993n);
    expect(v.b).toBe(9007199254740991);
    expect(v.c).toBe(16);
    expect(v.d).toBe(15);
    expect(Object.is(v.e, 0)).toBe(true);
  });

  it('keeps timestamps, quoted numbers and yes/no as strings (YAML 1.2 core)', () => {
    const v = parseYamlValues('a: 2024-01-01\nb: "1.0"\nc: yes\nd: ~\ne: .nan\n') as any;
    expect(v).toEqual({ a: '2024-01-01', b: '1.0', c: 'yes', d: null, e: NaN });
  });

  it('resolves aliases', () => {
    expect(parseYamlValues('a: &x {k: 1.0}\nb: *x\n')).toEqual({ a: { k: new PyFloat(1) }, b: { k: new PyFloat(1) } });
  });

  it('reports syntax errors with line and column', () => {
    const r = parseYaml('a: 1\nb: [1, 2\nc: 3\n');
    expect(r.value).toBeUndefined();
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0].line).toBe(3);
    expect(r.problems[0].column).toBe(1);
    expect(formatYamlProblem(r.problems[0])).toMatch(/^line 3, column 1: /);
    expect(() => parseYamlValues('a: [')).toThrow(/line 1/);
  });

  it('reports explicit tags whose text does not fit', () => {
    const r = parseYaml('a: !!float abc\nb: !!int 1_0\n');
    expect(r.problems.map(p => [p.message, p.line])).toEqual([
      ['"abc" is not a float', 1],
      ['"1_0" is not an integer', 2]
    ]);
  });

  it('reports duplicate keys and unknown tags', () => {
    expect(parseYaml('a: 1\na: 2\n').problems[0].message).toMatch(/unique/);
    const r = parseYaml('a: !!python/tuple [1, 2]\n');
    expect(r.problems[0].message).toMatch(/python\/tuple/);
    expect(r.problems[0].line).toBe(1);
  });
});

describe('stringifyYamlValues round-trips through parseYaml', () => {
  it('keeps float/int distinctions, bigints and number-like strings', () => {
    const value = {
      f: new PyFloat(1),
      nf: new PyFloat(-2),
      z: -0,
      i: 3,
      big: 2n ** 80n,
      huge: 1e21,
      r: 0.1,
      inf: Infinity,
      s1: '1.0',
      s2: 'true',
      s3: '{VGRID}/x',
      s4: 'a\nb',
      list: [new PyFloat(0), null]
    };
    const back = parseYamlValues(stringifyYamlValues(value)) as any;
    expect(back.f).toEqual(new PyFloat(1));
    expect(back.nf).toEqual(new PyFloat(-2));
    expect(back.z).toEqual(new PyFloat(-0));
    expect(back.i).toBe(3);
    expect(back.big).toBe(2n ** 80n);
    expect(back.huge).toBe(10n ** 21n);
    expect(back.r).toBe(0.1);
    expect(back.inf).toBe(Infinity);
    expect(back.s1).toBe('1.0');
    expect(back.s2).toBe('true');
    expect(back.s3).toBe('{VGRID}/x');
    expect(back.s4).toBe('a\nb');
    expect(back.list).toEqual([new PyFloat(0), null]);
    // The literal Python would receive is unchanged by the round trip.
    for (const key of Object.keys(value)) {
      expect(toPythonLiteral(back[key])).toBe(toPythonLiteral((value as any)[key]));
    }
  });
});

describe('JSON safety', () => {
  it('toJSONValue and jsonReplacer make bigints and PyFloats JSON-safe', () => {
    const v = { a: 1n, b: new PyFloat(2), c: [new Date(0)], d: new Map([['k', 1n]]) };
    expect(toJSONValue(v)).toEqual({ a: 1, b: 2, c: ['1970-01-01T00:00:00.000Z'], d: { k: 1 } });
    expect(JSON.stringify({ a: 5n, b: new PyFloat(1) }, jsonReplacer)).toBe('{"a":5,"b":1}');
  });
});

describe('dict keys keep their YAML type (issue 11.2)', () => {
  const d = (...entries: [PyKey, unknown][]) => new PyDict(entries);

  it('reads a mapping with a key that is not text as a PyDict, in order', () => {
    const v = parseYamlValues('d: {1: 1, 2: 2}\ns: {a: 1, "1": 2}\n') as any;
    expect(v.d).toEqual(d([1, 1], [2, 2]));
    expect(v.d.get(1)).toBe(1);
    expect(v.d.get('1')).toBeUndefined();
    // Text keys only (quoted "1" included) stay a plain object.
    expect(v.s).toEqual({ a: 1, '1': 2 });
    expect(Object.getPrototypeOf(v.s)).toBe(Object.prototype);
    expect(toPythonLiteral(v.d)).toBe('{1: 1, 2: 2}');
    // (A JavaScript object lists integer-like text keys first, as it always did.)
    expect(toPythonLiteral(v.s)).toBe("{'1': 2, 'a': 1}");
  });

  it('keeps mixed, bool, null, float, whole-float and big int keys', () => {
    const v = parseYamlValues(
      'mixed: {1: a, b: c}\nbools: {true: t, false: f}\nnone: {null: n, x: m}\nfl: {1.5: x, 1.0: y, -0.0: z}\nbig: {9007199254740993: b}\n'
    ) as any;
    expect(v.mixed).toEqual(d([1, 'a'], ['b', 'c']));
    expect(toPythonLiteral(v.mixed)).toBe("{1: 'a', 'b': 'c'}");
    expect(toPythonLiteral(v.bools)).toBe("{True: 't', False: 'f'}");
    expect(toPythonLiteral(v.none)).toBe("{None: 'n', 'x': 'm'}");
    expect(parseYaml('{null: n, ~: m}').problems[0].message).toMatch(/appears twice/);
    expect(v.fl.entries[1][0]).toEqual(new PyFloat(1));
    expect(toPythonLiteral(v.fl)).toBe("{1.5: 'x', 1.0: 'y', -0.0: 'z'}");
    expect(toPythonLiteral(v.big)).toBe("{9007199254740993: 'b'}");
  });

  it('finds PyDicts nested in lists and dicts, and shares an aliased one', () => {
    const v = parseYamlValues('rows: [{1: x}, {a: {2: y}}]\nouter: {k: {3: z}}\nx: &a {4: w}\ny: *a\n') as any;
    expect(v.rows).toEqual([d([1, 'x']), { a: d([2, 'y']) }]);
    expect(v.outer).toEqual({ k: d([3, 'z']) });
    expect(v.y).toBe(v.x);
    expect(toPythonLiteral(v)).toBe(
      "{'rows': [{1: 'x'}, {'a': {2: 'y'}}], 'outer': {'k': {3: 'z'}}, 'x': {4: 'w'}, 'y': {4: 'w'}}"
    );
  });

  it('refuses a key that is a list or mapping (Python cannot hash it)', () => {
    const r = parseYaml('d: {? [1, 2] : x}\n');
    expect(r.value).toBeUndefined();
    expect(r.problems[0].message).toMatch(/mapping key must be text, a number/);
  });

  it('a key "__proto__" stays a key', () => {
    const v = parseYamlValues('__proto__: {polluted: 1}\n') as any;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('writes PyDicts back as YAML with typed keys that read back the same', () => {
    const value = {
      d: d([1, 1], [2, 2]),
      mixed: d([1, 'a'], ['b', 'c'], ['2', 'text two']),
      odd: d([true, 't'], [null, 'n'], [1.5, 'h'], [new PyFloat(1), 'one'], [2n ** 64n, 'big']),
      list: [d([0, d([1, new PyFloat(1)])])]
    };
    const text = stringifyYamlValues(value);
    expect(text).toContain('  1: 1\n');
    expect(text).toContain('"2": text two');
    const back = parseYamlValues(text) as any;
    expect(back).toEqual(value);
    expect(toPythonLiteral(back)).toBe(toPythonLiteral(value));
  });

  it('JSON gets each key as YAML writes it; the exact value travels as YAML text', () => {
    const v = d([1, 1], [true, 't'], [null, 'n'], [new PyFloat(2), new PyFloat(2)], ['s', [d([3, 3n])]]);
    const json = { '1': 1, true: 't', null: 'n', '2.0': 2, s: [{ '3': 3 }] };
    expect(toJSONValue(v)).toEqual(json);
    expect(JSON.parse(JSON.stringify({ v }, jsonReplacer))).toEqual({ v: json });
    expect(losesTypeInJson(v)).toBe(true);
    expect(losesTypeInJson({ a: [1, 'x', { b: null }], c: 0.5 })).toBe(false);
    expect(losesTypeInJson([new PyFloat(1)])).toBe(true);
    expect(losesTypeInJson({ n: NaN })).toBe(true);
  });

  it('passes between threads (toTransfer/fromTransfer) with key types', () => {
    const value = { d: d([1, 'a'], [new PyFloat(1.5), [d(['k', new PyFloat(2)])]], ['x', null]) };
    const cloned = structuredClone(toTransfer(value));
    expect(fromTransfer(cloned)).toEqual(value);
  });

  it('typedParameters reads the texts a job record carries over JSON', () => {
    const json = { fl1: 1, d: { '1': 1 }, s: 'x' };
    const typed = typedParameters(json, { fl1: '1.0\n', d: '1: 1\n', bad: '[', n: '.nan\n' });
    expect(typed.fl1).toEqual(new PyFloat(1));
    expect(typed.d).toEqual(d([1, 1]));
    expect(typed.s).toBe('x');
    expect(Number.isNaN(typed.n)).toBe(true);
    expect('bad' in typed).toBe(false); // an unreadable text leaves the JSON form
    expect(json.fl1).toBe(1); // the input is not changed
    expect(typedParameters(json, undefined)).toBe(json);
  });
});
