/**
 * The stored index of workgroup files the monitor has reported: path →
 * size, mtime, inode and (when a trigger was hashed) content hash.
 *
 * It lets a reconciliation scan tell what changed while meow was down or
 * while the watcher missed something, and lets the runner reuse a hash when
 * the file's size, mtime and inode have not changed.
 *
 * Stored as a journal (`<state>/files.jsonl`, one row per change): a save
 * appends what changed since the last one (debounced while events flow, and
 * on stop), and the journal is compacted to one row per file once it holds
 * more stale rows than files. Rewriting the whole index on every save made
 * each save cost as much as the workgroup was big (issue 9: 100,000 files
 * meant a multi-MB rewrite every 2 s). A save that lags behind after a crash
 * only means a few events are reported again on start (the runner
 * deduplicates by content), never that one is lost.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { Journal } from '../jobs/journal';
import { escapeControl } from '../fsutil';
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

/** A journal row: `[rel, size, mtimeMs, ino, hash?]` records a version, `[rel]` a removal. */
type Row = [string, number, number, number, string?] | [string];

/** Stale rows tolerated before compaction, at the least (small indexes compact rarely). */
const COMPACT_MIN_ROWS = 10_000;

/** The index of meow versions before the journal: one JSON object, rewritten whole. */
const LEGACY_FILE = 'index.json';
interface ILegacyStored {
  format: number;
  files: Record<string, [number, number, number, string?]>;
}

export class FileIndex {
  constructor(options: FileIndex.IOptions) {
    this._file = options.file;
    this._journal = new Journal<Row>({ file: options.file });
    this._saveDelayMs = options.saveDelayMs ?? 2000;
    this._log = options.log ?? silentLogger;
  }

  /** Number of files in the index. */
  get size(): number {
    return this._entries.size;
  }

  /**
   * Read the stored index and open it for saving. Resolves false when there
   * is none (first start) or nothing in it can be used (then it is rebuilt,
   * with a warning). An index from before the journal (`index.json` beside
   * it) is read once and moved into the journal.
   */
  async load(): Promise<boolean> {
    this._closed = false;
    this._entries.clear();
    this._children.clear();
    this._changes.clear();
    await this._journal.close();
    const existed = await fs.stat(this._file).then(
      () => true,
      () => false
    );
    let rows = 0;
    let bad = 0;
    let opened: { skipped: number };
    try {
      opened = await this._journal.open(row => {
        if (this._apply(row)) {
          rows++;
        } else {
          bad++;
        }
      });
    } catch (err) {
      this._log.warn(`file index ${this._file} cannot be read (${(err as Error).message}); rebuilding it`);
      return false;
    }
    bad += opened.skipped;
    if (!existed) {
      return this._loadLegacy();
    }
    if (bad && !rows) {
      this._log.warn(
        `file index ${this._file} is damaged (no row of it can be read); rebuilding it — files changed ` +
          'while meow was stopped may not get events this time'
      );
      await this._compact();
      return false;
    }
    if (bad) {
      // A torn last row is what a crash during a save leaves: its file is
      // compared afresh by the start scan.
      this._log.info(`file index ${this._file}: ${bad} damaged row(s) skipped; their files are checked again`);
    }
    if (rows > Math.max(COMPACT_MIN_ROWS, 2 * this._entries.size)) {
      await this._compact();
    }
    return true;
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
    this._put(rel, entry);
    this._changed(rel, entry);
  }

  delete(rel: string): void {
    if (this._drop(rel)) {
      this._changed(rel, undefined);
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

  /** Write now what changed since the last save. */
  async flush(): Promise<void> {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    // Saves run one at a time; a change during a save arms the timer again.
    while (this._saving) {
      await this._saving;
    }
    if (!this._changes.size) {
      return;
    }
    this._saving = this._write().finally(() => (this._saving = undefined));
    await this._saving;
  }

  /** Stop saving on a timer, write what changed, and close the file. */
  async close(): Promise<void> {
    this._closed = true;
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    await this.flush();
    await this._journal.close();
  }

  /** Append the changes since the last save; compact once stale rows outnumber files. */
  private async _write(): Promise<void> {
    const changes = [...this._changes];
    this._changes.clear();
    try {
      if (!this._journal.isOpen) {
        // Saved without a load first (a freshly built index): append to whatever is stored.
        await this._journal.open(() => undefined);
      }
      await Promise.all(changes.map(([rel, entry]) => this._journal.append(rowOf(rel, entry))));
      if (this._journal.appendedSinceCompaction > Math.max(COMPACT_MIN_ROWS, this._entries.size)) {
        await this._compact();
      }
      if (this._saveFailed) {
        this._saveFailed = false;
        this._log.info(`file index ${this._file} is saved again`);
      }
    } catch (err) {
      // Not fatal: the index only saves work on the next start. Kept and
      // retried on the timer (a full disk may get space again); a newer
      // change of a path made meanwhile wins.
      for (const [rel, entry] of changes) {
        if (!this._changes.has(rel)) {
          this._changes.set(rel, entry);
        }
      }
      this._arm();
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

  /** Rewrite the journal as one row per indexed file (atomically). */
  private async _compact(): Promise<void> {
    const entries = this._entries;
    function* rows(): Generator<Row> {
      for (const [rel, entry] of entries) {
        yield rowOf(rel, entry);
      }
    }
    await this._journal.compact(rows());
  }

  /** Apply one stored row; false when it is not a row. */
  private _apply(row: unknown): boolean {
    if (!Array.isArray(row) || typeof row[0] !== 'string') {
      return false;
    }
    const rel = row[0];
    if (row.length === 1) {
      this._drop(rel);
      return true;
    }
    const [, size, mtimeMs, ino, hash] = row as [string, unknown, unknown, unknown, unknown];
    if (typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof ino !== 'number') {
      return false;
    }
    this._put(rel, typeof hash === 'string' ? { size, mtimeMs, ino, hash } : { size, mtimeMs, ino });
    return true;
  }

  /** Put an entry in memory (no save): `set` and the rows read back share it. */
  private _put(rel: string, entry: IIndexEntry): void {
    if (!this._entries.has(rel)) {
      this._addChild(rel);
    }
    this._entries.set(rel, entry);
  }

  /** Take an entry out of memory (no save); false when there was none. */
  private _drop(rel: string): boolean {
    if (!this._entries.delete(rel)) {
      return false;
    }
    this._removeChild(rel);
    return true;
  }

  /** Read an `index.json` of earlier meow versions into the journal, then remove it. */
  private async _loadLegacy(): Promise<boolean> {
    const legacy = path.join(path.dirname(this._file), LEGACY_FILE);
    let text: string;
    try {
      text = await fs.readFile(legacy, 'utf8');
    } catch {
      return false;
    }
    try {
      const stored = JSON.parse(text) as ILegacyStored;
      if (stored.format !== 1 || typeof stored.files !== 'object') {
        throw new Error(`unknown format ${String(stored.format)}`);
      }
      for (const [rel, values] of Object.entries(stored.files)) {
        this._apply([rel, ...values]);
      }
    } catch (err) {
      this._log.warn(
        `file index ${legacy} is damaged (${escapeControl((err as Error).message)}); rebuilding ` +
          'it — files changed while meow was stopped may not get events this time'
      );
      await fs.rm(legacy, { force: true });
      return false;
    }
    await this._compact();
    await fs.rm(legacy, { force: true });
    return true;
  }

  private _changed(rel: string, entry: IIndexEntry | undefined): void {
    this._changes.set(rel, entry);
    this._arm();
  }

  private _arm(): void {
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

  private _removeChild(rel: string): void {
    const { dir, name } = split(rel);
    const names = this._children.get(dir);
    names?.delete(name);
    if (names && names.size === 0) {
      this._children.delete(dir);
    }
  }

  private readonly _file: string;
  private readonly _journal: Journal<Row>;
  private readonly _saveDelayMs: number;
  private readonly _log: ILogger;
  private readonly _entries = new Map<string, IIndexEntry>();
  private readonly _children = new Map<string, Set<string>>();
  /** Paths changed since the last save: their entry now, undefined when removed. */
  private readonly _changes = new Map<string, IIndexEntry | undefined>();
  private _saveFailed = false;
  private _closed = false;
  private _timer?: ReturnType<typeof setTimeout>;
  private _saving?: Promise<void>;
}

function rowOf(rel: string, entry: IIndexEntry | undefined): Row {
  if (!entry) {
    return [rel];
  }
  return entry.hash
    ? [rel, entry.size, entry.mtimeMs, entry.ino, entry.hash]
    : [rel, entry.size, entry.mtimeMs, entry.ino];
}

export namespace FileIndex {
  export interface IOptions {
    /** Absolute path of the stored index, e.g. `<root>/.meow/files.jsonl`. */
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
