/**
 * The floor under SPMF and MPMF: the least any tool must do to turn a file
 * into a durable job record, with nothing of meow in it. The same writer
 * as the scheduling bench writes the same files in the same process; a
 * watch per folder (inotify) reports them; each is lstat'ed, waits out the
 * same 20 ms settle window (the folders exist and are watched before the
 * clock starts, which only favours the floor), is hashed (open, fstat, read, fstat, close) and
 * its record is appended to one journal with one fdatasync per batch (group
 * commit). No rules, no job folders, no notebooks.
 *
 * If this alone takes most of the 0.1 s target at 500 files, the target
 * cannot be met on the machine, and `SPMF - FLOOR` is meow's own cost.
 */
import { createHash } from 'crypto';
import { watch, promises as fs } from 'fs';
import type { FSWatcher } from 'fs';
import * as os from 'os';
import * as path from 'path';

const SETTLE_MS = 20;

/** As the scheduling bench's writer: make the folder, write the file. */
async function write(root: string, rel: string): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, 'data');
}

/** Seconds from the first write until `files` all have a durable record. */
export async function measureFloor(files: string[]): Promise<number> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-floor-')));
  const watchers: FSWatcher[] = [];
  const journal = await fs.open(path.join(root, 'journal.jsonl'), 'a');
  try {
    const folders = [...new Set(files.map(f => path.dirname(f)))];
    for (const folder of folders) {
      await fs.mkdir(path.join(root, folder), { recursive: true });
    }
    let durable = 0;
    let done: () => void = () => undefined;
    const allDurable = new Promise<void>(resolve => (done = resolve));
    const pending: string[] = [];
    let flushing = false;
    const flush = async () => {
      if (flushing || !pending.length) {
        return;
      }
      flushing = true;
      const batch = pending.splice(0);
      await journal.write(batch.join(''));
      await journal.datasync();
      durable += batch.length;
      flushing = false;
      if (durable >= files.length) {
        done();
      }
      void flush();
    };
    const settling = new Map<string, NodeJS.Timeout>();
    const settled = async (abs: string) => {
      settling.delete(abs);
      const handle = await fs.open(abs, 'r');
      const before = await handle.stat();
      const buffer = Buffer.allocUnsafe(before.size + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      await handle.stat();
      await handle.close();
      const hash = createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex');
      pending.push(JSON.stringify({ path: abs, hash }) + '\n');
      void flush();
    };
    const seen = async (abs: string) => {
      const st = await fs.lstat(abs).catch(() => undefined);
      if (!st?.isFile()) {
        return;
      }
      clearTimeout(settling.get(abs));
      settling.set(
        abs,
        setTimeout(() => void settled(abs), SETTLE_MS)
      );
    };
    for (const folder of folders) {
      const dir = path.join(root, folder);
      watchers.push(watch(dir, (_event, name) => name && void seen(path.join(dir, String(name)))));
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < files.length; i += 256) {
      await Promise.all(files.slice(i, i + 256).map(f => write(root, f)));
    }
    await allDurable;
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    watchers.forEach(w => w.close());
    await journal.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}
