/**
 * The job store: every job's record, durable in the job journal
 * (`<state>/jobs/journal.jsonl`, see journal.ts), and one folder per job
 * under `<state>/jobs/<id>/` holding `job.yaml` (spec §6, a mirror of the
 * record), the recipe snapshot, the parameterised notebook, `result.ipynb`
 * and the kernel's log of written files.
 *
 * A job exists once its record is in the journal; its folder is written
 * next (and re-made when it is missing at run time), so `kill -9` at any
 * moment leaves either no job or a whole one. A final status never changes.
 * When the disk is full, a status change is kept in memory and written as
 * soon as space returns; the job goes on.
 */
import { Signal, ISignal } from '@lumino/signaling';
import { promises as fs } from 'fs';
import * as path from 'path';
import { canTransition, isFinalStatus, jobIdSeq, parseJobId } from '../../core/jobs';
import { isPlainObject, parseYamlValues } from '../../core/pyvalue';
import { typedParameters } from '../../core/typedParameters';
import type { IJob, INotebook } from '../../core/types';
import { forEachLimit, removeStaleTemps, writeFileAtomic } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import { jsonToYaml, typedParameterTexts } from './jobYaml';
import { Journal } from './journal';

/** Record fields whose values many jobs share (kept once in memory). */
const SHARED_FIELDS = ['pattern', 'recipe', 'rule', 'ruleKey', 'conductor', 'executor', 'kernel'] as const;

/** File names inside a job folder. */
export const JOB_FILES = {
  job: 'job.yaml',
  recipe: 'recipe.ipynb',
  notebook: 'job.ipynb',
  result: 'result.ipynb',
  writes: 'writes.log'
} as const;

/** The journal's file name inside the jobs folder. */
export const JOURNAL_FILE = 'journal.jsonl';
/** Job folders written at the same time in the background. */
const FOLDER_WRITES_AT_ONCE = 8;

/** After a failed compaction (e.g. a full disk), how long to wait before the next. */
const RETRY_COMPACTION_MS = 60_000;
/** How often held-back background folder writes look whether they may go on. */
const YIELD_RECHECK_MS = 50;
/** How long a `job.yaml` change waits to share its write with the next ones. */
const MIRROR_DELAY_MS = 100;
/** How often records that could not be written (disk full) are tried again. */
const RETRY_WRITE_MS = 2000;

export class JobStore {
  constructor(options: JobStore.IOptions) {
    this._dir = options.jobsDir;
    this._log = options.log ?? silentLogger;
    this._readOnly = options.readOnly ?? false;
    this._yieldTo = options.yieldTo;
    this._tidyDelayMs = options.tidyDelayMs ?? 10_000;
    this._journal = new Journal<IJob>({ file: path.join(this._dir, JOURNAL_FILE) });
  }

  /** Emitted after a job is created or its record changes. */
  get changed(): ISignal<this, JobStore.IChange> {
    return this._changed;
  }

  /** The jobs folder. */
  get folder(): string {
    return this._dir;
  }

  /** Records kept in memory only because the disk refused them (retried). */
  get unwritten(): number {
    return this._dirty.size;
  }

  /**
   * Replay the journal (at start-up) and tidy the jobs folder: temporary
   * files and folders of jobs whose record never reached the journal (a
   * crash while creating them) are removed. A workgroup from before the
   * journal has its `job.yaml` records imported once.
   */
  async load(): Promise<IJob[]> {
    if (this._readOnly) {
      return this._loadReadOnly();
    }
    this._closing = false;
    await fs.mkdir(this._dir, { recursive: true });
    const journalExisted = await fs.stat(this._journal.file).then(
      () => true,
      () => false
    );
    // Replayed as read: the journal's text and its superseded records are
    // never all in memory (they set the service's peak memory).
    let lines = 0;
    const { skipped } = await this._journal.open(record => {
      lines++;
      this._replayOne(record);
    });
    if (skipped) {
      this._log.warn(
        `job journal ${this._journal.file}: ${skipped} unreadable line(s) skipped ` +
          '(a write cut short by a crash or a full disk; the jobs they described are re-made from their triggers)'
      );
    }
    if (!journalExisted) {
      await this._importFolders();
    }
    await this._tidy();
    if (!journalExisted || skipped > 0 || lines > 2 * this._jobs.size + 100) {
      await this._journal.compact(this._jobs.values());
    }
    return this.list();
  }

  /**
   * Read the jobs without writing anything (`meow report` next to a running
   * service, which may be appending to the journal at the same moment).
   */
  private async _loadReadOnly(): Promise<IJob[]> {
    let lines = 0;
    await Journal.read<IJob>(this._journal.file, record => {
      lines++;
      this._replayOne(record);
    });
    if (!lines) {
      await this._importFolders().catch(() => undefined);
    }
    return this.list();
  }

  /** Write what is pending and close the journal. */
  async close(): Promise<void> {
    clearTimeout(this._retryTimer);
    clearTimeout(this._pumpTimer);
    clearTimeout(this._tidyTimer);
    this._closing = true;
    await this._tidying;
    await this.flush();
    // Records still being appended may start a compaction when written.
    await this._journal.drain();
    await this._compacting;
    await this._retryDirty();
    await Promise.allSettled([...this._folderWrites.values()]);
    await Promise.allSettled([...this._mirrors.values()]);
    await this._journal.close();
  }

  get(id: string): IJob | undefined {
    return this._jobs.get(id);
  }

  /** All jobs, oldest first (ids sort by creation time). */
  list(): IJob[] {
    return [...this._jobs.values()].sort(byId);
  }

  /**
   * Jobs that are not finished, oldest first. Kept as a set: callers ask on
   * every rule change, and sorting all jobs each time made deleting many
   * patterns quadratic in a workgroup with 100,000 finished jobs (issue 9).
   */
  unfinished(): IJob[] {
    return [...this._unfinished].map(id => this._jobs.get(id)!).sort(byId);
  }

  /** Jobs of one rule content for one trigger path (for coalescing). */
  byTrigger(ruleKey: string, triggerPath: string): IJob[] {
    const ids = this._byTrigger.get(`${ruleKey}\n${triggerPath}`) ?? [];
    return ids.map(id => this._jobs.get(id)!);
  }

  /** Jobs with one idempotency key. */
  byKey(key: string): IJob[] {
    return (this._byKey.get(key) ?? []).map(id => this._jobs.get(id)!);
  }

  /** The next job sequence number: it continues across restarts. */
  nextSeq(): number {
    return ++this._seq;
  }

  jobDir(id: string): string {
    return path.join(this._dir, id);
  }

  filePath(id: string, file: keyof typeof JOB_FILES): string {
    return path.join(this._dir, id, JOB_FILES[file]);
  }

  /**
   * Create jobs: their records go to the journal in one group commit, then
   * their folders are written. Rejects (and creates none of them) when the
   * journal cannot be written, e.g. on a full disk. `notebooks` may be a
   * function: the parameterised notebook is then made when the folder is
   * written, not while a burst of events is being turned into jobs.
   */
  async create(jobs: { job: IJob; notebooks: JobStore.INotebooks | (() => JobStore.INotebooks) }[]): Promise<void> {
    for (const { job } of jobs) {
      if (this._jobs.has(job.id)) {
        throw new Error(`job ${job.id} already exists`);
      }
    }
    // In memory at once, so a concurrent lookup by key sees the job.
    jobs.forEach(({ job }) => this._add(job));
    try {
      await Promise.all(jobs.map(({ job }) => this._journal.append(job)));
    } catch (err) {
      jobs.forEach(({ job }) => this._remove(job));
      throw err;
    }
    // The journal holds the jobs now: they exist. Their folders (a mirror)
    // are written in the background, a few at a time, so a burst is not
    // held up by four small files per job; a worker waits for its job's.
    for (const { job, notebooks } of jobs) {
      this._writeFolderSoon(job, notebooks);
    }
    for (const { job } of jobs) {
      this._changed.emit({ job, previous: undefined });
    }
  }

  /** Job folders and `job.yaml` changes still to be written in the background. */
  get pendingFolders(): number {
    return this._folderWrites.size + this._dirtyMirrors.size + this._mirrorBatches.size;
  }

  /**
   * Resolves once the folder of a job just created is written (or failed to
   * be: see writeFolder). A folder still waiting in the background queue is
   * written now: the job is about to run.
   */
  async folderWritten(id: string): Promise<void> {
    const waiting = this._folderQueue.get(id);
    if (waiting) {
      this._folderQueue.delete(id);
      this._startFolder(waiting);
    }
    await this._folderWrites.get(id);
  }

  private _writeFolderSoon(job: IJob, notebooks: JobStore.INotebooks | (() => JobStore.INotebooks)): void {
    const written = new Promise<boolean>(resolve => {
      this._folderQueue.set(job.id, () => this.writeFolder(job, notebooks).then(resolve));
    });
    this._folderWrites.set(job.id, written);
    void written.then(() => this._folderWrites.delete(job.id));
    this._pumpFolders();
  }

  /**
   * Write queued folders in the background. While events are being turned
   * into jobs (`yieldTo`), they wait: a burst of files becomes jobs first,
   * and a job that starts meanwhile has its folder written at once.
   */
  private _pumpFolders(): void {
    if (!this._flushing && this._yieldTo?.()) {
      if (!this._pumpTimer && this._folderQueue.size) {
        this._pumpTimer = setTimeout(() => {
          this._pumpTimer = undefined;
          this._pumpFolders();
        }, YIELD_RECHECK_MS);
      }
      return;
    }
    while (this._foldersActive < FOLDER_WRITES_AT_ONCE && this._folderQueue.size) {
      const [id, next] = this._folderQueue.entries().next().value as [string, () => Promise<void>];
      this._folderQueue.delete(id);
      this._startFolder(next);
    }
  }

  private _startFolder(write: () => Promise<void>): void {
    this._foldersActive++;
    void write().finally(() => {
      this._foldersActive--;
      this._pumpFolders();
    });
  }

  /**
   * Write a job's folder (recipe snapshot, parameterised notebook, record).
   * Failures are logged, not thrown: the journal already holds the job and
   * the folder is re-made before the job runs.
   */
  async writeFolder(job: IJob, notebooks: JobStore.INotebooks | (() => JobStore.INotebooks)): Promise<boolean> {
    try {
      const { recipe, notebook } = typeof notebooks === 'function' ? notebooks() : notebooks;
      const dir = this.jobDir(job.id);
      await fs.mkdir(dir, { recursive: true });
      await writeFileAtomic(path.join(dir, JOB_FILES.recipe), JSON.stringify(recipe, null, 1) + '\n', {
        fsync: false
      });
      await writeFileAtomic(path.join(dir, JOB_FILES.notebook), JSON.stringify(notebook, null, 1) + '\n', {
        fsync: false
      });
      await this._mirror(job.id);
      return true;
    } catch (err) {
      this._log.warn(
        `job ${job.id}: could not write its folder (${(err as Error).message}); it is written again before the job runs`
      );
      return false;
    }
  }

  /**
   * Change a job's record. Status changes must follow the job life cycle
   * (a final status never changes); an illegal one is refused with an error.
   * A change the disk refuses is kept and retried (see the class comment).
   */
  async update(id: string, patch: Partial<IJob>): Promise<IJob> {
    const current = this._jobs.get(id);
    if (!current) {
      throw new Error(`no job ${id}`);
    }
    if (patch.status && patch.status !== current.status) {
      if (!canTransition(current.status, patch.status)) {
        throw new JobStore.TransitionError(id, current.status, patch.status);
      }
    } else if (isFinalStatus(current.status) && patch.status === undefined) {
      // Finished jobs only accept bookkeeping that does not alter history.
      const keys = Object.keys(patch).filter(k => k !== 'filesWritten');
      if (keys.length) {
        throw new Error(`job ${id} is ${current.status}; cannot change ${keys.join(', ')}`);
      }
    }
    const next: IJob = { ...current, ...patch };
    this._jobs.set(id, next);
    this._trackFinished(next);
    // Progress is ephemeral: shown live and in job.yaml, not journalled.
    // The journal write is not awaited: records keep their order, and a
    // change lost to a crash before its sync is one the job makes again
    // (it runs again), so a worker need not wait a disk sync per change.
    if (Object.keys(patch).some(k => k !== 'progress')) {
      this._journal.append(next).then(
        () => {
          this._dirty.delete(id);
          this._maybeCompact();
        },
        err => this._keepDirty(id, err as Error)
      );
    }
    // Listeners (the API's index, the websocket) see what `get` sees.
    this._changed.emit({ job: next, previous: current });
    this._mirrorSoon(id);
    return next;
  }

  /**
   * Rewrite the journal with one record per job once it holds many more
   * lines than jobs (each job appends a line per change), so it stays
   * proportional to the number of jobs on disk and at replay.
   */
  private _maybeCompact(): void {
    if (
      this._compacting ||
      Date.now() - this._compactFailedAt < RETRY_COMPACTION_MS ||
      this._journal.appendedSinceCompaction < Math.max(10_000, 2 * this._jobs.size)
    ) {
      return;
    }
    this._compacting = this._journal
      .compact(this._jobs.values())
      .catch(err => {
        this._compactFailedAt = Date.now();
        this._log.warn(`job journal: compaction failed (${(err as Error).message}); tried again in a minute`);
      })
      .finally(() => {
        this._compacting = undefined;
      });
  }

  /**
   * Write `job.yaml` a moment after a change (`MIRROR_DELAY_MS`), so a job's
   * quick changes (queued → running → done of a short job, progress) share
   * one write and no worker waits for a mirror; `flush` writes them now.
   */
  private _mirrorSoon(id: string): void {
    this._dirtyMirrors.add(id);
    if (!this._mirrorTimer) {
      this._mirrorTimer = setTimeout(() => void this._writeMirrors(), MIRROR_DELAY_MS);
    }
  }

  private _writeMirrors(): Promise<void> {
    clearTimeout(this._mirrorTimer);
    this._mirrorTimer = undefined;
    const ids = [...this._dirtyMirrors];
    this._dirtyMirrors.clear();
    const all = forEachLimit(ids, FOLDER_WRITES_AT_ONCE, id => this._mirror(id));
    this._mirrorBatches.add(all);
    void all.finally(() => this._mirrorBatches.delete(all));
    return all;
  }

  /** Write every `job.yaml` change still waiting (tests, reports, stop). */
  async flush(): Promise<void> {
    this._flushing++;
    try {
      await this._flushAll();
    } finally {
      this._flushing--;
    }
  }

  private async _flushAll(): Promise<void> {
    this._pumpFolders();
    while (this._dirtyMirrors.size || this._mirrorBatches.size || this._folderWrites.size) {
      if (this._dirtyMirrors.size) {
        await this._writeMirrors();
      }
      await Promise.allSettled([...this._mirrorBatches, ...this._folderWrites.values()]);
    }
  }

  /** Write `job.yaml` from the latest record, one write per job at a time. */
  private _mirror(id: string): Promise<void> {
    // A write that has not started yet reads the record when it starts, so
    // it carries this change too: quick changes share one write.
    const waiting = this._mirrorWaiting.get(id);
    if (waiting) {
      return waiting;
    }
    const previous = this._mirrors.get(id) ?? Promise.resolve();
    const write = previous.then(async () => {
      this._mirrorWaiting.delete(id);
      const job = this._jobs.get(id);
      if (!job) {
        return;
      }
      try {
        await writeFileAtomic(this.filePath(id, 'job'), JobStore.serialise(job), { fsync: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this._log.debug(`job ${id}: job.yaml not written (${(err as Error).message}); the journal holds the record`);
        }
      }
    });
    this._mirrors.set(id, write);
    this._mirrorWaiting.set(id, write);
    void write.then(() => {
      if (this._mirrors.get(id) === write) {
        this._mirrors.delete(id);
      }
    });
    return write;
  }

  private _keepDirty(id: string, err: Error): void {
    if (!this._dirty.size) {
      this._log.error(
        `cannot write the job journal (${err.message}): job ${id} and later changes are kept in memory ` +
          `and written as soon as the disk takes them again — free space on the disk of ${this._dir}`
      );
    }
    this._dirty.add(id);
    if (!this._retryTimer) {
      this._retryTimer = setTimeout(() => {
        this._retryTimer = undefined;
        void this._retryDirty();
      }, RETRY_WRITE_MS);
      this._retryTimer.unref?.();
    }
  }

  private async _retryDirty(): Promise<void> {
    const ids = [...this._dirty];
    if (!ids.length) {
      return;
    }
    try {
      await Promise.all(ids.map(id => this._journal.append(this._jobs.get(id)!)));
      ids.forEach(id => this._dirty.delete(id));
      this._log.info(`job journal written again: ${ids.length} job record(s) that waited for disk space are saved`);
    } catch (err) {
      this._keepDirty(ids[0], err as Error);
    }
  }

  /** Import `job.yaml` records of a workgroup made before the journal existed. */
  private async _importFolders(): Promise<void> {
    const entries = await fs.readdir(this._dir, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory() || this._jobs.has(entry.name)) {
        continue;
      }
      const file = path.join(this._dir, entry.name, JOB_FILES.job);
      try {
        this._add(JobStore.parseRecord(await fs.readFile(file, 'utf8')));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          continue; // no record: an unfinished creation, removed by _tidy
        }
        this._log.warn(
          `job store: cannot read ${file}: ${(err as Error).message}; the folder is left as it is (fix or remove it by hand)`
        );
        this._unreadable.add(entry.name);
      }
    }
  }

  /** Remove temporary files and folders of jobs that were never recorded. */
  private async _tidy(): Promise<void> {
    const entries = await fs.readdir(this._dir, { withFileTypes: true });
    let removed = 0;
    for (const entry of entries) {
      const abs = path.join(this._dir, entry.name);
      if (entry.isFile() && entry.name.endsWith('.tmp')) {
        await fs.rm(abs, { force: true });
        continue;
      }
      if (!entry.isDirectory()) {
        continue;
      }
      if (!this._jobs.has(entry.name) && !this._unreadable.has(entry.name) && parseJobId(entry.name)) {
        await fs.rm(abs, { recursive: true, force: true });
        removed++;
        continue;
      }
      const job = this._jobs.get(entry.name);
      if (job && isFinalStatus(job.status)) {
        continue; // listed in the background: see below
      }
      await removeStaleTemps(abs);
    }
    // A finished job's folder only holds a temporary file if a crash cut its
    // last write short: harmless, and listing 10,000 folders was most of the
    // start-up. They are tidied a while after start (not competing with it
    // or with the first events), leaving temps newer than the start.
    const since = Date.now();
    this._tidyTimer = setTimeout(() => {
      this._tidyTimer = undefined;
      this._tidying = (async () => {
        // Ids from the store, not a list made at start: 100,000 folder
        // paths held for the delay were ~40 MB of the service's memory.
        for (const job of this._jobs.values()) {
          if (this._closing) {
            return;
          }
          if (isFinalStatus(job.status)) {
            await removeStaleTemps(path.join(this._dir, job.id), since);
          }
        }
      })().catch(() => undefined);
    }, this._tidyDelayMs);
    this._tidyTimer.unref?.();
    if (removed) {
      this._log.info(
        `job store: removed ${removed} job folder(s) of jobs a crash interrupted while they were being created (their triggers are processed again)`
      );
    }
  }

  /** Take journal records in order; the last record of a job wins. */
  private _replayOne(record: IJob): void {
    if (record && typeof record.id === 'string' && typeof record.status === 'string' && record.trigger) {
      record.filesWritten = record.filesWritten ?? [];
      if (record.typedParameters && isPlainObject(record.parameters)) {
        // JSON made `1.0` a 1 and `{1: 1}` a {"1": 1}; the texts hold what ran.
        record.parameters = typedParameters(record.parameters, record.typedParameters);
      }
      // Thousands of jobs share a few rules: one copy of each string, not
      // one per record (the rule key alone is hundreds of bytes).
      for (const field of SHARED_FIELDS) {
        const value = record[field];
        if (typeof value === 'string') {
          let shared = this._shared.get(value);
          if (shared === undefined) {
            this._shared.set(value, value);
            shared = value;
          }
          (record as unknown as Record<string, unknown>)[field] = shared;
        }
      }
      this._add(record);
    }
  }

  private _trackFinished(job: IJob): void {
    if (isFinalStatus(job.status)) {
      this._unfinished.delete(job.id);
    } else {
      this._unfinished.add(job.id);
    }
  }

  private _add(job: IJob): void {
    const known = this._jobs.has(job.id);
    this._jobs.set(job.id, job);
    this._trackFinished(job);
    if (known) {
      return; // a later record of the same job: its seq and indexes are taken already
    }
    const seq = jobIdSeq(job.id);
    if (seq !== undefined && seq > this._seq) {
      this._seq = seq;
    }
    // Rule key, trigger path and key never change, so the indexes are built once.
    push(this._byTrigger, `${job.ruleKey}\n${job.trigger.path}`, job.id);
    if (job.key) {
      push(this._byKey, job.key, job.id);
    }
  }

  private _remove(job: IJob): void {
    this._jobs.delete(job.id);
    this._unfinished.delete(job.id);
    pull(this._byTrigger, `${job.ruleKey}\n${job.trigger.path}`, job.id);
    if (job.key) {
      pull(this._byKey, job.key, job.id);
    }
  }

  private readonly _dir: string;
  private readonly _log: ILogger;
  private readonly _readOnly: boolean;
  private readonly _journal: Journal<IJob>;
  private readonly _jobs = new Map<string, IJob>();
  /** Ids of jobs not in a final status (see `unfinished`). */
  private readonly _unfinished = new Set<string>();
  private readonly _byTrigger = new Map<string, string[]>();
  private readonly _byKey = new Map<string, string[]>();
  private readonly _mirrors = new Map<string, Promise<void>>();
  private readonly _dirty = new Set<string>();
  private readonly _unreadable = new Set<string>();
  /** One copy of each SHARED_FIELDS value. */
  private readonly _shared = new Map<string, string>();
  private _retryTimer: ReturnType<typeof setTimeout> | undefined;
  private _compacting: Promise<void> | undefined;
  private _tidying: Promise<void> | undefined;
  private _tidyTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly _tidyDelayMs: number;
  private _closing = false;
  private _compactFailedAt = 0;
  private _seq = 0;
  private readonly _changed = new Signal<this, JobStore.IChange>(this);
  private readonly _folderWrites = new Map<string, Promise<boolean>>();
  /** Mirror writes queued but not started, per job. */
  private readonly _mirrorWaiting = new Map<string, Promise<void>>();
  /** Folder writes not started yet, by job id, oldest first. */
  private readonly _folderQueue = new Map<string, () => Promise<void>>();
  private readonly _yieldTo: (() => boolean) | undefined;
  private _pumpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Flushes under way: background writes do not wait for `yieldTo` then. */
  private _flushing = 0;
  private _foldersActive = 0;
  /** Jobs whose `job.yaml` waits for the next mirror batch. */
  private readonly _dirtyMirrors = new Set<string>();
  private readonly _mirrorBatches = new Set<Promise<void>>();
  private _mirrorTimer: ReturnType<typeof setTimeout> | undefined;
}

function push(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids) {
    ids.push(id);
  } else {
    index.set(key, [id]);
  }
}

function pull(index: Map<string, string[]>, key: string, id: string): void {
  const ids = index.get(key)?.filter(x => x !== id);
  if (ids?.length) {
    index.set(key, ids);
  } else {
    index.delete(key);
  }
}

export namespace JobStore {
  /** What a job folder holds besides its record: the recipe snapshot and the parameterised notebook. */
  export interface INotebooks {
    recipe: INotebook;
    notebook: INotebook;
  }

  export interface IOptions {
    /** Absolute path of `<workgroup>/<state>/jobs`. */
    jobsDir: string;
    log?: ILogger;
    /** Only read (reports): no tidying, no compaction, no journal writes. */
    readOnly?: boolean;
    /**
     * True while something more urgent runs (the scheduler turning events
     * into jobs): background folder writes wait meanwhile.
     */
    yieldTo?: () => boolean;
    /** Delay after load before finished jobs' folders are tidied, in ms (default 10 s). */
    tidyDelayMs?: number;
  }

  export interface IChange {
    job: IJob;
    previous: IJob | undefined;
  }

  export class TransitionError extends Error {
    constructor(id: string, from: string, to: string) {
      super(`job ${id}: status cannot change from ${from} to ${to}`);
    }
  }

  /**
   * The YAML text of a job record, parameters with their Python types
   * (`1.0`, `{1: 1}`), so it matches what ran; `typedParameters`, which
   * carries those types through JSON, is left out as redundant here.
   */
  export function serialise(job: IJob): string {
    if (job.typedParameters) {
      const { typedParameters: _, ...rest } = job;
      return jsonToYaml(rest);
    }
    return jsonToYaml(job);
  }

  /**
   * A job record read from `job.yaml` text: parameters with their Python
   * types (`parseYaml`), `typedParameters` made again for the journal.
   *
   * @throws Error when the text is not YAML or not a job record.
   */
  export function parseRecord(text: string): IJob {
    const job = parseYamlValues(text) as IJob;
    if (!isPlainObject(job) || typeof job.id !== 'string' || typeof job.status !== 'string' || !job.trigger) {
      throw new Error('missing "id", "status" or "trigger"');
    }
    job.filesWritten = job.filesWritten ?? [];
    const typed = isPlainObject(job.parameters) ? typedParameterTexts(job.parameters) : undefined;
    delete job.typedParameters;
    if (typed) {
      job.typedParameters = typed;
    }
    return job;
  }
}

/** Oldest first: job ids sort by creation time. */
function byId(a: IJob, b: IJob): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
