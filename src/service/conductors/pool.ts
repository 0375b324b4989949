/**
 * Kernels of the default kernelspec started ahead of the jobs that will use
 * them. A failed pre-start never fails a job (the job starts its own kernel)
 * and is retried later with backoff.
 */
import type { ILogSink } from '../jupyter/log';
import { IKernelHandle, KernelLauncher } from './launcher';
import { errorMessage } from './util';

interface IPoolEntry {
  promise: Promise<IKernelHandle>;
  handle?: IKernelHandle;
}

/** First and longest wait before pre-starting again after a failure. */
const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 300_000;

export class KernelPool {
  constructor(
    private readonly launcher: KernelLauncher,
    readonly spec: string,
    readonly size: number,
    /** Waits for the server before each pre-start (a restarting server is waited for). */
    private readonly serverReady: () => Promise<void>,
    private readonly log: ILogSink
  ) {}

  /** Ids of the ready kernels waiting in the pool. */
  get ids(): string[] {
    return this._entries.filter(e => e.handle).map(e => e.handle!.id);
  }

  /** Start filling the pool. */
  open(): void {
    this._open = true;
    this.replenish();
  }

  /** Resolves when every kernel now in the pool has started (or failed to). */
  async whenReady(): Promise<void> {
    await Promise.allSettled(this._entries.map(e => e.promise));
  }

  /**
   * A ready, idle, connected pooled kernel, or undefined (the caller starts
   * one). A pooled kernel that died while waiting is shut down.
   */
  async take(): Promise<IKernelHandle | undefined> {
    const entry = this._entries.shift();
    this.replenish();
    if (!entry) {
      return undefined;
    }
    try {
      const handle = await entry.promise;
      const c = handle.connection;
      if (!c.isDisposed && c.status === 'idle' && c.connectionStatus === 'connected') {
        return handle;
      }
      this.log.warn(`[kernel] pooled kernel ${handle.id} is no longer usable; starting another`);
      void this.launcher.shutdown(handle);
    } catch {
      // already logged by replenish
    }
    return undefined;
  }

  /** Top the pool up to its size (unless closed or waiting out a failure). */
  replenish(): void {
    while (this._open && !this._retryTimer && this._entries.length < this.size) {
      const entry: IPoolEntry = {
        promise: this.serverReady().then(() => this.launcher.launch(this.spec, true))
      };
      entry.promise.then(
        h => {
          entry.handle = h;
          this._retryMs = 0;
        },
        err => {
          if (!this._open) {
            return;
          }
          // Out of the pool; try again later rather than in a tight loop.
          this._entries = this._entries.filter(e => e !== entry);
          this._retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this._retryMs * 2));
          this.log.warn(
            `[kernel] could not pre-start a "${this.spec}" kernel: ${errorMessage(err)}; ` +
              `trying again in ${Math.round(this._retryMs / 1000)} s`
          );
          if (!this._retryTimer) {
            this._retryTimer = setTimeout(() => {
              this._retryTimer = undefined;
              this.replenish();
            }, this._retryMs);
            this._retryTimer.unref?.();
          }
        }
      );
      this._entries.push(entry);
    }
  }

  /** Stop filling and shut down every pooled kernel (never rejects). */
  async close(): Promise<void> {
    this._open = false;
    clearTimeout(this._retryTimer);
    this._retryTimer = undefined;
    const entries = this._entries.splice(0);
    await Promise.allSettled(entries.map(e => e.promise.then(h => this.launcher.shutdown(h))));
  }

  private _open = false;
  private _entries: IPoolEntry[] = [];
  private _retryTimer: ReturnType<typeof setTimeout> | undefined;
  private _retryMs = 0;
}
