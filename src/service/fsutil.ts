/**
 * Small file-system helpers shared by the service parts.
 */
import { isUtf8 } from 'buffer';
import { createHash } from 'crypto';
import { constants as fsConstants, promises as fs } from 'fs';
import type { Stats } from 'fs';
import * as path from 'path';

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
  let handle;
  try {
    handle = await fs.open(tmp, 'w');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    handle = await fs.open(tmp, 'w');
  }
  try {
    await handle.writeFile(data);
    if (options.fsync !== false) {
      await handle.sync();
    }
  } catch (err) {
    // E.g. a full disk: leave no half-written temp file behind.
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
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
  const stats = await statOrUndefined(file);
  if (!stats || stats.isDirectory()) {
    return undefined;
  }
  if (!stats.isFile()) {
    throw new NotRegularFileError(file, fileTypeOf(stats));
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (isGone(err)) {
      return undefined;
    }
    throw err;
  }
  try {
    const opened = await handle.stat();
    if (opened.isDirectory()) {
      return undefined;
    }
    if (!opened.isFile()) {
      throw new NotRegularFileError(file, fileTypeOf(opened));
    }
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(opened.size, 1)));
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) {
        break;
      }
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

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
