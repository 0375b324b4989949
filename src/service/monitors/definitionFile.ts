/**
 * Reading one definition file safely: stat before open (a FIFO would block,
 * a huge file is refused unread), never more than the size cap.
 */
import { constants as fsConstants, promises as fs } from 'fs';
import * as path from 'path';
import { FILE_FIELD, issue, IValidationIssue } from '../../core/validation';

/** Default largest definition file: real ones are a few kB. */
export const DEFAULT_MAX_DEFINITION_BYTES = 1024 * 1024;

/** `1.5 MB`, `120 kB`, `300 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) {
    return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  }
  return n >= 1024 ? `${(n / 1024).toFixed(1).replace(/\.0$/, '')} kB` : `${n} bytes`;
}

/**
 * A definition file's bytes; `undefined` when it is gone; a problem when
 * it is not a readable regular file within the size limit. Checked with
 * stat before opening: opening a FIFO blocks, and a huge file is refused
 * unread.
 */
export async function readDefinitionFile(
  root: string,
  rel: string,
  maxBytes: number
): Promise<{ bytes: Uint8Array } | { problem: IValidationIssue } | undefined> {
  const abs = path.join(root, rel);
  const problem = (message: string, fix: string) => ({ problem: issue(FILE_FIELD, message, fix) });
  const failed = (err: NodeJS.ErrnoException) => {
    switch (err.code) {
      case 'ENOENT':
        return undefined;
      case 'ELOOP':
        return problem(
          'is a symbolic link that loops (or is nested too deeply)',
          'replace the link with the file itself'
        );
      case 'EACCES':
      case 'EPERM':
        return problem(
          'cannot be read: permission denied',
          `let the service read it, e.g. chmod a+r ${JSON.stringify(rel)}`
        );
      default:
        return problem(`cannot be read: ${err.code ?? err.message}`, 'check the file');
    }
  };
  const tooBig = (size: number) =>
    problem(
      `is ${formatBytes(size)}, larger than the limit of ${formatBytes(maxBytes)} (${maxBytes} bytes) for definition files`,
      'keep definitions small (put large data in a file the recipe reads), or raise the limit ' +
        '(--max-definition-bytes, or the maxDefinitionBytes option)'
    );
  let handle: fs.FileHandle | undefined;
  try {
    const st = await fs.stat(abs);
    if (st.isDirectory()) {
      return problem('is a folder, not a file', 'remove the folder or move it out of the definitions folder');
    }
    if (!st.isFile()) {
      return problem('is not a regular file (a FIFO, socket or device); meow does not read it', 'remove it');
    }
    if (st.size > maxBytes) {
      return tooBig(st.size);
    }
    // O_NONBLOCK: if it was swapped for a FIFO since the stat, open must not hang.
    handle = await fs.open(abs, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const opened = await handle.stat();
    if (!opened.isFile()) {
      return problem('is not a regular file (a FIFO, socket or device); meow does not read it', 'remove it');
    }
    // Read at most one byte past the limit: the file may have grown.
    const buffer = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) {
        break;
      }
      length += bytesRead;
    }
    if (length > maxBytes) {
      return tooBig((await handle.stat()).size);
    }
    return { bytes: buffer.subarray(0, length) };
  } catch (err) {
    return failed(err as NodeJS.ErrnoException);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
