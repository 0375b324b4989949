/**
 * The MEOW runner: the one object that wires the small parts together,
 *
 *   file monitor ─┐
 *   triggers ─────┼─> scheduler (rules, limits, job factory) ─> workers ─> conductor
 *   state monitor ┘   (network, timer, manual, absence: triggers/hub.ts)
 *
 * and applies the system requirements: every event is compared with the
 * current rules (M7, M8, indexed), a match schedules jobs (M9), a new rule
 * picks up existing files (M10) and a deleted rule cancels its unfinished
 * jobs (M11). After a crash it picks up where it stopped (see `_recover`).
 */
import { ISignal, Signal } from '@lumino/signaling';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IRuleChanges } from '../core/workflow';
import { Workflow } from '../core/workflow';
import type { IFileEvent, IJob, IJobTrigger, IPattern, IPausedRule, IRule, JobStatus } from '../core/types';
import { DEFAULT_RETRIES, FINAL_JOB_STATUSES } from '../core/types';
import { JobFactory } from './jobs/jobFactory';
import { JobStore } from './jobs/jobStore';
import { RuleLimits } from './jobs/limits';
import { ProvenanceTracker } from './jobs/provenance';
import { Scheduler } from './jobs/scheduler';
import { WorkerPool } from './jobs/workers';
import type { ILogger } from './log';
import { silentLogger } from './log';
import { DEFAULT_SETTLE_MS, FileMonitor, walkWorkgroup } from './monitors/fileMonitor';
import { StateMonitor } from './monitors/stateMonitor';
import { WorkgroupLock } from './lock';
import { removeStaleTemps } from './fsutil';
import type { IConductor } from './tokens';
import { ExecutorSet, IExecutor } from './executors/executor';
import { TriggerHub } from './triggers/hub';
import type { ManualTrigger } from './triggers/manual';
import type { ITrigger, ITriggerContext } from './triggers/trigger';
import type { IPatternSaveEffect, IRunResult, IWaitingFiles } from '../core/api';
import { triggerGlobBase, triggerMatcher } from '../core/glob';
import { collectGarbage } from './heap';
import { patternDigest } from '../core/pattern';

/** Default whole-job timeout: one day; set lower per run with --timeout. */
export const DEFAULT_TIMEOUT_MS = 24 * 3600 * 1000;

/** A bare conductor as the one (local) executor: tests and simple embeddings. */
function conductorAsExecutors(conductor: IConductor | undefined, log: ILogger): ExecutorSet {
  if (!conductor) {
    throw new Error('MeowRunner needs `executors` or `conductor`');
  }
  const local: IExecutor =
    'kind' in conductor
      ? (conductor as IExecutor)
      : {
          kind: 'local',
          name: conductor.name,
          describe: () => `conductor ${conductor.name}`,
          start: () => conductor.start(),
          execute: request => conductor.execute(request),
          dispose: () => conductor.dispose()
        };
  return new ExecutorSet({ executors: { [local.kind]: local }, defaultKind: local.kind, log });
}

/** Journals this large are followed by one full garbage collection (heap.ts). */
const LARGE_JOURNAL_JOBS = 20_000;

export class MeowRunner {
  constructor(options: MeowRunner.IOptions) {
    this.root = path.resolve(options.root);
    this.stateDir = options.stateDir ?? '.meow';
    this._settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this._log = options.log ?? silentLogger;
    this.executors = options.executors ?? conductorAsExecutors(options.conductor, this._log);
    this.store = new JobStore({
      jobsDir: path.join(this.root, this.stateDir, 'jobs'),
      log: this._log,
      // A burst becomes jobs before their folders are written (a job that
      // starts has its own written at once).
      yieldTo: () => this._scheduler.scheduling > 0
    });
    this.limits = new RuleLimits({ root: this.root, stateDir: this.stateDir, log: this._log });
    this._lock = new WorkgroupLock(path.join(this.root, this.stateDir, 'service.lock'));
    this._factory = new JobFactory({ root: this.root, store: this.store });
    this._provenance = new ProvenanceTracker({ root: this.root });
    const hashOf = (rel: string) => this._fileMonitor.hashOf(rel);
    this._workers = new WorkerPool({
      root: this.root,
      workers: options.workers ?? 1,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      executors: this.executors,
      store: this.store,
      provenance: this._provenance,
      log: this._log,
      hashOf,
      ruleFor: job => this._ruleFor(job),
      cancelledBy: id => this._cancelledBy.get(id) ?? 'user'
    });
    this._scheduler = new Scheduler({
      workflow: this.workflow,
      store: this.store,
      factory: this._factory,
      provenance: this._provenance,
      log: this._log,
      hashOf,
      checkedHash: rel => this._fileMonitor.checkedHash(rel),
      walk: rel => walkWorkgroup(this.root, rel, this.stateDir, this._log),
      enqueue: id => this._workers.enqueue(id),
      isRunning: id => this._workers.isRunning(id),
      // Taken by a worker but not yet running is still queued (backpressure).
      queued: () => this._workers.queued + this._workers.starting,
      limits: this.limits,
      maxQueued: options.maxQueued
    });
    this.stateMonitor = new StateMonitor({
      root: this.root,
      stateDir: this.stateDir,
      workflow: this.workflow,
      log: this._log,
      maxDefinitionBytes: options.maxDefinitionBytes,
      onChanges: changes => this._track(this._onRuleChanges(changes)),
      onLimitsChanged: pattern => {
        if (this.limits.isPaused(pattern.name)) {
          this._log.info(`pattern ${pattern.name} has new limits; it stays paused until resumed`);
        }
      }
    });
    this._fileMonitor = new FileMonitor({
      root: this.root,
      stateDir: this.stateDir,
      settleMs: this._settleMs,
      log: this._log,
      onEvent: event => this._track(this._onFileEvent(event))
    });
    this.triggers = new TriggerHub({
      root: this.root,
      stateDir: this.stateDir,
      log: this._log,
      store: this.store,
      workflow: this.workflow,
      fire: (rules, firing) => this._scheduler.schedule(rules, firing, firing.hash),
      walk: rel => walkWorkgroup(this.root, rel, this.stateDir, this._log),
      isPaused: name => this.limits.isPaused(name),
      isHeld: rel => this._scheduler.isHeld(rel),
      extra: options.triggers
    });
    this.limits.changed.connect((_, change) => {
      if (!change.paused) {
        this._track(this._onResumed(change.pattern));
      }
    });
  }

  readonly root: string;
  readonly stateDir: string;
  /** Patterns, recipes and rules. */
  readonly workflow = new Workflow();
  readonly store: JobStore;
  /** Where jobs run, by kind. */
  readonly executors: ExecutorSet;
  readonly stateMonitor: StateMonitor;
  /** Runaway limits: paused rules, resume. */
  readonly limits: RuleLimits;
  /** Network, timer, manual and absence triggers, and their incoming files. */
  readonly triggers: TriggerHub;

  /**
   * Run a pattern by hand: on a workgroup file, an uploaded file or nothing
   * (see ManualTrigger). The jobs are made like any other.
   * @throws ManualTrigger.RunError with the reason and fix.
   */
  runPattern(pattern: string, request: ManualTrigger.IRequest = {}): Promise<IRunResult> {
    return this.triggers.run(pattern, request);
  }

  /** Files waiting for a person to approve them (a manual pattern with a `path`). */
  waitingFiles(pattern: string): Promise<IWaitingFiles> {
    return this.triggers.waiting(pattern);
  }

  /** Emitted when a job is created or changes (re-emitted from the store). */
  get jobChanged(): ISignal<JobStore, JobStore.IChange> {
    return this.store.changed;
  }

  /** Emitted for every settled file event that reached the rules. */
  get fileEvent(): ISignal<this, IFileEvent> {
    return this._fileEvent;
  }

  /** Rules held back by a tripped limit. */
  pausedRules(): IPausedRule[] {
    return this.limits.paused();
  }

  /** Load jobs, rules and existing files, then start watching and working. */
  async start(): Promise<void> {
    const stat = await fs.stat(this.root).catch(() => undefined);
    if (!stat || !stat.isDirectory()) {
      throw new Error(`workgroup ${this.root} is not a directory; create it or pass an existing folder`);
    }
    await this._lock.acquire();
    const state = path.join(this.root, this.stateDir);
    await Promise.all([removeStaleTemps(state), removeStaleTemps(path.join(state, 'paused'))]);
    const jobs = await this.store.load();
    await this.triggers.start();
    this._provenance.load(jobs);
    await this.limits.load();
    await this.executors.start();
    // Rules first, so the file monitor's start scan (what changed while meow
    // was down) finds them; M10 runs as each rule appears, once that scan is
    // done: it then reuses the hashes the scan confirmed instead of a stat
    // per existing file.
    let scanned!: () => void;
    this._startScanned = new Promise<void>(resolve => (scanned = resolve));
    await this.stateMonitor.start();
    try {
      await this._fileMonitor.start();
    } finally {
      scanned();
    }
    await this._recover(jobs.filter(j => !FINAL_JOB_STATUSES.includes(j.status)));
    this._workers.start();
    if (jobs.length >= LARGE_JOURNAL_JOBS) {
      const t0 = Date.now();
      if (collectGarbage()) {
        this._log.debug(
          `start-up: one full garbage collection after loading ${jobs.length} jobs (${Date.now() - t0} ms)`
        );
      }
    }
  }

  /** Current settings: workers, settle window and whole-job timeout. */
  get settings(): { workers: number; settleMs: number; timeoutMs: number } {
    return { workers: this._workers.workers, settleMs: this._settleMs, timeoutMs: this._workers.timeoutMs };
  }

  /**
   * Change settings while running. More workers start at once; surplus
   * workers stop after their current job. A new timeout applies to jobs that
   * start from now on. The settle window is fixed for the life of the runner
   * (the caller stores it for the next start).
   */
  configure(settings: { workers?: number; timeoutMs?: number }): void {
    if (settings.timeoutMs !== undefined) {
      this._workers.timeoutMs = Math.max(0, settings.timeoutMs);
    }
    if (settings.workers !== undefined) {
      this._workers.resize(settings.workers);
    }
  }

  /**
   * What saving `pattern` would do to jobs, without saving it (the dry run
   * behind `POST /api/patterns/{name}/check`). A save that changes what the
   * pattern does (its `patternDigest`) replaces its rule: the old rule's
   * unfinished jobs are cancelled (M11) and every existing file the new rule
   * matches gets a job unless that exact work was done before (M10,
   * idempotency keys). Counted the same way: `JobFactory.fresh` on each
   * matching file's current content. Limits (`max_jobs`, a pause) may make
   * fewer jobs at once; they run later. At most `maxFiles` files are looked
   * at (`truncated` then).
   */
  async previewPatternSave(pattern: IPattern, maxFiles = 100_000): Promise<IPatternSaveEffect> {
    const current = this.workflow.patterns.get(pattern.name);
    const recipe = this.workflow.recipes.get(pattern.recipe);
    const contentKey = recipe ? `${patternDigest(pattern)}|${recipe.digest}` : undefined;
    const oldRules = [...this.workflow.rules.values()].filter(r => r.pattern.name === pattern.name);
    const changes = !current || !recipe || oldRules.length === 0 || oldRules.some(r => r.contentKey !== contentKey);
    const effect: IPatternSaveEffect = { changes, jobs: 0, files: 0, cancels: 0 };
    if (!changes) {
      return effect; // same work (or only limits, executor, resources): nothing re-runs
    }
    const gone = new Set(oldRules.map(r => r.id));
    effect.cancels = this.store.unfinished().filter(job => gone.has(job.rule)).length;
    const t = pattern.trigger;
    if (!recipe || t.kind !== 'file' || !t.events.includes('created')) {
      return effect; // no rule, or no retroactive matching for this trigger
    }
    const rule: IRule = { id: `${pattern.name}/${recipe.name}#preview`, pattern, recipe, contentKey: contentKey! };
    const matches = triggerMatcher(t);
    let seen = 0;
    for await (const rel of walkWorkgroup(this.root, triggerGlobBase(t), this.stateDir, this._log)) {
      if (!matches(rel)) {
        continue;
      }
      if (++seen > maxFiles) {
        effect.truncated = true;
        break;
      }
      const hash = await this._fileMonitor.hashOf(rel).catch(() => undefined);
      if (hash === undefined) {
        continue;
      }
      const n = this._factory.fresh(rule, {
        kind: 'created',
        path: rel,
        time: new Date().toISOString(),
        hash,
        retroactive: true
      });
      if (n > 0) {
        effect.files++;
        effect.jobs += n;
      }
    }
    return effect;
  }

  /**
   * Run a finished job again: a new job made by the job factory from the
   * same rule (the rule that made it, or one with the same content), for the
   * same trigger path and with the same parameters (sweep values included),
   * recording `rerunOf`. It runs on the trigger file's current content. This
   * is the only way to run an idempotency key twice.
   *
   * @throws MeowRunner.ActionError (`not-found` or `conflict`) with the reason and fix.
   */
  async rerun(id: string): Promise<IJob> {
    const job = this.store.get(id);
    if (!job) {
      throw new MeowRunner.ActionError(
        'not-found',
        `no job ${id}`,
        'list jobs with GET /api/jobs and use one of their ids'
      );
    }
    if (!FINAL_JOB_STATUSES.includes(job.status)) {
      throw new MeowRunner.ActionError(
        'conflict',
        `job ${id} is ${job.status}; only finished jobs (done, failed, cancelled, skipped) can be rerun`,
        job.status === 'queued'
          ? 'it will run soon; cancel it first to run it anew'
          : 'wait for it to finish, or cancel it first'
      );
    }
    const rule = this._ruleFor(job);
    if (!rule) {
      throw new MeowRunner.ActionError(
        'conflict',
        `the rule that made job ${id} no longer exists: pattern "${job.pattern}" or recipe "${job.recipe}" was changed or deleted since`,
        `restore them, or trigger the current pattern again (e.g. touch ${job.trigger.path})`
      );
    }
    let hash: string | undefined;
    if (job.trigger.hash !== undefined) {
      hash = await this._fileMonitor.hashOf(job.trigger.path);
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
    const trigger: IJobTrigger = { kind: 'rerun', path: job.trigger.path, time: new Date().toISOString() };
    if (hash) {
      trigger.hash = hash;
    }
    const parent = await this._provenance.parentOf(job.trigger.path);
    const { jobs } = await this._factory.create(single, trigger, { parent, rerunOf: id, depth: job.depth });
    const created = jobs[0];
    this._log.info(
      `job ${created.id} queued: rerun of ${id} (${created.pattern} → ${created.recipe} for ${created.trigger.path})`
    );
    this._workers.enqueue(created.id);
    return created;
  }

  /** Stop watching, cancel running jobs (they run again at the next start) and release the conductor. */
  async stop(): Promise<void> {
    if (this._stopping) {
      return this._stopping;
    }
    this._stopping = (async () => {
      this._scheduler.dispose();
      await this.triggers.stop();
      await this._fileMonitor.stop();
      await this.stateMonitor.stop();
      await this._workers.stop();
      this.limits.dispose();
      await Promise.allSettled([...this._inFlight]);
      await this.executors.dispose();
      await this.limits.settled();
      await this.store.close();
      await this._lock.release();
    })();
    return this._stopping;
  }

  /** True when nothing is queued, running, being matched, waiting to settle or to be retried. */
  get idle(): boolean {
    return (
      this._workers.queued === 0 &&
      this._workers.running === 0 &&
      this._workers.waiting === 0 &&
      this._scheduler.held === 0 &&
      this._inFlight.size === 0 &&
      this.triggers.busy === 0 &&
      this.store.pendingFolders === 0 &&
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
    const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, skipped: 0 } as Record<JobStatus, number>;
    for (const job of this.store.list()) {
      counts[job.status]++;
    }
    return counts;
  }

  /**
   * Cancel a job that has not finished. Queued jobs are cancelled at once;
   * running jobs have their kernel interrupted and shut down. A job a person
   * cancelled stays cancelled: its trigger is not run again after a restart.
   */
  async cancel(id: string, reason = 'cancelled by the user', by: 'user' | 'rule' = 'user'): Promise<IJob> {
    const job = this.store.get(id);
    if (!job) {
      throw new Error(`no job ${id}`);
    }
    if (FINAL_JOB_STATUSES.includes(job.status)) {
      return job;
    }
    this._cancelledBy.set(id, by);
    if (this._workers.abort(id, reason)) {
      return job;
    }
    this._workers.dequeue(id);
    return this.store.update(id, {
      status: 'cancelled',
      cancelledBy: by,
      finished: new Date().toISOString(),
      error: { message: reason }
    });
  }

  /** Resolves once the file monitor's start scan is done (M10 waits for it). */
  private _startScanned: Promise<void> = Promise.resolve();

  private _track(work: Promise<void>): void {
    this._inFlight.add(work);
    work
      .catch(err => this._log.error(`internal error: ${(err as Error).stack ?? err}`))
      .finally(() => this._inFlight.delete(work));
  }

  private async _onFileEvent(event: IFileEvent): Promise<void> {
    this._fileEvent.emit(event);
    this.triggers.onFileEvent(event);
    await this._scheduler.onEvent(event);
  }

  /** The live rule for a job: the one that made it, or one with the same content. */
  private _ruleFor(job: IJob): IRule | undefined {
    const rule = this.workflow.rules.get(job.rule);
    if (rule) {
      return rule;
    }
    for (const r of this.workflow.rules.values()) {
      if (r.contentKey === job.ruleKey) {
        return r;
      }
    }
    return undefined;
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
            `cancelled because rule ${job.rule} was removed (its pattern or recipe was deleted or changed)`,
            'rule'
          )
        );
      await Promise.all(cancels);
    }
    for (const rule of changes.deleted) {
      if (!this.workflow.patterns.has(rule.pattern.name) && this.limits.isPaused(rule.pattern.name)) {
        await this.limits.resume(rule.pattern.name); // its pause would outlive it
      }
    }
    for (const rule of changes.created) {
      this.limits.reset(rule.pattern.name);
    }
    if (changes.created.length || changes.deleted.length) {
      await this.triggers.rulesChanged([...changes.created, ...changes.deleted]);
    }
    const fileRules = changes.created.filter(
      r => r.pattern.trigger.kind === 'file' && r.pattern.trigger.events.includes('created')
    );
    if (fileRules.length) {
      await this._startScanned;
      await this._scheduler.retroactive(fileRules);
    }
  }

  /** A paused rule was resumed: its files that got no job meanwhile get one now. */
  private async _onResumed(pattern: string): Promise<void> {
    const rules = [...this.workflow.rules.values()].filter(
      r => r.pattern.name === pattern && r.pattern.trigger.kind === 'file'
    );
    if (rules.length) {
      this._log.info(`pattern ${pattern} resumed: catching up on its files`);
      await this._scheduler.retroactive(rules);
    }
    await this.triggers.resumed(pattern);
  }

  /**
   * Jobs left unfinished by a previous run (a crash, kill -9, power loss):
   * queued jobs whose rule still exists (same content) run; a job that was
   * running runs again as the same job, up to its pattern's `retries`; the
   * rest are closed with a reason.
   */
  private async _recover(jobs: IJob[]): Promise<void> {
    for (const job of jobs) {
      const rule = this._ruleFor(job);
      if (!rule) {
        await this.cancel(
          job.id,
          'cancelled because its rule no longer exists (the pattern or recipe changed while meow was stopped)',
          'rule'
        );
        continue;
      }
      if (job.status === 'running' && job.external && this._outlivesService(job)) {
        // Its engine (Slurm) ran it on without us: follow it, do not run it again.
        await this.store.update(job.id, { status: 'queued' });
        this._log.info(
          `job ${job.id} is in ${job.executor} as ${job.external.id} (${job.external.state ?? 'state unknown'}); meow follows it again`
        );
      } else if (job.status === 'running') {
        const attempt = job.attempt ?? 1;
        const retries = rule.pattern.retries ?? DEFAULT_RETRIES;
        if (attempt > retries) {
          await this.store.update(job.id, {
            status: 'failed',
            finished: new Date().toISOString(),
            error: {
              message:
                `interrupted: meow stopped while this job was running, ${attempt} time(s); ` +
                `pattern ${job.pattern} allows ${retries} retr${retries === 1 ? 'y' : 'ies'} (set "retries:" to allow more, or rerun it)`
            }
          });
          continue;
        }
        await this.store.update(job.id, { status: 'queued', attempt: attempt + 1, progress: undefined });
        this._log.info(
          `job ${job.id} was running when meow stopped; it runs again (attempt ${attempt + 1} of ${retries + 1})`
        );
      }
      if (job.rule !== rule.id) {
        await this.store.update(job.id, { rule: rule.id });
      }
      this._workers.enqueue(job.id);
    }
  }

  private _outlivesService(job: IJob): boolean {
    const executor = job.executor ? this.executors.get(job.executor) : undefined;
    return !!executor && 'kind' in executor && !!executor.outlivesService;
  }

  private readonly _settleMs: number;
  private readonly _lock: WorkgroupLock;
  private readonly _log: ILogger;
  private readonly _factory: JobFactory;
  private readonly _provenance: ProvenanceTracker;
  private readonly _scheduler: Scheduler;
  private readonly _workers: WorkerPool;
  private readonly _fileMonitor: FileMonitor;
  private readonly _fileEvent = new Signal<this, IFileEvent>(this);
  private readonly _cancelledBy = new Map<string, 'user' | 'rule'>();
  private readonly _inFlight = new Set<Promise<void>>();
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
    /** Most jobs queued before new events wait (default 50,000). */
    maxQueued?: number;
    /** Pattern and recipe files larger than this are refused unread (default 1 MB). */
    maxDefinitionBytes?: number;
    /** Trigger kinds beyond network, timer, manual and absence. */
    triggers?: (context: ITriggerContext) => ITrigger[];
    /** Runs every job on this machine (tests, simple setups); or give `executors`. */
    conductor?: IConductor;
    /** Where jobs run, by kind (local, slurm, jupyter) with a default. */
    executors?: ExecutorSet;
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
}
