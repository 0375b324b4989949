/**
 * Issue 11.4 and 11.5: thesis-format patterns need `input_file` and match
 * their glob as mig_meow did (Python's fnmatch); a native export keeps
 * matching the same files; native patterns say when `input` is missing.
 */
import { triggerMatcher } from '../../../src/core/glob';
import { parsePattern, patternDigest, patternToObject, patternToYaml } from '../../../src/core/pattern';
import { triggerSummary } from '../../../src/core/trigger';
import type { IFileTrigger, IPattern } from '../../../src/core/types';

function ok(name: string, text: string): IPattern {
  const r = parsePattern(name, text);
  expect(r.issues).toEqual([]);
  return r.pattern!;
}

const thesis = (glob: string, extra = 'input_file: infile\n') =>
  `${extra}input_paths:\n- '${glob}'\nrecipes:\n- Append\n`;

/** Paths that tell the two syntaxes apart. */
const PATHS = [
  'deep/a.txt',
  'deep/a/b/c.txt',
  'deep/.hidden',
  'deep/.x/y.txt',
  'deep',
  'deeper/a.txt',
  'cls/a.txt',
  'cls/b.txt',
  'cls/!.txt',
  'cls/sub/b.txt',
  'q/a.txt',
  'q/ab.txt',
  'q/a/b.txt',
  'data/x.jpg',
  'data/x.JPG',
  'data/sub/.y.jpg',
  '{a,b}/x',
  'a/x',
  '.meow/jobs/j/job.yaml',
  '.meow/patterns/p.yaml',
  'top.txt',
  '.top'
];
const GLOBS = ['deep/*', 'cls/[!a].txt', 'q/?.txt', 'q/?*', 'data/*.jpg', '{a,b}/*', '*', '*.txt', '?*/*'];

describe('thesis patterns require input_file (issue 11.4)', () => {
  it('is refused, naming the field and the fix', () => {
    const r = parsePattern('P', thesis('start/*', ''));
    expect(r.pattern).toBeUndefined();
    expect(r.issues).toEqual([
      {
        field: 'input_file',
        message:
          "is missing, so the jobs would never receive the triggering file's path (mig_meow and meow_base refuse it too)",
        fix: 'add "input_file: infile", naming the recipe variable that receives the path of the file that triggered the job'
      }
    ]);
  });

  it('an empty one is not a variable name', () => {
    expect(parsePattern('P', thesis('start/*', "input_file: ''\n")).issues[0].field).toBe('input_file');
  });
});

describe('native patterns: input per trigger kind (issue 11.4)', () => {
  const warn = (body: string) => parsePattern('p', `recipe: r\n${body}`).warnings.filter(w => w.field === 'input');
  it.each([
    ['trigger: {path: "in/*"}', /triggering file's path \(a file trigger/],
    ['trigger: {port: 9000}', /received payload file's path \(a network trigger/],
    ['trigger: {manual: true, path: "review/*"}', /approved file's path \(a manual trigger/]
  ])('%s without input: a warning saying why and how', (body, message) => {
    const [w] = warn(body);
    expect(w.message).toMatch(message);
    expect(w.fix).toMatch(/add "input: infile"/);
    expect(parsePattern('p', `recipe: r\n${body}`).pattern).toBeDefined(); // still loads
  });

  it.each([
    'trigger: {every: 30s}',
    'trigger: {schedule: "@daily"}',
    'trigger: {manual: true}',
    'trigger: {absent: {path: "in/*", for: 10m}}',
    'trigger: {path: "in/*"}\ninput: f',
    'trigger: {path: "in/*"}\nparameters: {f: "{PATH}"}',
    'trigger: {port: 9000}\noutputs: {o: "{VGRID}/out/{FILENAME}"}'
  ])('no warning: %s', body => {
    expect(warn(body)).toEqual([]);
  });
});

describe('thesis patterns match as mig_meow (fnmatch, issue 11.5)', () => {
  it('carry glob: fnmatch on their trigger; deep/* fires for nested and dot files', () => {
    const p = ok('P', thesis('deep/*'));
    const t = p.trigger as IFileTrigger;
    expect(t.glob).toBe('fnmatch');
    const m = triggerMatcher(t);
    expect(['deep/a/b/c.txt', 'deep/.hidden', 'deep/x', '.meow/jobs/1/job.yaml'].map(m)).toEqual([
      true,
      true,
      true,
      false
    ]);
    expect(triggerSummary(t)).toBe('files deep/* as fnmatch (created, modified)');
  });

  it('a native pattern with the same glob keeps the native rules', () => {
    const n = ok('N', 'recipe: Append\ninput: infile\ntrigger: {path: "deep/*"}\n');
    expect((n.trigger as IFileTrigger).glob).toBeUndefined();
    expect(['deep/a/b/c.txt', 'deep/.hidden', 'deep/x'].map(triggerMatcher(n.trigger as IFileTrigger))).toEqual([
      false,
      false,
      true
    ]);
  });

  it.each(GLOBS)('%s: the thesis pattern and its native export match exactly the same paths', glob => {
    const p = ok('P', thesis(glob));
    const yaml = patternToYaml(p);
    expect(yaml).toContain('glob: fnmatch');
    const native = ok('P', yaml);
    expect(native.format).toBe('native');
    expect(patternDigest(native)).toBe(patternDigest(p));
    const a = triggerMatcher(p.trigger as IFileTrigger);
    const b = triggerMatcher(native.trigger as IFileTrigger);
    expect(PATHS.filter(b)).toEqual(PATHS.filter(a));
    expect(PATHS.filter(a).some(x => x.startsWith('.meow/'))).toBe(false);
    // and back to the thesis format, unchanged
    expect(ok('P', patternToYaml(native, 'thesis'))).toEqual(p);
  });

  it('the thesis format refuses a native glob it would read differently, and a pattern without input', () => {
    const native = ok('N', 'recipe: r\ninput: f\ntrigger: {path: "deep/*"}\n');
    expect(() => patternToObject(native, 'thesis')).toThrow(/matches globs as mig_meow did \(fnmatch\)/);
    const literal = ok('L', 'recipe: r\ninput: f\ntrigger: {path: "in/data.csv"}\n');
    expect(patternToObject(literal, 'thesis').input_paths).toEqual(['in/data.csv']);
    const noInput = ok('I', 'recipe: r\ntrigger: {path: "in/*", glob: fnmatch}\n');
    expect(() => patternToObject(noInput, 'thesis')).toThrow(/requires input_file/);
  });
});

describe('native trigger option glob: fnmatch', () => {
  it('is read, validated and written back; native is the default and is not written', () => {
    const p = ok('p', 'recipe: r\ninput: f\ntrigger: {path: "deep/*", glob: fnmatch}\n');
    expect(p.trigger).toEqual({ kind: 'file', path: 'deep/*', events: ['created', 'modified'], glob: 'fnmatch' });
    expect(patternToObject(p).trigger).toEqual({ path: 'deep/*', glob: 'fnmatch', events: ['created', 'modified'] });
    const n = ok('p', 'recipe: r\ninput: f\ntrigger: {path: "deep/*", glob: native}\n');
    expect(n.trigger).toEqual({ kind: 'file', path: 'deep/*', events: ['created', 'modified'] });
    expect(patternDigest(n)).toBe(patternDigest(ok('p', 'recipe: r\ninput: f\ntrigger: {path: "deep/*"}\n')));
    expect(patternDigest(p)).not.toBe(patternDigest(n));
  });

  it.each([
    ['trigger: {path: "a/*", glob: regex}', 'trigger.glob', /must be "native" or "fnmatch"/],
    ['trigger: {every: 30s, glob: fnmatch}', 'trigger.glob', /only applies to file triggers/],
    ['trigger: {manual: true, path: "a/*", glob: fnmatch}', 'trigger.glob', /only applies to file triggers/],
    ['trigger: {path: "a[b/*"}', 'trigger.path', /not a valid glob/]
  ])('%s is refused', (body, field, message) => {
    const r = parsePattern('p', `recipe: r\ninput: f\n${body}\n`);
    expect(r.issues[0].field).toBe(field);
    expect(r.issues[0].message).toMatch(message);
  });

  it('fnmatch validation reads an unclosed "[" as a literal, as mig_meow did', () => {
    expect(parsePattern('p', 'recipe: r\ninput: f\ntrigger: {path: "a[b/*", glob: fnmatch}\n').issues).toEqual([]);
    expect(parsePattern('p', thesis('a[b/*')).issues).toEqual([]);
  });
});
