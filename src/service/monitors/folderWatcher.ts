/**
 * One `fs.watch` (inotify on Linux) per folder of the workgroup, never one
 * per file: a notification names the entry that changed in its folder, and
 * the file monitor stats only what it needs.
 *
 * Why not a library (issue 9, measured with 10,000 new files beside 40,000
 * existing ones): chokidar 4 puts an fs.watch of its own on every file and
 * stats it (+65 MB per 10,000 files, ~1 ms per file; it started in 3.2 s and
 * had reported 291 of the new files after a minute). @parcel/watcher was as
 * fast as this but does not watch the sub-folders of a folder moved in with
 * its contents, and would put a native binary per platform into the
 * pure-Python wheel.
 *
 * Like every inotify reader in libuv this loses notifications silently when
 * the kernel's queue overflows; the file monitor's folder listings and
 * catch-up scan find what was dropped.
 */
import type { FSWatcher } from 'fs';
import { watch as fsWatch } from 'fs';
import { toAbsolute } from '../fsutil';

/** What a folder's watch reports: an entry created, removed or moved ('rename') or written ('change'). */
export type FolderEventKind = 'rename' | 'change';

export class FolderWatcher {
  constructor(options: FolderWatcher.IOptions) {
    this._root = options.root;
    this._onEvent = options.onEvent;
    this._onError = options.onError;
  }

  /** Number of folders watched. */
  get size(): number {
    return this._watches.size;
  }

  /** True when the workgroup-relative folder is watched. */
  has(dir: string): boolean {
    return this._watches.has(dir);
  }

  /**
   * Watch a workgroup-relative folder. True when it is watched now and was
   * not before. A folder that is gone is skipped quietly; any other failure
   * (the system's watch limit, permissions) goes to `onError` once, and the
   * folder is not tried again (scans cover it).
   */
  watch(dir: string): boolean {
    if (this._closed || this._watches.has(dir) || this._refused.has(dir)) {
      return false;
    }
    let watcher: FSWatcher;
    try {
      watcher = fsWatch(toAbsolute(this._root, dir), (event, name) =>
        this._onEvent(dir, event as FolderEventKind, typeof name === 'string' ? name : undefined)
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this._refused.add(dir);
        this._onError(err as Error, dir);
      }
      return false;
    }
    watcher.on('error', err => {
      this._close(dir);
      this._refused.add(dir);
      this._onError(err, dir);
    });
    this._watches.set(dir, watcher);
    return true;
  }

  /** Stop watching a folder and every folder below it (it was removed or moved away). */
  unwatchTree(dir: string): void {
    const below = dir + '/';
    for (const watched of [...this._watches.keys()]) {
      if (watched === dir || watched.startsWith(below) || dir === '') {
        this._close(watched);
      }
    }
    for (const refused of [...this._refused]) {
      if (refused === dir || refused.startsWith(below)) {
        this._refused.delete(refused);
      }
    }
  }

  /** Stop watching everything. */
  close(): void {
    this._closed = true;
    for (const dir of [...this._watches.keys()]) {
      this._close(dir);
    }
    this._refused.clear();
  }

  /** Accept watches again after `close()` (a monitor may be started again). */
  open(): void {
    this._closed = false;
  }

  private _close(dir: string): void {
    const watcher = this._watches.get(dir);
    this._watches.delete(dir);
    watcher?.close();
  }

  private readonly _root: string;
  private readonly _onEvent: FolderWatcher.IOptions['onEvent'];
  private readonly _onError: FolderWatcher.IOptions['onError'];
  private readonly _watches = new Map<string, FSWatcher>();
  /** Folders whose watch failed (not retried until they are removed or meow restarts). */
  private readonly _refused = new Set<string>();
  private _closed = false;
}

export namespace FolderWatcher {
  export interface IOptions {
    /** The workgroup root (absolute). */
    root: string;
    /**
     * A notification in the workgroup-relative folder `dir` about its entry
     * `name` (undefined when the system did not say which entry).
     */
    onEvent: (dir: string, event: FolderEventKind, name: string | undefined) => void;
    /** A folder could not be watched, or its watch failed. */
    onError: (err: Error, dir: string) => void;
  }
}
