/**
 * Small file-system helpers shared by the service parts.
 */
import { isUtf8 } from 'buffer';
import { createHash } from 'crypto';
import * as fsCallback from 'fs';
import { constants as fsConstants, promises as fs } from 'fs';
import type { Stats } from 'fs';
import * as path from 'path';
import { promisify } from 'util';

let tmpCounter = 0;

/**
 * Write a file so that readers see either the old or the new content, never
 * a torn mix: write a sibling temp file, fsync it, rename it into place.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { fsync?: boolean } = {}
): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  // The callback API through small promises: a FileHandle per write costs a
  // burst of thousands of job folders measurable main-thread time.
  let fd: number;
  try {
    fd = await cb.open(tmp, 'w');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    fd = await cb.open(tmp, 'w');
  }
  try {
    await cb.writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (options.fsync !== false) {
      await cb.fsync(fd);
    }
  } catch (err) {
    // E.g. a full disk: leave no half-written temp file behind.
    await cb.close(fd).catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await cb.close(fd);
  try {
    await cb.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Reads of this size keep big files fast without holding much memory. */
const HASH_CHUNK = 1 << 20;

/**
 * Thrown for a path that is not a regular file (FIFO, socket, device):
 * meow never opens those — opening a FIFO blocks a libuv thread until a
 * writer comes, and five of them stall the whole service.
 */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    /** What it is instead, e.g. `a FIFO (named pipe)`. */
    readonly fileType: string
  ) {
    super(
      `${escapeControl(path)} is ${fileType}, not a regular file; meow does not read it ` +
        '(move it out of the watched folders or rename it so no pattern matches)'
    );
    this.name = 'NotRegularFileError';
  }
  readonly code = 'ENOTREGULAR';
}

/** A short description of what kind of file system entry `stats` is. */
export function fileTypeOf(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (stats.isFile()) {
    return 'a regular file';
  }
  if (stats.isDirectory()) {
    return 'a folder';
  }
  if (stats.isFIFO()) {
    return 'a FIFO (named pipe)';
  }
  if (stats.isSocket()) {
    return 'a socket';
  }
  if (stats.isCharacterDevice()) {
    return 'a character device';
  }
  if (stats.isBlockDevice()) {
    return 'a block device';
  }
  return stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
}

/**
 * sha256 of a file's content as hex, or undefined when it does not exist
 * (or is a folder). Never opens anything but a regular file: it stats
 * first, opens non-blocking (a FIFO swapped in meanwhile cannot block) and
 * checks the opened handle again.
 * @throws NotRegularFileError for FIFOs, sockets and devices.
 */
export async function sha256File(file: string): Promise<string | undefined> {
  return (await hashFile(file))?.hash;
}

/** What `hashFile` read. */
export interface IHashedFile {
  /** sha256 of the content, hex. */
  hash: string;
  /** The open file's stats after reading. */
  stats: Stats;
  /** Whether size, mtime and inode were the same before and after reading. */
  unchanged: boolean;
}

/**
 * sha256 of a regular file with the stats it was read at. Five system calls
 * for a small file (open, fstat, read, fstat, close), through the callback
 * API: on a burst of thousands of files each saved round trip through the
 * thread pool counts. `knownFile` skips the stat before opening, for a path
 * the caller has just seen as a regular file; the opened handle is checked
 * either way, and the open is non-blocking, so a FIFO swapped in cannot
 * block a thread.
 * @throws NotRegularFileError for FIFOs, sockets and devices.
 */
export async function hashFile(file: string, options: { knownFile?: boolean } = {}): Promise<IHashedFile | undefined> {
  if (!options.knownFile) {
    const stats = await statOrUndefined(file);
    if (!stats || stats.isDirectory()) {
      return undefined;
    }
    if (!stats.isFile()) {
      throw new NotRegularFileError(file, fileTypeOf(stats));
    }
  }
  let fd: number;
  try {
    fd = await cb.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (err) {
    if (isGone(err)) {
      return undefined;
    }
    throw err;
  }
  try {
    const before = await cb.fstat(fd);
    if (before.isDirectory()) {
      return undefined;
    }
    if (!before.isFile()) {
      throw new NotRegularFileError(file, fileTypeOf(before));
    }
    const hash = createHash('sha256');
    // One byte more than the file holds: a short read is the end, so a
    // small file takes one read, not a second one that returns nothing.
    const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK, before.size + 1));
    for (;;) {
      const bytesRead = await cb.read(fd, buffer, 0, buffer.length, null);
      hash.update(buffer.subarray(0, bytesRead));
      if (bytesRead < buffer.length) {
        break;
      }
    }
    const stats = await cb.fstat(fd);
    return { hash: hash.digest('hex'), stats, unchanged: sameVersion(before, stats) };
  } finally {
    await cb.close(fd).catch(() => undefined);
  }
}

/** True when two stats describe the same file version (size, mtime and inode). */
export function sameVersion(
  a: { size: number; mtimeMs: number; ino: number },
  b: { size: number; mtimeMs: number; ino: number }
): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** The callback API as promises: no FileHandle objects to create and track. */
const cb = {
  open: promisify(fsCallback.open) as (file: string, flags: number | string) => Promise<number>,
  fstat: promisify(fsCallback.fstat) as (fd: number) => Promise<Stats>,
  fsync: promisify(fsCallback.fsync) as (fd: number) => Promise<void>,
  close: promisify(fsCallback.close) as (fd: number) => Promise<void>,
  rename: promisify(fsCallback.rename) as (from: string, to: string) => Promise<void>,
  read: (fd: number, buffer: Buffer, offset: number, length: number, position: null) =>
    new Promise<number>((resolve, reject) =>
      fsCallback.read(fd, buffer, offset, length, position, (err, bytesRead) =>
        err ? reject(err) : resolve(bytesRead)
      )
    ),
  /** Write all of `data` (a write may take less than asked). */
  async writeAll(fd: number, data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.byteLength;) {
      at += await new Promise<number>((resolve, reject) =>
        fsCallback.write(fd, data, at, data.byteLength - at, null, (err, written) =>
          err ? reject(err) : resolve(written)
        )
      );
    }
  }
};

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if (isGone(err)) {
      return undefined;
    }
    throw err;
  }
}

/** Errors meaning "there is no file there (any more)". */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/** One escaping for every message (see log.ts). */
export { escapeControl } from './log';
import { escapeControl } from './log';

/**
 * Raw file-name bytes as readable text: valid UTF-8 stays (with controls
 * escaped), every byte that is not valid UTF-8 becomes `\xNN`. The result
 * can be pasted into bash as `$'...'`.
 */
export function escapeBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const lead = buf[i];
    const len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    const seq = len ? buf.subarray(i, i + len) : undefined;
    if (seq && seq.length === len && isUtf8(seq)) {
      const text = seq.toString('utf8');
      out += text === '\\' || text === "'" ? `\\${text}` : escapeControl(text);
      i += len;
    } else {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

/**
 * Errors that say "not now" rather than "never": out of file descriptors,
 * a busy resource. The operation is worth trying again later.
 */
export function isTransientError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EBUSY' || code === 'ENOMEM';
}

/** Temp files `writeFileAtomic` names `.<file>.<pid>.<n>.tmp`. */
const ATOMIC_TEMP = /^\..+\.\d+\.\d+\.tmp$/;

/**
 * Remove the temp files a killed process left in `dir` (not below it) from
 * its atomic writes; with `olderThan` (epoch ms) only those last written
 * before it, so writes of the running process are left alone. Resolves the
 * number removed.
 */
export async function removeStaleTemps(dir: string, olderThan?: number): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let stale = names.filter(n => ATOMIC_TEMP.test(n));
  if (olderThan !== undefined) {
    const mtimes = await Promise.all(
      stale.map(n =>
        fs.stat(path.join(dir, n)).then(
          st => st.mtimeMs,
          () => undefined
        )
      )
    );
    // Gone meanwhile, or a write of this run in progress: left alone.
    stale = stale.filter((_, i) => mtimes[i] !== undefined && mtimes[i]! < olderThan);
  }
  await Promise.all(stale.map(n => fs.rm(path.join(dir, n), { force: true })));
  return stale.length;
}

/** sha256 of a string or bytes as hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Convert an OS path below `root` into a workgroup-relative POSIX path. */
export function toRelative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Convert a workgroup-relative POSIX path into an absolute OS path. */
export function toAbsolute(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

/** Read a file as UTF-8, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

/** Run `fn` on every item, at most `limit` at a time. */
export async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      await fn(items[next++]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
