import * as YAML from 'yaml';
import { jsonToYaml } from '../../../src/service/jobs/jobYaml';
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
