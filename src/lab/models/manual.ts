/**
 * Running patterns by hand, and the files waiting for a person's approval
 * (the human-in-the-loop step of a manual pattern with a path glob).
 *
 * - `run(pattern, input)` fires a pattern ("Run now" / "Run") on a
 *   workgroup file, an upload or nothing; `approve(pattern, path)` runs a
 *   manual pattern on one waiting file. The outcome of the last run of each
 *   pattern (its jobs, or the service's error with its fix) is kept for the
 *   view.
 * - `watch(pattern)` keeps that pattern's waiting files current while a view
 *   shows them: fetched at once, polled every few seconds, and refetched
 *   soon after a job of the pattern changes or the definitions change.
 */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IRunResult, IServiceEvent, IWaitingFiles } from '../../core/api';
import { MeowApiError, MeowClient } from '../client';

/** A file waiting for approval. */
export type WaitingFile = IWaitingFiles['files'][number];

/** The waiting files of one pattern, as last fetched. */
export interface IWaitingState {
  files: WaitingFile[];
  /** The service listed only the first files. */
  truncated: boolean;
  /** Fetched at least once. */
  loaded: boolean;
  /** The last fetch failed with this message. */
  error: string | null;
}

/** An error of the service in the words a person acts on. */
export interface IRunError {
  /** What went wrong, e.g. `POST /patterns/x/run failed (HTTP 409): ...`. */
  message: string;
  /** How to fix it, one line per issue the service named. */
  fixes: string[];
  /** HTTP status, when the service answered. */
  status?: number;
}

/** The outcome of the last run or approval of a pattern. */
export interface IRunOutcome {
  /** What was run: `upload name.csv`, `review/x.png`, `no file`. */
  what: string;
  /** ms since the epoch when it was asked for. */
  time: number;
  /** Still waiting for the service. */
  busy: boolean;
  result?: IRunResult;
  error?: IRunError;
}

/** An error as message plus fixes (a `MeowApiError` carries the service's issues). */
export function runError(err: unknown): IRunError {
  if (err instanceof MeowApiError) {
    const fixes = (err.issues ?? [])
      .map(i => {
        const where = i.field && !i.field.startsWith('(') ? `${i.field} ` : '';
        const problem = i.message && !err.message.includes(i.message) ? `${where}${i.message}: ` : '';
        return `${problem}${i.fix}`;
      })
      .filter(Boolean);
    return { message: err.message, fixes, status: err.status };
  }
  const e = err as Error;
  const message = e?.message ?? String(err);
  const fixes = e?.name === 'NetworkError' ? ['check that the Jupyter server is running and reachable'] : [];
  return { message, fixes };
}

export class ManualModel implements IDisposable {
  constructor(options: ManualModel.IOptions = {}) {
    this._client = options.client ?? null;
    this._pollInterval = options.pollInterval ?? 5000;
    this._debounce = options.debounce ?? 300;
    if (this._client) {
      this._client.eventReceived.connect(this._onEvent, this);
      this._client.connectionChanged.connect((_, state) => {
        if (state === 'connected') {
          this._watched.forEach((_n, pattern) => this.scheduleRefresh(pattern));
        }
      }, this);
    }
  }

  /** The waiting files or the run outcome of a pattern changed (its name). */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Patterns whose waiting files are being kept current. */
  get watched(): string[] {
    return [...this._watched.keys()].sort();
  }

  /** The waiting files of `pattern`, if fetched. */
  waiting(pattern: string): IWaitingState | undefined {
    return this._waiting.get(pattern);
  }

  /** The last run or approval of `pattern`. */
  outcome(pattern: string): IRunOutcome | undefined {
    return this._outcomes.get(pattern);
  }

  /** Whether an approval of `path` (or any run, without `path`) of `pattern` is under way. */
  isBusy(pattern: string, path?: string): boolean {
    if (path !== undefined) {
      return this._approving.has(`${pattern}\n${path}`);
    }
    return this._outcomes.get(pattern)?.busy === true;
  }

  /** Take a pattern's waiting files (from a fetch, an event or a test). */
  setWaiting(pattern: string, files: WaitingFile[], truncated = false): void {
    this._waiting.set(pattern, { files: [...files], truncated, loaded: true, error: null });
    this._changed.emit(pattern);
  }

  /** Fetch the waiting files of `pattern` now. */
  async refreshWaiting(pattern: string): Promise<void> {
    if (!this._client) {
      return;
    }
    const seq = (this._fetchSeq.get(pattern) ?? 0) + 1;
    this._fetchSeq.set(pattern, seq);
    try {
      const body = await this._client.waitingFiles(pattern);
      if (this._disposed || this._fetchSeq.get(pattern) !== seq) {
        return; // a newer fetch was started
      }
      // Files being approved right now stay hidden until the service has taken them.
      const files = body.files.filter(f => !this._approving.has(`${pattern}\n${f.path}`));
      this.setWaiting(pattern, files, body.truncated);
    } catch (err) {
      if (this._disposed || this._fetchSeq.get(pattern) !== seq) {
        return;
      }
      const old = this._waiting.get(pattern);
      this._waiting.set(pattern, {
        files: old?.files ?? [],
        truncated: old?.truncated ?? false,
        loaded: old?.loaded ?? false,
        error: (err as Error).message
      });
      this._changed.emit(pattern);
    }
  }

  /** Refetch soon, coalescing bursts (e.g. many job events of the pattern). */
  scheduleRefresh(pattern: string): void {
    if (this._timers.has(pattern)) {
      return;
    }
    this._timers.set(
      pattern,
      setTimeout(() => {
        this._timers.delete(pattern);
        void this.refreshWaiting(pattern);
      }, this._debounce)
    );
  }

  /**
   * Keep `pattern`'s waiting files current until the returned disposable is
   * disposed (views call this while they show the list; calls nest).
   */
  watch(pattern: string): IDisposable {
    const n = this._watched.get(pattern) ?? 0;
    this._watched.set(pattern, n + 1);
    if (n === 0) {
      void this.refreshWaiting(pattern);
    }
    this._ensurePolling();
    let done = false;
    return new DisposableDelegate(() => {
      if (done) {
        return;
      }
      done = true;
      const left = (this._watched.get(pattern) ?? 1) - 1;
      if (left > 0) {
        this._watched.set(pattern, left);
      } else {
        this._watched.delete(pattern);
      }
      this._ensurePolling();
    });
  }

  /**
   * Run `pattern` by hand on a workgroup file, an upload, or nothing. The
   * outcome is kept (`outcome(pattern)`); errors are kept and thrown.
   */
  async run(pattern: string, input: MeowClient.RunInput = {}): Promise<IRunResult> {
    if (!this._client) {
      throw new Error('meow is not connected to its service');
    }
    const what = describeInput(input);
    this._outcomes.set(pattern, { what, time: Date.now(), busy: true });
    this._changed.emit(pattern);
    try {
      const result = await this._client.runPattern(pattern, input);
      this._outcomes.set(pattern, { what, time: Date.now(), busy: false, result });
      this._changed.emit(pattern);
      return result;
    } catch (err) {
      this._outcomes.set(pattern, { what, time: Date.now(), busy: false, error: runError(err) });
      this._changed.emit(pattern);
      throw err;
    }
  }

  /**
   * Approve one waiting file: run `pattern` on it. The file leaves the
   * waiting list at once; on failure it comes back with the next fetch.
   */
  async approve(pattern: string, path: string): Promise<IRunResult> {
    const key = `${pattern}\n${path}`;
    this._approving.add(key);
    const state = this._waiting.get(pattern);
    if (state) {
      this._waiting.set(pattern, { ...state, files: state.files.filter(f => f.path !== path) });
    }
    this._changed.emit(pattern);
    try {
      return await this.run(pattern, { path });
    } finally {
      this._approving.delete(key);
      void this.refreshWaiting(pattern);
    }
  }

  /** Forget the outcome shown for `pattern` (the view's close button). */
  clearOutcome(pattern: string): void {
    if (this._outcomes.delete(pattern)) {
      this._changed.emit(pattern);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._timers.forEach(t => clearTimeout(t));
    this._timers.clear();
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
    Signal.clearData(this);
  }

  private _ensurePolling(): void {
    if (this._watched.size > 0 && this._poll === null && this._client && !this._disposed) {
      this._poll = setInterval(() => {
        this._watched.forEach((_n, pattern) => void this.refreshWaiting(pattern));
      }, this._pollInterval);
    } else if (this._watched.size === 0 && this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type === 'job') {
      if (this._watched.has(event.job?.pattern)) {
        this.scheduleRefresh(event.job.pattern);
      }
    } else if (event.type === 'definitions') {
      this._watched.forEach((_n, pattern) => this.scheduleRefresh(pattern));
    } else {
      // A later service may announce waiting files itself.
      const pattern = (event as { pattern?: unknown }).pattern;
      if ((event as { type: string }).type === 'waiting' && typeof pattern === 'string' && this._watched.has(pattern)) {
        this.scheduleRefresh(pattern);
      }
    }
  }

  private _client: MeowClient | null;
  private _pollInterval: number;
  private _debounce: number;
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
  private _watched = new Map<string, number>();
  private _waiting = new Map<string, IWaitingState>();
  private _outcomes = new Map<string, IRunOutcome>();
  private _approving = new Set<string>();
  private _fetchSeq = new Map<string, number>();
  private _disposed = false;
  private _changed = new Signal<this, string>(this);
}

/** What a run input is, in words. */
function describeInput(input: MeowClient.RunInput): string {
  if ('file' in input && input.file) {
    return `upload ${input.filename ?? (input.file as File).name ?? 'file'}`;
  }
  if ('path' in input && input.path !== undefined) {
    return input.path;
  }
  return 'no file';
}

export namespace ManualModel {
  export interface IOptions {
    client?: MeowClient;
    /** Milliseconds between fetches of watched waiting lists (default 5000). */
    pollInterval?: number;
    /** Milliseconds to coalesce refetches after job events (default 300). */
    debounce?: number;
  }
}
