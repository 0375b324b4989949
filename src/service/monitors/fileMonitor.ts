/**
 * The file monitor: watches the whole workgroup (M4–M6) with chokidar and
 * hands settled file events on, losing none (issue 6):
 *
 * - every folder with activity is listed again shortly after
 *   (`DirRelister`), so a file chokidar missed is reported by time, never
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
import * as chokidar from 'chokidar';
import type { Stats } from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IFileEvent } from '../../core/types';
import { escapeControl, sha256File, toAbsolute, toRelative } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import type { IFileEventSource } from '../tokens';
import { FileIndex, sameVersion } from './fileIndex';
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
      file: options.indexFile ?? path.join(this._root, this._stateDir, 'index.json'),
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
      onError: (dir, err) =>
        this._log.warn(`file monitor: listing ${escapeControl(dir || '.')} failed: ${err.message}`)
    });
    this._target = {
      root: this._root,
      stateDir: this._stateDir,
      log: this._log,
      index: this.index,
      isBusy: rel => this._settler.isPending(rel) || this._refreshing.has(rel),
      push: raw => this._settler.push(raw),
      stopped: () => this._stopped,
      onFolder: rel => this._ensureWatched(rel)
    };
  }

  /** The stored index of reported files (read-only use outside). */
  readonly index: FileIndex;

  /**
   * Work that may still produce events: notifications settling, folders
   * waiting to be listed again, a scan queued or running.
   */
  get pending(): number {
    return this._settler.pending + this._relister.pending + this._scans + (this._catchUpTimer ? 1 : 0);
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
    const watcher = chokidar.watch(this._root, {
      ignoreInitial: true,
      alwaysStat: true,
      // Our own settle window replaces chokidar's; `atomic` would hide
      // unlink+add pairs we want to see as moves.
      atomic: false,
      // Folder symlinks are not followed (policy in walk.ts).
      followSymlinks: false,
      ignored: (file: string) => isIgnoredPath(toRelative(this._root, file), this._stateDir)
    });
    this._watcher = watcher;
    watcher.on('add', (file: string, stats?: Stats) => this._onAdd(file, stats));
    watcher.on('change', (file: string, stats?: Stats) => this._onChange(file, stats));
    watcher.on('unlink', (file: string) => this._onUnlink(file));
    watcher.on('addDir', (dir: string) => this._onAddDir(dir));
    watcher.on('raw', (event: string, name: string, details: unknown) =>
      this._onRaw(event, name, (details as { watchedPath?: string } | undefined)?.watchedPath)
    );
    watcher.on('error', err => this._onError(err));
    await new Promise<void>(resolve => watcher.once('ready', () => resolve()));
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
    const watcher = this._watcher;
    this._watcher = undefined;
    this.index.close();
    await Promise.all([watcher?.close(), this.index.flush()]);
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
    const before = await fs.stat(abs).catch(() => undefined);
    if (!before) {
      return undefined;
    }
    const known = this.index.get(rel);
    if (known?.hash && sameVersion(known, before)) {
      return known.hash;
    }
    const hash = await sha256File(abs);
    const after = await fs.stat(abs).catch(() => undefined);
    // Kept only for an indexed file that did not change while being read:
    // the hash then belongs to exactly this size, mtime and inode.
    if (hash && after && sameVersion(before, after) && this.index.has(rel)) {
      this.index.set(rel, after, hash);
    }
    return hash;
  }

  private _onAdd(file: string, stats?: Stats): void {
    const rel = toRelative(this._root, file);
    if (stats && !stats.isFile()) {
      void this._classified(rel, stats, 'add');
      return;
    }
    const known = this.index.get(rel);
    if (known && !this._settler.isPending(rel)) {
      // Reported before (by a listing, or chokidar repeats itself): only a
      // new version is news.
      if (stats && !sameVersion(known, stats)) {
        this._settler.push(raw('change', rel, stats));
      }
      return;
    }
    this._settler.push(raw('add', rel, stats));
  }

  private _onChange(file: string, stats?: Stats): void {
    const rel = toRelative(this._root, file);
    if (stats && !stats.isFile()) {
      void this._classified(rel, stats, 'change');
      return;
    }
    this._settler.push(raw(this.index.has(rel) || this._settler.isPending(rel) ? 'change' : 'add', rel, stats));
  }

  private _onUnlink(file: string): void {
    const rel = toRelative(this._root, file);
    // A FIFO or a refused symlink was never reported, so its removal is not news.
    if (this.index.has(rel) || this._settler.isPending(rel)) {
      this._settler.push({ kind: 'unlink', path: rel });
    }
  }

  /** Symlinks and special files: report only what the policy calls a file. */
  private async _classified(rel: string, lstats: Stats, kind: 'add' | 'change'): Promise<void> {
    const what = await classifyPath(this._root, rel, this._log, lstats);
    if (this._stopped || what.kind !== 'file' || !what.stats) {
      return;
    }
    const known = this.index.get(rel);
    if (known && sameVersion(known, what.stats) && !this._settler.isPending(rel)) {
      return;
    }
    this._settler.push(raw(known ? 'change' : kind, rel, what.stats));
  }

  /**
   * A new folder: files written into it before its watch was in place are
   * reported by listing it (and its parent, in case chokidar missed folders).
   */
  private _onAddDir(dir: string): void {
    const rel = toRelative(this._root, dir);
    this._relister.touch(rel);
    if (rel !== '') {
      this._relister.touch(parentOf(rel));
    }
  }

  /**
   * fs.watch's own notifications, also those chokidar's throttled re-read
   * then drops: a 'rename' (entry created, removed or moved) marks its
   * folder for listing again. A file's own watcher reports its name too.
   */
  private _onRaw(event: string, name: string, watched?: string): void {
    this._lastActivity = Date.now();
    if (!watched) {
      return;
    }
    const ownName = name && path.basename(watched) === name;
    if (event === 'change') {
      // chokidar reports at most one change per file per 50 ms; a rewrite
      // just after is only in the raw event. For a known file it restarts
      // the settle window, so the event carries the last content.
      const rel = toRelative(this._root, ownName ? watched : path.join(watched, name ?? ''));
      if (name && (this._settler.has(rel) || this.index.get(rel)) && !isIgnoredPath(rel, this._stateDir)) {
        this._settler.push({ kind: 'change', path: rel });
      }
      return;
    }
    if (event !== 'rename') {
      return;
    }
    const dir = ownName && !this._isWatchedDir(watched) ? path.dirname(watched) : watched;
    this._relister.touch(toRelative(this._root, dir));
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
   * chokidar drops a 'change' within 5 ms of the previous one, so the stats
   * of the last notification may be older than the file: take them afresh.
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
          this._log.info(`file monitor: ${found} file change(s) the watcher dropped during a burst were found by a catch-up scan`);
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
    if (this._stopped || every <= 0 || !this._watcher) {
      return;
    }
    this._scanTimer = setTimeout(() => {
      void this.scan().finally(() => this._schedulePeriodicScan());
    }, every);
    this._scanTimer.unref?.();
  }

  /** A folder found by a listing or scan that chokidar does not watch is added. */
  private _ensureWatched(rel: string): void {
    const abs = toAbsolute(this._root, rel);
    const watcher = this._watcher;
    if (!watcher || this._stopped || this._isWatchedDir(abs)) {
      return;
    }
    this._log.debug(`file monitor: folder ${escapeControl(rel)} was missed; watching it now`);
    watcher.add(abs);
    this._relister.touch(rel);
  }

  /** chokidar's own record of folders it handles (falls back to its public listing). */
  private _isWatchedDir(abs: string): boolean {
    const watcher = this._watcher as unknown as { _watched?: Map<string, unknown> } | undefined;
    if (!watcher) {
      return true;
    }
    if (watcher._watched instanceof Map) {
      return watcher._watched.has(abs);
    }
    return abs in (this._watcher as chokidar.FSWatcher).getWatched();
  }

  private _catchUpTimer: ReturnType<typeof setTimeout> | undefined;
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
  private _watcher?: chokidar.FSWatcher;
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
    /** Where the file index is stored (default `<root>/<stateDir>/index.json`). */
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
  return stats
    ? { kind, path: rel, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs }
    : { kind, path: rel };
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}
