/**
 * Writes a notebook that is being filled while a job runs: throttled, each
 * write atomic (temp file + rename), so readers always see valid JSON.
 */
import type { INotebook } from '../../core/types';
import { writeFileAtomic } from '../fsutil';

/** Serialise like nbformat does (one-space indent, trailing newline). */
export function serializeNotebook(nb: INotebook): string {
  return JSON.stringify(nb, null, 1) + '\n';
}

export namespace NotebookWriter {
  export interface IOptions {
    /** Minimum time between two throttled writes (default 250 ms: ≤ 4 writes/s). */
    minIntervalMs?: number;
    log?: (message: string) => void;
  }
}

export class NotebookWriter {
  constructor(
    readonly file: string,
    readonly notebook: INotebook,
    options: NotebookWriter.IOptions = {}
  ) {
    this._interval = options.minIntervalMs ?? 250;
    this._log = options.log ?? (() => undefined);
  }

  /** Number of writes done so far. */
  get writes(): number {
    return this._writes;
  }

  /** The notebook changed: write it soon, at most every `minIntervalMs`. */
  markDirty(): void {
    if (this._closed || this._timer) {
      return;
    }
    const wait = Math.max(0, this._lastWrite + this._interval - Date.now());
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this.flush();
    }, wait);
  }

  /** Write the current state now (after any write in flight). Never rejects. */
  flush(): Promise<void> {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    // Snapshot now, so the file reflects the state at the time of the call.
    const text = serializeNotebook(this.notebook);
    this._chain = this._chain.then(async () => {
      try {
        // Not fsynced: the result is rewritten many times while a job runs.
        await writeFileAtomic(this.file, text, { fsync: false });
        this._writes++;
      } catch (err) {
        this._log(`could not write ${this.file}: ${(err as Error).message}`);
      }
      this._lastWrite = Date.now();
    });
    return this._chain;
  }

  /** Final write; later `markDirty` calls are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this._closed = true;
  }

  private _interval: number;
  private _log: (message: string) => void;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _lastWrite = 0;
  private _writes = 0;
  private _closed = false;
  private _chain: Promise<void> = Promise.resolve();
}
