import { parsePattern } from '../../src/core/pattern';
import {
  emptyForm,
  formFieldOf,
  formFromPattern,
  likelyInputVariable,
  newForm,
  parseValueText,
  validateForm,
  valueToText,
  visibleErrors
} from '../../src/lab/patternForm';
import type { IPatternForm } from '../../src/lab/patternForm';

function form(over: Partial<IPatternForm>): IPatternForm {
  return { ...emptyForm(), ...over };
}

describe('pattern form', () => {
  it('reports the core messages on the right fields', () => {
    const v = validateForm(form({ name: 'bad name', path: '/abs/*' }));
    expect(v.pattern).toBeUndefined();
    expect(Object.keys(v.byField).sort()).toEqual(['name', 'path', 'recipe']);
    // Beside a dropdown the form says what to do, not the YAML to write.
    expect(v.byField.recipe).toEqual(['choose a recipe']);
    expect(v.byField.path[0]).toMatch(/must be relative to the workgroup/);
    expect(v.byField.name[0]).toMatch(/contains characters other than/);
  });

  it('validates a full pattern and writes the YAML the service reads back', () => {
    const f = form({
      name: 'Pattern_One',
      recipe: 'append',
      path: 'start/*',
      input: 'infile',
      parameters: [
        { name: 'extra', value: 'This line was added' },
        { name: 'factor', value: '1.0' }
      ],
      outputs: [{ name: 'outfile', value: '{VGRID}/first/{FILENAME}' }],
      sweep: [{ name: 'n', start: '1', stop: '3', step: '1' }]
    });
    const v = validateForm(f);
    expect(v.issues).toEqual([]);
    expect(v.pattern!.outputs).toEqual({ outfile: '{VGRID}/first/{FILENAME}' });
    const back = parsePattern('Pattern_One', v.yaml!);
    expect(back.issues).toEqual([]);
    expect(back.pattern).toEqual(v.pattern);
    // 1.0 stays a float, and the form shows it again as 1.0.
    expect(formFromPattern(back.pattern!)).toEqual({ ...f, format: 'native' });
  });

  it('flags bad rows: duplicate names, missing names, bad YAML, bad sweeps', () => {
    const v = validateForm(
      form({
        name: 'P',
        recipe: 'r',
        path: 'in/*',
        input: 'x',
        parameters: [
          { name: 'a', value: '1' },
          { name: 'a', value: '2' },
          { name: '', value: 'orphan' },
          { name: 'b', value: '[1, 2' },
          { name: 'x', value: '3' }
        ],
        sweep: [{ name: 'k', start: '1', stop: '5', step: '0' }]
      })
    );
    expect(v.pattern).toBeUndefined();
    expect(v.byField['parameters.a'][0]).toMatch(/defined twice/);
    expect(v.byField.parameters[0]).toMatch(/without a variable name/);
    expect(v.byField['parameters.b'][0]).toMatch(/not a valid YAML value/);
    expect(v.byField['parameters.x'][0]).toMatch(/defines variable "x" again/);
    expect(v.byField['sweep.k'].join()).toMatch(/step/);
  });

  it('validates every trigger kind with the core', () => {
    const base = { name: 'P', recipe: 'r' };
    expect(validateForm(form({ ...base, trigger: 'port', port: '70000' })).byField.port[0]).toMatch(/1 to 65535/);
    expect(validateForm(form({ ...base, trigger: 'port', port: '9000' })).pattern!.trigger).toEqual({
      kind: 'network',
      port: 9000,
      host: '127.0.0.1',
      maxBytes: 1024 ** 3,
      maxConnections: 64
    });
    expect(validateForm(form({ ...base, trigger: 'schedule', schedule: '61 * * * *' })).byField.schedule[0]).toMatch(
      /minute/
    );
    expect(validateForm(form({ ...base, trigger: 'every', every: '500ms' })).byField.every[0]).toMatch(/minimum/);
    expect(validateForm(form({ ...base, trigger: 'every', every: '30s' })).pattern!.trigger).toEqual({
      kind: 'schedule',
      everyMs: 30000,
      missed: 'once'
    });
    expect(validateForm(form({ ...base, trigger: 'manual' })).yaml).toBe('recipe: r\ntrigger:\n  manual: true\n');
    expect(validateForm(form({ ...base, path: 'in/*', events: [] })).byField.events).toEqual([
      'tick at least one event'
    ]);
  });

  it('warns about a missing recipe, unknown variables and replacing a pattern', () => {
    const recipes = [{ name: 'append', file: 'x', variables: ['infile', 'extra'], patterns: [] }];
    const f = form({
      name: 'P',
      recipe: 'append',
      path: 'in/*',
      input: 'infile',
      parameters: [{ name: 'other', value: '1' }]
    });
    const v = validateForm(f, { recipes, existing: ['P'] });
    expect(v.pattern).toBeDefined();
    expect(v.warnings).toEqual([
      'parameters.other: names "other", which recipe "append" does not assign (it assigns infile, extra); it is injected in a cell at the top of the notebook; ' +
        "rename it to one of the recipe's variables, or assign it in the recipe",
      'A pattern named "P" already exists; saving replaces it.'
    ]);
    expect(validateForm(f, { recipes, existing: ['P'], editing: 'P' }).warnings).toHaveLength(1);
    expect(validateForm({ ...f, recipe: 'nope' }, { recipes }).warnings[0]).toMatch(/does not exist yet/);
  });

  it('keeps thesis-format patterns in the thesis format when possible', () => {
    const { pattern } = parsePattern(
      'T',
      'input_file: infile\ninput_paths: [start/*]\noutput: {}\nparameterize_over: {}\nrecipes: [Append]\nvariables: {extra: hi}\n'
    );
    const f = formFromPattern(pattern!);
    expect(f.format).toBe('thesis');
    const v = validateForm(f);
    expect(v.yaml).toMatch(/^input_file: infile\ninput_paths:/);
    const asPort = validateForm({ ...f, trigger: 'port', port: '9000' });
    expect(asPort.yaml).toMatch(/^recipe: Append/);
    expect(asPort.warnings[0]).toMatch(/native format/);
  });

  it('keeps a thesis glob matching the same files when saved natively (glob: fnmatch)', () => {
    const { pattern } = parsePattern('T', "input_file: infile\ninput_paths: ['deep/*']\nrecipes: [Append]\n");
    const f = formFromPattern(pattern!);
    expect(f.glob).toBe('fnmatch');
    expect(validateForm(f).pattern!.trigger).toMatchObject({ path: 'deep/*', glob: 'fnmatch' });
    const native = validateForm({ ...f, format: 'native' });
    expect(native.yaml).toMatch(/^recipe: Append\ntrigger:\n {2}path: deep\/\*\n {2}glob: fnmatch\n/);
    // A new native pattern is native unless asked; the thesis format is always fnmatch.
    const fresh = form({ name: 'N', recipe: 'r', path: 'deep/*', input: 'infile' });
    expect(validateForm(fresh).pattern!.trigger).not.toHaveProperty('glob');
    expect(validateForm({ ...fresh, glob: 'fnmatch' }).pattern!.trigger).toMatchObject({ glob: 'fnmatch' });
    expect(validateForm({ ...fresh, format: 'thesis' }).yaml).toMatch(
      /^input_file: infile\ninput_paths:\n {2}- deep\/\*\n/
    );
  });

  it('round-trips values through their text', () => {
    for (const v of ['text', '3', 'true', '', 'a: b', 3, 1.5, true, null, [1, 'a'], { k: 1 }]) {
      expect(parseValueText(valueToText(v)).value).toEqual(v);
    }
    expect(formFieldOf('trigger.events[0]')).toBe('events');
    expect(formFieldOf('parameterize_over.x.increment')).toBe('sweep.x');
    expect(formFieldOf('(file)')).toBe('form');
  });

  describe('trigger kinds', () => {
    /** Each kind as a pattern file, with every option it has. */
    const FILES: [string, string][] = [
      ['file', 'recipe: r\ntrigger:\n  path: in/*.csv\n  events:\n    - created\n    - moved\n'],
      [
        'network (all options)',
        'recipe: r\ntrigger:\n  port: 9000\n  host: 0.0.0.0\n  secret: s3cret\n  tls:\n    cert: certs/server.pem\n    key: certs/server.key\n  max_bytes: 100MB\n  max_connections: 8\ninput: infile\n'
      ],
      ['network (defaults)', 'recipe: r\ntrigger:\n  port: 9001\n'],
      ['cron', 'recipe: r\ntrigger:\n  schedule: "*/10 * * * *"\n  timezone: Europe/Copenhagen\n  missed: skip\n'],
      ['cron (defaults)', 'recipe: r\ntrigger:\n  schedule: "@hourly"\n'],
      ['every', 'recipe: r\ntrigger:\n  every: 1h30m\n  missed: skip\n'],
      ['manual', 'recipe: r\ntrigger:\n  manual: true\n'],
      ['manual with approval glob', 'recipe: r\ntrigger:\n  manual: true\n  path: review/*\ninput: infile\n'],
      [
        'absent',
        'recipe: r\ntrigger:\n  absent:\n    path: in/*\n    for: 10m\nparameters:\n  alert: "nothing arrived"\n'
      ]
    ];

    it.each(FILES)('%s: pattern → form → pattern keeps every field', (_kind, text) => {
      const parsed = parsePattern('P', text);
      expect(parsed.issues).toEqual([]);
      const f = formFromPattern(parsed.pattern!);
      const v = validateForm(f);
      expect(v.issues).toEqual([]);
      expect(v.pattern).toEqual(parsed.pattern);
      // And the file written is read back as the same pattern.
      expect(parsePattern('P', v.yaml!).pattern).toEqual(parsed.pattern);
      // The form shown again is the same form.
      expect(formFromPattern(v.pattern!)).toEqual(f);
    });

    it("shows each kind's options in the form, defaults left empty", () => {
      const net = formFromPattern(parsePattern('P', FILES[1][1]).pattern!);
      expect(net).toMatchObject({
        trigger: 'port',
        port: '9000',
        host: '0.0.0.0',
        secret: 's3cret',
        tlsCert: 'certs/server.pem',
        tlsKey: 'certs/server.key',
        maxBytes: '100MB',
        maxConnections: '8'
      });
      expect(formFromPattern(parsePattern('P', FILES[2][1]).pattern!)).toMatchObject({
        host: '',
        maxBytes: '',
        maxConnections: ''
      });
      expect(formFromPattern(parsePattern('P', FILES[3][1]).pattern!)).toMatchObject({
        trigger: 'schedule',
        schedule: '*/10 * * * *',
        timezone: 'Europe/Copenhagen',
        missed: 'skip'
      });
      expect(formFromPattern(parsePattern('P', FILES[5][1]).pattern!)).toMatchObject({
        trigger: 'every',
        every: '90m',
        missed: 'skip'
      });
      expect(formFromPattern(parsePattern('P', FILES[7][1]).pattern!)).toMatchObject({
        trigger: 'manual',
        path: 'review/*'
      });
      expect(formFromPattern(parsePattern('P', FILES[8][1]).pattern!)).toMatchObject({
        trigger: 'absent',
        path: 'in/*',
        absentFor: '10m'
      });
    });

    it('builds each kind from the form', () => {
      const base = form({ name: 'P', recipe: 'r' });
      expect(
        validateForm({
          ...base,
          trigger: 'port',
          port: '9000',
          host: '0.0.0.0',
          maxBytes: '2GiB',
          maxConnections: '10'
        }).pattern!.trigger
      ).toEqual({
        kind: 'network',
        port: 9000,
        host: '0.0.0.0',
        maxBytes: 2 * 1024 ** 3,
        maxConnections: 10
      });
      expect(
        validateForm({ ...base, trigger: 'port', port: '9000', tlsCert: 'c.pem', tlsKey: 'k.pem', secret: 'x' })
          .pattern!.trigger
      ).toMatchObject({
        tls: { cert: 'c.pem', key: 'k.pem' },
        secret: 'x'
      });
      expect(
        validateForm({ ...base, trigger: 'schedule', schedule: '0 6 * * MON-FRI', timezone: 'UTC', missed: 'skip' })
          .pattern!.trigger
      ).toEqual({
        kind: 'schedule',
        cron: '0 6 * * MON-FRI',
        timezone: 'UTC',
        missed: 'skip'
      });
      // An interval has no time zone: a left-over one is not sent.
      expect(validateForm({ ...base, trigger: 'every', every: '5m', timezone: 'UTC' }).pattern!.trigger).toEqual({
        kind: 'schedule',
        everyMs: 300000,
        missed: 'once'
      });
      expect(validateForm({ ...base, trigger: 'manual', path: 'review/*' }).yaml).toBe(
        'recipe: r\ntrigger:\n  manual: true\n  path: review/*\n'
      );
      expect(validateForm({ ...base, trigger: 'manual', path: '  ' }).pattern!.trigger).toEqual({ kind: 'manual' });
      expect(validateForm({ ...base, trigger: 'absent', path: 'in/*', absentFor: '2h' }).pattern!.trigger).toEqual({
        kind: 'absent',
        path: 'in/*',
        forMs: 7200000
      });
    });

    it("puts the core's messages on the fields of each kind", () => {
      const base = form({ name: 'P', recipe: 'r' });
      const net = validateForm({
        ...base,
        trigger: 'port',
        port: '9000',
        host: 'a b',
        maxBytes: 'lots',
        maxConnections: '0',
        secret: ' x ',
        tlsCert: 'c.pem'
      });
      expect(net.pattern).toBeUndefined();
      expect(net.byField.host[0]).toMatch(/spaces/);
      expect(net.byField.maxBytes[0]).toMatch(/must be a size/);
      expect(net.byField.maxConnections[0]).toMatch(/whole number from 1/);
      expect(net.byField.secret[0]).toMatch(/leading or trailing spaces/);
      expect(net.byField.tlsKey[0]).toMatch(/is missing/);
      expect(net.byField.tlsCert).toBeUndefined();
      const cron = validateForm({ ...base, trigger: 'schedule', schedule: '* * *', timezone: 'Mars/Olympus' });
      expect(cron.byField.schedule[0]).toMatch(/cron|field/);
      expect(cron.byField.timezone[0]).toMatch(/time zone/);
      const absent = validateForm({ ...base, trigger: 'absent', path: '/abs/*', absentFor: 'soon' });
      expect(absent.byField.path[0]).toMatch(/relative to the workgroup/);
      expect(absent.byField.absentFor[0]).toMatch(/interval/);
      expect(validateForm({ ...base, trigger: 'absent', path: 'in/*', absentFor: '' }).byField.absentFor).toBeDefined();
      expect(validateForm({ ...base, trigger: 'manual', path: '/x/*' }).byField.path[0]).toMatch(/relative/);
      expect(formFieldOf('trigger.tls.cert')).toBe('tlsCert');
      expect(formFieldOf('trigger.tls')).toBe('tlsCert');
      expect(formFieldOf('trigger.max_bytes')).toBe('maxBytes');
      expect(formFieldOf('trigger.max_connections')).toBe('maxConnections');
      expect(formFieldOf('trigger.absent.for')).toBe('absentFor');
      expect(formFieldOf('trigger.absent.path')).toBe('path');
      expect(formFieldOf('trigger.absent')).toBe('path');
      expect(formFieldOf('trigger.missed')).toBe('missed');
      expect(formFieldOf('trigger.nonsense')).toBe('trigger');
    });
  });
});

describe('a fresh form', () => {
  it('shows errors only of touched fields, or all after a save attempt', () => {
    const v = validateForm(
      form({ name: 'bad name', path: '/abs/*', outputs: [{ name: 'o', value: '{VGRID}/x/{FILENAM}' }], memory: 'lots' })
    );
    expect(Object.keys(v.byField).sort()).toEqual(['memory', 'name', 'outputs.o', 'path', 'recipe']);
    expect(visibleErrors(v.byField, new Set(), false)).toEqual({});
    expect(Object.keys(visibleErrors(v.byField, new Set(['name']), false))).toEqual(['name']);
    // A row's error belongs to its section, a resource's to its field.
    expect(Object.keys(visibleErrors(v.byField, new Set(['outputs', 'memory']), false)).sort()).toEqual([
      'memory',
      'outputs.o'
    ]);
    expect(visibleErrors({ resources: ['x'], form: ['y'] }, new Set(['cpus']), false)).toEqual({
      resources: ['x'],
      form: ['y']
    });
    expect(visibleErrors(v.byField, new Set(), true)).toEqual(v.byField);
  });

  it("guesses the recipe's input variable from its names", () => {
    expect(likelyInputVariable(['extra', 'infile', 'outfile'])).toBe('infile');
    expect(likelyInputVariable(['threshold', 'input_file'])).toBe('input_file');
    expect(likelyInputVariable(['Input', 'x'])).toBe('Input');
    expect(likelyInputVariable(['n', 'filename'])).toBe('filename');
    expect(likelyInputVariable(['title', 'data_path', 'output_path'])).toBe('data_path');
    expect(likelyInputVariable(['outfile', 'result_path'])).toBeUndefined();
    expect(likelyInputVariable(['a', 'b'])).toBeUndefined();
    expect(likelyInputVariable([])).toBeUndefined();
  });

  it('prefills the input of a new pattern from its recipe, unless given', () => {
    const recipes = [{ name: 'append', file: 'r', variables: ['extra', 'infile'], patterns: [] }];
    expect(newForm({ recipe: 'append' }, recipes).input).toBe('infile');
    expect(newForm({ recipe: 'append', input: '' }, recipes).input).toBe('');
    expect(newForm({ recipe: 'other' }, recipes).input).toBe('');
    expect(newForm({}, recipes)).toEqual(emptyForm());
  });
});
