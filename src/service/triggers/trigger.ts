/**
 * What every trigger kind other than files implements (network, timer,
 * manual, absence), so the runner never learns their details — as
 * meow_base's monitors. A trigger turns something that happened into a
 * *firing*: a file (usually under `.meow/incoming/`) and the rules it is for.
 * The runner hands firings to the same scheduler as file events, so any
 * recipe works with any trigger and jobs are recorded, limited, cancelled
 * and reported alike.
 */
import type { IFileEvent, IJob, IRule, JobTriggerKind, TriggerKind } from '../../core/types';
import type { ILogger } from '../log';
import type { IncomingFiles } from './incoming';

/** Something a trigger saw happen, for some of its rules. */
export interface IFiring {
  kind: Exclude<JobTriggerKind, 'rerun'>;
  /** Workgroup-relative path of the triggering file. */
  path: string;
  /** Milliseconds since the epoch when it happened. */
  time: number;
  /** Who or what fired it (a peer address, a person, a schedule). */
  source?: string;
  /** See IJobTrigger.firing: set when `path` is a workgroup file run by hand. */
  firing?: string;
  /** sha256 of the file, when the trigger computed it while writing (saves reading it back). */
  hash?: string;
}

/** What the runner gives each trigger. */
export interface ITriggerContext {
  /** Absolute workgroup root. */
  root: string;
  /** State folder relative to the root (`.meow`). */
  stateDir: string;
  log: ILogger;
  /** Files under `.meow/incoming/` and when they may go. */
  incoming: IncomingFiles;
  /**
   * Make the jobs of these rules for a firing (idempotent: a firing whose
   * jobs exist makes none). Resolves once the jobs are recorded, or the
   * firing waits in the scheduler (queue full, disk full, rule paused).
   */
  fire(rules: IRule[], firing: IFiring): Promise<IJob[]>;
  /** Every data file below a workgroup-relative folder. */
  walk(relDir: string): AsyncIterable<string>;
  /** The clock (tests replace it). */
  now(): number;
}

/** One kind of trigger. */
export interface ITrigger {
  /** The pattern trigger kinds it runs. */
  readonly kinds: readonly TriggerKind[];
  /**
   * The rules of its kinds, in full, whenever they change (and once at
   * start). A trigger opens and closes what it listens with here; errors
   * about one rule are logged and never stop the others.
   */
  update(rules: IRule[]): Promise<void>;
  /** Settled file events, for triggers that watch files (absence). */
  onFileEvent?(event: IFileEvent): void;
  /** A paused rule was resumed: fire what waited for it. */
  resumed?(rule: IRule): Promise<void>;
  /** Stop listening; what was received is kept. */
  stop(): Promise<void>;
}
