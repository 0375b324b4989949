/**
 * Lists again, shortly after, every folder that had activity, so a file the
 * watcher missed is reported by time and never only when a later event in
 * that folder happens to come along.
 *
 * Why: a watcher's notifications can be lost — Linux drops them when its
 * inotify queue overflows and libuv says nothing (issue 9), and chokidar,
 * the watcher before, dropped re-reads of slow folders (issue 6: 190 of
 * 2,000 files waited 14 minutes). A listing that finds a file nobody
 * reported also makes the file monitor compare the whole tree.
 *
 * A listing that finds something the watcher missed is followed by another
 * (after the cool-down), until one finds nothing: a watcher that dropped
 * notifications may drop the ones still to come too, and then no activity
 * would be left to ask for the listing that finds the last files of a
 * burst (issue 9: 7,469 of 100,000 new folders waited ~2 minutes for the
 * catch-up scan of the whole tree).
 *
 * Cost: at most one listing per active folder per `delayMs` of quiet (and per
 * `maxWaitMs` under continuous activity), never one per event; a folder whose
 * listing is slow is listed less often (cool-down of twice its last listing,
 * at most a second).
 */
export class DirRelister {
  constructor(options: DirRelister.IOptions) {
    this._delayMs = options.delayMs ?? 300;
    this._maxWaitMs = options.maxWaitMs ?? 2000;
    this._maxCooldownMs = options.maxCooldownMs ?? 1000;
    this._list = options.list;
    this._onError = options.onError;
  }

  /** Folders waiting for or being listed (they may still report files). */
  get pending(): number {
    return this._dirs.size;
  }

  /** Note activity in the workgroup-relative folder `dir`. */
  touch(dir: string): void {
    if (this._stopped) {
      return;
    }
    const now = Date.now();
    let state = this._dirs.get(dir);
    if (!state) {
      state = { first: now, last: now, running: false, again: false, cooldownUntil: 0 };
      this._dirs.set(dir, state);
    } else if (state.running) {
      // Changes during a listing may not be in it: list once more after.
      state.again = true;
      state.last = now;
      return;
    }
    state.last = now;
    this._arm(dir, state);
  }

  /** Hold listings back (while the start scan builds the index). */
  pause(): void {
    this._paused = true;
    for (const state of this._dirs.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
  }

  resume(): void {
    this._paused = false;
    for (const [dir, state] of this._dirs) {
      if (!state.running) {
        this._arm(dir, state);
      }
    }
  }

  /** Accept activity again after `stop()` (a monitor may be started again). */
  start(): void {
    this._stopped = false;
  }

  stop(): void {
    this._stopped = true;
    for (const state of this._dirs.values()) {
      clearTimeout(state.timer);
    }
    this._dirs.clear();
  }

  /** (Re)start the timer: `delayMs` after the last activity, capped by `maxWaitMs`. */
  private _arm(dir: string, state: IDirState): void {
    if (this._paused || this._stopped) {
      return;
    }
    const now = Date.now();
    const due = Math.max(Math.min(state.last + this._delayMs, state.first + this._maxWaitMs), state.cooldownUntil);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => void this._run(dir, state), Math.max(0, due - now));
  }

  private async _run(dir: string, state: IDirState): Promise<void> {
    state.timer = undefined;
    state.running = true;
    state.again = false;
    const started = Date.now();
    try {
      if ((await this._list(dir)) > 0) {
        state.again = true;
      }
    } catch (err) {
      this._onError?.(dir, err as Error);
    }
    state.running = false;
    if (this._stopped || this._dirs.get(dir) !== state) {
      return;
    }
    const ended = Date.now();
    if (state.again) {
      state.first = ended;
      // Capped: a listing is slow mostly because the service is busy (its
      // reads wait behind a burst's), and an uncapped pause let files the
      // watcher dropped wait half a minute for their jobs.
      state.cooldownUntil = ended + Math.min(2 * (ended - started), this._maxCooldownMs);
      this._arm(dir, state);
    } else {
      this._dirs.delete(dir);
    }
  }

  private readonly _delayMs: number;
  private readonly _maxWaitMs: number;
  private readonly _maxCooldownMs: number;
  private readonly _list: (dir: string) => Promise<number>;
  private readonly _onError?: (dir: string, err: Error) => void;
  private readonly _dirs = new Map<string, IDirState>();
  private _paused = false;
  private _stopped = false;
}

interface IDirState {
  /** First activity since the last listing. */
  first: number;
  /** Latest activity. */
  last: number;
  running: boolean;
  /** Activity arrived during the running listing. */
  again: boolean;
  /** Not listed again before this time (slow folders are listed less often). */
  cooldownUntil: number;
  timer?: ReturnType<typeof setTimeout>;
}

export namespace DirRelister {
  export interface IOptions {
    /** Quiet time after the last activity before a folder is listed (default 300 ms). */
    delayMs?: number;
    /** Longest a busy folder waits for its listing (default 2000 ms). */
    maxWaitMs?: number;
    /** Longest pause after a slow listing before the next (default 1000 ms). */
    maxCooldownMs?: number;
    /** List one workgroup-relative folder and report what was missed; resolves how many things it found. */
    list: (dir: string) => Promise<number>;
    onError?: (dir: string, err: Error) => void;
  }
}
