/**
 * Runaway limits and retries of a pattern (thesis §29.2): `max_jobs`,
 * `max_rate`, `max_depth` and `retries`, read from either file format.
 * Enforcing them is the service's job; here they are only read and checked.
 */
import { PyFloat } from './pyvalue';
import type { IPattern, IPatternLimits } from './types';
import { IValidationIssue, issue } from './validation';

/** Top-level keys for limits and retries, allowed in both formats. */
export const LIMIT_KEYS = ['max_jobs', 'max_rate', 'max_depth', 'retries'] as const;

/** Most retries a pattern may ask for: more would hide a broken setup. */
export const MAX_RETRIES = 100;

interface ISpec {
  /** What the value is, for messages. */
  what: string;
  whole: boolean;
  max?: number;
  example: string;
}

const SPECS: Record<(typeof LIMIT_KEYS)[number], ISpec> = {
  max_jobs: { what: 'a whole number ≥ 0 (0 = no limit)', whole: true, example: 'max_jobs: 1000' },
  max_rate: { what: 'jobs per minute, a number ≥ 0 (0 = no limit)', whole: false, example: 'max_rate: 60' },
  max_depth: { what: 'a whole number ≥ 0 (0 = no limit)', whole: true, example: 'max_depth: 100' },
  retries: { what: `a whole number from 0 to ${MAX_RETRIES}`, whole: true, max: MAX_RETRIES, example: 'retries: 1' }
};

/** The number a limit key holds, or undefined when absent or invalid. */
function valueOf(key: (typeof LIMIT_KEYS)[number], v: unknown): number | undefined {
  const spec = SPECS[key];
  // `5.0` is a float in YAML: refused where a whole number is asked, as for ports.
  const n = typeof v === 'number' ? v : v instanceof PyFloat && !spec.whole ? v.value : NaN;
  if (!Number.isFinite(n) || n < 0 || (spec.whole && !Number.isSafeInteger(n))) {
    return undefined;
  }
  return spec.max !== undefined && n > spec.max ? undefined : n;
}

function shown(v: unknown): string {
  if (typeof v === 'string') {
    return `the text "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  }
  if (Array.isArray(v)) {
    return 'a list';
  }
  if (v !== null && typeof v === 'object' && !(v instanceof PyFloat)) {
    return 'a mapping';
  }
  return String(v);
}

/** Issues for the limit keys of a pattern object (either format). */
export function limitIssues(obj: Record<string, unknown>): IValidationIssue[] {
  const issues: IValidationIssue[] = [];
  for (const key of LIMIT_KEYS) {
    const v = obj[key];
    if (v === undefined || v === null || valueOf(key, v) !== undefined) {
      continue;
    }
    const spec = SPECS[key];
    issues.push(
      issue(key, `must be ${spec.what} (got ${shown(v)})`, `write e.g. ${spec.example}, or remove it for the default`)
    );
  }
  return issues;
}

/** The `limits` and `retries` of a valid pattern object; absent keys stay absent. */
export function readLimits(obj: Record<string, unknown>): Pick<IPattern, 'limits' | 'retries'> {
  const limits: IPatternLimits = {};
  const maxJobs = valueOf('max_jobs', obj.max_jobs);
  const maxRate = valueOf('max_rate', obj.max_rate);
  const maxDepth = valueOf('max_depth', obj.max_depth);
  if (maxJobs !== undefined) {
    limits.maxJobs = maxJobs;
  }
  if (maxRate !== undefined) {
    limits.maxRate = maxRate;
  }
  if (maxDepth !== undefined) {
    limits.maxDepth = maxDepth;
  }
  const out: Pick<IPattern, 'limits' | 'retries'> = {};
  if (Object.keys(limits).length > 0) {
    out.limits = limits;
  }
  const retries = valueOf('retries', obj.retries);
  if (retries !== undefined) {
    out.retries = retries;
  }
  return out;
}
