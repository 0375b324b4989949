/**
 * All jobs of the workgroup, kept current by the events websocket.
 *
 * Built for tens of thousands of jobs: jobs are kept in a map plus an
 * id-sorted array (ids sort by creation time, so a new job is appended in
 * O(1)); the filtered view is kept sorted by the chosen column
 * incrementally, so one job update costs O(log n) and tests only that job
 * against the filter. Only a filter or sort change rescans all jobs.
 *
 * Websocket events are applied in batches (every `batchInterval` ms, one
 * `changed` signal each): 2,000 jobs arriving at once cost a few renders,
 * not thousands.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IServiceEvent } from '../../core/api';
import {
  DEFAULT_JOB_SORT,
  IJobClassifiers,
  IJobFilter,
  IJobSort,
  compareStrings,
  compileJobFilter,
  insertSorted,
  jobComparator,
  lowerBound,
  removeSorted
} from '../../core/jobFilter';
import { EXECUTOR_KINDS, ExecutorKind, FINAL_JOB_STATUSES, IJob, JobStatus } from '../../core/types';
import { JOB_STATUSES } from '../../core/jobs';
import type { MeowClient } from '../client';
import { jobExecutor } from '../executors';
import { TRIGGER_GROUPS, TriggerGroup, triggerGroup } from '../triggers';

/** Filters of the Monitor panel; unset ones keep everything. */
export interface IJobsFilter extends IJobFilter {
  status?: JobStatus[];
  /** What fired the job: `file` (any file event), `network`, `schedule`, `manual`, `absent`, `rerun`. */
  trigger?: TriggerGroup;
  /** Where the job runs: `local` (also jobs recorded without one), `slurm`, `jupyter`. */
  executor?: ExecutorKind;
}

/** What changed, for views that want to be precise. */
export interface IJobsChange {
  /** `reset`: everything may have changed; `update`: only `ids`. */
  type: 'reset' | 'update';
  ids: string[];
}

/** The Lab names trigger kinds by group and jobs without an executor `local`. */
const CLASSIFY: IJobClassifiers = { trigger: job => triggerGroup(job.trigger?.kind), executor: jobExecutor };

export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions = {}) {
    this._client = options.client ?? null;
    this._pageSize = options.pageSize ?? 1000;
    this._maxJobs = options.maxJobs ?? 100000;
    this._batchInterval = options.batchInterval ?? 100;
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

  /** Whether the jobs were loaded from the service at least once. */
  get loaded(): boolean {
    return this._loadedOnce;
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

  /** The order of the filtered view (default: newest first). */
  get sort(): IJobSort {
    return this._sort;
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

  /** The `index`-th job of the filtered, sorted view: what row `index` of the table shows. O(1). */
  at(index: number): IJob | undefined {
    const n = this._filtered.length;
    if (index < 0 || index >= n) {
      return undefined;
    }
    return this._jobs.get(this._filtered[this._sort.direction === 'desc' ? n - 1 - index : index]);
  }

  /** Rows `start` (inclusive) to `end` (exclusive) of the filtered, sorted view. */
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
    if (!this._filteredSet.has(id)) {
      return -1;
    }
    const i = lowerBound(this._filtered, id, this._compare);
    return this._sort.direction === 'desc' ? this._filtered.length - 1 - i : i;
  }

  /** Whether a job passes the current filter. */
  matches(job: IJob): boolean {
    return this._predicate(job);
  }

  /** Replace the filter and rebuild the filtered view (O(n)). */
  setFilter(filter: IJobsFilter): void {
    this._filter = { ...filter };
    this._predicate = compileJobFilter(this._filter, CLASSIFY);
    this._rebuild();
    this._filterChanged.emit(this._filter);
    this._changed.emit({ type: 'reset', ids: [] });
  }

  /** Order the filtered view by a column (O(n log n)). */
  setSort(sort: IJobSort): void {
    this._sort = { ...sort };
    this._compare = this._comparator();
    this._rebuild();
    this._changed.emit({ type: 'reset', ids: [] });
  }

  /** Add or update jobs now; emits `changed` once. */
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

  /** Apply the websocket events waiting for the next batch now. */
  flush(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._queue.size === 0) {
      return;
    }
    // A final status never changes: an event overtaken by a direct update
    // (Cancel's answer) must not bring an older state back.
    const list = [...this._queue.values()].filter(job => {
      const known = this._jobs.get(job.id);
      return !known || !FINAL_JOB_STATUSES.includes(known.status) || FINAL_JOB_STATUSES.includes(job.status);
    });
    this._queue.clear();
    this.upsert(list);
  }

  /** Forget every job and take `jobs` instead. */
  reset(jobs: IJob[]): void {
    this._jobs.clear();
    this._filtered = [];
    this._filteredSet.clear();
    this._children.clear();
    this._counts = emptyCounts();
    this._triggerCounts = emptyTriggerCounts();
    this._executorCounts = emptyExecutorCounts();
    this._patternNames.clear();
    this._recipeNames.clear();
    for (const job of jobs) {
      this._jobs.set(job.id, job);
      this._count(job, 1);
    }
    this._ids = [...this._jobs.keys()].sort(compareStrings);
    this._trim();
    this._rebuild();
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
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    Signal.clearData(this);
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type !== 'job' || !event.job || typeof event.job.id !== 'string') {
      return;
    }
    this._pending?.push(event.job);
    this._queue.set(event.job.id, event.job);
    if (this._batchInterval <= 0) {
      this.flush();
    } else if (this._timer === null) {
      this._timer = setTimeout(() => this.flush(), this._batchInterval);
    }
  }

  /** Ascending order of the ids in `_filtered` (shown reversed for `desc`). */
  private _comparator(): (a: string, b: string) => number {
    if (this._sort.key === 'id') {
      this._byJob = null;
      return compareStrings;
    }
    const byJob = jobComparator(this._sort.key, CLASSIFY);
    this._byJob = byJob;
    return (a, b) => byJob(this._jobs.get(a)!, this._jobs.get(b)!);
  }

  /** The filtered view from scratch. */
  private _rebuild(): void {
    this._filtered = [];
    this._filteredSet.clear();
    for (const id of this._ids) {
      if (this.matches(this._jobs.get(id)!)) {
        this._filtered.push(id);
        this._filteredSet.add(id);
      }
    }
    if (this._sort.key !== 'id') {
      this._filtered.sort(this._compare);
    }
  }

  private _put(job: IJob): void {
    const old = this._jobs.get(job.id);
    const keep = this.matches(job);
    let had = this._filteredSet.has(job.id);
    // Leave the view while the old record is in the map: its place is found by its old sort value.
    if (had && (!keep || (this._byJob !== null && this._byJob(old!, job) !== 0))) {
      removeSorted(this._filtered, job.id, this._compare);
      this._filteredSet.delete(job.id);
      had = false;
    }
    if (old) {
      this._count(old, -1);
      if (old.parent && old.parent !== job.parent) {
        this._children.get(old.parent)?.delete(job.id);
      }
    } else {
      insertSorted(this._ids, job.id, compareStrings);
    }
    this._jobs.set(job.id, job);
    this._count(job, 1);
    if (keep && !had) {
      insertSorted(this._filtered, job.id, this._compare);
      this._filteredSet.add(job.id);
    }
  }

  /** Add (`by` 1) or take away (-1) a job from the counts and indexes. */
  private _count(job: IJob, by: 1 | -1): void {
    this._counts[job.status] = (this._counts[job.status] ?? 0) + by;
    this._triggerCounts[triggerGroup(job.trigger?.kind)] += by;
    this._executorCounts[jobExecutor(job)] += by;
    if (by > 0) {
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
      if (this._filteredSet.delete(id)) {
        removeSorted(this._filtered, id, this._compare);
      }
      this._jobs.delete(id);
      this._counts[job.status]--;
      this._triggerCounts[triggerGroup(job.trigger?.kind)]--;
      this._executorCounts[jobExecutor(job)]--;
    }
  }

  private _client: MeowClient | null;
  private _pageSize: number;
  private _maxJobs: number;
  private _batchInterval: number;
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
  private _predicate = compileJobFilter({}, CLASSIFY);
  private _sort: IJobSort = { ...DEFAULT_JOB_SORT };
  private _compare: (a: string, b: string) => number = compareStrings;
  /** The sort order on records (null for id order, which needs no lookup). */
  private _byJob: ((a: IJob, b: IJob) => number) | null = null;
  /** Websocket events waiting for the next batch, latest per job. */
  private _queue = new Map<string, IJob>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
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
    /** Milliseconds websocket events are collected before they are applied together (default 100; 0 = at once). */
    batchInterval?: number;
  }
}
