/**
 * The file monitor: watches the whole workgroup (M4–M6) with chokidar and
 * hands settled file events on. It ignores meow's own state folder (the state
 * monitor owns it), notebook checkpoints and editors' temporary files.
 */
import * as chokidar from 'chokidar';
import { promises as fs } from 'fs';
import type { Stats } from 'fs';
import * as path from 'path';
import type { IFileEvent } from '../../core/types';
import { toRelative } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import type { IFileEventSource } from '../tokens';
import { Settler, RawKind } from './settle';

/** How long after a folder appears it is listed again (see `_scheduleRescan`). */
const RESCAN_DELAY_MS = 250;

/** Settle window used when none is configured: well under the thesis's 1 s. */
export const DEFAULT_SETTLE_MS = 100;

/** Path segments never treated as workgroup data. */
const IGNORED_SEGMENTS = new Set(['.ipynb_checkpoints', '__pycache__', '.git']);

/** Temporary files of editors, office suites, downloads and rsync. */
const TEMP_FILE = [
  /^\.~lock\..*#$/, // LibreOffice lock
  /^~\$/, // MS Office owner file
  /~$/, // emacs/gedit backup
  /^\.#/, // emacs lock
  /^#.*#$/, // emacs autosave
  /\.sw[a-p]$/, // vim swap
  /^\..*\.sw[a-p]$/,
  /\.(tmp|temp|part|crdownload|partial)$/i // downloads, meow's atomic writes
];

/** True for paths the monitor never reports (relative POSIX path). */
export function isIgnoredPath(rel: string, stateDir: string): boolean {
  if (rel === '' || rel === '.') {
    return false;
  }
  if (rel === stateDir || rel.startsWith(stateDir + '/')) {
    return true;
  }
  const segments = rel.split('/');
  if (segments.some(s => IGNORED_SEGMENTS.has(s))) {
    return true;
  }
  const name = segments[segments.length - 1];
  return TEMP_FILE.some(re => re.test(name));
}

export class FileMonitor implements IFileEventSource {
  constructor(options: FileMonitor.IOptions) {
    this._root = path.resolve(options.root);
    this._stateDir = options.stateDir ?? '.meow';
    this._log = options.log ?? silentLogger;
    this._settler = new Settler({
      settleMs: options.settleMs ?? DEFAULT_SETTLE_MS,
      emit: options.onEvent
    });
  }

  get pending(): number {
    return this._settler.pending + this._rescans;
  }

  async start(): Promise<void> {
    this._startedAt = Date.now();
    const watcher = chokidar.watch(this._root, {
      ignoreInitial: true,
      alwaysStat: true,
      // Our own settle window replaces chokidar's; `atomic` would hide
      // unlink+add pairs we want to see as moves.
      atomic: false,
      ignored: (file: string) =>
        isIgnoredPath(toRelative(this._root, file), this._stateDir)
    });
    this._watcher = watcher;
    const raw = (kind: RawKind) => (file: string, stats?: Stats) => {
      this._push(kind, toRelative(this._root, file), stats?.ino);
    };
    watcher.on('add', raw('add'));
    watcher.on('change', raw('change'));
    watcher.on('unlink', raw('unlink'));
    watcher.on('addDir', (dir: string) => this._scheduleRescan(dir));
    watcher.on('error', err => {
      this._log.error(`file monitor: ${(err as Error).message ?? err}`);
    });
    await new Promise<void>(resolve => watcher.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    this._settler.clear();
    this._rescanTimers.forEach(t => clearTimeout(t));
    this._rescanTimers.clear();
    this._rescans = 0;
    const watcher = this._watcher;
    this._watcher = undefined;
    await watcher?.close();
  }

  /** Hand a raw notification on; an add the settler already knows came from a rescan. */
  private _push(kind: RawKind, rel: string, ino?: number): void {
    if (kind === 'add' && this._settler.has(rel)) {
      return;
    }
    this._settler.push({ kind, path: rel, ino });
  }

  /**
   * Under a burst, chokidar can miss a new folder altogether, or a file
   * written into a folder right after the folder was created (between its
   * first listing and the start of its watch); neither would ever be
   * reported. So each new folder, and the folder it appeared in, is listed
   * again once its watch is in place: unwatched folders are added to the
   * watch (and listed in turn) and files not yet reported are reported.
   */
  private _scheduleRescan(dir: string, withParent = true): void {
    const dirs = withParent && dir !== this._root ? [dir, path.dirname(dir)] : [dir];
    for (const d of dirs) {
      if (this._rescanTimers.has(d)) {
        continue;
      }
      this._rescans++;
      const timer = setTimeout(() => {
        this._rescanTimers.delete(d);
        void this._rescan(d).finally(() => this._rescans--);
      }, RESCAN_DELAY_MS);
      this._rescanTimers.set(d, timer);
    }
  }

  private async _rescan(dir: string): Promise<void> {
    const watcher = this._watcher;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed again
    }
    if (!watcher || watcher !== this._watcher) {
      return;
    }
    const watched = entries.some(e => e.isDirectory()) ? watcher.getWatched() : {};
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const rel = toRelative(this._root, abs);
      if (isIgnoredPath(rel, this._stateDir)) {
        continue;
      }
      if (entry.isDirectory()) {
        if (!(abs in watched)) {
          this._log.debug(`file monitor: folder ${rel} was missed; watching it now`);
          watcher.add(abs);
          this._scheduleRescan(abs, false);
        }
        continue;
      }
      if (!entry.isFile() || this._settler.has(rel)) {
        continue;
      }
      const stats = await fs.stat(abs).catch(() => undefined);
      if (stats && !this._settler.has(rel) && this._isNew(stats)) {
        this._log.debug(`file monitor: ${rel} was missed; found by listing its folder`);
        this._push('add', rel, stats.ino);
      }
    }
  }

  /** Files that existed before the monitor started are not events (M10 handles them). */
  private _isNew(stats: Stats): boolean {
    return Math.max(stats.ctimeMs, stats.mtimeMs) >= this._startedAt - 1000;
  }

  private readonly _root: string;
  private readonly _stateDir: string;
  private readonly _log: ILogger;
  private readonly _settler: Settler;
  private readonly _rescanTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private _rescans = 0;
  private _startedAt = Date.now();
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
  }
}
