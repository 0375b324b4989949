/**
 * Parameter sweeps: one job per value (per combination of values) of
 * numeric ranges, like a C `for` loop with an inclusive stop.
 */

import { PyFloat } from './pyvalue';
import type { ISweepRange } from './types';
import type { IValidationIssue } from './validation';
import { toNumber } from './valueText';
import { issue } from './validation';

/** Most values one range, or one pattern's combinations, may produce. */
export const MAX_SWEEP_VALUES = 100000;

/** Digits after the point in the shortest repr of `n` (`1.5e-7` → 8). */
function decimals(n: number): number {
  const s = String(Math.abs(n));
  const [mantissa, exp] = s.split('e');
  const point = mantissa.indexOf('.');
  const frac = point < 0 ? 0 : mantissa.length - point - 1;
  return Math.max(0, frac - (exp ? Number(exp) : 0));
}

/**
 * How many values a range has, or `undefined` when the range is invalid.
 * The quotient is snapped to the nearest integer when within rounding
 * error, so `0 → 1 step 0.1` has 11 values, not 10.
 */
export function sweepCount(r: ISweepRange): number | undefined {
  const { start, stop, step } = r;
  if (![start, stop, step].every(Number.isFinite)) {
    return undefined;
  }
  if (start === stop) {
    return 1;
  }
  if (step === 0 || Math.sign(stop - start) !== Math.sign(step)) {
    return undefined;
  }
  const q = (stop - start) / step;
  const near = Math.round(q);
  const steps = Math.abs(q - near) <= 1e-9 * Math.max(1, Math.abs(q)) ? near : Math.floor(q);
  return steps + 1;
}

/**
 * The values `start, start + step, ...` up to and including `stop` (when it
 * is reached exactly). Each value is computed as `start + i * step` from an
 * integer count and rounded to the decimals of `start` and `step`, so
 * `0, 0.1, ...` gives `0.3`, not `0.30000000000000004`.
 *
 * @throws RangeError for a range `validateSweep` rejects.
 */
export function sweepValues(r: ISweepRange): number[] {
  const count = sweepCount(r);
  if (count === undefined || count > MAX_SWEEP_VALUES) {
    throw new RangeError(`invalid sweep range {start: ${r.start}, stop: ${r.stop}, step: ${r.step}}`);
  }
  const places = Math.max(decimals(r.start), decimals(r.step));
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const raw = r.start + i * r.step;
    // toFixed accepts at most 100 digits; beyond that the raw value is the
    // best we have (such tiny steps have no decimal artefacts to remove).
    const v = places <= 100 ? Number(raw.toFixed(places)) : raw;
    values.push(v === 0 ? 0 : v);
  }
  return values;
}

/** Options for `validateSweep`: how the fields are named in the file. */
export interface ISweepFieldNames {
  /** Field of the range, default `sweep.<name>`. */
  field?: string;
  /** Name of the step key, default `step` (`increment` in thesis files). */
  stepKey?: string;
}

/**
 * Issues for a sweep range: finite numbers, a non-zero step that moves
 * `start` toward `stop` (`start == stop` is one value), and at most
 * `MAX_SWEEP_VALUES` values.
 */
export function validateSweep(name: string, r: ISweepRange, names: ISweepFieldNames = {}): IValidationIssue[] {
  const field = names.field ?? `sweep.${name}`;
  const stepKey = names.stepKey ?? 'step';
  const issues: IValidationIssue[] = [];
  const keys: [keyof ISweepRange, string][] = [
    ['start', 'start'],
    ['stop', 'stop'],
    ['step', stepKey]
  ];
  for (const [key, shown] of keys) {
    const v = r[key] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push(
        issue(
          `${field}.${shown}`,
          `must be a finite number (got ${describe(v)})`,
          `write a number, e.g. ${shown}: ${key === 'stop' ? 3 : 1}`
        )
      );
    }
  }
  if (issues.length) {
    return issues;
  }
  const { start, stop, step } = r;
  if (start === stop) {
    return issues;
  }
  if (step === 0) {
    issues.push(
      issue(
        `${field}.${stepKey}`,
        'must not be 0 (the sweep would never reach stop)',
        `use ${stepKey}: ${stop > start ? 1 : -1}, or set stop equal to start for one value`
      )
    );
    return issues;
  }
  if (Math.sign(stop - start) !== Math.sign(step)) {
    issues.push(
      issue(
        `${field}.${stepKey}`,
        `is ${step}, which moves away from stop (start ${start}, stop ${stop})`,
        `use ${stepKey}: ${-step}, or swap start and stop`
      )
    );
    return issues;
  }
  const count = sweepCount(r)!;
  if (count > MAX_SWEEP_VALUES) {
    issues.push(
      issue(
        field,
        `has ${count} values, more than the limit of ${MAX_SWEEP_VALUES}`,
        `use a larger ${stepKey} or a smaller range`
      )
    );
  }
  return issues;
}

function describe(v: unknown): string {
  if (typeof v === 'string') {
    return `"${v}"`;
  }
  if (v instanceof PyFloat) {
    return String(v.value);
  }
  return v === undefined ? 'nothing' : String(v);
}

/** Number of combinations (jobs per match) of a pattern's sweep. */
export function sweepCombinationCount(sweep: Record<string, ISweepRange>): number {
  let total = 1;
  for (const name of Object.keys(sweep)) {
    total *= sweepCount(sweep[name]) ?? 0;
  }
  return total;
}

/**
 * The cartesian product of all ranges, one record per job. Variables are
 * taken in sorted name order, the first varying slowest (nested loops), so
 * the order does not depend on how the file was written. No sweep gives
 * `[{}]`: one job with no swept variable.
 */
export function sweepCombinations(sweep: Record<string, ISweepRange>): Record<string, number>[] {
  return product(sweep, r => sweepValues(r));
}

/**
 * Like `sweepCombinations`, but with the Python type each value should have.
 * One sweep never mixes ints and floats: if any of a range's start, stop or
 * step is a float — written as one (`0.0`, `float`) or not an integer — all
 * its values are floats (`PyFloat` for integral ones), so `0 → 1 step 0.5`
 * gives `0.0, 0.5, 1.0` rather than `0, 0.5, 1`, as Python's
 * `start + i * step` would.
 */
export function sweepParameters(sweep: Record<string, ISweepRange>): Record<string, number | PyFloat>[] {
  return product(sweep, r => {
    const values = sweepValues(r);
    return isFloatRange(r) ? values.map(v => (Number.isInteger(v) ? new PyFloat(v) : v)) : values;
  });
}

/** Whether a range's values are Python floats (see `sweepParameters`). */
export function isFloatRange(r: ISweepRange): boolean {
  return r.float === true || ![r.start, r.stop, r.step].every(Number.isInteger);
}

/**
 * A range from the values a file gives (numbers or `PyFloat`s; anything
 * else becomes NaN, for `validateSweep` to report), remembering in `float`
 * that one was written as a float (`start: 0.0`), which the numbers alone
 * cannot tell.
 */
export function sweepRangeOf(start: unknown, stop: unknown, step: unknown): ISweepRange {
  const r: ISweepRange = { start: toNumber(start), stop: toNumber(stop), step: toNumber(step) };
  if ([start, stop, step].some(v => v instanceof PyFloat)) {
    r.float = true;
  }
  return r;
}

/**
 * A range's bounds and step as a file writes them (`stepKey`: `step`, or
 * `increment` in thesis files): integral ones as `PyFloat` in a float range,
 * so `start: 0.0` is written back as `0.0` and reads back the same.
 */
export function sweepRangeToObject(r: ISweepRange, stepKey = 'step'): Record<string, number | PyFloat> {
  const keep = (n: number) => (r.float && Number.isInteger(n) ? new PyFloat(n) : n);
  return { start: keep(r.start), stop: keep(r.stop), [stepKey]: keep(r.step) };
}

function product<T>(sweep: Record<string, ISweepRange>, valuesOf: (r: ISweepRange) => T[]): Record<string, T>[] {
  let combos: Record<string, T>[] = [{}];
  for (const name of Object.keys(sweep).sort()) {
    const values = valuesOf(sweep[name]);
    const next: Record<string, T>[] = [];
    for (const combo of combos) {
      for (const v of values) {
        next.push({ ...combo, [name]: v });
      }
    }
    combos = next;
  }
  return combos;
}
