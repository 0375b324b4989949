import { parsePattern } from '../../src/core/pattern';
import {
  emptyForm,
  formFieldOf,
  formFromPattern,
  parseValueText,
  validateForm,
  valueToText
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
    expect(v.byField.recipe[0]).toMatch(/^is missing; name the recipe/);
    expect(v.byField.path[0]).toMatch(/must be relative to the workgroup/);
    expect(v.byField.name[0]).toMatch(/contains characters other than/);
  });

  it('validates a full pattern and writes the YAML the service reads back', () => {
    const f = form({
      name: 'Pattern_One',
      recipe: 'append',
      path: 'start/*',
      input: 'infile',
      parameters: [{ name: 'extra', value: 'This line was added' }, { name: 'factor', value: '1.0' }],
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
    expect(validateForm(form({ ...base, trigger: 'port', port: '9000' })).pattern!.trigger).toEqual({ kind: 'network', port: 9000 });
    expect(validateForm(form({ ...base, trigger: 'schedule', schedule: '61 * * * *' })).byField.schedule[0]).toMatch(/minute/);
    expect(validateForm(form({ ...base, trigger: 'every', every: '500ms' })).byField.every[0]).toMatch(/minimum/);
    expect(validateForm(form({ ...base, trigger: 'every', every: '30s' })).pattern!.trigger).toEqual({ kind: 'schedule', everyMs: 30000 });
    expect(validateForm(form({ ...base, trigger: 'manual' })).yaml).toBe('recipe: r\ntrigger:\n  manual: true\n');
    expect(validateForm(form({ ...base, path: 'in/*', events: [] })).byField.events[0]).toMatch(/non-empty list/);
  });

  it('warns about a missing recipe, unknown variables and replacing a pattern', () => {
    const recipes = [{ name: 'append', file: 'x', variables: ['infile', 'extra'], patterns: [] }];
    const f = form({ name: 'P', recipe: 'append', path: 'in/*', input: 'infile', parameters: [{ name: 'other', value: '1' }] });
    const v = validateForm(f, { recipes, existing: ['P'] });
    expect(v.pattern).toBeDefined();
    expect(v.warnings).toEqual([
      'Recipe "append" does not assign "other"; they will be injected in a cell at the top of the notebook.',
      'A pattern named "P" already exists; saving replaces it.'
    ]);
    expect(validateForm(f, { recipes, existing: ['P'], editing: 'P' }).warnings).toHaveLength(1);
    expect(validateForm({ ...f, recipe: 'nope' }, { recipes }).warnings[0]).toMatch(/does not exist yet/);
  });

  it('keeps thesis-format patterns in the thesis format when possible', () => {
    const { pattern } = parsePattern('T', 'input_file: infile\ninput_paths: [start/*]\noutput: {}\nparameterize_over: {}\nrecipes: [Append]\nvariables: {extra: hi}\n');
    const f = formFromPattern(pattern!);
    expect(f.format).toBe('thesis');
    const v = validateForm(f);
    expect(v.yaml).toMatch(/^input_file: infile\ninput_paths:/);
    const asPort = validateForm({ ...f, trigger: 'port', port: '9000' });
    expect(asPort.yaml).toMatch(/^recipe: Append/);
    expect(asPort.warnings[0]).toMatch(/native format/);
  });

  it('round-trips values through their text', () => {
    for (const v of ['text', '3', 'true', '', 'a: b', 3, 1.5, true, null, [1, 'a'], { k: 1 }]) {
      expect(parseValueText(valueToText(v)).value).toEqual(v);
    }
    expect(formFieldOf('trigger.events[0]')).toBe('events');
    expect(formFieldOf('parameterize_over.x.increment')).toBe('sweep.x');
    expect(formFieldOf('(file)')).toBe('form');
  });
});
