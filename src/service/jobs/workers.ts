/**
 * The workers: take queued jobs in order, check their trigger is unchanged,
 * hand them to their executor, and record how they ended. A job the
 * infrastructure could not run (the Jupyter server died or was restarting)
 * goes back to the queue as the same job, with a growing pause.
 *
 * Each executor has its own lane (queue and width): local kernels run
 * `workers` jobs at once while hundreds wait in Slurm, and a full Slurm
 * lane never holds up local jobs.
 */
import { promises as fs } from 'fs';
import { effectiveExecution } from '../../core/executor';
import { isFinalStatus } from '../../core/jobs';
import type { ExecutorKind, IJob, IJobExternal, IRule } from '../../core/types';
import { DEFAULT_RETRIES } from '../../core/types';
import { isTransientError } from '../fsutil';
import type { ILogger } from '../log';
import type { ExecutorSet, IExecutor } from '../executors/executor';
import type { IExecutionResult } from '../tokens';
import { ShuttingDown } from '../tokens';
import { JobFactory } from './jobFactory';
import type { JobStore } from './jobStore';
import type { ProvenanceTracker } from './provenance';
import { JobQueue } from './queue';

/** Pause before a job whose trigger could not be read just now (e.g. out of file descriptors) is tried again. */
const TRANSIENT_RETRY_MS = 500;
/** Re-runs allowed for infrastructure failures, whatever the pattern's `retries`. */
export const INFRA_RETRIES = 5;
/** First pause before an infrastructure retry; doubles each time, at most 30 s. */
const INFRA_BACKOFF_MS = 1000;
/**
 * A running job's progress is recorded at most this often; what is newer
 * goes with its final record. A job of quick cells then costs one record
 * at the end instead of a job.yaml write and a change event per cell.
 */
const PROGRESS_INTERVAL_MS = 250;

export class WorkerPool {
  constructor(options: WorkerPool.IOptions) {
    this._o = options;
    this._workers = Math.max(1, options.workers);
    this.timeoutMs = options.timeoutMs;
  }

  /** Whole-job timeout for jobs that start from now on. */
  timeoutMs: number;

  get workers(): number {
    return this._workers;
  }

  /** Jobs waiting for a worker, over all lanes. */
  get queued(): number {
    let n = 0;
    this._lanes.forEach(lane => (n += lane.queue.size));
    return n;
  }

  /**
   * Jobs a worker took that have not started yet: their record still says
   * `queued` (the worker is writing their folder or waiting for their
   * executor), so the queue limit counts them.
   */
  get starting(): number {
    let n = 0;
    for (const id of this._taken) {
      if (this._o.store.get(id)?.status === 'queued') {
        n++;
      }
    }
    return n;
  }

  /**
   * Jobs a worker has taken from a queue and not finished with: being
   * checked, prepared or executed (so `idle` is never true in between).
   */
  get running(): number {
    return this._taken.size;
  }

  /** Jobs waiting out a pause before they are queued again. */
  get waiting(): number {
    return this._retryTimers.size;
  }

  isRunning(id: string): boolean {
    return this._running.has(id);
  }

  start(): void {
    this._started = true;
    this._lanes.forEach((_, kind) => this._spawn(kind));
  }

  /** More workers start at once; surplus workers stop after their current job. */
  resize(workers: number): void {
    this._workers = Math.max(1, Math.floor(workers));
    this._lanes.forEach((lane, kind) => {
      if (this._started) {
        this._spawn(kind);
      }
      lane.queue.wake();
    });
  }

  enqueue(id: string): void {
    if (this._running.has(id)) {
      return;
    }
    const job = this._o.store.get(id);
    const kind = job ? this._kindOf(job) : this._o.executors.defaultKind;
    this._lane(kind).queue.push(id);
  }

  /** Take a job out of its queue (cancelled before it ran); false when it was not queued. */
  dequeue(id: string): boolean {
    let found = false;
    this._lanes.forEach(lane => (found = lane.queue.remove(id) || found));
    return found;
  }

  /** Abort a running job; false when it is not running. */
  abort(id: string, reason: string): boolean {
    const controller = this._running.get(id);
    if (!controller) {
      return false;
    }
    this._cancelReasons.set(id, reason);
    controller.abort(new Error(reason));
    return true;
  }

  /**
   * Stop taking jobs; running jobs are aborted (with `ShuttingDown`) and go
   * back to `queued`. Jobs of an executor whose jobs outlive meow (Slurm)
   * keep running there and are followed again at the next start.
   */
  async stop(): Promise<void> {
    this._started = false;
    this._retryTimers.forEach(t => clearTimeout(t));
    this._retryTimers.clear();
    for (const [id, controller] of this._running) {
      this._shuttingDown.add(id);
      controller.abort(new ShuttingDown());
    }
    this._lanes.forEach(lane => lane.queue.wake());
    await Promise.all(this._loops);
  }

  /** Where a job runs: its rule's choice, else the default executor. */
  private _kindOf(job: IJob): ExecutorKind {
    const rule = this._o.ruleFor(job);
    return rule
      ? effectiveExecution(rule.pattern, rule.recipe, this._o.executors.defaultKind).executor
      : this._o.executors.defaultKind;
  }

  private _lane(kind: ExecutorKind): ILane {
    let lane = this._lanes.get(kind);
    if (!lane) {
      lane = { queue: new JobQueue(), active: new Set() };
      this._lanes.set(kind, lane);
      if (this._started) {
        this._spawn(kind);
      }
    }
    return lane;
  }

  /** How many jobs of `kind` run at once. */
  private _width(kind: ExecutorKind): number {
    const executor = this._o.executors.get(kind);
    return 'kind' in executor && executor.concurrency !== undefined ? Math.max(1, executor.concurrency) : this._workers;
  }

  private _spawn(kind: ExecutorKind): void {
    const lane = this._lane(kind);
    const width = this._width(kind);
    for (let i = 0; i < width; i++) {
      if (!lane.active.has(i)) {
        lane.active.add(i);
        this._loops.push(this._loop(kind, lane, i).finally(() => lane.active.delete(i)));
      }
    }
  }

  private async _loop(kind: ExecutorKind, lane: ILane, worker: number): Promise<void> {
    while (this._started && worker < this._width(kind)) {
      const id = lane.queue.shift();
      if (id === undefined) {
        await lane.queue.wait();
        continue;
      }
      const job = this._o.store.get(id);
      if (!job || job.status !== 'queued') {
        continue;
      }
      this._taken.add(id);
      try {
        await this._execute(job, kind, worker);
      } catch (err) {
        await this._internalError(id, err as Error);
      } finally {
        this._taken.delete(id);
      }
    }
  }

  private async _internalError(id: string, err: Error): Promise<void> {
    this._o.log.error(`job ${id}: internal error: ${err.stack ?? err}`);
    const current = this._o.store.get(id);
    if (current && !isFinalStatus(current.status)) {
      await this._o.store
        .update(id, {
          status: 'failed',
          finished: new Date().toISOString(),
          error: { message: `internal error in meow: ${err.message}` }
        })
        .catch(() => undefined);
    }
  }

  /** Run one job: re-check its trigger, hand it to its executor, record the end. */
  private async _execute(job: IJob, lane: ExecutorKind, worker: number): Promise<void> {
    const { store, log } = this._o;
    // A job its engine already runs (Slurm, after a restart) is followed,
    // whatever happened to its trigger since it was submitted.
    const check = job.external ? 'run' : await this._skipIfChanged(job);
    if (check === 'later') {
      this._retryLater(job.id, TRANSIENT_RETRY_MS);
      return;
    }
    if (check === 'skipped') {
      return;
    }
    const rule = this._o.ruleFor(job);
    if (!rule) {
      await store.update(job.id, {
        status: 'cancelled',
        cancelledBy: 'rule',
        finished: new Date().toISOString(),
        error: {
          message: `cancelled because its rule no longer exists (pattern "${job.pattern}" or recipe "${job.recipe}" changed or was deleted)`
        }
      });
      return;
    }
    const { executor: kind, resources } = effectiveExecution(rule.pattern, rule.recipe, this._o.executors.defaultKind);
    if (kind !== lane) {
      this._lane(kind).queue.push(job.id); // its pattern changed executor while it waited
      return;
    }
    const executor = await this._o.executors.ready(kind);
    if (!('kind' in executor)) {
      await this._cannotRun(job, kind, executor.unavailable);
      return;
    }
    const notebook = await this._notebook(job, rule);
    const controller = new AbortController();
    this._running.set(job.id, controller);
    let progressTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      const running = await store.update(job.id, {
        status: 'running',
        started: job.external && job.started ? job.started : new Date().toISOString(),
        conductor: executor.name,
        executor: kind,
        resources
      });
      const writesLogPath = store.filePath(job.id, 'writes');
      if (!job.external) {
        await fs.rm(writesLogPath, { force: true }); // an earlier attempt's log
      }
      this._o.provenance.started(running, writesLogPath);
      log.info(
        `job ${job.id} running on ${kind} worker ${worker + 1}: ${job.pattern} → ${job.recipe}` +
          ((job.attempt ?? 1) > 1 ? ` (attempt ${job.attempt})` : '')
      );
      // Record writes are chained so they land in order.
      let recordWrite = Promise.resolve();
      const record = (patch: Parameters<JobStore['update']>[1]) => {
        recordWrite = recordWrite.then(() =>
          store.update(job.id, patch).then(
            () => undefined,
            () => undefined
          )
        );
      };
      // Progress not recorded yet (throttled, see PROGRESS_INTERVAL_MS).
      let progress: { done: number; total: number } | undefined;
      let progressAt = Date.now();
      const onProgress = (done: number, total: number) => {
        progress = { done, total };
        if (progressTimer) {
          return;
        }
        progressTimer = setTimeout(
          () => {
            progressTimer = undefined;
            progressAt = Date.now();
            if (progress) {
              record({ progress });
              progress = undefined;
            }
          },
          Math.max(0, progressAt + PROGRESS_INTERVAL_MS - Date.now())
        );
      };
      // Cancelled while it was being prepared: do not start it at all.
      const result: IExecutionResult = controller.signal.aborted
        ? { status: 'cancelled', filesWritten: [], error: { message: 'cancelled before it started' } }
        : await executor.execute({
            job: running,
            notebook,
            resultPath: store.filePath(job.id, 'result'),
            writesLogPath,
            cwd: this._o.root,
            timeoutMs: this.timeoutMs,
            signal: controller.signal,
            jobDir: store.jobDir(job.id),
            resources,
            onProgress,
            onExternal: (external: IJobExternal) => record({ external })
          });
      clearTimeout(progressTimer);
      await recordWrite;
      await this._record(store.get(job.id) ?? running, rule, executor, result, progress);
    } finally {
      clearTimeout(progressTimer);
      this._running.delete(job.id);
      this._cancelReasons.delete(job.id);
      this._shuttingDown.delete(job.id);
    }
  }

  /** The job asks for an executor this service cannot use: failed, with the reason and fix. */
  private async _cannotRun(job: IJob, kind: ExecutorKind, why: string): Promise<void> {
    await this._o.store.update(job.id, {
      status: 'failed',
      executor: kind,
      finished: new Date().toISOString(),
      error: { message: `could not start on executor ${kind}: ${why}` }
    });
    this._o.log.error(`job ${job.id} (${job.pattern}) could not start on executor ${kind}: ${why}`);
  }

  /** Skipped when the triggering file changed or vanished since the job was made. */
  private async _skipIfChanged(job: IJob): Promise<'run' | 'skipped' | 'later'> {
    if (!job.trigger.hash) {
      return 'run';
    }
    let now: string | undefined;
    try {
      now = await this._o.hashOf(job.trigger.path);
    } catch (err) {
      if (isTransientError(err)) {
        this._o.log.warn(
          `job ${job.id}: ${job.trigger.path} cannot be read just now (${(err as Error).message}); tried again shortly`
        );
        return 'later';
      }
      now = `unreadable: ${(err as Error).message}`;
    }
    if (now === job.trigger.hash) {
      return 'run';
    }
    const why =
      now === undefined
        ? `${job.trigger.path} was deleted before the job ran`
        : now.startsWith('unreadable: ')
          ? `${job.trigger.path} can no longer be read (${now.slice(12)})`
          : `${job.trigger.path} changed before the job ran; a newer job handles the new content`;
    await this._o.store.update(job.id, {
      status: 'skipped',
      finished: new Date().toISOString(),
      error: { message: `skipped: ${why}` }
    });
    this._o.log.info(`job ${job.id} skipped: ${why}`);
    return 'skipped';
  }

  /** The job's parameterised notebook; re-made from its rule if its folder was lost. */
  private async _notebook(job: IJob, rule: IRule) {
    const file = this._o.store.filePath(job.id, 'notebook');
    await this._o.store.folderWritten(job.id);
    try {
      return JSON.parse(await fs.readFile(file, 'utf8'));
    } catch {
      const made = JobFactory.notebooks(rule, job.parameters);
      await this._o.store.writeFolder(job, made);
      return made.notebook;
    }
  }

  /**
   * Record how a run ended: final (with `progress` not recorded yet), or
   * back to the queue for another attempt.
   */
  private async _record(
    job: IJob,
    rule: IRule,
    executor: IExecutor,
    result: IExecutionResult,
    progress?: IJob['progress']
  ): Promise<void> {
    const { store, log } = this._o;
    const finished = new Date().toISOString();
    const filesWritten = this._o.provenance.relativise(result.filesWritten);
    if (this._shuttingDown.has(job.id) && result.status === 'cancelled') {
      if (executor.outlivesService && job.external) {
        // Still running in its engine: followed again at the next start.
        log.info(
          `job ${job.id} goes on in ${executor.kind} as ${job.external.id}; meow follows it again at the next start`
        );
        return;
      }
      // Not the job's fault: it runs again at the next start.
      await store.update(job.id, { status: 'queued', filesWritten, progress: undefined, external: undefined });
      log.info(`job ${job.id} interrupted by the shutdown; it runs again at the next start`);
      return;
    }
    const attempt = job.attempt ?? 1;
    const retries = Math.max(rule.pattern.retries ?? DEFAULT_RETRIES, INFRA_RETRIES);
    if (result.retryable && result.status !== 'done' && attempt <= retries && this._started) {
      const pause = Math.min(30_000, INFRA_BACKOFF_MS * 2 ** (attempt - 1));
      // A new attempt is a new run in the engine (a new Slurm job).
      await store.update(job.id, {
        status: 'queued',
        attempt: attempt + 1,
        progress: undefined,
        filesWritten,
        external: undefined
      });
      log.warn(
        `job ${job.id} could not run (${result.error?.message ?? 'the executor was unavailable'}); ` +
          `it runs again as the same job in ${Math.round(pause / 1000)} s (attempt ${attempt + 1} of ${retries + 1})`
      );
      this._retryLater(job.id, pause);
      return;
    }
    const reason = this._cancelReasons.get(job.id);
    const error =
      result.status === 'cancelled'
        ? { ...(result.error ?? {}), message: reason ?? result.error?.message ?? 'cancelled' }
        : result.error;
    const done = await store.update(job.id, {
      status: result.status,
      finished,
      kernel: result.kernel,
      filesWritten,
      ...(progress ? { progress } : {}),
      ...(result.status === 'cancelled' ? { cancelledBy: this._o.cancelledBy(job.id) } : {}),
      ...(result.outputsTruncated ? { outputsTruncated: result.outputsTruncated } : {}),
      ...(error ? { error } : {})
    });
    this._o.provenance.finished(done);
    const took = (Date.parse(finished) - Date.parse(done.started!)) / 1000;
    const line = `job ${job.id} ${done.status} in ${took.toFixed(2)} s`;
    if (done.status === 'done') {
      log.info(line + (done.outputsTruncated ? ` (${done.outputsTruncated.message})` : ''));
    } else {
      log.warn(`${line}: ${done.error?.message ?? ''}`);
    }
  }

  private _retryLater(id: string, ms: number): void {
    const timer = setTimeout(() => {
      this._retryTimers.delete(id);
      this.enqueue(id);
    }, ms);
    this._retryTimers.set(id, timer);
  }

  private readonly _o: WorkerPool.IOptions;
  private _workers: number;
  private _started = false;
  private readonly _lanes = new Map<ExecutorKind, ILane>();
  private readonly _loops: Promise<void>[] = [];
  private readonly _running = new Map<string, AbortController>();
  private readonly _taken = new Set<string>();
  private readonly _cancelReasons = new Map<string, string>();
  private readonly _shuttingDown = new Set<string>();
  private readonly _retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
}

/** One executor's queue and the worker loops taking from it. */
interface ILane {
  queue: JobQueue;
  active: Set<number>;
}

export namespace WorkerPool {
  export interface IOptions {
    root: string;
    /** Jobs run at once by executors without a width of their own. */
    workers: number;
    timeoutMs: number;
    executors: ExecutorSet;
    store: JobStore;
    provenance: ProvenanceTracker;
    log: ILogger;
    /** The current content hash of a workgroup file (undefined: gone). */
    hashOf: (rel: string) => Promise<string | undefined>;
    /** The live rule that runs a job (by id, or one with the same content). */
    ruleFor: (job: IJob) => IRule | undefined;
    /** Who cancelled a running job that ended `cancelled`. */
    cancelledBy: (id: string) => 'user' | 'rule';
  }
}
