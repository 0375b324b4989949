/**
 * Per-path settling of raw file-system notifications into MEOW file events.
 *
 * A writer usually produces several notifications for one logical change
 * (create, then a burst of writes). The thesis waited a fixed 1 s per event;
 * here each path has its own short window that restarts on every raw
 * notification, so a chain of jobs is not slowed by a global delay, and a
 * file is only handed on once its writer has paused. A cap stops a file that
 * is written continuously from being held back forever.
 */
import type { FileEventKind, IFileEvent } from '../../core/types';

/** A raw notification, as the file monitor makes it of what the watcher said. */
export type RawKind = 'add' | 'change' | 'unlink';

export interface IRawEvent {
  kind: RawKind;
  /** Workgroup-relative POSIX path. */
  path: string;
  /** Inode number when known: pairs an unlink with an add into a move. */
  ino?: number;
  /** Size and mtime when known (stats taken when it was noticed), handed on with the event. */
  size?: number;
  mtimeMs?: number;
}

/** What the settler knew of a file when it handed its event on. */
export interface ISettledInfo {
  ino?: number;
  size?: number;
  mtimeMs?: number;
}

interface IPendingPath {
  existedBefore: boolean;
  existsNow: boolean;
  firstSeen: number;
  timer: ReturnType<typeof setTimeout>;
  ino?: number;
  size?: number;
  mtimeMs?: number;
  /** Set when this path appeared by a move from another path. */
  movedFrom?: string;
}

export class Settler {
  constructor(options: Settler.IOptions) {
    this._settleMs = options.settleMs;
    this._maxHoldMs = options.maxHoldMs ?? Math.max(10 * options.settleMs, 2000);
    this._emit = options.emit;
    this._now = options.now ?? Date.now;
  }

  /** Number of paths with notifications not yet handed on. */
  get pending(): number {
    return this._pending.size;
  }

  /** Feed one raw notification. */
  push(raw: IRawEvent): void {
    const now = this._now();
    let entry = this._pending.get(raw.path);
    if (!entry) {
      entry = {
        existedBefore: raw.kind !== 'add',
        existsNow: raw.kind !== 'unlink',
        firstSeen: now,
        timer: this._schedule(raw.path, this._settleMs)
      };
      this._pending.set(raw.path, entry);
    } else {
      entry.existsNow = raw.kind !== 'unlink';
      clearTimeout(entry.timer);
      const held = now - entry.firstSeen;
      const wait = Math.max(0, Math.min(this._settleMs, this._maxHoldMs - held));
      entry.timer = this._schedule(raw.path, wait);
    }
    if (raw.ino !== undefined && raw.kind !== 'unlink') {
      entry.ino = raw.ino;
    }
    if (raw.kind !== 'unlink') {
      entry.size = raw.size;
      entry.mtimeMs = raw.mtimeMs;
    }
    if (raw.kind === 'unlink') {
      // The inode as the index knows it (the file is gone, it cannot be stat'ed).
      const ino = raw.ino ?? entry.ino ?? this._inodes.get(raw.path);
      if (ino !== undefined) {
        entry.ino = ino;
        this._unlinkedByIno.set(ino, raw.path);
        this._pairMoveBack(raw.path, entry, ino);
      }
    } else if (raw.kind === 'add' && raw.ino !== undefined) {
      this._addedByIno.set(raw.ino, raw.path);
      this._pairMove(raw.path, entry, raw.ino);
    }
  }

  /** True for a file reported since start (pending or settled) that still exists. */
  has(path: string): boolean {
    const entry = this._pending.get(path);
    return entry ? entry.existsNow : this._inodes.has(path);
  }

  /** True while a path has notifications not yet handed on. */
  isPending(path: string): boolean {
    return this._pending.has(path);
  }

  /** Drop everything pending without emitting. */
  clear(): void {
    for (const entry of this._pending.values()) {
      clearTimeout(entry.timer);
    }
    this._pending.clear();
    this._unlinkedByIno.clear();
    this._addedByIno.clear();
  }

  private _schedule(path: string, ms: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => this._settle(path), ms);
  }

  /**
   * An add whose inode equals that of a path unlinked within the window is
   * a move: the unlinked path's `deleted` is folded into one `moved` event.
   */
  private _pairMove(path: string, entry: IPendingPath, ino: number): void {
    const other = this._unlinkedByIno.get(ino);
    if (other === undefined || other === path) {
      return;
    }
    this._unlinkedByIno.delete(ino);
    const otherEntry = this._pending.get(other);
    // Indexed lazily: only pair if the other path is still pending as gone.
    if (otherEntry && !otherEntry.existsNow && otherEntry.existedBefore) {
      clearTimeout(otherEntry.timer);
      this._pending.delete(other);
      this._inodes.delete(other);
      entry.movedFrom = other;
      entry.existedBefore = false;
    }
  }

  /**
   * The same when the add came first: the monitor stats the two names of a
   * move separately, and either answer may arrive first.
   */
  private _pairMoveBack(path: string, entry: IPendingPath, ino: number): void {
    const added = this._addedByIno.get(ino);
    const addedEntry = added === undefined || added === path ? undefined : this._pending.get(added);
    if (!addedEntry || !addedEntry.existsNow || addedEntry.existedBefore || addedEntry.movedFrom !== undefined) {
      return;
    }
    if (!entry.existedBefore || entry.existsNow) {
      return;
    }
    this._addedByIno.delete(ino);
    this._unlinkedByIno.delete(ino);
    clearTimeout(entry.timer);
    this._pending.delete(path);
    this._inodes.delete(path);
    addedEntry.movedFrom = path;
  }

  private _settle(path: string): void {
    const entry = this._pending.get(path);
    if (!entry) {
      return;
    }
    clearTimeout(entry.timer);
    this._pending.delete(path);
    if (entry.ino !== undefined && this._addedByIno.get(entry.ino) === path) {
      this._addedByIno.delete(entry.ino);
    }
    if (entry.existsNow && entry.ino !== undefined) {
      this._inodes.set(path, entry.ino);
    } else if (!entry.existsNow) {
      const ino = entry.ino ?? this._inodes.get(path);
      if (ino !== undefined && this._unlinkedByIno.get(ino) === path) {
        this._unlinkedByIno.delete(ino);
      }
      this._inodes.delete(path);
    }
    const kind = Settler.coalesce(entry.existedBefore, entry.existsNow, entry.movedFrom);
    if (!kind) {
      return;
    }
    const event: IFileEvent = { kind, path, time: this._now() };
    if (kind === 'moved') {
      event.from = entry.movedFrom;
    }
    this._emit(event, { ino: entry.ino, size: entry.size, mtimeMs: entry.mtimeMs });
  }

  private readonly _settleMs: number;
  private readonly _maxHoldMs: number;
  private readonly _emit: (event: IFileEvent, info: ISettledInfo) => void;
  private readonly _now: () => number;
  private readonly _pending = new Map<string, IPendingPath>();
  private readonly _inodes = new Map<string, number>();
  private readonly _unlinkedByIno = new Map<number, string>();
  /** Paths added within their window, by inode (an unlink arriving after pairs with them). */
  private readonly _addedByIno = new Map<number, string>();
}

export namespace Settler {
  export interface IOptions {
    /** Quiet time per path before its event is handed on, in ms. */
    settleMs: number;
    /** Longest a continuously written path is held back, in ms. */
    maxHoldMs?: number;
    /** Receives each settled event, with what was known of the file. */
    emit: (event: IFileEvent, info: ISettledInfo) => void;
    now?: () => number;
  }

  /**
   * The one event a window of notifications stands for, judged only by
   * whether the file existed before the window and exists after it.
   */
  export function coalesce(existedBefore: boolean, existsNow: boolean, movedFrom?: string): FileEventKind | undefined {
    if (movedFrom !== undefined && existsNow) {
      return 'moved';
    }
    if (!existedBefore && existsNow) {
      return 'created';
    }
    if (existedBefore && existsNow) {
      return 'modified';
    }
    if (existedBefore && !existsNow) {
      return 'deleted';
    }
    return undefined;
  }
}
