/**
 * The workers: take queued jobs in order, check their trigger is unchanged,
 * hand them to the conductor, and record how they ended. A job the
 * infrastructure could not run (the Jupyter server died or was restarting)
 * goes back to the queue as the same job, with a growing pause.
 */
import { promises as fs } from 'fs';
import { isFinalStatus } from '../../core/jobs';
import type { IJob, IRule } from '../../core/types';
import { DEFAULT_RETRIES } from '../../core/types';
import { isTransientError } from '../fsutil';
import type { ILogger } from '../log';
import type { IConductor, IExecutionResult } from '../tokens';
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

export class WorkerPool {
  constructor(options: WorkerPool.IOptions) {
    this._o = options;
    this._workers = Math.max(1, options.workers);
    this.timeoutMs = options.timeoutMs;
  }

  readonly queue = new JobQueue();
  /** Whole-job timeout for jobs that start from now on. */
  timeoutMs: number;

  get workers(): number {
    return this._workers;
  }

  /** Jobs being executed now. */
  get running(): number {
    return this._running.size;
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
    this._spawn();
  }

  /** More workers start at once; surplus workers stop after their current job. */
  resize(workers: number): void {
    this._workers = Math.max(1, Math.floor(workers));
    if (this._started) {
      this._spawn();
    }
    this.queue.wake();
  }

  enqueue(id: string): void {
    if (!this._running.has(id)) {
      this.queue.push(id);
    }
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

  /** Stop taking jobs; running jobs are aborted and go back to `queued`. */
  async stop(): Promise<void> {
    this._started = false;
    this._retryTimers.forEach(t => clearTimeout(t));
    this._retryTimers.clear();
    for (const [id, controller] of this._running) {
      this._shuttingDown.add(id);
      controller.abort(new Error('meow is shutting down'));
    }
    this.queue.wake();
    await Promise.all(this._loops);
  }

  private _spawn(): void {
    for (let i = 0; i < this._workers; i++) {
      if (!this._active.has(i)) {
        this._active.add(i);
        this._loops.push(this._loop(i).finally(() => this._active.delete(i)));
      }
    }
  }

  private async _loop(worker: number): Promise<void> {
    while (this._started && worker < this._workers) {
      const id = this.queue.shift();
      if (id === undefined) {
        await this.queue.wait();
        continue;
      }
      const job = this._o.store.get(id);
      if (!job || job.status !== 'queued') {
        continue;
      }
      try {
        await this._execute(job, worker);
      } catch (err) {
        await this._internalError(id, err as Error);
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

  /** Run one job: re-check its trigger, hand it to the conductor, record the end. */
  private async _execute(job: IJob, worker: number): Promise<void> {
    const { store, log } = this._o;
    const check = await this._skipIfChanged(job);
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
        error: { message: `cancelled because its rule no longer exists (pattern "${job.pattern}" or recipe "${job.recipe}" changed or was deleted)` }
      });
      return;
    }
    const notebook = await this._notebook(job, rule);
    const controller = new AbortController();
    this._running.set(job.id, controller);
    try {
      const running = await store.update(job.id, {
        status: 'running',
        started: new Date().toISOString(),
        conductor: this._o.conductor.name
      });
      const writesLogPath = store.filePath(job.id, 'writes');
      await fs.rm(writesLogPath, { force: true }); // an earlier attempt's log
      this._o.provenance.started(running, writesLogPath);
      log.info(
        `job ${job.id} running on worker ${worker + 1}: ${job.pattern} → ${job.recipe}` +
          ((job.attempt ?? 1) > 1 ? ` (attempt ${job.attempt})` : '')
      );
      let progressWrite = Promise.resolve();
      // Cancelled while it was being prepared: do not start it at all.
      const result: IExecutionResult = controller.signal.aborted
        ? { status: 'cancelled', filesWritten: [], error: { message: 'cancelled before it started' } }
        : await this._o.conductor.execute({
        job: running,
        notebook,
        resultPath: store.filePath(job.id, 'result'),
        writesLogPath,
        cwd: this._o.root,
        timeoutMs: this.timeoutMs,
        signal: controller.signal,
        onProgress: (done, total) => {
          progressWrite = progressWrite.then(() =>
            store.update(job.id, { progress: { done, total } }).then(() => undefined, () => undefined)
          );
        }
      });
      await progressWrite;
      await this._record(running, rule, result);
    } finally {
      this._running.delete(job.id);
      this._cancelReasons.delete(job.id);
      this._shuttingDown.delete(job.id);
    }
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
        this._o.log.warn(`job ${job.id}: ${job.trigger.path} cannot be read just now (${(err as Error).message}); tried again shortly`);
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

  /** Record how a run ended: final, or back to the queue for another attempt. */
  private async _record(job: IJob, rule: IRule, result: IExecutionResult): Promise<void> {
    const { store, log } = this._o;
    const finished = new Date().toISOString();
    const filesWritten = this._o.provenance.relativise(result.filesWritten);
    if (this._shuttingDown.has(job.id) && result.status === 'cancelled') {
      // Not the job's fault: it runs again at the next start.
      await store.update(job.id, { status: 'queued', filesWritten, progress: undefined });
      log.info(`job ${job.id} interrupted by the shutdown; it runs again at the next start`);
      return;
    }
    const attempt = job.attempt ?? 1;
    const retries = Math.max(rule.pattern.retries ?? DEFAULT_RETRIES, INFRA_RETRIES);
    if (result.retryable && result.status !== 'done' && attempt <= retries && this._started) {
      const pause = Math.min(30_000, INFRA_BACKOFF_MS * 2 ** (attempt - 1));
      await store.update(job.id, { status: 'queued', attempt: attempt + 1, progress: undefined, filesWritten });
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
  private readonly _active = new Set<number>();
  private readonly _loops: Promise<void>[] = [];
  private readonly _running = new Map<string, AbortController>();
  private readonly _cancelReasons = new Map<string, string>();
  private readonly _shuttingDown = new Set<string>();
  private readonly _retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
}

export namespace WorkerPool {
  export interface IOptions {
    root: string;
    workers: number;
    timeoutMs: number;
    conductor: IConductor;
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
