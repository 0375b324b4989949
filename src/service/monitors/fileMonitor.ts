/**
 * The file monitor: watches every folder of the workgroup (M4–M6) with one
 * `fs.watch` each (`FolderWatcher`) and hands settled file events on,
 * losing none (issues 6 and 9):
 *
 * - every folder with activity is listed again shortly after
 *   (`DirRelister`), so a file the watcher missed is reported by time, never
 *   only when a later event comes along;
 * - a stored index of reported files (`FileIndex`) and a reconciliation scan
 *   report what changed while meow was down (on start), what the watcher
 *   missed (periodically) and what it could not see (when it errs);
 * - when the inotify watch limit is reached it says so, with the fix, and
 *   keeps working by scanning at a short interval instead of going blind.
 *
 * What counts as a file (symlinks, FIFOs, odd names) is decided in walk.ts,
 * the same for the watcher, the scan and retroactive matching.
 */
import type { Stats } from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IFileEvent } from '../../core/types';
import { escapeControl, hashFile, toAbsolute } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import type { IFileEventSource } from '../tokens';
import { FileIndex, sameVersion } from './fileIndex';
import { FolderEventKind, FolderWatcher } from './folderWatcher';
import { isIgnoredPath } from './ignore';
import { DirRelister } from './relister';
import { IScanTarget, reconcile, relistFolder } from './scan';
import { ISettledInfo, IRawEvent, Settler } from './settle';
import { describeWatchError } from './watchErrors';
import { classifyPath, logOnce } from './walk';

export { isIgnoredPath } from './ignore';
export { walkWorkgroup } from './walk';

/** Settle window used when none is configured: well under the thesis's 1 s. */
export const DEFAULT_SETTLE_MS = 100;

/** Default interval of the reconciliation scan while the watcher works. */
export const DEFAULT_SCAN_INTERVAL_MS = 60_000;

/** Scan interval once the watcher is known to be partly blind (watch limit). */
export const DEFAULT_BLIND_SCAN_INTERVAL_MS = 2_000;

/** Quiet time of the watcher before a catch-up scan after dropped events. */
const CATCH_UP_QUIET_MS = 1000;

export class FileMonitor implements IFileEventSource {
  constructor(options: FileMonitor.IOptions) {
    this._root = path.resolve(options.root);
    this._stateDir = options.stateDir ?? '.meow';
    this._log = options.log ?? silentLogger;
    this._onEvent = options.onEvent;
    this._scanIntervalMs = options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS;
    this._blindScanMs = options.blindScanIntervalMs ?? DEFAULT_BLIND_SCAN_INTERVAL_MS;
    this._settler = new Settler({
      settleMs: options.settleMs ?? DEFAULT_SETTLE_MS,
      emit: (event, info) => this._settled(event, info)
    });
    this.index = new FileIndex({
      file: options.indexFile ?? path.join(this._root, this._stateDir, 'files.jsonl'),
      log: this._log
    });
    this._relister = new DirRelister({
      delayMs: options.relistDelayMs,
      list: async dir => {
        const found = await relistFolder(this._target, dir);
        if (found > 0) {
          this._suspectLoss();
        }
        return found;
      },
      onError: (dir, err) => this._log.warn(`file monitor: listing ${escapeControl(dir || '.')} failed: ${err.message}`)
    });
    this._target = {
      root: this._root,
      stateDir: this._stateDir,
      log: this._log,
      index: this.index,
      isBusy: rel => this._settler.isPending(rel) || this._refreshing.has(rel) || this._looking.has(rel),
      push: raw => this._settler.push(raw),
      stopped: () => this._stopped,
      onFolder: (rel, known) => this._ensureWatched(rel, known)
    };
    this._folders = new FolderWatcher({
      root: this._root,
      onEvent: (dir, event, name) => this._onFolderEvent(dir, event, name),
      onError: err => this._onError(err)
    });
  }

  /** The stored index of reported files (read-only use outside). */
  readonly index: FileIndex;

  /**
   * Work that may still produce events: notifications settling, folders
   * waiting to be listed again, a scan queued or running.
   */
  get pending(): number {
    return (
      this._settler.pending +
      this._relister.pending +
      this._newFolderListings +
      this._scans +
      (this._catchUpTimer ? 1 : 0)
    );
  }

  /** True once a watcher error made the monitor fall back to frequent scans. */
  get blind(): boolean {
    return this._blind;
  }

  /**
   * Start watching, then reconcile with the stored index: files created,
   * changed or removed while meow was down are reported (settling as usual);
   * on the very first start the index is only built.
   */
  async start(): Promise<void> {
    this._stopped = false;
    const hadIndex = await this.index.load();
    this._relister.start();
    this._relister.pause(); // listings need the index the start scan completes
    this._folders.open(); // the start scan watches every folder it walks into
    const found = await this._scanNow(!hadIndex);
    if (!hadIndex) {
      this._log.info(
        `file monitor: no file index yet; recorded ${this.index.size} files (files that were ` +
          'already there are handled by retroactive matching, not as events)'
      );
      void this.index.flush();
    } else if (found) {
      this._log.info(`file monitor: ${found} files were created, changed or removed while meow was stopped`);
    }
    this._relister.resume();
    this._schedulePeriodicScan();
  }

  async stop(): Promise<void> {
    this._stopped = true;
    clearTimeout(this._scanTimer);
    clearTimeout(this._catchUpTimer);
    this._catchUpTimer = undefined;
    this._relister.stop();
    this._settler.clear();
    this._folders.close();
    await this.index.close();
  }

  /**
   * Compare the tree with the index now and report what was missed.
   * Requests while a scan runs share one follow-up scan. Resolves the
   * number of notifications it handed to the settler.
   */
  scan(): Promise<number> {
    return this._scanNow(false);
  }

  /**
   * The sha256 of a file's content, reusing the index's hash when the file's
   * size, mtime and inode are those it was hashed at. Undefined when the
   * file is gone. @throws NotRegularFileError for FIFOs, sockets, devices.
   */
  async hashOf(rel: string): Promise<string | undefined> {
    const abs = toAbsolute(this._root, rel);
    const known = this.index.get(rel);
    if (known?.hash) {
      const now = await fs.stat(abs).catch(() => undefined);
      if (!now) {
        return undefined;
      }
      if (sameVersion(known, now)) {
        return known.hash;
      }
    }
    // An indexed path was seen as a file: no stat before opening it.
    const read = await hashFile(abs, { knownFile: known !== undefined });
    // Kept only for an indexed file that did not change while being read:
    // the hash then belongs to exactly this size, mtime and inode.
    if (read?.unchanged && this.index.has(rel)) {
      this.index.set(rel, read.stats, read.hash);
    }
    return read?.hash;
  }

  /**
   * The stored hash of a file a scan found unchanged and nothing has
   * reported since, without a stat — for retroactive matching, which asks
   * for every existing file on start (a stat each). Undefined otherwise:
   * then `hashOf` checks the file.
   */
  checkedHash(rel: string): string | undefined {
    const known = this.index.get(rel);
    return known?.checked && !this._settler.isPending(rel) && !this._looking.has(rel) ? known.hash : undefined;
  }

  /**
   * A notification from a folder's watch. A write to a known file restarts
   * its settle window (its stats are taken afresh when it settles); an entry
   * created, removed or moved, or a write to a file not reported yet, is
   * looked at, and a 'rename' has its folder listed again shortly after (the
   * listing finds what the watcher dropped).
   */
  private _onFolderEvent(dir: string, event: FolderEventKind, name: string | undefined): void {
    this._lastActivity = Date.now();
    if (this._stopped) {
      return;
    }
    if (name === undefined) {
      this._relister.touch(dir);
      return;
    }
    const rel = dir ? `${dir}/${name}` : name;
    if (isIgnoredPath(rel, this._stateDir)) {
      return;
    }
    if (event === 'change') {
      if (this._settler.has(rel) || this.index.has(rel)) {
        this._settler.push({ kind: 'change', path: rel });
        return;
      }
      if (this._looking.has(rel)) {
        return; // the look under way reports it, after this write
      }
    } else {
      this._relister.touch(dir);
    }
    void this._look(rel);
  }

  /**
   * Stat a path a notification named and report what it is now. A path
   * renamed again while being looked at is looked at once more.
   */
  private async _look(rel: string): Promise<void> {
    if (this._looking.has(rel)) {
      this._looking.set(rel, true);
      return;
    }
    this._looking.set(rel, false);
    let stats: Stats | undefined;
    let missing = false;
    try {
      stats = await fs.lstat(toAbsolute(this._root, rel));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      missing = code === 'ENOENT' || code === 'ENOTDIR';
    }
    const again = this._looking.get(rel);
    this._looking.delete(rel);
    if (this._stopped) {
      return;
    }
    if (again) {
      void this._look(rel);
    } else if (missing) {
      this._gone(rel);
    } else if (stats?.isDirectory()) {
      this._ensureWatched(rel, false);
    } else if (stats?.isFile()) {
      this._onAdd(rel, stats);
    } else if (stats) {
      void this._classified(rel, stats);
    }
  }

  private _onAdd(rel: string, stats: Stats): void {
    const known = this.index.get(rel);
    if (known && !this._settler.isPending(rel)) {
      // Reported before (by a listing, or a rename in place): only a new
      // version is news.
      if (!sameVersion(known, stats)) {
        this._settler.push(raw('change', rel, stats));
      }
      return;
    }
    this._settler.push(raw(known || this._settler.has(rel) ? 'change' : 'add', rel, stats));
  }

  /**
   * A path is gone: a file's removal, or a watched folder's (moved away or
   * removed), which removes every indexed file below it.
   */
  private _gone(rel: string): void {
    if (!this._folders.has(rel)) {
      this._onUnlink(rel);
      return;
    }
    this._folders.unwatchTree(rel);
    const below = rel + '/';
    for (const file of [...this.index.paths()]) {
      if (file.startsWith(below)) {
        this._onUnlink(file);
      }
    }
  }

  private _onUnlink(rel: string): void {
    // A FIFO or a refused symlink was never reported, so its removal is not news.
    if (this.index.has(rel) || this._settler.isPending(rel)) {
      this._settler.push({ kind: 'unlink', path: rel, ino: this.index.get(rel)?.ino });
    }
  }

  /** Symlinks and special files: report only what the policy calls a file. */
  private async _classified(rel: string, lstats: Stats): Promise<void> {
    const what = await classifyPath(this._root, rel, this._log, lstats);
    if (this._stopped || what.kind !== 'file' || !what.stats) {
      return;
    }
    const known = this.index.get(rel);
    if (known && sameVersion(known, what.stats) && !this._settler.isPending(rel)) {
      return;
    }
    this._settler.push(raw(known ? 'change' : 'add', rel, what.stats));
  }

  private _onError(err: unknown): void {
    const info = describeWatchError(err, this._blindScanMs);
    if (info.blind && !this._blind) {
      this._blind = true;
      this._schedulePeriodicScan();
    }
    if (info.blind || !this._saidErrors.has(info.key)) {
      this._saidErrors.add(info.key);
      logOnce(this._log, 'error', `watch:${info.key}`, info.message);
    } else {
      this._log.debug(info.message);
    }
    if (!this._stopped) {
      void this.scan().catch(() => undefined);
    }
  }

  /** Update the index with what was handed on, then hand it on. */
  private _settled(event: IFileEvent, info: ISettledInfo): void {
    const { index } = this;
    if (event.kind === 'deleted') {
      index.delete(event.path);
    } else {
      let hash: string | undefined;
      if (event.kind === 'moved' && event.from !== undefined) {
        const old = index.get(event.from);
        index.delete(event.from);
        hash = old && info.ino === old.ino && info.size === old.size ? old.hash : undefined;
      }
      index.set(event.path, { size: info.size ?? -1, mtimeMs: info.mtimeMs ?? -1, ino: info.ino ?? -1 }, hash);
      this._refreshStat(event.path);
    }
    this._onEvent(event);
  }

  /**
   * The stats taken when a file was first noticed may be older than its
   * content (writes after it carry no stats): take them afresh.
   * Scans leave the path alone meanwhile.
   */
  private _refreshStat(rel: string): void {
    this._refreshing.add(rel);
    void fs
      .stat(toAbsolute(this._root, rel))
      .then(
        st => {
          const entry = this.index.get(rel);
          if (entry && st.isFile() && !sameVersion(entry, st)) {
            this.index.set(rel, st); // a hash taken for other stats does not carry over
          }
        },
        () => undefined // removed meanwhile: its unlink is on its way
      )
      .finally(() => this._refreshing.delete(rel));
  }

  /**
   * A listing found files the watcher never reported: it is dropping events
   * (inotify's queue overflowed — libuv says nothing — or a new folder's
   * watch came late). Whatever else it dropped may be in folders with no
   * activity left to list them, so once the watcher has been quiet for
   * `CATCH_UP_QUIET_MS` the whole tree is compared with the index; a scan
   * that finds more asks for another.
   */
  private _suspectLoss(): void {
    if (this._stopped || this._catchUpTimer) {
      return;
    }
    const check = () => {
      const quietFor = Date.now() - this._lastActivity;
      if (quietFor < CATCH_UP_QUIET_MS) {
        this._catchUpTimer = setTimeout(check, CATCH_UP_QUIET_MS - quietFor);
        return;
      }
      void this.scan().then(found => {
        this._catchUpTimer = undefined;
        if (found > 0) {
          this._log.info(
            `file monitor: ${found} file change(s) the watcher dropped during a burst were found by a catch-up scan`
          );
          this._suspectLoss();
        }
      });
    };
    this._catchUpTimer = setTimeout(check, CATCH_UP_QUIET_MS);
  }

  /** Queue a scan (one at a time; requests during a scan share the next one). */
  private _scanNow(baseline: boolean): Promise<number> {
    if (this._scanQueued && !baseline) {
      return this._scanQueued;
    }
    this._scans++;
    const run = this._scanTail.then(async () => {
      this._scanQueued = undefined;
      if (this._stopped) {
        this._scans--;
        return 0;
      }
      try {
        const n = await reconcile(this._target, baseline);
        if (n && !baseline) {
          this._log.debug(`file monitor: reconciliation scan reported ${n} missed changes`);
        }
        return n;
      } catch (err) {
        this._log.error(`file monitor: reconciliation scan failed: ${(err as Error).message}`);
        return 0;
      } finally {
        this._scans--;
      }
    });
    this._scanQueued = run;
    this._scanTail = run.catch(() => 0);
    return run;
  }

  /** The next periodic scan: frequent once the watcher is known to be blind. */
  private _schedulePeriodicScan(): void {
    clearTimeout(this._scanTimer);
    const every = this._blind ? this._blindScanMs : this._scanIntervalMs;
    if (this._stopped || every <= 0) {
      return;
    }
    this._scanTimer = setTimeout(() => {
      void this.scan().finally(() => this._schedulePeriodicScan());
    }, every);
    this._scanTimer.unref?.();
  }

  /**
   * Watch a folder found by a notification, a listing or a scan. One newly
   * watched is listed shortly after: files written into it before its watch
   * was in place (a folder moved in with its contents, or created with files
   * at once) have no notification of their own; folders below it are found
   * by that listing in turn.
   */
  private _ensureWatched(rel: string, fromScan: boolean): boolean {
    if (this._stopped || !this._folders.watch(rel)) {
      return false;
    }
    if (!fromScan) {
      // At once, not after the relister's quiet time: a chain's next job
      // waits on a file its parent wrote into a folder it had just made.
      // (A scan reads the folder itself, after this.)
      void this._listNewFolder(rel);
    }
    return true;
  }

  private async _listNewFolder(rel: string): Promise<void> {
    this._newFolderListings++;
    try {
      await relistFolder(this._target, rel);
    } catch (err) {
      this._log.warn(`file monitor: listing new folder ${escapeControl(rel)} failed: ${(err as Error).message}`);
      this._relister.touch(rel);
    } finally {
      this._newFolderListings--;
    }
  }

  private _catchUpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Folders just watched being listed (they may still report files). */
  private _newFolderListings = 0;
  /** When the watcher last said anything. */
  private _lastActivity = 0;
  private readonly _root: string;
  private readonly _stateDir: string;
  private readonly _log: ILogger;
  private readonly _onEvent: (event: IFileEvent) => void;
  private readonly _scanIntervalMs: number;
  private readonly _blindScanMs: number;
  private readonly _settler: Settler;
  private readonly _relister: DirRelister;
  private readonly _target: IScanTarget;
  private readonly _refreshing = new Set<string>();
  private readonly _saidErrors = new Set<string>();
  private _scanTail: Promise<unknown> = Promise.resolve();
  private _scanQueued?: Promise<number>;
  /** Scans queued or running (they may still report files). */
  private _scans = 0;
  private _scanTimer?: ReturnType<typeof setTimeout>;
  private _blind = false;
  private _stopped = false;
  private readonly _folders: FolderWatcher;
  /** Paths being stat'ed after a notification; true: named again meanwhile. */
  private readonly _looking = new Map<string, boolean>();
}

export namespace FileMonitor {
  export interface IOptions {
    /** The workgroup root. */
    root: string;
    /** State folder relative to the root (default `.meow`), never reported. */
    stateDir?: string;
    /** Per-path settle window in ms (default 100). */
    settleMs?: number;
    /** Receives every settled event. */
    onEvent: (event: IFileEvent) => void;
    log?: ILogger;
    /** Where the file index is stored (default `<root>/<stateDir>/files.jsonl`). */
    indexFile?: string;
    /** Reconciliation scan interval in ms (default 60000; 0 = only on start and on errors). */
    scanIntervalMs?: number;
    /** Scan interval once the watch limit is reached, in ms (default 2000). */
    blindScanIntervalMs?: number;
    /** Quiet time before a folder with activity is listed again, in ms (default 300). */
    relistDelayMs?: number;
  }
}

function raw(kind: 'add' | 'change', rel: string, stats?: Stats): IRawEvent {
  return stats ? { kind, path: rel, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs } : { kind, path: rel };
}
