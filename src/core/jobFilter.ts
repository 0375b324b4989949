/**
 * The job filter, sort orders and sorted insert shared by the service's job
 * index (GET /api/jobs) and the Lab's jobs model, so the REST API and the
 * Monitor answer "which jobs, in what order" the same way.
 */
import { JOB_STATUSES } from './jobs';
import type { IJob, JobStatus } from './types';

/** Which jobs to keep; unset fields keep everything. */
export interface IJobFilter {
  status?: readonly JobStatus[];
  pattern?: string;
  recipe?: string;
  /** ISO time or ms; jobs created at or after. */
  after?: string | number;
  /** ISO time or ms; jobs created at or before. */
  before?: string | number;
  /** What fired the job, as `IJobClassifiers.trigger` names it. */
  trigger?: string;
  /** Where the job runs, as `IJobClassifiers.executor` names it. */
  executor?: string;
  /**
   * Case-insensitive substring of id, pattern, recipe, trigger path or
   * source, error, or the executor's id of the job (a Slurm job id).
   */
  text?: string;
}

/**
 * How a job's trigger and executor are named for filtering and sorting.
 * The Lab groups trigger kinds (`created` → `file`); the defaults use the
 * recorded values.
 */
export interface IJobClassifiers {
  trigger?: (job: IJob) => string;
  executor?: (job: IJob) => string;
}

const byKind = (job: IJob): string => job.trigger?.kind ?? '';
const byExecutor = (job: IJob): string => job.executor ?? 'local';

/** A time given as ISO text or ms, as ms; undefined when unset. */
export function timeMs(t: string | number | undefined): number | undefined {
  if (t === undefined || t === '') {
    return undefined;
  }
  return typeof t === 'number' ? t : Date.parse(t);
}

/** The lower-cased text the `text` filter searches in. */
export function jobSearchText(job: IJob): string {
  return [
    job.id,
    job.pattern,
    job.recipe,
    job.trigger?.path ?? '',
    job.trigger?.source ?? '',
    job.error?.message ?? '',
    job.external?.id ?? ''
  ]
    .join('\n')
    .toLowerCase();
}

/**
 * A predicate for `filter`, with its times parsed and its text lower-cased
 * once: testing a job costs a few comparisons.
 */
export function compileJobFilter(filter: IJobFilter, classify: IJobClassifiers = {}): (job: IJob) => boolean {
  const statuses = filter.status?.length ? new Set(filter.status) : undefined;
  const after = timeMs(filter.after);
  const before = timeMs(filter.before);
  const text = (filter.text ?? '').trim().toLowerCase();
  const { pattern, recipe, trigger, executor } = filter;
  const triggerOf = classify.trigger ?? byKind;
  const executorOf = classify.executor ?? byExecutor;
  return (job: IJob): boolean => {
    if (statuses && !statuses.has(job.status)) {
      return false;
    }
    if (pattern && job.pattern !== pattern) {
      return false;
    }
    if (recipe && job.recipe !== recipe) {
      return false;
    }
    if (trigger && triggerOf(job) !== trigger) {
      return false;
    }
    if (executor && executorOf(job) !== executor) {
      return false;
    }
    if (after !== undefined || before !== undefined) {
      // An unreadable `created` fails a time filter rather than passing it.
      const created = Date.parse(job.created);
      if ((after !== undefined && !(created >= after)) || (before !== undefined && !(created <= before))) {
        return false;
      }
    }
    return !text || jobSearchText(job).includes(text);
  };
}

/** The Monitor's sortable columns. `id` is creation order. */
export const JOB_SORT_KEYS = [
  'id',
  'pattern',
  'recipe',
  'trigger',
  'path',
  'executor',
  'status',
  'created',
  'duration'
] as const;
export type JobSortKey = (typeof JOB_SORT_KEYS)[number];

export interface IJobSort {
  key: JobSortKey;
  direction: 'asc' | 'desc';
}

/** Newest first: how job lists are shown unless the user sorts. */
export const DEFAULT_JOB_SORT: IJobSort = { key: 'id', direction: 'desc' };

/**
 * Larger than any duration: running jobs sort after finished ones, the one
 * running longest (started first) last, and the value does not change while
 * they run, which the sorted views rely on.
 */
const RUNNING_DURATION = 1e15;

/** What a job sorts by for `key`; fixed for a given job record. */
export function jobSortValue(job: IJob, key: JobSortKey, classify: IJobClassifiers = {}): string | number {
  switch (key) {
    case 'id':
      return job.id;
    case 'pattern':
      return job.pattern;
    case 'recipe':
      return job.recipe;
    case 'trigger':
      return (classify.trigger ?? byKind)(job);
    case 'path':
      return job.trigger?.path ?? '';
    case 'executor':
      return (classify.executor ?? byExecutor)(job);
    case 'status':
      return JOB_STATUSES.indexOf(job.status);
    case 'created':
      return Date.parse(job.created) || 0;
    case 'duration': {
      const started = job.started ? Date.parse(job.started) : NaN;
      if (!Number.isFinite(started)) {
        return -1;
      }
      return job.finished ? Date.parse(job.finished) - started : RUNNING_DURATION - started;
    }
  }
}

/**
 * Ascending order of jobs by `key`, ties broken by id: a total order, so a
 * job's place in a sorted array is found by binary search.
 */
export function jobComparator(key: JobSortKey, classify: IJobClassifiers = {}): (a: IJob, b: IJob) => number {
  if (key === 'id') {
    return (a, b) => compareStrings(a.id, b.id);
  }
  return (a, b) => {
    const va = jobSortValue(a, key, classify);
    const vb = jobSortValue(b, key, classify);
    return va < vb ? -1 : va > vb ? 1 : compareStrings(a.id, b.id);
  };
}

export type Compare<T> = (a: T, b: T) => number;

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest id first. */
export function descendingStrings(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/** Index of the first element of `arr` (sorted by `compare`) not before `item`. */
export function lowerBound<T>(arr: readonly T[], item: T, compare: Compare<T>): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(arr[mid], item) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/**
 * Insert `item` into `arr` kept sorted by `compare`; false if an equal one
 * is there. New jobs are nearly always the newest, so both ends are tried
 * first: appending (or prepending) costs O(1) instead of a search.
 */
export function insertSorted<T>(arr: T[], item: T, compare: Compare<T>): boolean {
  const n = arr.length;
  if (n === 0 || compare(arr[n - 1], item) < 0) {
    arr.push(item);
    return true;
  }
  if (compare(item, arr[0]) < 0) {
    arr.unshift(item);
    return true;
  }
  const i = lowerBound(arr, item, compare);
  if (i < n && compare(arr[i], item) === 0) {
    return false;
  }
  arr.splice(i, 0, item);
  return true;
}

/** Remove `item` from `arr` kept sorted by `compare`; false if it was not there. */
export function removeSorted<T>(arr: T[], item: T, compare: Compare<T>): boolean {
  const i = lowerBound(arr, item, compare);
  if (i < arr.length && compare(arr[i], item) === 0) {
    arr.splice(i, 1);
    return true;
  }
  return false;
}
