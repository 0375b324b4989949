/**
 * The file monitor: watches the whole workgroup (M4–M6) with chokidar and
 * hands settled file events on. It ignores meow's own state folder (the state
 * monitor owns it), notebook checkpoints and editors' temporary files.
 */
import * as chokidar from 'chokidar';
import type { Stats } from 'fs';
import * as path from 'path';
import type { IFileEvent } from '../../core/types';
import { toRelative } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import type { IFileEventSource } from '../tokens';
import { Settler, RawKind } from './settle';

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
    return this._settler.pending;
  }

  async start(): Promise<void> {
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
      const rel = toRelative(this._root, file);
      this._settler.push({ kind, path: rel, ino: stats?.ino });
    };
    watcher.on('add', raw('add'));
    watcher.on('change', raw('change'));
    watcher.on('unlink', raw('unlink'));
    watcher.on('error', err => {
      this._log.error(`file monitor: ${(err as Error).message ?? err}`);
    });
    await new Promise<void>(resolve => watcher.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    this._settler.clear();
    const watcher = this._watcher;
    this._watcher = undefined;
    await watcher?.close();
  }

  private readonly _root: string;
  private readonly _stateDir: string;
  private readonly _log: ILogger;
  private readonly _settler: Settler;
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
