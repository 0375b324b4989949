/**
 * The triggers other than files, as one part of the runner: it gives each
 * trigger kind its rules whenever rules change, passes file events to those
 * that watch files, hands their firings to the scheduler, and owns the
 * incoming files they make. The runner knows only this class.
 */
import type { IRunResult, IWaitingFiles } from '../../core/api';
import type { IFileEvent, IJob, IRule, TriggerKind } from '../../core/types';
import type { Workflow } from '../../core/workflow';
import type { JobStore } from '../jobs/jobStore';
import type { ILogger } from '../log';
import { AbsenceTrigger } from './absence';
import { IncomingFiles } from './incoming';
import { ManualTrigger } from './manual';
import { NetworkTrigger } from './network';
import { TimerTrigger } from './timer';
import type { IFiring, ITrigger, ITriggerContext } from './trigger';

export class TriggerHub {
  constructor(options: TriggerHub.IOptions) {
    this._o = options;
    this.incoming = new IncomingFiles({
      root: options.root,
      stateDir: options.stateDir,
      store: options.store,
      log: options.log,
      keep: rel => this._keep(rel)
    });
    const context: ITriggerContext = {
      root: options.root,
      stateDir: options.stateDir,
      log: options.log,
      incoming: this.incoming,
      fire: (rules, firing) => this._fire(rules, firing),
      walk: options.walk,
      now: options.now ?? Date.now
    };
    this.manual = new ManualTrigger({
      context,
      ruleOf: name => this._ruleOf(name),
      takenPaths: name => this._takenPaths(name)
    });
    this.triggers = [
      new NetworkTrigger({ context }),
      ...(options.extra?.(context) ?? []),
      new TimerTrigger({ context }),
      this.manual,
      new AbsenceTrigger({ context })
    ];
  }

  readonly incoming: IncomingFiles;
  readonly manual: ManualTrigger;
  readonly triggers: readonly ITrigger[];

  /** Firings being turned into jobs now. */
  get busy(): number {
    return this._busy;
  }

  /** After the job store is loaded: tidy up incoming files. */
  async start(): Promise<void> {
    await this.incoming.start();
  }

  /**
   * Rules changed: each trigger of a changed rule's kind gets its current
   * rules (one update at a time; without `rules`, every trigger). Only the
   * kinds concerned are updated, and changes that come while an update
   * waits to start share it (it reads the rules when it starts): 100,000
   * file patterns loading one by one made 100,000 updates of every trigger,
   * each over all rules, though none of these triggers runs file rules.
   */
  rulesChanged(rules?: readonly IRule[]): Promise<void> {
    if (rules) {
      for (const rule of rules) {
        this._pendingKinds?.add(rule.pattern.trigger.kind);
      }
    } else {
      this._pendingKinds = null;
    }
    if (!this._next) {
      this._next = this._updating
        .then(() => {
          const kinds = this._pendingKinds;
          this._next = null;
          this._pendingKinds = new Set();
          return this._update(kinds);
        })
        .catch(err => {
          this._o.log.error(`internal error updating triggers: ${(err as Error).stack ?? err}`);
        });
      this._updating = this._next;
    }
    return this._next;
  }

  onFileEvent(event: IFileEvent): void {
    for (const t of this.triggers) {
      t.onFileEvent?.(event);
    }
  }

  /** A paused pattern was resumed: its trigger fires what waited, then incoming files may go. */
  async resumed(pattern: string): Promise<void> {
    const rule = this._ruleOf(pattern);
    if (rule) {
      for (const t of this.triggers) {
        if (t.resumed && (t.kinds as readonly TriggerKind[]).includes(rule.pattern.trigger.kind)) {
          await t.resumed(rule);
        }
      }
      if (rule.pattern.trigger.kind !== 'manual') {
        await this.manual.resumed(rule); // uploads of a run-now that waited
      }
    }
    await this.incoming.sweep();
  }

  /**
   * Run a pattern by hand (the API's Run / Approve, `runner.runPattern`).
   * @throws ManualTrigger.RunError (`not-found` for an unknown pattern).
   */
  async run(pattern: string, request: ManualTrigger.IRequest): Promise<IRunResult> {
    const rule = this._ruleOf(pattern);
    if (!rule) {
      throw new ManualTrigger.RunError(
        'not-found',
        this._o.workflow.patterns.has(pattern)
          ? `pattern ${pattern} has no rule: its recipe ${this._o.workflow.patterns.get(pattern)!.recipe} is not loaded`
          : `no pattern ${pattern}`,
        this._o.workflow.patterns.has(pattern)
          ? 'register the recipe it names'
          : 'list patterns with GET /api/patterns and use one of their names'
      );
    }
    const result = await this.manual.run(rule, request);
    if (!result.jobs.length) {
      result.note = this._o.isPaused(pattern)
        ? `pattern ${pattern} is paused by a limit; its job is made when it is resumed`
        : this._o.isHeld(result.path)
          ? 'the job queue is full (or the disk is); the job is made as soon as there is room'
          : 'no new job: this exact run was made before';
    }
    return result;
  }

  /** Files waiting for a person to approve them (manual patterns with a `path`). */
  async waiting(pattern: string): Promise<IWaitingFiles> {
    const rule = this._ruleOf(pattern);
    if (!rule) {
      throw new ManualTrigger.RunError(
        'not-found',
        `no pattern ${pattern} with a rule`,
        'list patterns with GET /api/patterns'
      );
    }
    return this.manual.waiting(rule);
  }

  async stop(): Promise<void> {
    await this._updating;
    await Promise.allSettled(this.triggers.map(t => t.stop()));
    await this.incoming.settled();
  }

  /** Give the triggers of these kinds (all, for null) their current rules. */
  private async _update(kinds: ReadonlySet<TriggerKind> | null): Promise<void> {
    const concerned = this.triggers.filter(t => !kinds || t.kinds.some(k => kinds.has(k)));
    if (!concerned.length) {
      return;
    }
    const rules = [...this._o.workflow.rules.values()];
    for (const t of concerned) {
      const mine = rules.filter(r => (t.kinds as readonly TriggerKind[]).includes(r.pattern.trigger.kind));
      try {
        await t.update(mine);
      } catch (err) {
        this._o.log.error(`${t.kinds.join('/')} triggers could not be updated: ${(err as Error).message}`);
      }
    }
  }

  private async _fire(rules: IRule[], firing: IFiring): Promise<IJob[]> {
    this._busy++;
    try {
      // Rules removed meanwhile make no job (M11).
      const live = rules.filter(r => this._o.workflow.rules.has(r.id));
      if (!live.length) {
        this._o.log.warn(
          `${firing.path}: its pattern(s) ${rules.map(r => r.pattern.name).join(', ')} went away before it could run; no job was made`
        );
        return [];
      }
      return await this._o.fire(live, firing);
    } finally {
      this._busy--;
    }
  }

  private _ruleOf(pattern: string): IRule | undefined {
    for (const rule of this._o.workflow.rules.values()) {
      if (rule.pattern.name === pattern) {
        return rule;
      }
    }
    return undefined;
  }

  private _takenPaths(pattern: string): Set<string> {
    const taken = new Set<string>();
    for (const job of this._o.store.list()) {
      if (job.pattern === pattern && !(job.status === 'cancelled' && job.cancelledBy === 'rule')) {
        taken.add(job.trigger.path);
      }
    }
    return taken;
  }

  /** An incoming file stays while a pattern it feeds is paused or its event waits in the scheduler. */
  private _keep(rel: string): boolean {
    if (this._o.isHeld(rel)) {
      return true;
    }
    const ch = this.incoming.channelOf(rel);
    if (!ch) {
      return false;
    }
    if (ch.kind === 'network') {
      const port = Number(ch.channel);
      return this._o.workflow.rulesForPort(port).some(r => this._o.isPaused(r.pattern.name));
    }
    return this._o.isPaused(ch.channel);
  }

  private readonly _o: TriggerHub.IOptions;
  private _busy = 0;
  private _updating: Promise<void> = Promise.resolve();
  /** The update queued behind the running one, not started yet. */
  private _next: Promise<void> | null = null;
  /** The trigger kinds whose rules changed since the last update started (null: all). */
  private _pendingKinds: Set<TriggerKind> | null = new Set();
}

export namespace TriggerHub {
  export interface IOptions {
    root: string;
    stateDir: string;
    log: ILogger;
    store: JobStore;
    workflow: Workflow;
    /** The scheduler: make the jobs of these rules for a firing. */
    fire: (rules: IRule[], firing: IFiring) => Promise<IJob[]>;
    walk: (relDir: string) => AsyncIterable<string>;
    isPaused: (pattern: string) => boolean;
    /** Whether the scheduler holds an event for this path (queue or disk full). */
    isHeld: (rel: string) => boolean;
    /** Further trigger kinds (tests, plug-ins). */
    extra?: (context: ITriggerContext) => ITrigger[];
    now?: () => number;
  }
}
