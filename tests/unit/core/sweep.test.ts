import { parsePattern, patternToYaml } from '../../../src/core/pattern';
import { PyFloat, parseYamlValues, stringifyYamlValues, toPythonLiteral } from '../../../src/core/pyvalue';
import {
  MAX_SWEEP_VALUES,
  isFloatRange,
  sweepCombinationCount,
  sweepCombinations,
  sweepCount,
  sweepParameters,
  sweepRangeOf,
  sweepRangeToObject,
  sweepValues,
  validateSweep
} from '../../../src/core/sweep';

describe('sweepValues', () => {
  it('includes stop', () => {
    expect(sweepValues({ start: 1, stop: 3, step: 1 })).toEqual([1, 2, 3]);
    expect(sweepValues({ start: 0, stop: 10, step: 5 })).toEqual([0, 5, 10]);
  });

  it('stops before overshooting when stop is not on a step', () => {
    expect(sweepValues({ start: 0, stop: 10, step: 3 })).toEqual([0, 3, 6, 9]);
    expect(sweepValues({ start: 0, stop: 1, step: 0.3 })).toEqual([0, 0.3, 0.6, 0.9]);
  });

  it('float steps of 0.1 give clean decimals and reach stop', () => {
    expect(sweepValues({ start: 0, stop: 1, step: 0.1 })).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(sweepValues({ start: 0.1, stop: 0.3, step: 0.1 })).toEqual([0.1, 0.2, 0.3]);
    expect(sweepValues({ start: 1.05, stop: 1.1, step: 0.01 })).toEqual([1.05, 1.06, 1.07, 1.08, 1.09, 1.1]);
  });

  it('negative steps count down', () => {
    expect(sweepValues({ start: 3, stop: 1, step: -1 })).toEqual([3, 2, 1]);
    expect(sweepValues({ start: 0, stop: -0.3, step: -0.1 })).toEqual([0, -0.1, -0.2, -0.3]);
  });

  it('start == stop is one value, whatever the step', () => {
    expect(sweepValues({ start: 5, stop: 5, step: 0 })).toEqual([5]);
    expect(sweepValues({ start: 5, stop: 5, step: -1 })).toEqual([5]);
  });

  it('tiny and huge magnitudes', () => {
    expect(sweepValues({ start: 0, stop: 2e-300, step: 1e-300 })).toEqual([0, 1e-300, 2e-300]);
    expect(sweepValues({ start: 1e20, stop: 3e20, step: 1e20 })).toEqual([1e20, 2e20, 3e20]);
  });

  it('throws on ranges validateSweep rejects', () => {
    expect(() => sweepValues({ start: 0, stop: 1, step: 0 })).toThrow(RangeError);
    expect(() => sweepValues({ start: 0, stop: 1, step: -1 })).toThrow(RangeError);
    expect(() => sweepValues({ start: 0, stop: MAX_SWEEP_VALUES, step: 1 })).toThrow(RangeError);
  });

  it('counts', () => {
    expect(sweepCount({ start: 0, stop: 1, step: 0.1 })).toBe(11);
    expect(sweepCount({ start: 0, stop: 1, step: 0 })).toBeUndefined();
    expect(sweepCount({ start: 0, stop: NaN, step: 1 })).toBeUndefined();
  });
});

describe('validateSweep', () => {
  it('accepts valid ranges', () => {
    expect(validateSweep('x', { start: 1, stop: 3, step: 1 })).toEqual([]);
    expect(validateSweep('x', { start: 3, stop: 1, step: -0.5 })).toEqual([]);
    expect(validateSweep('x', { start: 2, stop: 2, step: 0 })).toEqual([]);
    expect(validateSweep('x', { start: 1, stop: MAX_SWEEP_VALUES, step: 1 })).toEqual([]);
  });

  it('rejects step 0', () => {
    const [i] = validateSweep('x', { start: 1, stop: 3, step: 0 });
    expect(i.field).toBe('sweep.x.step');
    expect(i.message).toMatch(/must not be 0/);
    expect(i.fix).toMatch(/step: 1/);
  });

  it('rejects a step that moves away from stop', () => {
    const [i] = validateSweep('x', { start: 1, stop: 3, step: -1 });
    expect(i.field).toBe('sweep.x.step');
    expect(i.message).toMatch(/moves away from stop/);
    expect(i.fix).toMatch(/step: 1/);
    expect(validateSweep('x', { start: 3, stop: 1, step: 1 })[0].fix).toMatch(/step: -1/);
  });

  it('rejects non-finite numbers, naming each field', () => {
    const issues = validateSweep('x', { start: Infinity, stop: NaN, step: 'a' as any });
    expect(issues.map(i => i.field)).toEqual(['sweep.x.start', 'sweep.x.stop', 'sweep.x.step']);
    expect(issues[2].message).toMatch(/"a"/);
  });

  it('rejects more than 100000 values', () => {
    const [i] = validateSweep('x', { start: 0, stop: 100000, step: 1 });
    expect(i.field).toBe('sweep.x');
    expect(i.message).toMatch(/100001 values/);
  });

  it('uses thesis field names when asked', () => {
    const [i] = validateSweep(
      'x',
      { start: 0, stop: 1, step: 0 },
      { field: 'parameterize_over.x', stepKey: 'increment' }
    );
    expect(i.field).toBe('parameterize_over.x.increment');
  });
});

describe('sweepCombinations', () => {
  it('no sweep is one job with no swept variable', () => {
    expect(sweepCombinations({})).toEqual([{}]);
    expect(sweepCombinationCount({})).toBe(1);
  });

  it('is the cartesian product: 3 × 2 = 6, in a stable order', () => {
    const sweep = { b: { start: 1, stop: 2, step: 1 }, a: { start: 1, stop: 3, step: 1 } };
    const combos = sweepCombinations(sweep);
    expect(combos).toHaveLength(6);
    expect(sweepCombinationCount(sweep)).toBe(6);
    expect(combos).toEqual([
      { a: 1, b: 1 },
      { a: 1, b: 2 },
      { a: 2, b: 1 },
      { a: 2, b: 2 },
      { a: 3, b: 1 },
      { a: 3, b: 2 }
    ]);
    // Key order in the definition does not change the order.
    expect(sweepCombinations({ a: sweep.a, b: sweep.b })).toEqual(combos);
  });

  it('one sweep never mixes ints and floats (issue 11, decided: any float makes all floats)', () => {
    const values = (r: Parameters<typeof isFloatRange>[0]) => sweepParameters({ x: r }).map(c => c.x);
    // A float step, start or stop: every value a float, integral ones included.
    expect(values({ start: 0, stop: 3, step: 1.5 })).toEqual([new PyFloat(0), 1.5, new PyFloat(3)]);
    expect(values({ start: 0.5, stop: 2, step: 1 })).toEqual([0.5, 1.5]);
    // Written as floats (`start: 0.0`): the flag says so, the numbers cannot.
    expect(values({ start: 0, stop: 2, step: 1, float: true })).toEqual([0, 1, 2].map(n => new PyFloat(n)));
    // Decimal-clean float steps keep working: 0 to 0.3 by 0.1 is four values.
    expect(values({ start: 0, stop: 0.3, step: 0.1, float: true })).toEqual([new PyFloat(0), 0.1, 0.2, 0.3]);
    expect(values({ start: 0, stop: 0.3, step: 0.1 })).toEqual([new PyFloat(0), 0.1, 0.2, 0.3]);
    // All ints stay ints.
    expect(values({ start: 0, stop: 2, step: 1 })).toEqual([0, 1, 2]);
    expect(isFloatRange({ start: 0, stop: 2, step: 1 })).toBe(false);
  });

  it('sweepRangeOf remembers bounds written as floats; sweepRangeToObject writes them back', () => {
    const r = sweepRangeOf(new PyFloat(0), 2, 1);
    expect(r).toEqual({ start: 0, stop: 2, step: 1, float: true });
    expect(sweepRangeOf(0, 2, 1)).toEqual({ start: 0, stop: 2, step: 1 });
    expect(sweepRangeOf(0, 1, 0.5)).toEqual({ start: 0, stop: 1, step: 0.5 });
    expect(sweepRangeOf('a', null, new PyFloat(1))).toEqual({ start: NaN, stop: NaN, step: 1, float: true });
    expect(sweepRangeToObject(r)).toEqual({ start: new PyFloat(0), stop: new PyFloat(2), step: new PyFloat(1) });
    expect(sweepRangeToObject({ start: 0, stop: 1, step: 0.5 }, 'increment')).toEqual({
      start: 0,
      stop: 1,
      increment: 0.5
    });
    const text = stringifyYamlValues({ x: sweepRangeToObject(r) });
    const back = parseYamlValues(text) as { x: { start: unknown; stop: unknown; step: unknown } };
    expect(sweepRangeOf(back.x.start, back.x.stop, back.x.step)).toEqual(r);
  });

  it('sweepParameters makes every value of a float range a float', () => {
    const combos = sweepParameters({ f: { start: 0, stop: 1, step: 0.5 }, i: { start: 1, stop: 1, step: 1 } });
    expect(combos).toEqual([
      { f: new PyFloat(0), i: 1 },
      { f: 0.5, i: 1 },
      { f: new PyFloat(1), i: 1 }
    ]);
  });
});

describe('a sweep written with a float bound, through a pattern file', () => {
  it('start: 0.0 makes every value a float and is written back as 0.0; int ranges are unchanged', () => {
    const read = (sweep: string) => {
      const r = parsePattern('p', `recipe: r\ntrigger: {path: "a/x.txt"}\ninput: f\nsweep: {x: ${sweep}}\n`);
      expect(r.issues).toEqual([]);
      return r.pattern!;
    };
    const floats = read('{start: 0.0, stop: 2, step: 1}');
    expect(sweepParameters(floats.sweep).map(c => toPythonLiteral(c.x))).toEqual(['0.0', '1.0', '2.0']);
    expect(patternToYaml(floats)).toContain('start: 0.0');
    expect(parsePattern('p', patternToYaml(floats)).pattern).toEqual(floats);
    const ints = read('{start: 0, stop: 2, step: 1}');
    expect(ints.sweep.x).toEqual({ start: 0, stop: 2, step: 1 });
    expect(sweepParameters(ints.sweep).map(c => toPythonLiteral(c.x))).toEqual(['0', '1', '2']);
  });
});
