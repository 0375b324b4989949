/**
 * Small file-system helpers shared by the service parts.
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fs } from 'fs';
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
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${++tmpCounter}.tmp`
  );
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
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** sha256 of a file's content as hex, or undefined when it does not exist. */
export async function sha256File(file: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = createReadStream(file);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') {
        resolve(undefined);
      } else {
        reject(err);
      }
    });
    stream.on('data', chunk => hash.update(chunk));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
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
