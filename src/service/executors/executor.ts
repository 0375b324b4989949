/**
 * Executors (issue 8): where a job's notebook runs. Each kind has its own
 * file (`local.ts`, `jupyter.ts`, `slurm.ts`) behind this one interface, so
 * the workers never learn their details — as meow_base's conductors.
 */
import type { ExecutorKind } from '../../core/types';
import type { IConductor } from '../tokens';

export interface IExecutor extends IConductor {
  readonly kind: ExecutorKind;
  /**
   * Jobs it runs at once (its lane in the worker pool). Undefined: the
   * service's `workers`, resized with them.
   */
  readonly concurrency?: number;
  /**
   * True when its jobs outlive meow (a Slurm job): at shutdown they are left
   * running, and a job found `running` with an external id at the next
   * start is followed again rather than run again.
   */
  readonly outlivesService?: boolean;
  /** One line for logs and the status: where jobs go. */
  describe(): string;
}

/** Least time between two attempts to start an executor that is not available. */
const RETRY_START_MS = 30_000;

export namespace ExecutorSet {
  export interface IOptions {
    /** The executors configured; `local` is the usual default. */
    executors: Partial<Record<ExecutorKind, IExecutor>>;
    /** Kind of jobs whose pattern and recipe name none. */
    defaultKind: ExecutorKind;
    /** Why a kind that is not configured cannot run jobs, with the fix. */
    missing?: Partial<Record<ExecutorKind, string>>;
    log?: { error(message: string): void; info(message: string): void };
    /** Least time between two attempts to start an executor that is not available (default 30 s). */
    retryStartMs?: number;
  }
}

/**
 * The executors of one service. The default one must start; another that
 * fails to start is reported, and its jobs fail with that reason instead of
 * taking the service down.
 */
export class ExecutorSet {
  constructor(options: ExecutorSet.IOptions) {
    this.defaultKind = options.defaultKind;
    this._executors = options.executors;
    this._missing = { ...(options.missing ?? {}) };
    this._log = options.log;
    this._retryStartMs = options.retryStartMs ?? RETRY_START_MS;
    if (!this._executors[this.defaultKind]) {
      throw new Error(
        this._missing[this.defaultKind] ?? `the default executor "${this.defaultKind}" is not configured`
      );
    }
  }

  readonly defaultKind: ExecutorKind;

  /** Every configured executor. */
  get all(): IExecutor[] {
    return Object.values(this._executors).filter((e): e is IExecutor => !!e);
  }

  /** The executor of `kind`, or why there is none (with the fix). */
  get(kind: ExecutorKind): IExecutor | { unavailable: string } {
    const executor = this._executors[kind];
    if (executor && !this._failed.has(kind)) {
      return executor;
    }
    return {
      unavailable:
        this._failed.get(kind) ??
        this._missing[kind] ??
        `no "${kind}" executor is configured for this service; configure it or set "executor:" to ${this.defaultKind}`
    };
  }

  async start(): Promise<void> {
    for (const executor of this.all) {
      if (executor.kind === this.defaultKind) {
        await executor.start();
        this._log?.info(`executor ${executor.kind} (default): ${executor.describe()}`);
      } else if (await this._tryStart(executor)) {
        this._log?.info(`executor ${executor.kind}: ${executor.describe()}`);
      } else {
        this._log?.info(
          `${this._failed.get(executor.kind)}\n(only jobs that ask for executor ${executor.kind} are affected; it is tried again when one does)`
        );
      }
    }
  }

  /**
   * The executor of `kind`, started: one that could not start before is
   * tried again (at most every 30 s), e.g. once Slurm is up.
   */
  async ready(kind: ExecutorKind): Promise<IExecutor | { unavailable: string }> {
    const executor = this._executors[kind];
    if (executor && this._failed.has(kind) && Date.now() - (this._triedAt.get(kind) ?? 0) >= this._retryStartMs) {
      await this._tryStart(executor);
    }
    return this.get(kind);
  }

  private async _tryStart(executor: IExecutor): Promise<boolean> {
    this._triedAt.set(executor.kind, Date.now());
    try {
      await executor.start();
      this._failed.delete(executor.kind);
      return true;
    } catch (err) {
      this._failed.set(executor.kind, `the ${executor.kind} executor is not available: ${(err as Error).message}`);
      return false;
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.all.map(e => e.dispose().catch(() => undefined)));
  }

  private readonly _executors: Partial<Record<ExecutorKind, IExecutor>>;
  private readonly _missing: Partial<Record<ExecutorKind, string>>;
  private readonly _failed = new Map<ExecutorKind, string>();
  private readonly _triedAt = new Map<ExecutorKind, number>();
  private readonly _retryStartMs: number;
  private readonly _log?: ExecutorSet.IOptions['log'];
}
