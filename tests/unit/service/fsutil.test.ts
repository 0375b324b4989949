/**
 * hashFile and writeFileAtomic, the two helpers every file and job record
 * goes through: they use the callback API with short reads and writes, so
 * the edges of their loops are checked against Node's own results.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hashFile, NotRegularFileError, writeFileAtomic } from '../../../src/service/fsutil';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('fsutil', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-fsutil-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  // 1 MiB is the read size: files of exactly one or two reads end on a read
  // that returns nothing; others on a short read.
  it.each([0, 1, 4095, 1 << 20, (1 << 20) + 1, 2 << 20, (2 << 20) + 17])(
    'hashFile hashes a %i-byte file like crypto does, with the stats it read at',
    async size => {
      const data = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i++) {
        data[i] = (i * 31 + (i >> 8)) & 0xff;
      }
      const file = path.join(dir, 'f');
      await fs.writeFile(file, data);
      for (const knownFile of [false, true]) {
        const read = await hashFile(file, { knownFile });
        expect(read?.hash).toBe(sha(data));
        expect(read?.stats.size).toBe(size);
        expect(read?.stats.ino).toBe((await fs.stat(file)).ino);
        expect(read?.unchanged).toBe(true);
      }
    }
  );

  it('hashFile: undefined for a missing path or a folder, an error naming a FIFO even when told it is a file', async () => {
    expect(await hashFile(path.join(dir, 'none'))).toBeUndefined();
    expect(await hashFile(path.join(dir, 'none'), { knownFile: true })).toBeUndefined();
    expect(await hashFile(dir)).toBeUndefined();
    expect(await hashFile(dir, { knownFile: true })).toBeUndefined();
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Opened non-blocking, so this returns at once instead of waiting for a writer.
    const err = await hashFile(fifo, { knownFile: true }).catch(e => e);
    expect(err).toBeInstanceOf(NotRegularFileError);
    expect(err.message).toMatch(/pipe is a FIFO \(named pipe\), not a regular file/);
  });

  it('writeFileAtomic writes strings and bytes whole, makes the folder, replaces, and leaves no temp file', async () => {
    const big = Buffer.alloc(3 << 20, 7); // larger than one write may take
    const file = path.join(dir, 'sub', 'deeper', 'x.bin');
    await writeFileAtomic(file, big);
    expect(sha(await fs.readFile(file))).toBe(sha(big));
    await writeFileAtomic(file, 'é\n', { fsync: false });
    expect(await fs.readFile(file, 'utf8')).toBe('é\n');
    expect(await fs.readdir(path.dirname(file))).toEqual(['x.bin']);
  });

  it('writeFileAtomic fails with the cause when the folder cannot exist, and keeps the old content', async () => {
    const file = path.join(dir, 'x.txt');
    await writeFileAtomic(file, 'old');
    // A path below a regular file: neither the temp file nor the folder can be made.
    await expect(writeFileAtomic(path.join(file, 'y.txt'), 'new')).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(await fs.readFile(file, 'utf8')).toBe('old');
    expect(await fs.readdir(dir)).toEqual(['x.txt']);
  });
});
