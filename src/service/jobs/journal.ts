/**
 * The job journal: an append-only file of job records, one JSON object per
 * line, the single durable truth about jobs (`job.yaml` in each job folder
 * is a mirror for people and tools).
 *
 * Appends are group-committed: every record handed in while a write is in
 * progress goes out with the next write and one fdatasync, so ten thousand
 * jobs cost a handful of syncs, not ten thousand. A promise from `append`
 * resolves only once its record is on disk. After `kill -9` the journal
 * holds every record whose promise resolved; a torn last line is dropped on
 * replay. A failed write (disk full) is cut back off the file, so the journal
 * never holds a half line followed by good ones.
 */
import { createReadStream, promises as fs } from 'fs';
import type { FileHandle } from 'fs/promises';
import * as path from 'path';
import { jsonReplacer } from '../../core/pyvalue';
import { writeFileAtomic } from '../fsutil';

interface IPendingAppend {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Journal<T> {
  constructor(options: Journal.IOptions) {
    this.file = options.file;
  }

  readonly file: string;

  /** True between `open()` and `close()`. */
  get isOpen(): boolean {
    return this._handle !== undefined;
  }

  /** Lines appended since the journal was opened or compacted. */
  get appendedSinceCompaction(): number {
    return this._appended;
  }

  /**
   * Open the journal and return its records in order. Lines that do not
   * parse (a write torn by a crash) are counted in `skipped`, not returned.
   * With `onRecord`, records are handed over as they are read and not
   * returned (the whole journal is never in memory at once).
   */
  async open(onRecord?: (record: T) => void): Promise<{ records: T[]; skipped: number }> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const { records, skipped, endsWithNewline } = await Journal.read<T>(this.file, onRecord);
    this._handle = await fs.open(this.file, 'a');
    this._size = (await this._handle.stat()).size;
    if (!endsWithNewline) {
      // A torn last line: start the next record on a line of its own.
      await this._handle.write('\n');
      this._size += 1;
    }
    return { records, skipped };
  }

  /** Append one record; resolves once it is on disk. */
  append(record: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this._pending.push({ line: JSON.stringify(record, jsonReplacer) + '\n', resolve, reject });
      this._kick();
    });
  }

  /**
   * Replace the journal with exactly these records (atomically: a crash
   * leaves the old or the new file, never a mix). Waits for pending writes.
   */
  async compact(records: Iterable<T>): Promise<void> {
    await this._idle();
    this._compacting = true;
    try {
      const lines: string[] = [];
      for (const r of records) {
        lines.push(JSON.stringify(r, jsonReplacer) + '\n');
      }
      await writeFileAtomic(this.file, lines.join(''));
      await this._handle?.close();
      this._handle = await fs.open(this.file, 'a');
      this._size = (await this._handle.stat()).size;
      this._appended = 0;
    } finally {
      this._compacting = false;
      this._kick();
    }
  }

  /** Resolves once every record handed in so far is written (or failed). */
  async drain(): Promise<void> {
    while (this._writing || (this._pending.length && this._handle && !this._compacting)) {
      this._kick();
      await this._writing;
    }
  }

  /** Write what is pending and close the file. */
  async close(): Promise<void> {
    await this._idle();
    const handle = this._handle;
    this._handle = undefined;
    await handle?.close();
  }

  private _kick(): void {
    if (this._writing || this._compacting || !this._pending.length) {
      return;
    }
    this._writing = this._flush().finally(() => {
      this._writing = undefined;
      this._kick();
    });
  }

  private async _idle(): Promise<void> {
    while (this._writing) {
      await this._writing;
    }
  }

  /** One group commit: every pending line, one write, one sync. */
  private async _flush(): Promise<void> {
    const batch = this._pending.splice(0);
    const handle = this._handle;
    if (!handle) {
      const err = new Error(`the job journal ${this.file} is not open`);
      batch.forEach(p => p.reject(err));
      return;
    }
    const data = Buffer.from(batch.map(p => p.line).join(''), 'utf8');
    try {
      // A nearly full disk takes only part of a write, without an error:
      // write the rest, and the next write reports the ENOSPC.
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written);
        if (bytesWritten <= 0) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, write ${this.file}`), { code: 'ENOSPC' });
        }
        written += bytesWritten;
      }
      await handle.datasync();
      this._size += data.length;
      this._appended += batch.length;
      batch.forEach(p => p.resolve());
    } catch (err) {
      // Cut a partial write back off so later records start on a clean line.
      await handle.truncate(this._size).catch(() => undefined);
      batch.forEach(p => p.reject(err as Error));
    }
  }

  private _handle: FileHandle | undefined;
  private _size = 0;
  private _appended = 0;
  private _pending: IPendingAppend[] = [];
  private _writing: Promise<void> | undefined;
  private _compacting = false;
}

export namespace Journal {
  export interface IOptions {
    /** Absolute path of the journal file. */
    file: string;
  }

  /**
   * Read a journal without opening it for writing, a chunk at a time. Lines
   * that do not parse (a write torn by a crash) are counted in `skipped`,
   * not returned. With `onRecord`, records are handed over as they are read
   * and not collected. `endsWithNewline` is false only for a journal whose
   * last line was cut short (an empty or missing journal counts as whole).
   */
  export async function read<T>(
    file: string,
    onRecord?: (record: T) => void
  ): Promise<{ records: T[]; skipped: number; endsWithNewline: boolean }> {
    const records: T[] = [];
    const take = onRecord ?? ((record: T) => records.push(record));
    let skipped = 0;
    const line = (text: string) => {
      if (!text.trim()) {
        return;
      }
      let record: T;
      try {
        record = JSON.parse(text) as T;
      } catch {
        skipped++;
        return;
      }
      take(record);
    };
    let rest = '';
    let last = '\n';
    try {
      // Read in chunks: a 100,000-job journal is 100+ MB of text, which as
      // one string (and its records at once) set the service's peak memory.
      for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
        const text = rest + (chunk as string);
        last = text[text.length - 1] ?? last;
        let start = 0;
        for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
          line(text.slice(start, end));
          start = end + 1;
        }
        rest = text.slice(start);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
    line(rest);
    return { records, skipped, endsWithNewline: last === '\n' };
  }
}
