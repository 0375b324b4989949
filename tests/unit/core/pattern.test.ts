import {
  formatDuration,
  parseDuration,
  parsePattern,
  patternDigest,
  patternToObject,
  patternToYaml,
  validateCron,
  validatePatternObject
} from '../../../src/core/pattern';
import { PyFloat } from '../../../src/core/pyvalue';
import type { IPattern } from '../../../src/core/types';
import { formatIssues } from '../../../src/core/validation';

/** Thesis listing 14.2, verbatim. */
const PATTERN_ONE = `input_file: infile
input_paths:
- start/*
output:
  outfile: '{VGRID}/first/{FILENAME}'
parameterize_over: {}
recipes:
- Append
variables:
  extra: This line was added by Pattern_One
`;

/** Thesis listing 14.3, verbatim. */
const PATTERN_TWO = `input_file: infile
input_paths:
- first/*
output:
  outfile: '{VGRID}/second/{FILENAME}'
parameterize_over: {}
recipes:
- Append
variables:
  extra: This line was added by Pattern_Two
`;

/** Thesis listing 15.3 (floats among the variables). */
const PATTERN_CHECK = `input_file: input_filename
input_paths:
- foam_ct_data/*
output:
  output_filedir_accepted: '{VGRID}/foam_ct_data_accepted/'
  output_filedir_discarded: '{VGRID}/foam_ct_data_discarded/'
parameterize_over: {}
recipes:
- recipe_check
variables:
  porosity_lower_threshold: 0.8
  utils_path: '{VGRID}/idmc_utils_module.py'
`;

/** Thesis listing 16.6 (nested mapping variable, empty-ish sections). */
const GAUSSIAN = `input_file: input_image
input_paths:
- data/*.jpg
output:
  output_image: '{VGRID}/GaussianBlurred/{FILENAME}'
parameterize_over: {}
recipes:
- recipe_filter
variables:
  args:
    radius: 2
  method: GaussianBlur
`;

/** Spec §3 native example. */
const NATIVE = `recipe: append                      # P2
trigger:                            # P3: exactly one kind
  path: "start/*"                   #   file events: glob relative to the workgroup
  events: [created, modified]       #   optional; also moved, deleted
input: infile                       # recipe variable that receives the trigger path
parameters:                         # P4
  extra: "This line was added by Pattern_One"
outputs:                            # like parameters; also drawn in the graph
  outfile: "{VGRID}/first/{FILENAME}"
sweep:                              # one job per combination (cartesian product)
  factor: {start: 1, stop: 3, step: 1}   # stop is inclusive
`;

function ok(name: string, text: string): IPattern {
  const { pattern, issues } = parsePattern(name, text);
  expect(formatIssues('pattern', name, issues)).toBe('');
  expect(pattern).toBeDefined();
  return pattern!;
}

function issuesOf(text: string, name = 'p') {
  const r = parsePattern(name, text);
  expect(r.pattern).toBeUndefined();
  expect(r.issues.length).toBeGreaterThan(0);
  return r.issues;
}

describe('thesis (mig_meow) pattern files load unchanged', () => {
  it('Pattern_One (listing 14.2)', () => {
    expect(ok('Pattern_One', PATTERN_ONE)).toEqual({
      name: 'Pattern_One',
      recipe: 'Append',
      trigger: { kind: 'file', path: 'start/*', events: ['created', 'modified'], glob: 'fnmatch' },
      input: 'infile',
      parameters: { extra: 'This line was added by Pattern_One' },
      outputs: { outfile: '{VGRID}/first/{FILENAME}' },
      sweep: {},
      format: 'thesis'
    });
  });

  it('Pattern_Two (listing 14.3)', () => {
    const p = ok('Pattern_Two', PATTERN_TWO);
    expect(p.trigger).toEqual({ kind: 'file', path: 'first/*', events: ['created', 'modified'], glob: 'fnmatch' });
    expect(p.outputs).toEqual({ outfile: '{VGRID}/second/{FILENAME}' });
    expect(p.parameters).toEqual({ extra: 'This line was added by Pattern_Two' });
    expect(p.recipe).toBe('Append');
    expect(p.format).toBe('thesis');
  });

  it('pattern_check (listing 15.3) and the self-modifying pattern (listing 16.6)', () => {
    const check = ok('pattern_check', PATTERN_CHECK);
    expect(check.parameters.porosity_lower_threshold).toBe(0.8);
    expect(Object.keys(check.outputs)).toEqual(['output_filedir_accepted', 'output_filedir_discarded']);
    const g = ok('GaussianBlur_radius_2', GAUSSIAN);
    expect(g.parameters).toEqual({ args: { radius: 2 }, method: 'GaussianBlur' });
    expect(g.trigger).toMatchObject({ path: 'data/*.jpg' });
  });

  it('parameterize_over uses start/stop/increment', () => {
    const p = ok(
      'Add_Range',
      PATTERN_ONE.replace('parameterize_over: {}', 'parameterize_over:\n  extra2: {start: 1, stop: 3, increment: 1}')
    );
    expect(p.sweep).toEqual({ extra2: { start: 1, stop: 3, step: 1 } });
  });

  it('thesis-specific mistakes name the thesis field', () => {
    const step = issuesOf(
      PATTERN_ONE.replace('parameterize_over: {}', 'parameterize_over:\n  x: {start: 1, stop: 3, step: 1}')
    );
    expect(step.map(i => i.field)).toContain('parameterize_over.x.step');
    expect(step.map(i => i.field)).toContain('parameterize_over.x.increment');
    const two = issuesOf(PATTERN_ONE.replace('- start/*', '- start/*\n- other/*'));
    expect(two[0].field).toBe('input_paths');
    expect(two[0].fix).toMatch(/\{start\/\*,other\/\*\}/);
    const noRecipe = issuesOf(PATTERN_ONE.replace('recipes:\n- Append', 'recipes: []'));
    expect(noRecipe[0].field).toBe('recipes');
    const zero = issuesOf(
      PATTERN_ONE.replace('parameterize_over: {}', 'parameterize_over:\n  x: {start: 1, stop: 3, increment: 0}')
    );
    expect(zero[0].field).toBe('parameterize_over.x.increment');
    const badGlob = issuesOf(PATTERN_ONE.replace('- start/*', '- /abs/*'));
    expect(badGlob[0].field).toBe('input_paths[0]');
  });
});

describe('native pattern files', () => {
  it('the spec §3 example', () => {
    expect(ok('Pattern_One', NATIVE)).toEqual({
      name: 'Pattern_One',
      recipe: 'append',
      trigger: { kind: 'file', path: 'start/*', events: ['created', 'modified'] },
      input: 'infile',
      parameters: { extra: 'This line was added by Pattern_One' },
      outputs: { outfile: '{VGRID}/first/{FILENAME}' },
      sweep: { factor: { start: 1, stop: 3, step: 1 } },
      format: 'native'
    });
  });

  it('minimal: recipe and trigger; events default to created, modified', () => {
    const p = ok('p', 'recipe: r\ntrigger: {path: "a/*"}\n');
    expect(p).toEqual({
      name: 'p',
      recipe: 'r',
      trigger: { kind: 'file', path: 'a/*', events: ['created', 'modified'] },
      parameters: {},
      outputs: {},
      sweep: {},
      format: 'native'
    });
    expect('input' in p).toBe(false);
  });

  it('events are a subset of created/modified/moved/deleted, kept in canonical order', () => {
    expect(ok('p', 'recipe: r\ntrigger: {path: "a/*", events: [deleted, created, created]}').trigger).toEqual({
      kind: 'file',
      path: 'a/*',
      events: ['created', 'deleted']
    });
    expect(ok('p', 'recipe: r\ntrigger: {path: "a/*", events: moved}').trigger).toMatchObject({ events: ['moved'] });
    const bad = issuesOf('recipe: r\ntrigger: {path: "a/*", events: [created, touched]}');
    expect(bad[0].field).toBe('trigger.events[1]');
    expect(bad[0].fix).toMatch(/created, modified, moved, deleted/);
    expect(issuesOf('recipe: r\ntrigger: {path: "a/*", events: []}')[0].field).toBe('trigger.events');
  });

  it('network, schedule, interval and manual triggers', () => {
    const net = { kind: 'network', host: '127.0.0.1', maxBytes: 1024 ** 3, maxConnections: 64 };
    expect(ok('p', 'recipe: r\ntrigger: {port: 9000}').trigger).toEqual({ ...net, port: 9000 });
    expect(ok('p', 'recipe: r\ntrigger: {schedule: "*/10 * * * *"}').trigger).toEqual({
      kind: 'schedule',
      cron: '*/10 * * * *',
      missed: 'once'
    });
    expect(ok('p', 'recipe: r\ntrigger: {every: 30s}').trigger).toEqual({
      kind: 'schedule',
      everyMs: 30000,
      missed: 'once'
    });
    expect(ok('p', 'recipe: r\ntrigger: {manual: true}').trigger).toEqual({ kind: 'manual' });
  });

  it('ports are 1–65535', () => {
    for (const port of ['0', '65536', '1.5', '80.0', '"80"', '-1']) {
      const [i] = issuesOf(`recipe: r\ntrigger: {port: ${port}}`);
      expect(i.field).toBe('trigger.port');
      expect(i.message).toMatch(/1 to 65535/);
    }
    expect(ok('p', 'recipe: r\ntrigger: {port: 65535}').trigger).toMatchObject({ kind: 'network', port: 65535 });
    expect(ok('p', 'recipe: r\ntrigger: {port: 1}').trigger).toMatchObject({ kind: 'network', port: 1 });
  });

  it('a trigger has exactly one kind', () => {
    const none = issuesOf('recipe: r\ntrigger: {events: [created]}');
    expect(none[0].field).toBe('trigger');
    expect(none[0].message).toMatch(/no event filter/);
    const two = issuesOf('recipe: r\ntrigger: {path: "a/*", schedule: "* * * * *"}');
    expect(two[0].message).toMatch(/path, schedule/);
    expect(issuesOf('recipe: r\ntrigger: {port: 9000, events: [created]}')[0].field).toBe('trigger.events');
    expect(issuesOf('recipe: r\ntrigger: {manual: false}')[0].field).toBe('trigger.manual');
    expect(issuesOf('recipe: r\ntrigger: {path: "a/*", glob: "x"}')[0].field).toBe('trigger.glob');
    expect(issuesOf('recipe: r\ntrigger: start/*')[0].message).toMatch(/must be a mapping/);
  });

  it('globs must be relative, non-empty and inside the workgroup', () => {
    for (const [glob, re] of [
      ['""', /non-empty/],
      ['"/data/*"', /relative/],
      ['"../x/*"', /inside the workgroup/]
    ] as const) {
      const [i] = issuesOf(`recipe: r\ntrigger: {path: ${glob}}`, 'Pattern_One');
      expect(i.field).toBe('trigger.path');
      expect(i.message).toMatch(re);
    }
    const [i] = issuesOf('recipe: r\ntrigger: {path: ""}', 'Pattern_One');
    expect(formatIssues('pattern', 'Pattern_One', [i])).toBe(
      'pattern "Pattern_One": field "trigger.path" must be a non-empty glob string; give a glob relative to the workgroup, e.g. "start/*"'
    );
  });

  it('every: accepts units and compounds, refuses nonsense and < 1s', () => {
    expect(parseDuration('30s')).toBe(30000);
    expect(parseDuration('1h30m')).toBe(5400000);
    expect(parseDuration('1.5h')).toBe(5400000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2d')).toBe(172800000);
    expect(parseDuration(45)).toBe(45000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('0s')).toBeUndefined();
    expect(parseDuration('30')).toBeUndefined();
    expect(issuesOf('recipe: r\ntrigger: {every: 250ms}')[0].message).toMatch(/minimum/);
    expect(issuesOf('recipe: r\ntrigger: {every: often}')[0].field).toBe('trigger.every');
    expect(formatDuration(30000)).toBe('30s');
    expect(formatDuration(5400000)).toBe('90m');
    expect(formatDuration(86400000)).toBe('1d');
    expect(formatDuration(1500)).toBe('1500ms');
  });

  it('cron (checked by croner): 5 or 6 fields, values in range, nicknames', () => {
    expect(validateCron('s', '*/10 * * * *')).toEqual([]);
    expect(validateCron('s', '0 0 9-17 * * MON-FRI')).toEqual([]);
    expect(validateCron('s', '15,45 2 1 JAN,jul 0')).toEqual([]);
    expect(validateCron('s', '0 12 L * *')).toEqual([]);
    // croner would replace "?" by the current weekday: refused, with the fix.
    expect(validateCron('s', '0 12 L * ?')[0].fix).toMatch(/"\*" instead of "\?"/);
    expect(validateCron('s', '@hourly')).toEqual([]);
    expect(validateCron('s', '* * * *')[0].message).toMatch(/4 fields/);
    expect(validateCron('s', '60 * * * *')[0].message).toMatch(/the minute 60 is outside 0-59/);
    expect(validateCron('s', '* 24 * * *')[0].message).toMatch(/hour/);
    expect(validateCron('s', '* * 0 * *')[0].message).toMatch(/day of month/);
    expect(validateCron('s', '* * * FOO *')[0].message).toMatch(/month/);
    expect(validateCron('s', '*/0 * * * *')[0].message).toMatch(/step must not be 0/);
    expect(validateCron('s', '@sometimes')[0].message).toMatch(/unknown cron nickname "@sometimes"/);
    expect(validateCron('s', 5)[0].message).toMatch(/cron expression string/);
    expect(issuesOf('recipe: r\ntrigger: {schedule: "61 * * * *"}')[0].field).toBe('trigger.schedule');
  });

  it('input, parameter, output and sweep names must be Python identifiers', () => {
    const fields = issuesOf(
      'recipe: r\ntrigger: {path: "a/*"}\ninput: in-file\nparameters: {1x: 1, ok: 2}\noutputs: {"out file": x}\nsweep: {class: {start: 1, stop: 2, step: 1}}'
    ).map(i => i.field);
    expect(fields).toEqual(['input', 'parameters.1x', 'outputs.out file', 'sweep.class']);
  });

  it('a variable may not be defined twice across input/parameters/outputs/sweep', () => {
    const issues = issuesOf(
      'recipe: r\ntrigger: {path: "a/*"}\ninput: x\nparameters: {x: 1, y: 2}\noutputs: {y: 3}\nsweep: {y: {start: 1, stop: 2, step: 1}}'
    );
    expect(issues.map(i => i.field)).toEqual(['parameters.x', 'outputs.y', 'sweep.y']);
    expect(issues[0].message).toBe('defines variable "x" again (already set by "input")');
  });

  it('sweeps: ranges validated, keys checked, float bounds become numbers', () => {
    expect(ok('p', 'recipe: r\ntrigger: {path: "a/*"}\nsweep: {f: {start: 0.0, stop: 1.0, step: 0.5}}').sweep).toEqual({
      f: { start: 0, stop: 1, step: 0.5, float: true }
    });
    const fields = issuesOf(
      'recipe: r\ntrigger: {path: "a/*"}\nsweep: {a: {start: 1, stop: 3}, b: {start: 1, stop: 3, step: 1, by: 2}, c: [1, 2], d: {start: 3, stop: 1, step: 1}}'
    ).map(i => i.field);
    expect(fields).toEqual(['sweep.a.step', 'sweep.b.by', 'sweep.c', 'sweep.d.step']);
    const big = issuesOf(
      'recipe: r\ntrigger: {path: "a/*"}\nsweep: {a: {start: 1, stop: 1000, step: 1}, b: {start: 1, stop: 1000, step: 1}}'
    );
    expect(big[0].field).toBe('sweep');
    expect(big[0].message).toMatch(/1000000 jobs per event/);
  });

  it('wrong types are issues naming the field', () => {
    const fields = issuesOf('recipe: [a]\ntrigger: {path: "a/*"}\nparameters: [1, 2]\noutputs: "x"').map(i => i.field);
    expect(fields).toEqual(['recipe', 'parameters', 'outputs']);
  });

  it('recipe and trigger are required', () => {
    expect(issuesOf('input: x').map(i => i.field)).toEqual(['recipe', 'trigger']);
  });
});

describe('whole-file problems', () => {
  it('unknown top-level keys say which keys are allowed', () => {
    const [i] = issuesOf('recipe: r\ntrigger: {path: "a/*"}\nparams: {x: 1}');
    expect(i.field).toBe('params');
    expect(i.fix).toBe(
      'remove it; allowed fields are: recipe, trigger, input, parameters, outputs, sweep, max_jobs, max_rate, max_depth, retries, executor, resources'
    );
    const [t] = issuesOf(PATTERN_ONE + 'extra_key: 1\n');
    expect(t.fix).toMatch(/input_file, input_paths, output, parameterize_over, recipes, variables/);
  });

  it('mixing formats is an issue', () => {
    const [i] = issuesOf('recipe: r\ntrigger: {path: "a/*"}\nvariables: {x: 1}');
    expect(i.message).toMatch(/mixes native fields \(recipe, trigger\) with thesis fields \(variables\)/);
  });

  it('YAML syntax errors give line and column', () => {
    const [i] = issuesOf('recipe: r\ntrigger:\n  path: "a/*\n  events: [created]\n');
    expect(i.field).toBe('(file)');
    expect(i.message).toMatch(/^is not valid YAML at line \d+, column \d+: /);
    const [dup] = issuesOf('recipe: r\nrecipe: s\ntrigger: {path: "a/*"}');
    expect(dup.message).toMatch(/line 2, column 1: the key "recipe" appears twice in one mapping/);
  });

  it('empty files and non-mappings', () => {
    expect(issuesOf('')[0].message).toBe('is empty');
    expect(issuesOf('# only a comment\n')[0].message).toBe('is empty');
    expect(issuesOf('- a\n- b')[0].message).toMatch(/must be a mapping/);
  });

  it('the pattern name is the file stem; a "name" key must agree', () => {
    expect(issuesOf('recipe: r\ntrigger: {path: "a/*"}', 'bad name')[0].field).toBe('name');
    expect(ok('p', 'name: p\nrecipe: r\ntrigger: {path: "a/*"}').name).toBe('p');
    expect(issuesOf('name: q\nrecipe: r\ntrigger: {path: "a/*"}')[0].field).toBe('name');
  });

  it('validatePatternObject validates an object the same way', () => {
    const r = validatePatternObject('form', { recipe: 'r', trigger: { path: 'x/*' }, parameters: { n: 1 } });
    expect(r.issues).toEqual([]);
    expect(r.pattern).toMatchObject({ name: 'form', recipe: 'r', parameters: { n: 1 } });
    const bad = validatePatternObject('form', { recipe: 'r', trigger: { path: 'x/*' }, parameters: { f: () => 1 } });
    expect(bad.issues[0].field).toBe('parameters.f');
    expect(bad.issues[0].message).toMatch(/cannot be passed to Python/);
    expect(validatePatternObject('form', 'text').issues[0].message).toMatch(/must be a mapping/);
  });
});

describe('patternToYaml round-trips through parsePattern', () => {
  const samples: [string, string][] = [
    ['Pattern_One', PATTERN_ONE],
    ['Pattern_Two', PATTERN_TWO],
    ['pattern_check', PATTERN_CHECK],
    ['gauss', GAUSSIAN],
    ['native', NATIVE],
    [
      'typed',
      'recipe: r\ntrigger: {path: "a/**/*.csv", events: [moved, deleted]}\nparameters: {f: 1.0, i: 1, big: 123456789012345678901234, s: "1.0", b: "true", n: null, l: [1.0, {x: -0.0}], inf: .inf, t: 2024-01-01, multi: "a\\nb", q: "it\'s"}\n'
    ],
    ['net', 'recipe: r\ntrigger: {port: 9000}\ninput: payload\n'],
    ['cron', 'recipe: r\ntrigger: {schedule: "0 */2 * * *"}\n'],
    ['every', 'recipe: r\ntrigger: {every: 1h30m}\n'],
    [
      'manual',
      'recipe: r\ntrigger: {manual: true}\nsweep: {x: {start: 0, stop: 1, step: 0.25}, y: {start: 3, stop: 1, step: -1}}\n'
    ]
  ];

  it.each(samples)('%s', (name, text) => {
    const p = ok(name, text);
    const yaml = patternToYaml(p);
    const back = ok(name, yaml);
    expect(back).toEqual({ ...p, format: 'native' });
    expect(patternDigest(back)).toBe(patternDigest(p));
  });

  it('keeps float/int types of parameters', () => {
    const p = ok('typed', samples[5][1]);
    const back = ok('typed', patternToYaml(p));
    expect(back.parameters.f).toEqual(new PyFloat(1));
    expect(back.parameters.i).toBe(1);
    expect(back.parameters.big).toBe(123456789012345678901234n);
    expect(back.parameters.s).toBe('1.0');
  });

  it('writes the thesis format for file patterns, and refuses others', () => {
    const p = ok('Pattern_One', PATTERN_ONE);
    const back = ok('Pattern_One', patternToYaml(p, 'thesis'));
    expect(back).toEqual(p);
    expect(patternToObject(p, 'thesis')).toEqual({
      input_file: 'infile',
      input_paths: ['start/*'],
      output: { outfile: '{VGRID}/first/{FILENAME}' },
      parameterize_over: {},
      recipes: ['Append'],
      variables: { extra: 'This line was added by Pattern_One' }
    });
    expect(() => patternToYaml(ok('net', 'recipe: r\ntrigger: {port: 9000}'), 'thesis')).toThrow(/native format/);
  });
});

describe('patternDigest', () => {
  const base = ok('p', 'recipe: r\ntrigger: {path: "a/*"}\nparameters: {x: 1, y: [1, 2]}\n');

  it('is stable: key order and format do not matter', () => {
    const reordered = ok('p', 'parameters: {y: [1, 2], x: 1}\ntrigger: {path: "a/*"}\nrecipe: r\n');
    expect(patternDigest(reordered)).toBe(patternDigest(base));
    const thesis = ok('Pattern_One', PATTERN_ONE);
    const native = ok('Pattern_One', patternToYaml(thesis));
    expect(patternDigest(native)).toBe(patternDigest(thesis));
    expect(patternDigest(base)).toBe(
      '{"input":null,"name":"p","outputs":{},"parameters":{"x":1,"y":[1,2]},"recipe":"r","sweep":{},"trigger":{"events":["created","modified"],"kind":"file","path":"a/*"}}'
    );
  });

  it('changes with anything that changes behaviour', () => {
    const d = patternDigest(base);
    expect(patternDigest(ok('p', 'recipe: r\ntrigger: {path: "a/*"}\nparameters: {x: 1.0, y: [1, 2]}\n'))).not.toBe(d);
    expect(patternDigest(ok('p', 'recipe: r\ntrigger: {path: "b/*"}\nparameters: {x: 1, y: [1, 2]}\n'))).not.toBe(d);
    expect(patternDigest(ok('p', 'recipe: s\ntrigger: {path: "a/*"}\nparameters: {x: 1, y: [1, 2]}\n'))).not.toBe(d);
    expect(
      patternDigest(ok('p', 'recipe: r\ntrigger: {path: "a/*", events: [created]}\nparameters: {x: 1, y: [1, 2]}\n'))
    ).not.toBe(d);
    expect(patternDigest(ok('q', 'recipe: r\ntrigger: {path: "a/*"}\nparameters: {x: 1, y: [1, 2]}\n'))).not.toBe(d);
    expect(
      patternDigest(ok('p', 'recipe: r\ntrigger: {path: "a/*"}\ninput: x2\nparameters: {x: 1, y: [1, 2]}\n'))
    ).not.toBe(d);
  });
});
