import * as YAML from 'yaml';
import { PyDict, PyFloat, jsonReplacer, parseYamlValues, toPythonLiteral } from '../../../src/core/pyvalue';
import { typedParameters } from '../../../src/core/typedParameters';
import { jsonToYaml, typedParameterTexts } from '../../../src/service/jobs/jobYaml';
import { JobStore } from '../../../src/service/jobs/jobStore';

const TRICKY = [
  '',
  ' ',
  'a',
  'yes',
  'No',
  'null',
  '~',
  'true',
  'y',
  '1',
  '-1',
  '1e3',
  '.5',
  '.inf',
  '-.NaN',
  '0x1F',
  '0o7',
  'a: b',
  'a #b',
  '#x',
  '- x',
  '-x',
  'x-',
  '? q',
  '[x]',
  '{x}',
  '*ref',
  '&anc',
  '!tag',
  '|',
  '>',
  '%',
  '@at',
  '`b`',
  "it's",
  '"q"',
  'line\nbreak',
  'tab\there',
  'trail ',
  ' lead',
  'two  spaces',
  'ünïcødé',
  '日本',
  '\u0000\u0007',
  'C:\\path',
  '/abs/path/file.dat',
  'burst/w0/w0-1.dat',
  'x (1)',
  '2026-11-29T12:00:00.000Z',
  '12:30',
  'a,b',
  'a, b',
  '\uFFFD',
  'emoji 😀',
  '...',
  '---',
  '= x',
  'key: "v"'
];

describe('job.yaml text', () => {
  it.each(TRICKY.map(s => [s]))('reads back the string %j, as value, key and list item', s => {
    const value = { [s]: s, list: [s, { [s]: [s] }], nested: { k: s } };
    expect(YAML.parse(jsonToYaml(value))).toEqual(value);
  });

  it('reads back numbers, booleans, null, empty collections and deep nesting', () => {
    const value = {
      n: 0,
      neg: -3.25,
      big: 1e21,
      small: 5e-7,
      t: true,
      f: false,
      z: null,
      a: [],
      o: {},
      deep: [[1, [2, []]], [{ a: { b: [{ c: {} }] } }], { x: [null, false, 'y'] }]
    };
    expect(YAML.parse(jsonToYaml(value))).toEqual(value);
  });

  it('writes a job record people can read, the same data as the yaml library would', () => {
    const job = {
      id: '20261129-120000-000-000001-abcd',
      pattern: 'Count',
      recipe: 'count',
      rule: 'Count→count',
      ruleKey: 'k',
      status: 'failed',
      trigger: { kind: 'created', path: 'in/a b.dat', time: '2026-11-29T12:00:00.000Z', hash: 'ab12' },
      parameters: { infile: '/wg/in/a b.dat', n: 3, opts: { deep: [1, 'two'] } },
      filesWritten: ['out/x.txt'],
      created: '2026-11-29T12:00:00.000Z',
      key: 'kk',
      attempt: 1,
      depth: 1,
      error: { message: 'NameError: x\nTraceback:\n  line 1', cell: 2 }
    };
    const text = JobStore.serialise(job as never);
    expect(text).toContain('status: failed\n');
    expect(text).toContain('pattern: Count\n');
    expect(YAML.parse(text)).toEqual(YAML.parse(YAML.stringify(job)));
  });

  it('reads back random records of every JSON kind', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const chars = 'ab -:#\'"\n\t{}[],&*!|>%@`?~.0129yYnN\u00e9\u65e5';
    const str = () => Array.from({ length: rnd(8) }, () => chars[rnd(chars.length)]).join('');
    const val = (d: number): unknown => {
      const k = rnd(d > 3 ? 4 : 6);
      return [
        () => str(),
        () => rnd(1000) - 500,
        () => rnd(2) === 0,
        () => null,
        () => Array.from({ length: rnd(4) }, () => val(d + 1)),
        () => Object.fromEntries(Array.from({ length: rnd(4) }, () => [str(), val(d + 1)]))
      ][k]();
    };
    for (let i = 0; i < 300; i++) {
      const v = { root: val(0) };
      expect(YAML.parse(jsonToYaml(v))).toEqual(v);
    }
  });
});

describe('job.yaml records the Python types that ran (issue 11.2, 11.3)', () => {
  const parameters = {
    infile: '/wg/in/a.dat',
    fl1: new PyFloat(1),
    zero: new PyFloat(0),
    neg: new PyFloat(-0),
    half: 0.5,
    n: 3,
    big: 2n ** 64n,
    inf: -Infinity,
    d: new PyDict([
      [1, 1],
      [2, 2]
    ]),
    mixed: new PyDict([
      [1, 'a'],
      ['b', 'c'],
      ['2', 'two as text']
    ]),
    keys: new PyDict([
      [true, 't'],
      [null, 'n'],
      [1.5, 'h'],
      [new PyFloat(2), 'w']
    ]),
    rows: [new PyDict([[1, new PyFloat(1)]]), { a: new PyDict([[0, []]]) }]
  };
  const job = { id: 'j', status: 'done', trigger: { kind: 'created', path: 'in/a.dat' }, parameters };

  it('writes floats with their point and dict keys in their type', () => {
    const text = jsonToYaml(job);
    expect(text).toContain('  fl1: 1.0\n');
    expect(text).toContain('  zero: 0.0\n');
    expect(text).toContain('  neg: -0.0\n');
    expect(text).toContain('  big: 18446744073709551616\n');
    expect(text).toContain('  inf: -.inf\n');
    expect(text).toContain('  d:\n    1: 1\n    2: 2\n');
    expect(text).toContain('  mixed:\n    1: a\n    b: c\n    "2": two as text\n');
    expect(text).toContain('  keys:\n    true: t\n    null: "n"\n    1.5: h\n    2.0: w\n');
    expect(text).toContain('  rows:\n    - 1: 1.0\n    - a:\n        0: []\n');
    expect(jsonToYaml({ e: new PyDict([]) })).toBe('e: {}\n');
  });

  it('parseYaml reads it back to the same values, the same Python literals', () => {
    const back = parseYamlValues(jsonToYaml(job)) as typeof job;
    expect(back).toEqual(job);
    for (const name of Object.keys(parameters)) {
      const key = name as keyof typeof parameters;
      expect(toPythonLiteral(back.parameters[key])).toBe(toPythonLiteral(parameters[key]));
    }
    // The yaml library alone (other tools) sees the same keys and numbers.
    expect(YAML.parse(jsonToYaml(job)).parameters.d).toEqual({ 1: 1, 2: 2 });
  });

  it('typedParameterTexts keeps exactly what JSON would change, and reads back through JSON', () => {
    const texts = typedParameterTexts(parameters)!;
    expect(Object.keys(texts).sort()).toEqual(['big', 'd', 'fl1', 'inf', 'keys', 'mixed', 'neg', 'rows', 'zero']);
    expect(texts.fl1).toBe('1.0\n');
    expect(typedParameterTexts({ s: 'x', n: 1, o: { a: [0.5] } })).toBeUndefined();
    // What the journal and the API do: JSON, then the texts put the types back.
    const json = JSON.parse(JSON.stringify({ parameters, typedParameters: texts }, jsonReplacer));
    expect(json.parameters.fl1).toBe(1);
    expect(json.parameters.d).toEqual({ '1': 1, '2': 2 });
    const back = typedParameters(json.parameters, json.typedParameters);
    expect(back).toEqual(parameters);
  });

  it('JobStore.serialise writes the typed values and leaves typedParameters out', () => {
    const record = { ...job, typedParameters: typedParameterTexts(parameters) };
    const text = JobStore.serialise(record as never);
    expect(text).not.toContain('typedParameters');
    expect(text).toContain('  fl1: 1.0\n');
    const read = JobStore.parseRecord(text);
    expect(read.parameters).toEqual(parameters);
    expect(read.typedParameters).toEqual(record.typedParameters);
    expect(read.filesWritten).toEqual([]);
    expect(() => JobStore.parseRecord('id: x\n')).toThrow(/missing/);
  });
});
