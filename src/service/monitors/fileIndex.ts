/**
 * The stored index of workgroup files the monitor has reported: path →
 * size, mtime, inode and (when a trigger was hashed) content hash.
 *
 * It lets a reconciliation scan tell what changed while meow was down or
 * while the watcher missed something, and lets the runner reuse a hash when
 * the file's size, mtime and inode have not changed. Saved atomically to
 * `<state>/index.json`, debounced while events flow and on stop. A save that
 * lags behind after a crash only means a few events are reported again on
 * start (the runner deduplicates by content), never that one is lost.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { escapeControl, writeFileAtomic } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';

export interface IIndexEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  /** sha256 of the content with exactly these size, mtime and inode. */
  hash?: string;
  /**
   * Set (in memory only) when a scan found the file with exactly these
   * stats; any newer version the monitor reports replaces the entry.
   */
  checked?: boolean;
}

/** Stats fields the index keeps. */
export interface IStatLike {
  size: number;
  mtimeMs: number;
  ino: number;
}

// One definition of "the same version" for the index and hashFile.
export { sameVersion } from '../fsutil';

const FORMAT = 1;

/** On disk: compact rows keep a 100k-file index a few MB. */
interface IStored {
  format: number;
  /** rel → [size, mtimeMs, ino, hash?] */
  files: Record<string, [number, number, number, string?]>;
}

export class FileIndex {
  constructor(options: FileIndex.IOptions) {
    this._file = options.file;
    this._saveDelayMs = options.saveDelayMs ?? 2000;
    this._log = options.log ?? silentLogger;
  }

  /** Number of files in the index. */
  get size(): number {
    return this._entries.size;
  }

  /**
   * Read the stored index. Resolves false when there is none (first start)
   * or it cannot be used (then it is rebuilt, with a warning).
   */
  async load(): Promise<boolean> {
    this._closed = false;
    let text: string;
    try {
      text = await fs.readFile(this._file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this._log.warn(`file index ${this._file} cannot be read (${(err as Error).message}); rebuilding it`);
      }
      return false;
    }
    try {
      const stored = JSON.parse(text) as IStored;
      if (stored.format !== FORMAT || typeof stored.files !== 'object') {
        throw new Error(`unknown format ${String(stored.format)}`);
      }
      this._entries.clear();
      for (const [rel, [size, mtimeMs, ino, hash]] of Object.entries(stored.files)) {
        this._entries.set(rel, hash ? { size, mtimeMs, ino, hash } : { size, mtimeMs, ino });
        this._addChild(rel);
      }
      return true;
    } catch (err) {
      this._log.warn(
        `file index ${this._file} is damaged (${escapeControl((err as Error).message)}); rebuilding ` +
          'it — files changed while meow was stopped may not get events this time'
      );
      return false;
    }
  }

  get(rel: string): IIndexEntry | undefined {
    return this._entries.get(rel);
  }

  has(rel: string): boolean {
    return this._entries.has(rel);
  }

  /** Record a file version (the hash is kept only if given). */
  set(rel: string, stats: IStatLike, hash?: string): void {
    const entry: IIndexEntry = { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
    if (hash) {
      entry.hash = hash;
    }
    if (!this._entries.has(rel)) {
      this._addChild(rel);
    }
    this._entries.set(rel, entry);
    this._changed();
  }

  delete(rel: string): void {
    if (this._entries.delete(rel)) {
      const { dir, name } = split(rel);
      const names = this._children.get(dir);
      names?.delete(name);
      if (names && names.size === 0) {
        this._children.delete(dir);
      }
      this._changed();
    }
  }

  /** Names of the indexed files directly in folder `dirRel` ('' = root). */
  filesIn(dirRel: string): ReadonlySet<string> {
    return this._children.get(dirRel) ?? EMPTY;
  }

  /** Every indexed path. */
  paths(): IterableIterator<string> {
    return this._entries.keys();
  }

  /** Write now if anything changed since the last save. */
  async flush(): Promise<void> {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    // Saves run one at a time; a change during a save arms the timer again.
    if (this._saving) {
      await this._saving;
    }
    if (!this._dirty) {
      await this._saving; // one another caller started meanwhile
      return;
    }
    this._dirty = false;
    this._saving = this._write().finally(() => (this._saving = undefined));
    await this._saving;
  }

  /** Stop saving on a timer (a last `flush()` is the caller's). */
  close(): void {
    this._closed = true;
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  private async _write(): Promise<void> {
    const files: IStored['files'] = {};
    for (const [rel, e] of this._entries) {
      files[rel] = e.hash ? [e.size, e.mtimeMs, e.ino, e.hash] : [e.size, e.mtimeMs, e.ino];
    }
    const stored: IStored = { format: FORMAT, files };
    try {
      await fs.mkdir(path.dirname(this._file), { recursive: true });
      await writeFileAtomic(this._file, JSON.stringify(stored));
      if (this._saveFailed) {
        this._saveFailed = false;
        this._log.info(`file index ${this._file} is saved again`);
      }
    } catch (err) {
      // Not fatal: the index only saves work on the next start. Retried
      // on the timer (a full disk may get space again).
      this._changed();
      if (this._saveFailed) {
        return; // said already; no warning every few seconds
      }
      this._saveFailed = true;
      this._log.warn(
        `file index ${this._file} could not be saved (${(err as Error).message}); ` +
          'will retry — free disk space if the disk is full'
      );
    }
  }

  private _changed(): void {
    this._dirty = true;
    if (!this._timer && !this._closed) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        void this.flush();
      }, this._saveDelayMs);
      this._timer.unref?.();
    }
  }

  private _addChild(rel: string): void {
    const { dir, name } = split(rel);
    let names = this._children.get(dir);
    if (!names) {
      names = new Set();
      this._children.set(dir, names);
    }
    names.add(name);
  }

  private readonly _file: string;
  private readonly _saveDelayMs: number;
  private readonly _log: ILogger;
  private readonly _entries = new Map<string, IIndexEntry>();
  private readonly _children = new Map<string, Set<string>>();
  private _dirty = false;
  private _saveFailed = false;
  private _closed = false;
  private _timer?: ReturnType<typeof setTimeout>;
  private _saving?: Promise<void>;
}

export namespace FileIndex {
  export interface IOptions {
    /** Absolute path of the stored index, e.g. `<root>/.meow/index.json`. */
    file: string;
    /** Quiet time before a change is saved, in ms (default 2000). */
    saveDelayMs?: number;
    log?: ILogger;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function split(rel: string): { dir: string; name: string } {
  const i = rel.lastIndexOf('/');
  return i < 0 ? { dir: '', name: rel } : { dir: rel.slice(0, i), name: rel.slice(i + 1) };
}
