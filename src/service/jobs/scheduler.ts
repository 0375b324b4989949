/**
 * The scheduler: from settled events to queued jobs (M7–M10).
 *
 * For each event it finds the rules it reaches, hashes the file once, finds
 * the job that wrote it (provenance), asks the runaway limits, and has the
 * job factory make the jobs — which skips combinations already handled
 * (idempotency keys), so a restart, a rescan or a duplicate event never runs
 * the same work twice. A newer event for the same rule and path supersedes a
 * job that has not started (coalescing).
 *
 * Nothing is dropped: an event that cannot become a job now (the disk is
 * full, the queue is over its limit) is kept and tried again; a rule paused
 * by a limit gets its files rescanned when it is resumed.
 */
import { globBase } from '../../core/glob';
import type { IFileEvent, IJob, IJobTrigger, IPausedRule, IPattern, IRule, JobTriggerKind } from '../../core/types';
import type { Workflow } from '../../core/workflow';
import { isTransientError } from '../fsutil';
import type { ILogger } from '../log';
import { JobFactory } from './jobFactory';
import type { JobStore } from './jobStore';
import type { ProvenanceTracker } from './provenance';

/** Default most jobs queued at once before new events wait (backpressure). */
export const DEFAULT_MAX_QUEUED = 50_000;
/** Events hashed and turned into jobs at the same time. */
const SCHEDULING_SLOTS = 64;
/** How often events that could not become jobs are tried again. */
const RETRY_HELD_MS = 2000;

/** Decides whether a pattern may make another job now (see limits.ts). */
export interface IAdmission {
  admit(pattern: IPattern, depth: number, triggerPath?: string): { ok: true } | { ok: false; paused: IPausedRule };
  isPaused(pattern: string): boolean;
}

/** Existing files retroactive matching handles at the same time. */
const RETRO_AT_ONCE = 32;

export class Scheduler {
  constructor(options: Scheduler.IOptions) {
    this._o = options;
    this._maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  /** Events being hashed and turned into jobs right now. */
  get scheduling(): number {
    return this._scheduling;
  }

  /** Events waiting to be tried again (disk full or queue over its limit). */
  get held(): number {
    return this._held.size;
  }

  /** M7–M9: match one settled event against the rules and schedule jobs. */
  async onEvent(event: IFileEvent): Promise<void> {
    const rules = this._match(event);
    if (!rules.length) {
      return;
    }
    await this.schedule(rules, event);
  }

  /**
   * Schedule jobs of these rules for one event. `knownHash` saves hashing
   * again when the caller already did.
   */
  async schedule(rules: IRule[], event: Scheduler.IEvent, knownHash?: string): Promise<IJob[]> {
    // Events being turned into jobs count too: many arriving at once must
    // not all pass the check before any of their jobs is queued.
    if (this._o.queued() + this._scheduling >= this._maxQueued) {
      this._hold(
        event,
        rules,
        `the queue holds ${this._o.queued()} jobs (limit ${this._maxQueued}) — --max-queued sets the limit`
      );
      return [];
    }
    this._scheduling++;
    try {
      return await this._schedule(rules, event, knownHash);
    } finally {
      this._scheduling--;
    }
  }

  /** Whether an event for this path waits to be tried again. */
  isHeld(rel: string): boolean {
    return this._held.has(rel);
  }

  private async _schedule(rules: IRule[], event: Scheduler.IEvent, knownHash?: string): Promise<IJob[]> {
    let hash = knownHash;
    if (event.kind !== 'deleted' && hash === undefined) {
      try {
        hash = await this._hash(event.path, rules);
      } catch (err) {
        this._hold(event, rules, `${event.path} cannot be read just now (${(err as Error).message})`);
        return [];
      }
      if (hash === undefined) {
        return [];
      }
    }
    const trigger: IJobTrigger = { kind: event.kind, path: event.path, time: new Date(event.time).toISOString() };
    if (hash) {
      trigger.hash = hash;
    }
    if (event.retroactive) {
      trigger.retroactive = true;
    }
    if (event.source) {
      trigger.source = event.source;
    }
    if (event.firing) {
      trigger.firing = event.firing;
    }
    // Rules deleted while hashing are gone; work already done is not
    // counted against the limits; paused rules catch up on resume.
    const fresh = new Map<IRule, number>();
    for (const rule of rules) {
      if (this._o.workflow.rules.has(rule.id)) {
        const n = this._o.factory.fresh(rule, trigger);
        if (n === 0) {
          // Said, not silent: the same content was handled before (a restart, a touch, a rescan).
          this._o.log.debug(
            `${event.path}: ${rule.pattern.name} already handled this content; no new job (rerun it to run again)`
          );
        }
        fresh.set(rule, n);
      }
    }
    // Content every rule handled already (a restart's pass over thousands of
    // files): no job, so no parent to look up (a stat per file).
    const parent = [...fresh.values()].some(n => n > 0) ? await this._o.provenance.parentOf(event.path) : undefined;
    const depth = parent ? (this._o.store.get(parent)?.depth ?? 1) + 1 : 1;
    const admitted: { rule: IRule; max: number }[] = [];
    for (const [rule, n] of fresh) {
      const max = this._o.workflow.rules.has(rule.id) ? this._admit(rule, depth, event.path, n) : 0;
      if (max > 0) {
        admitted.push({ rule, max });
      }
    }
    try {
      const results = await Promise.all(
        admitted.map(({ rule, max }) => this._o.factory.create(rule, trigger, { parent, depth, max }))
      );
      const made: IJob[] = [];
      for (const { jobs } of results) {
        // The jobs of one rule share trigger and content: older content of
        // the path is superseded once, not once per sweep job.
        if (jobs.length) {
          await this._supersede(jobs[0]);
        }
        for (const job of jobs) {
          this._o.log.info(
            `job ${job.id} queued: ${job.pattern} → ${job.recipe} for ${event.path}` +
              (event.retroactive
                ? ' (existing file)'
                : ` (${event.kind}${event.source ? ` from ${event.source}` : ''})`)
          );
          this._o.enqueue(job.id);
          made.push(job);
        }
      }
      this._held.delete(event.path);
      return made;
    } catch (err) {
      const full = (err as NodeJS.ErrnoException).code === 'ENOSPC';
      this._hold(
        event,
        rules,
        `its job could not be recorded (${(err as Error).message})` +
          (full ? ` — the disk holding ${this._o.store.folder} is full; free space there` : '')
      );
      return [];
    }
  }

  /**
   * M10: files that already exist and match new rules are treated as just
   * created; the idempotency keys keep work a previous run did from running
   * again, so this also catches up after a restart or a resume.
   */
  async retroactive(rules: IRule[]): Promise<void> {
    const wanted = new Set(rules.map(r => r.id));
    const bases = Scheduler.outermost(rules.map(r => globBase((r.pattern.trigger as { path: string }).path)));
    // Files are matched RETRO_AT_ONCE at a time: one by one, a restart over
    // 10,000 handled files waited 20,000 stats in turn. Within a batch, jobs
    // get ids in the order their files' hashes finish.
    let batch: Promise<unknown>[] = [];
    let handled = 0;
    for (const base of bases) {
      for await (const rel of this._o.walk(base)) {
        const event: IFileEvent = { kind: 'created', path: rel, time: Date.now(), retroactive: true };
        const matched = this._o.workflow.match(event).filter(r => wanted.has(r.id));
        const known = matched.length ? this._o.checkedHash?.(rel) : undefined;
        if (known !== undefined && this._allHandled(matched, rel, known)) {
          handled++; // a restart's pass over handled files: no scheduling round at all
        } else if (matched.length) {
          batch.push(this.schedule(matched, event, known));
          if (batch.length >= RETRO_AT_ONCE) {
            await Promise.all(batch);
            batch = [];
          }
        }
      }
    }
    await Promise.all(batch);
    if (handled) {
      this._o.log.debug(
        `${handled} existing file(s) already handled by their rules: no new jobs (rerun a job to run it again)`
      );
    }
  }

  /** True when every rule already handled this content of the file. */
  private _allHandled(rules: IRule[], rel: string, hash: string): boolean {
    const trigger: IJobTrigger = { kind: 'created', path: rel, time: '', hash, retroactive: true };
    return rules.every(rule => this._o.factory.fresh(rule, trigger) === 0);
  }

  /** Try held events again (called on a timer and when the queue drains). */
  async retryHeld(): Promise<void> {
    if (this._retrying || !this._held.size) {
      return;
    }
    this._retrying = true;
    try {
      for (const [rel, held] of [...this._held]) {
        if (this._o.queued() >= this._maxQueued) {
          break;
        }
        this._held.delete(rel);
        const rules = held.rules.filter(r => this._o.workflow.rules.has(r.id));
        if (rules.length) {
          await this.schedule(rules, held.event);
        }
      }
      if (!this._held.size && this._heldSince !== undefined) {
        this._o.log.info('every event that waited has its jobs now');
        this._heldSince = undefined;
      }
    } finally {
      this._retrying = false;
    }
  }

  dispose(): void {
    clearTimeout(this._timer);
    this._timer = undefined;
  }

  /**
   * Rules an event reaches. A file moved into a watched path is, for that
   * path, a new file: rules listening to `created` see it too.
   */
  private _match(event: IFileEvent): IRule[] {
    const rules = this._o.workflow.match(event);
    if (event.kind !== 'moved') {
      return rules;
    }
    const seen = new Set(rules.map(r => r.id));
    for (const rule of this._o.workflow.match({ ...event, kind: 'created' })) {
      if (!seen.has(rule.id)) {
        rules.push(rule);
      }
    }
    return rules;
  }

  /** How many of `wanted` new jobs the rule's limits let it make now (each admitted one is counted). */
  private _admit(rule: IRule, depth: number, rel: string, wanted: number): number {
    const limits = this._o.limits;
    if (wanted === 0) {
      return 0;
    }
    if (limits.isPaused(rule.pattern.name)) {
      this._o.log.debug(`${rel}: pattern ${rule.pattern.name} is paused; its job is made when the pattern is resumed`);
      return 0;
    }
    let n = 0;
    while (n < wanted && limits.admit(rule.pattern, depth, rel).ok) {
      n++;
    }
    return n;
  }

  /** Coalescing: older jobs of this rule for this path that have not started are superseded. */
  private async _supersede(job: IJob): Promise<void> {
    if (job.trigger.kind === 'deleted') {
      return;
    }
    for (const older of this._o.store.byTrigger(job.ruleKey, job.trigger.path)) {
      // Same content (e.g. a sibling sweep job) is not superseded: only
      // content seen earlier is (by event time: a slow older event may make
      // its job after a newer one's).
      const stale = older.trigger.hash !== undefined && older.trigger.hash !== job.trigger.hash;
      const earlier =
        older.trigger.time < job.trigger.time || (older.trigger.time === job.trigger.time && older.id < job.id);
      if (stale && earlier && older.status === 'queued' && !this._o.isRunning(older.id)) {
        await this._o.store
          .update(older.id, {
            status: 'skipped',
            finished: new Date().toISOString(),
            error: { message: `skipped: superseded by job ${job.id} for a newer version of ${job.trigger.path}` }
          })
          .catch(() => undefined); // it started or ended meanwhile
        this._o.log.info(`job ${older.id} skipped: superseded by ${job.id} (${job.trigger.path} changed again)`);
      }
    }
  }

  /**
   * The content hash of a trigger file, or undefined (with the reason
   * logged) when it vanished or cannot be read — then no job is made.
   * @throws a transient error (out of file descriptors): try again later.
   */
  private async _hash(rel: string, rules: IRule[]): Promise<string | undefined> {
    // A burst settles thousands of events at once; hashing them all at once
    // would run out of file descriptors, so only reading takes a slot: the
    // wait for the journal's sync does not, or it would cap the event rate
    // at slots / sync time.
    await this._slots.acquire();
    try {
      const hash = await this._o.hashOf(rel).finally(() => this._slots.release());
      if (hash === undefined) {
        this._o.log.info(`${rel} was deleted before it could be matched; no job was made`);
      }
      return hash;
    } catch (err) {
      if (isTransientError(err)) {
        throw err; // e.g. out of file descriptors: held and tried again
      }
      const names = rules.map(r => r.pattern.name).join(', ');
      this._o.log.error(
        `${rel} matches ${names} but cannot be read (${(err as Error).message}); ` +
          'no job was made — fix it and touch the file to try again'
      );
      return undefined;
    }
  }

  private _hold(event: Scheduler.IEvent, rules: IRule[], why: string): void {
    const known = this._held.get(event.path);
    this._held.set(event.path, { event, rules: known ? [...new Set([...known.rules, ...rules])] : rules });
    if (this._heldSince === undefined) {
      this._heldSince = Date.now();
      this._o.log.warn(
        `${event.path}: no job yet because ${why}; it waits and is tried again every ${RETRY_HELD_MS / 1000} s (later events wait too)`
      );
    }
    if (!this._timer) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        void this.retryHeld().finally(() => {
          if (this._held.size) {
            this._hold([...this._held.values()][0].event, [], why);
          }
        });
      }, RETRY_HELD_MS);
    }
  }

  private readonly _o: Scheduler.IOptions;
  private readonly _maxQueued: number;
  private readonly _held = new Map<string, { event: Scheduler.IEvent; rules: IRule[] }>();
  private _heldSince: number | undefined;
  private _scheduling = 0;
  private readonly _slots = new Slots(SCHEDULING_SLOTS);
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _retrying = false;
}

export namespace Scheduler {
  /** A settled file event, or a firing of another trigger (network, timer, person, silence). */
  export interface IEvent {
    kind: Exclude<JobTriggerKind, 'rerun'>;
    /** Workgroup-relative path of the triggering file. */
    path: string;
    /** Milliseconds since the epoch. */
    time: number;
    retroactive?: boolean;
    /** Who or what fired it (IJobTrigger.source). */
    source?: string;
    /** IJobTrigger.firing. */
    firing?: string;
  }

  export interface IOptions {
    workflow: Workflow;
    store: JobStore;
    factory: JobFactory;
    provenance: ProvenanceTracker;
    log: ILogger;
    /** The current content hash of a workgroup file (undefined: gone). */
    hashOf: (rel: string) => Promise<string | undefined>;
    /**
     * A hash known without reading or stat'ing the file (one a scan just
     * confirmed), for retroactive matching; undefined: `hashOf` is asked.
     */
    checkedHash?: (rel: string) => string | undefined;
    /** Every data file below a workgroup-relative folder. */
    walk: (relDir: string) => AsyncIterable<string>;
    /** Queue a job for the workers. */
    enqueue: (id: string) => void;
    isRunning: (id: string) => boolean;
    /** Jobs queued now (for backpressure). */
    queued: () => number;
    /** Runaway limits: a tripped one pauses the rule (logged there). */
    limits: IAdmission;
    /** Most jobs queued before new events wait (default DEFAULT_MAX_QUEUED). */
    maxQueued?: number;
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

/** A counting semaphore: at most `size` holders at once, the rest wait in order. */
class Slots {
  constructor(private readonly size: number) {}

  acquire(): Promise<void> {
    if (this._used < this.size) {
      this._used++;
      return Promise.resolve();
    }
    return new Promise(resolve => this._waiting.push(resolve));
  }

  release(): void {
    const next = this._waiting.shift();
    if (next) {
      next(); // the slot passes straight on
    } else {
      this._used--;
    }
  }

  private _used = 0;
  private readonly _waiting: (() => void)[] = [];
}
