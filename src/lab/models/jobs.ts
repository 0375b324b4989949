/**
 * All jobs of the workgroup, kept current by the events websocket.
 *
 * Built for tens of thousands of jobs: jobs are kept in a map plus an
 * id-sorted array (ids sort by creation time, so a new job is appended in
 * O(1)); the filtered view is maintained incrementally, so one job update
 * costs O(log n) and tests only that job against the filter. Only a filter
 * change rescans all jobs.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IServiceEvent } from '../../core/api';
import { EXECUTOR_KINDS, ExecutorKind, FINAL_JOB_STATUSES, IJob, JobStatus } from '../../core/types';
import { JOB_STATUSES } from '../../core/jobs';
import type { MeowClient } from '../client';
import { jobExecutor } from '../executors';
import { TRIGGER_GROUPS, TriggerGroup, triggerGroup } from '../triggers';

/** Filters of the Monitor panel; unset ones keep everything. */
export interface IJobsFilter {
  status?: JobStatus[];
  pattern?: string;
  recipe?: string;
  /** ISO time or ms; jobs created at or after. */
  after?: string | number;
  /** ISO time or ms; jobs created at or before. */
  before?: string | number;
  /** What fired the job: `file` (any file event), `network`, `schedule`, `manual`, `absent`, `rerun`. */
  trigger?: TriggerGroup;
  /** Where the job runs: `local` (also jobs recorded without one), `slurm`, `jupyter`. */
  executor?: ExecutorKind;
  /**
   * Case-insensitive substring of id, pattern, recipe, trigger path or
   * source, error, or the executor's id of the job (a Slurm job id).
   */
  text?: string;
}

/** What changed, for views that want to be precise. */
export interface IJobsChange {
  /** `reset`: everything may have changed; `update`: only `ids`. */
  type: 'reset' | 'update';
  ids: string[];
}

function toMs(t: string | number | undefined): number | undefined {
  if (t === undefined || t === '') {
    return undefined;
  }
  return typeof t === 'number' ? t : Date.parse(t);
}

/** Index of the first element of sorted `arr` not less than `id`. */
function lowerBound(arr: string[], id: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** Insert `id` into sorted `arr` (fast path: append). */
function insertSorted(arr: string[], id: string): void {
  const n = arr.length;
  if (n === 0 || arr[n - 1] < id) {
    arr.push(id);
    return;
  }
  const i = lowerBound(arr, id);
  if (arr[i] !== id) {
    arr.splice(i, 0, id);
  }
}

function removeSorted(arr: string[], id: string): void {
  const i = lowerBound(arr, id);
  if (arr[i] === id) {
    arr.splice(i, 1);
  }
}

export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions = {}) {
    this._client = options.client ?? null;
    this._pageSize = options.pageSize ?? 1000;
    this._maxJobs = options.maxJobs ?? 100000;
    if (this._client) {
      this._client.eventReceived.connect(this._onEvent, this);
      this._client.connectionChanged.connect((_, state) => {
        // Events may have been missed while disconnected: resync.
        if (state === 'connected' && this._loadedOnce) {
          void this.refresh();
        }
      }, this);
    }
  }

  /** Jobs were added or changed (emitted once per batch). */
  get changed(): ISignal<this, IJobsChange> {
    return this._changed;
  }

  /** The filter changed (the filtered view was rebuilt). */
  get filterChanged(): ISignal<this, IJobsFilter> {
    return this._filterChanged;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Number of jobs known. */
  get size(): number {
    return this._ids.length;
  }

  /** Number of jobs passing the filter. */
  get filteredSize(): number {
    return this._filtered.length;
  }

  get filter(): IJobsFilter {
    return this._filter;
  }

  /** Jobs by status (all jobs, unfiltered). */
  get counts(): Record<JobStatus, number> {
    return { ...this._counts };
  }

  /** Pattern and recipe names seen in jobs (for filter dropdowns). */
  get patterns(): string[] {
    return [...this._patternNames].sort();
  }

  get recipes(): string[] {
    return [...this._recipeNames].sort();
  }

  /** Jobs by what fired them (all jobs, unfiltered), for the trigger filter. */
  get triggerCounts(): Record<TriggerGroup, number> {
    return { ...this._triggerCounts };
  }

  /** Jobs by executor (all jobs, unfiltered), for the executor filter. */
  get executorCounts(): Record<ExecutorKind, number> {
    return { ...this._executorCounts };
  }

  get(id: string): IJob | undefined {
    return this._jobs.get(id);
  }

  /** Every job, oldest first (O(n): for reports, not for rendering rows). */
  all(): IJob[] {
    return this._ids.map(id => this._jobs.get(id)!);
  }

  /** Children of a job (jobs whose `parent` is `id`). */
  children(id: string): string[] {
    return [...(this._children.get(id) ?? [])].sort();
  }

  /**
   * The `index`-th job of the filtered view, newest first: what row `index`
   * of the table shows. O(1).
   */
  at(index: number): IJob | undefined {
    const n = this._filtered.length;
    if (index < 0 || index >= n) {
      return undefined;
    }
    return this._jobs.get(this._filtered[n - 1 - index]);
  }

  /** Rows `start` (inclusive) to `end` (exclusive) of the filtered view, newest first. */
  slice(start: number, end: number): IJob[] {
    const out: IJob[] = [];
    const stop = Math.min(end, this._filtered.length);
    for (let i = Math.max(0, start); i < stop; i++) {
      out.push(this.at(i)!);
    }
    return out;
  }

  /** Row index of a job in the filtered view, or -1. O(log n). */
  indexOf(id: string): number {
    const i = lowerBound(this._filtered, id);
    return this._filtered[i] === id ? this._filtered.length - 1 - i : -1;
  }

  /** Whether a job passes the current filter. */
  matches(job: IJob): boolean {
    const f = this._filter;
    if (f.status && f.status.length && !f.status.includes(job.status)) {
      return false;
    }
    if (f.pattern && job.pattern !== f.pattern) {
      return false;
    }
    if (f.recipe && job.recipe !== f.recipe) {
      return false;
    }
    if (f.trigger && triggerGroup(job.trigger?.kind) !== f.trigger) {
      return false;
    }
    if (f.executor && jobExecutor(job) !== f.executor) {
      return false;
    }
    if (this._after !== undefined || this._before !== undefined) {
      const created = Date.parse(job.created);
      if (this._after !== undefined && !(created >= this._after)) {
        return false;
      }
      if (this._before !== undefined && !(created <= this._before)) {
        return false;
      }
    }
    if (this._text) {
      const hay = [job.id, job.pattern, job.recipe, job.trigger?.path ?? '', job.trigger?.source ?? '', job.error?.message ?? '', job.external?.id ?? '']
        .join('\n')
        .toLowerCase();
      if (!hay.includes(this._text)) {
        return false;
      }
    }
    return true;
  }

  /** Replace the filter and rebuild the filtered view (O(n)). */
  setFilter(filter: IJobsFilter): void {
    this._filter = { ...filter };
    this._text = (filter.text ?? '').trim().toLowerCase();
    this._after = toMs(filter.after);
    this._before = toMs(filter.before);
    this._filtered = [];
    this._filteredSet.clear();
    for (const id of this._ids) {
      if (this.matches(this._jobs.get(id)!)) {
        this._filtered.push(id);
        this._filteredSet.add(id);
      }
    }
    this._filterChanged.emit(this._filter);
    this._changed.emit({ type: 'reset', ids: [] });
  }

  /** Add or update jobs; emits `changed` once. */
  upsert(jobs: IJob | IJob[]): void {
    const list = Array.isArray(jobs) ? jobs : [jobs];
    if (list.length === 0) {
      return;
    }
    const ids: string[] = [];
    for (const job of list) {
      if (job && typeof job.id === 'string') {
        this._put(job);
        ids.push(job.id);
      }
    }
    this._trim();
    this._changed.emit({ type: 'update', ids });
  }

  /** Forget every job and take `jobs` instead. */
  reset(jobs: IJob[]): void {
    this._jobs.clear();
    this._ids = [];
    this._filtered = [];
    this._filteredSet.clear();
    this._children.clear();
    this._counts = emptyCounts();
    this._triggerCounts = emptyTriggerCounts();
    this._executorCounts = emptyExecutorCounts();
    this._patternNames.clear();
    this._recipeNames.clear();
    const sorted = [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const job of sorted) {
      this._put(job);
    }
    this._trim();
    this._changed.emit({ type: 'reset', ids: [] });
  }

  /** Load every job from the service, page by page. */
  async refresh(): Promise<void> {
    if (!this._client) {
      return;
    }
    if (this._refreshing) {
      return this._refreshing;
    }
    this._pending = [];
    this._refreshing = (async () => {
      const all: IJob[] = [];
      let offset = 0;
      for (;;) {
        const page = await this._client!.listJobs({ offset, limit: this._pageSize });
        all.push(...page.jobs);
        offset += page.jobs.length;
        if (page.jobs.length === 0 || offset >= page.total || offset >= this._maxJobs) {
          break;
        }
      }
      this._loadedOnce = true;
      this.reset(all);
      // Events that arrived while the pages loaded: keep whichever is further along.
      const pending = this._pending;
      this._pending = null;
      const newer = pending!.filter(job => {
        const known = this._jobs.get(job.id);
        return !known || progressRank(job) >= progressRank(known);
      });
      if (newer.length) {
        this.upsert(newer);
      }
    })();
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
      this._pending = null;
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type === 'job') {
      this._pending?.push(event.job);
      this.upsert(event.job);
    }
  }

  private _put(job: IJob): void {
    const old = this._jobs.get(job.id);
    this._jobs.set(job.id, job);
    if (old) {
      this._counts[old.status] = (this._counts[old.status] ?? 1) - 1;
      this._triggerCounts[triggerGroup(old.trigger?.kind)]--;
      this._executorCounts[jobExecutor(old)]--;
      if (old.parent && old.parent !== job.parent) {
        this._children.get(old.parent)?.delete(job.id);
      }
    } else {
      insertSorted(this._ids, job.id);
    }
    this._counts[job.status] = (this._counts[job.status] ?? 0) + 1;
    this._triggerCounts[triggerGroup(job.trigger?.kind)]++;
    this._executorCounts[jobExecutor(job)]++;
    if (job.parent) {
      let set = this._children.get(job.parent);
      if (!set) {
        set = new Set();
        this._children.set(job.parent, set);
      }
      set.add(job.id);
    }
    this._patternNames.add(job.pattern);
    this._recipeNames.add(job.recipe);
    const keep = this.matches(job);
    const had = this._filteredSet.has(job.id);
    if (keep && !had) {
      insertSorted(this._filtered, job.id);
      this._filteredSet.add(job.id);
    } else if (!keep && had) {
      removeSorted(this._filtered, job.id);
      this._filteredSet.delete(job.id);
    }
  }

  /** Keep at most `maxJobs`: drop the oldest. */
  private _trim(): void {
    const extra = this._ids.length - this._maxJobs;
    if (extra <= 0) {
      return;
    }
    const dropped = this._ids.splice(0, extra);
    for (const id of dropped) {
      const job = this._jobs.get(id)!;
      this._jobs.delete(id);
      this._counts[job.status]--;
      this._triggerCounts[triggerGroup(job.trigger?.kind)]--;
      this._executorCounts[jobExecutor(job)]--;
      if (this._filteredSet.delete(id)) {
        removeSorted(this._filtered, id);
      }
    }
  }

  private _client: MeowClient | null;
  private _pageSize: number;
  private _maxJobs: number;
  private _jobs = new Map<string, IJob>();
  private _ids: string[] = [];
  private _filtered: string[] = [];
  private _filteredSet = new Set<string>();
  private _children = new Map<string, Set<string>>();
  private _counts: Record<JobStatus, number> = emptyCounts();
  private _triggerCounts: Record<TriggerGroup, number> = emptyTriggerCounts();
  private _executorCounts: Record<ExecutorKind, number> = emptyExecutorCounts();
  private _patternNames = new Set<string>();
  private _recipeNames = new Set<string>();
  private _filter: IJobsFilter = {};
  private _text = '';
  private _after: number | undefined;
  private _before: number | undefined;
  private _refreshing: Promise<void> | null = null;
  /** Job events received during a refresh, re-applied after it. */
  private _pending: IJob[] | null = null;
  private _loadedOnce = false;
  private _disposed = false;
  private _changed = new Signal<this, IJobsChange>(this);
  private _filterChanged = new Signal<this, IJobsFilter>(this);
}

/** How far along a job is: queued 0, running 1 (+ cells done), final 1e9. */
function progressRank(job: IJob): number {
  if (FINAL_JOB_STATUSES.includes(job.status)) {
    return 1e9;
  }
  return job.status === 'running' ? 1 + (job.progress?.done ?? 0) : 0;
}

function emptyCounts(): Record<JobStatus, number> {
  const c = {} as Record<JobStatus, number>;
  for (const s of JOB_STATUSES) {
    c[s] = 0;
  }
  return c;
}

function emptyTriggerCounts(): Record<TriggerGroup, number> {
  const c = {} as Record<TriggerGroup, number>;
  for (const g of TRIGGER_GROUPS) {
    c[g] = 0;
  }
  return c;
}

function emptyExecutorCounts(): Record<ExecutorKind, number> {
  const c = {} as Record<ExecutorKind, number>;
  for (const e of EXECUTOR_KINDS) {
    c[e] = 0;
  }
  return c;
}

export namespace JobsModel {
  export interface IOptions {
    client?: MeowClient;
    /** Jobs fetched per request when loading (default 1000). */
    pageSize?: number;
    /** Most jobs kept in memory; the oldest are dropped (default 100000). */
    maxJobs?: number;
  }
}
