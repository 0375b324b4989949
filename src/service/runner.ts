/**
 * The MEOW runner: the one object that wires the small parts together,
 *
 *   file monitor ─┐
 *                 ├─> workflow (rules) ─> job factory ─> queue ─> workers ─> conductor
 *   state monitor ┘
 *
 * and applies the system requirements: every event is compared with the
 * current rules (M7, M8, indexed), a match schedules jobs (M9), a new rule
 * picks up existing files (M10) and a deleted rule cancels its unfinished
 * jobs (M11).
 */
import { ISignal, Signal } from '@lumino/signaling';
import { promises as fs } from 'fs';
import * as path from 'path';
import { globBase } from '../core/glob';
import type { IRuleChanges } from '../core/workflow';
import { Workflow } from '../core/workflow';
import type {
  IFileEvent,
  IJob,
  IJobTrigger,
  IRule,
  JobStatus
} from '../core/types';
import { FINAL_JOB_STATUSES } from '../core/types';
import { sha256File, toAbsolute } from './fsutil';
import { JobFactory } from './jobs/jobFactory';
import { JobStore } from './jobs/jobStore';
import { JobQueue } from './jobs/queue';
import { ProvenanceTracker } from './jobs/provenance';
import type { ILogger } from './log';
import { silentLogger } from './log';
import { DEFAULT_SETTLE_MS, FileMonitor, isIgnoredPath } from './monitors/fileMonitor';
import { StateMonitor } from './monitors/stateMonitor';
import type { IConductor } from './tokens';

/** Default whole-job timeout: one day; set lower per run with --timeout. */
export const DEFAULT_TIMEOUT_MS = 24 * 3600 * 1000;

/** Statuses that mean "this file was already handled by this rule". */
const HANDLED: JobStatus[] = ['queued', 'running', 'done', 'failed'];

export class MeowRunner {
  constructor(options: MeowRunner.IOptions) {
    this.root = path.resolve(options.root);
    this.stateDir = options.stateDir ?? '.meow';
    this._workers = Math.max(1, options.workers ?? 1);
    this._settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this._timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this._conductor = options.conductor;
    this._log = options.log ?? silentLogger;
    this.store = new JobStore({
      jobsDir: path.join(this.root, this.stateDir, 'jobs'),
      log: this._log
    });
    this._factory = new JobFactory({ root: this.root, store: this.store });
    this._provenance = new ProvenanceTracker({ root: this.root });
    this.stateMonitor = new StateMonitor({
      root: this.root,
      stateDir: this.stateDir,
      workflow: this.workflow,
      log: this._log,
      onChanges: changes => this._track(this._onRuleChanges(changes))
    });
    this._fileMonitor = new FileMonitor({
      root: this.root,
      stateDir: this.stateDir,
      settleMs: this._settleMs,
      log: this._log,
      onEvent: event => this._track(this._onFileEvent(event))
    });
  }

  readonly root: string;
  readonly stateDir: string;
  /** Patterns, recipes and rules. */
  readonly workflow = new Workflow();
  readonly store: JobStore;
  readonly stateMonitor: StateMonitor;

  /** Emitted when a job is created or changes (re-emitted from the store). */
  get jobChanged(): ISignal<JobStore, JobStore.IChange> {
    return this.store.changed;
  }

  /** Emitted for every settled file event that reached the rules. */
  get fileEvent(): ISignal<this, IFileEvent> {
    return this._fileEvent;
  }

  /** Load jobs, rules and existing files, then start watching and working. */
  async start(): Promise<void> {
    const stat = await fs.stat(this.root).catch(() => undefined);
    if (!stat || !stat.isDirectory()) {
      throw new Error(
        `workgroup ${this.root} is not a directory; create it or pass an existing folder`
      );
    }
    const jobs = await this.store.load();
    this._provenance.load(jobs);
    await this._conductor.start();
    await this._fileMonitor.start();
    await this.stateMonitor.start();
    await this._resumeUnfinished(jobs.filter(j => !FINAL_JOB_STATUSES.includes(j.status)));
    this._started = true;
    this._startWorkers();
  }

  /** Current settings: workers, settle window and whole-job timeout. */
  get settings(): { workers: number; settleMs: number; timeoutMs: number } {
    return { workers: this._workers, settleMs: this._settleMs, timeoutMs: this._timeoutMs };
  }

  /**
   * Change settings while running. More workers start at once; surplus
   * workers stop after their current job. A new timeout applies to jobs that
   * start from now on. The settle window is fixed for the life of the runner
   * (the caller stores it for the next start).
   */
  configure(settings: { workers?: number; timeoutMs?: number }): void {
    if (settings.timeoutMs !== undefined) {
      this._timeoutMs = Math.max(0, settings.timeoutMs);
    }
    if (settings.workers !== undefined) {
      this._workers = Math.max(1, Math.floor(settings.workers));
      if (this._started) {
        this._startWorkers();
      }
      this._queue.wake(); // surplus workers notice and stop
    }
  }

  /**
   * Run a finished job again: a new job made by the job factory from the
   * same rule (the rule that made it, or one with the same content), for the
   * same trigger path and with the same parameters (sweep values included),
   * recording `rerunOf`. It runs on the trigger file's current content.
   *
   * @throws MeowRunner.ActionError (`not-found` or `conflict`) with the reason and fix.
   */
  async rerun(id: string): Promise<IJob> {
    const job = this.store.get(id);
    if (!job) {
      throw new MeowRunner.ActionError('not-found', `no job ${id}`, 'list jobs with GET /api/jobs and use one of their ids');
    }
    if (!FINAL_JOB_STATUSES.includes(job.status)) {
      throw new MeowRunner.ActionError(
        'conflict',
        `job ${id} is ${job.status}; only finished jobs (done, failed, cancelled, skipped) can be rerun`,
        job.status === 'queued' ? 'it will run soon; cancel it first to run it anew' : 'wait for it to finish, or cancel it first'
      );
    }
    let rule: IRule | undefined = this.workflow.rules.get(job.rule);
    if (!rule) {
      rule = [...this.workflow.rules.values()].find(r => r.contentKey === job.ruleKey);
    }
    if (!rule) {
      throw new MeowRunner.ActionError(
        'conflict',
        `the rule that made job ${id} no longer exists: pattern "${job.pattern}" or recipe "${job.recipe}" was changed or deleted since`,
        `restore them, or trigger the current pattern again (e.g. touch ${job.trigger.path})`
      );
    }
    let hash: string | undefined;
    if (job.trigger.hash !== undefined) {
      hash = await sha256File(toAbsolute(this.root, job.trigger.path));
      if (hash === undefined) {
        throw new MeowRunner.ActionError(
          'conflict',
          `the triggering file ${job.trigger.path} of job ${id} no longer exists`,
          'recreate the file (which triggers its patterns anyway) to run the job again'
        );
      }
    }
    // One job with exactly the old parameters: the swept values are fixed.
    const fixed: Record<string, unknown> = {};
    for (const key of Object.keys(rule.pattern.sweep)) {
      if (key in job.parameters) {
        fixed[key] = job.parameters[key];
      }
    }
    const single: IRule = {
      ...rule,
      pattern: { ...rule.pattern, sweep: {}, parameters: { ...rule.pattern.parameters, ...fixed } }
    };
    const trigger: IJobTrigger = {
      kind: 'rerun',
      path: job.trigger.path,
      time: new Date().toISOString()
    };
    if (hash) {
      trigger.hash = hash;
    }
    const parent = await this._provenance.parentOf(job.trigger.path);
    const [created] = await this._factory.create(single, trigger, { parent, rerunOf: id });
    this._log.info(`job ${created.id} queued: rerun of ${id} (${created.pattern} → ${created.recipe} for ${created.trigger.path})`);
    this._enqueue(created.id);
    return created;
  }

  private _startWorkers(): void {
    for (let i = 0; i < this._workers; i++) {
      if (!this._activeWorkers.has(i)) {
        this._activeWorkers.add(i);
        this._workerLoops.push(this._workerLoop(i));
      }
    }
  }

  /** Stop watching, cancel running jobs and release the conductor. */
  async stop(): Promise<void> {
    if (this._stopping) {
      return this._stopping;
    }
    this._stopping = (async () => {
      this._started = false;
      await this._fileMonitor.stop();
      await this.stateMonitor.stop();
      for (const controller of this._running.values()) {
        controller.abort(new Error('meow is shutting down'));
      }
      this._queue.wake();
      await Promise.all(this._workerLoops);
      await Promise.allSettled([...this._inFlight]);
      await this._conductor.dispose();
    })();
    return this._stopping;
  }

  /** True when nothing is queued, running, being matched or waiting to settle. */
  get idle(): boolean {
    return (
      this._queue.size === 0 &&
      this._running.size === 0 &&
      this._inFlight.size === 0 &&
      this._fileMonitor.pending === 0 &&
      this.stateMonitor.pending === 0
    );
  }

  /**
   * Resolve once the runner has been idle for a quiet period long enough for
   * a job's last writes to surface as events.
   */
  async waitUntilIdle(quietMs = this._settleMs + 250): Promise<void> {
    let quietSince: number | undefined;
    for (;;) {
      if (this.idle) {
        quietSince = quietSince ?? Date.now();
        if (Date.now() - quietSince >= quietMs) {
          return;
        }
      } else {
        quietSince = undefined;
      }
      await new Promise(resolve => setTimeout(resolve, 25));
    }
  }

  /** Count of jobs by status. */
  summary(): Record<JobStatus, number> {
    const counts = {
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0
    } as Record<JobStatus, number>;
    for (const job of this.store.list()) {
      counts[job.status]++;
    }
    return counts;
  }

  /**
   * Cancel a job that has not finished. Queued jobs are cancelled at once;
   * running jobs have their kernel interrupted and shut down.
   */
  async cancel(id: string, reason = 'cancelled by the user'): Promise<IJob> {
    const job = this.store.get(id);
    if (!job) {
      throw new Error(`no job ${id}`);
    }
    if (FINAL_JOB_STATUSES.includes(job.status)) {
      return job;
    }
    const controller = this._running.get(id);
    if (controller) {
      this._cancelReasons.set(id, reason);
      controller.abort(new Error(reason));
      return job;
    }
    this._queue.remove(id);
    return this.store.update(id, {
      status: 'cancelled',
      finished: new Date().toISOString(),
      error: { message: reason }
    });
  }

  private _track(work: Promise<void>): void {
    this._inFlight.add(work);
    work
      .catch(err => this._log.error(`internal error: ${(err as Error).stack ?? err}`))
      .finally(() => this._inFlight.delete(work));
  }

  /** M7–M9: match one settled event against the rules and schedule jobs. */
  private async _onFileEvent(event: IFileEvent): Promise<void> {
    this._fileEvent.emit(event);
    const rules = this._match(event);
    if (!rules.length) {
      return;
    }
    await this._schedule(rules, event);
  }

  /**
   * Rules an event reaches. A file moved into a watched path is, for that
   * path, a new file: rules listening to `created` see it too.
   */
  private _match(event: IFileEvent): IRule[] {
    const rules = this.workflow.match(event);
    if (event.kind !== 'moved') {
      return rules;
    }
    const seen = new Set(rules.map(r => r.id));
    for (const rule of this.workflow.match({ ...event, kind: 'created' })) {
      if (!seen.has(rule.id)) {
        rules.push(rule);
      }
    }
    return rules;
  }

  /** Hash the trigger once, find its producer once, then create jobs per rule. */
  private async _schedule(
    rules: IRule[],
    event: IFileEvent,
    knownHash?: string
  ): Promise<void> {
    let hash: string | undefined = knownHash;
    if (event.kind !== 'deleted' && hash === undefined) {
      hash = await this._hashTrigger(event.path, rules);
      if (hash === undefined) {
        return;
      }
    }
    const parent = await this._provenance.parentOf(event.path);
    const trigger: IJobTrigger = {
      kind: event.kind,
      path: event.path,
      time: new Date(event.time).toISOString()
    };
    if (hash) {
      trigger.hash = hash;
    }
    if (event.retroactive) {
      trigger.retroactive = true;
    }
    const live = rules.filter(rule => this.workflow.rules.has(rule.id)); // not deleted while hashing
    const created = await Promise.all(live.map(rule => this._factory.create(rule, trigger, { parent })));
    for (const jobs of created) {
      for (const job of jobs) {
        this._log.info(
          `job ${job.id} queued: ${job.pattern} → ${job.recipe} for ${event.path}` +
            (event.retroactive ? ' (existing file)' : ` (${event.kind})`)
        );
        this._enqueue(job.id);
      }
    }
  }

  /**
   * The content hash of a trigger file, or undefined (with the reason
   * logged) when it vanished or cannot be read — then no job is made.
   */
  private async _hashTrigger(rel: string, rules: IRule[]): Promise<string | undefined> {
    try {
      const hash = await sha256File(toAbsolute(this.root, rel));
      if (hash === undefined) {
        this._log.debug(`${rel} vanished before it could be matched`);
      }
      return hash;
    } catch (err) {
      const names = rules.map(r => r.pattern.name).join(', ');
      this._log.error(
        `${rel} matches ${names} but cannot be read (${(err as Error).message}); ` +
          'no job was made — fix its permissions and touch it to try again'
      );
      return undefined;
    }
  }

  /** M11 first (cancel jobs of deleted rules), then M10 for new rules. */
  private async _onRuleChanges(changes: IRuleChanges): Promise<void> {
    if (changes.deleted.length) {
      const gone = new Set(changes.deleted.map(r => r.id));
      const cancels = this.store
        .unfinished()
        .filter(job => gone.has(job.rule))
        .map(job =>
          this.cancel(
            job.id,
            `cancelled because rule ${job.rule} was removed (its pattern or recipe was deleted or changed)`
          )
        );
      await Promise.all(cancels);
    }
    const fileRules = changes.created.filter(
      r => r.pattern.trigger.kind === 'file' && r.pattern.trigger.events.includes('created')
    );
    for (const rule of changes.created) {
      if (rule.pattern.trigger.kind !== 'file') {
        this._log.warn(
          `pattern ${rule.pattern.name}: ${rule.pattern.trigger.kind} triggers are not run by this version of meow; only file triggers are`
        );
      }
    }
    if (fileRules.length) {
      await this._retroactive(fileRules);
    }
  }

  /**
   * M10: files that already exist and match new rules are treated as just
   * created. A file this rule content already handled (same rule content,
   * same file content) is not run again, so restarting meow does not repeat
   * finished work; a changed pattern or recipe has new content and re-runs.
   */
  private async _retroactive(rules: IRule[]): Promise<void> {
    const wanted = new Set(rules.map(r => r.id));
    const bases = MeowRunner.outermost(
      rules.map(r => globBase((r.pattern.trigger as { path: string }).path))
    );
    for (const base of bases) {
      for await (const rel of this._walk(base)) {
        const event: IFileEvent = {
          kind: 'created',
          path: rel,
          time: Date.now(),
          retroactive: true
        };
        const matched = this.workflow.match(event).filter(r => wanted.has(r.id));
        if (!matched.length) {
          continue;
        }
        const hash = await this._hashTrigger(rel, matched);
        if (hash === undefined) {
          continue;
        }
        const fresh = matched.filter(
          rule =>
            !this.store
              .byTrigger(rule.contentKey, rel)
              .some(job => job.trigger.hash === hash && HANDLED.includes(job.status))
        );
        if (fresh.length) {
          await this._schedule(fresh, event, hash);
        }
      }
    }
  }

  /** Every data file below a workgroup-relative folder, sorted, lazily. */
  private async *_walk(relDir: string): AsyncGenerator<string> {
    const abs = toAbsolute(this.root, relDir);
    let entries;
    try {
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return; // the folder does not exist (yet)
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (isIgnoredPath(rel, this.stateDir)) {
        continue;
      }
      if (entry.isDirectory()) {
        yield* this._walk(rel);
      } else if (entry.isFile()) {
        yield rel;
      }
    }
  }

  /**
   * Jobs left unfinished by a previous run: queued jobs whose rule still
   * exists (same content) run; the rest are closed with a reason.
   */
  private async _resumeUnfinished(jobs: IJob[]): Promise<void> {
    const byKey = new Map<string, IRule>();
    for (const rule of this.workflow.rules.values()) {
      byKey.set(rule.contentKey, rule);
    }
    for (const job of jobs) {
      if (job.status === 'running') {
        await this.store.update(job.id, {
          status: 'failed',
          finished: new Date().toISOString(),
          error: {
            message:
              'interrupted: meow stopped while this job was running; its outputs may be incomplete — rerun it'
          }
        });
        continue;
      }
      const rule = byKey.get(job.ruleKey);
      if (rule) {
        await this.store.update(job.id, { rule: rule.id });
        this._enqueue(job.id);
      } else {
        await this.cancel(
          job.id,
          'cancelled because its rule no longer exists (the pattern or recipe changed while meow was stopped)'
        );
      }
    }
  }

  private _enqueue(id: string): void {
    if (!this._running.has(id)) {
      this._queue.push(id);
    }
  }

  private async _workerLoop(worker: number): Promise<void> {
    try {
      await this._workerLoopBody(worker);
    } finally {
      this._activeWorkers.delete(worker);
    }
  }

  private async _workerLoopBody(worker: number): Promise<void> {
    while (this._started && worker < this._workers) {
      const id = this._queue.shift();
      if (id === undefined) {
        await this._queue.wait();
        continue;
      }
      const job = this.store.get(id);
      if (!job || job.status !== 'queued') {
        continue;
      }
      try {
        await this._execute(job, worker);
      } catch (err) {
        this._log.error(`job ${id}: internal error: ${(err as Error).stack ?? err}`);
        const current = this.store.get(id);
        if (current && !FINAL_JOB_STATUSES.includes(current.status)) {
          await this.store
            .update(id, {
              status: 'failed',
              finished: new Date().toISOString(),
              error: { message: `internal error in meow: ${(err as Error).message}` }
            })
            .catch(() => undefined);
        }
      }
    }
  }

  /** Run one job: re-check its trigger, hand it to the conductor, record the end. */
  private async _execute(job: IJob, worker: number): Promise<void> {
    if (job.trigger.hash) {
      const now = await sha256File(toAbsolute(this.root, job.trigger.path));
      if (now !== job.trigger.hash) {
        await this.store.update(job.id, {
          status: 'skipped',
          finished: new Date().toISOString(),
          error: {
            message:
              now === undefined
                ? `skipped: ${job.trigger.path} was deleted before the job ran`
                : `skipped: ${job.trigger.path} changed before the job ran; a newer job handles the new content`
          }
        });
        this._log.info(`job ${job.id} skipped: ${job.trigger.path} changed before it ran`);
        return;
      }
    }
    const controller = new AbortController();
    this._running.set(job.id, controller);
    try {
      const running = await this.store.update(job.id, {
        status: 'running',
        started: new Date().toISOString(),
        conductor: this._conductor.name
      });
      const writesLogPath = this.store.filePath(job.id, 'writes');
      this._provenance.started(running, writesLogPath);
      this._log.info(`job ${job.id} running on worker ${worker + 1}: ${job.pattern} → ${job.recipe}`);
      const notebook = JSON.parse(
        await fs.readFile(this.store.filePath(job.id, 'notebook'), 'utf8')
      );
      let progressWrite = Promise.resolve();
      const result = await this._conductor.execute({
        job: running,
        notebook,
        resultPath: this.store.filePath(job.id, 'result'),
        writesLogPath,
        cwd: this.root,
        timeoutMs: this._timeoutMs,
        signal: controller.signal,
        onProgress: (done, total) => {
          progressWrite = progressWrite.then(() =>
            this.store
              .update(job.id, { progress: { done, total } })
              .then(() => undefined, () => undefined)
          );
        }
      });
      await progressWrite;
      const reason = this._cancelReasons.get(job.id);
      const error =
        result.status === 'cancelled'
          ? { ...(result.error ?? {}), message: reason ?? result.error?.message ?? 'cancelled' }
          : result.error;
      const finished = await this.store.update(job.id, {
        status: result.status,
        finished: new Date().toISOString(),
        kernel: result.kernel,
        filesWritten: this._provenance.relativise(result.filesWritten),
        ...(error ? { error } : {})
      });
      this._provenance.finished(finished);
      const took = (Date.parse(finished.finished!) - Date.parse(finished.started!)) / 1000;
      const line = `job ${job.id} ${finished.status} in ${took.toFixed(2)} s`;
      if (finished.status === 'done') {
        this._log.info(line);
      } else {
        this._log.warn(`${line}: ${finished.error?.message ?? ''}`);
      }
    } finally {
      this._running.delete(job.id);
      this._cancelReasons.delete(job.id);
    }
  }

  private _workers: number;
  private readonly _settleMs: number;
  private _timeoutMs: number;
  private readonly _activeWorkers = new Set<number>();
  private readonly _conductor: IConductor;
  private readonly _log: ILogger;
  private readonly _factory: JobFactory;
  private readonly _provenance: ProvenanceTracker;
  private readonly _fileMonitor: FileMonitor;
  private readonly _fileEvent = new Signal<this, IFileEvent>(this);
  private readonly _running = new Map<string, AbortController>();
  private readonly _cancelReasons = new Map<string, string>();
  private readonly _inFlight = new Set<Promise<void>>();
  private readonly _workerLoops: Promise<void>[] = [];
  private readonly _queue = new JobQueue();
  private _started = false;
  private _stopping?: Promise<void>;
}

export namespace MeowRunner {
  export interface IOptions {
    /** The workgroup root. */
    root: string;
    /** State folder relative to the root (default `.meow`). */
    stateDir?: string;
    /** Jobs run at the same time (default 1). */
    workers?: number;
    /** Per-path settle window for file events in ms (default 100). */
    settleMs?: number;
    /** Whole-job timeout in ms (default one day). */
    timeoutMs?: number;
    conductor: IConductor;
    log?: ILogger;
  }

  /** Why an action on a job (e.g. rerun) was refused, and how to fix it. */
  export class ActionError extends Error {
    constructor(
      readonly code: 'not-found' | 'conflict',
      message: string,
      readonly fix: string
    ) {
      super(message);
      this.name = 'ActionError';
    }
  }

  /** Keep only folders not inside another listed folder ('' is the root). */
  export function outermost(dirs: string[]): string[] {
    const sorted = [...new Set(dirs)].sort();
    const out: string[] = [];
    for (const dir of sorted) {
      if (!out.some(o => o === '' || dir === o || dir.startsWith(o + '/'))) {
        out.push(dir);
      }
    }
    return out;
  }
}
