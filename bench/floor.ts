/**
 * The floor under SPMF and MPMF: the least any tool must do to turn a file
 * into a durable job record, with nothing of meow in it. The same writer
 * as the scheduling bench writes the same files in the same process; a
 * watch per folder (inotify) reports them; each is lstat'ed, waits out the
 * same 20 ms settle window (the folders exist and are watched before the
 * clock starts, which only favours the floor), is hashed (open, fstat, read, fstat, close) and
 * its record is appended to one journal with one fdatasync per batch (group
 * commit). No rules, no job folders, no notebooks. It uses meow's own
 * hashing (`hashFile`), the cheapest part of the path.
 *
 * If this alone takes most of the 0.1 s target at 500 files, the target
 * cannot be met on the machine, and `SPMF - FLOOR` is meow's own cost.
 */
import * as fsCallback from 'fs';
import { watch, promises as fs } from 'fs';
import type { FSWatcher } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { hashFile } from '../src/service/fsutil';

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
    let flushing: Promise<void> | undefined;
    const flush = () => {
      if (!flushing && pending.length) {
        flushing = commit();
      }
    };
    const commit = async () => {
      const batch = pending.splice(0);
      await journal.write(batch.join(''));
      await journal.datasync();
      durable += batch.length;
      if (durable >= files.length) {
        done();
      }
      flushing = undefined;
      flush();
    };
    // Settling as a sweep over the last notification times, not a timer per
    // file: the cheapest way to wait out the window for thousands of files.
    const lastSeen = new Map<string, number>();
    const recorded = new Set<string>();
    let sweeper: NodeJS.Timeout | undefined;
    const sweep = () => {
      sweeper = undefined;
      const now = performance.now();
      for (const [abs, at] of lastSeen) {
        if (now - at >= SETTLE_MS) {
          lastSeen.delete(abs);
          void settled(abs);
        }
      }
      if (lastSeen.size) {
        sweeper = setTimeout(sweep, 2);
      }
    };
    const settled = async (abs: string) => {
      if (recorded.has(abs)) {
        return; // a late notification of the same write
      }
      recorded.add(abs);
      const read = await hashFile(abs, { knownFile: true });
      pending.push(JSON.stringify({ path: abs, hash: read?.hash }) + '\n');
      flush();
    };
    let lastNotified = performance.now();
    const seen = (abs: string) => {
      lastNotified = performance.now();
      fsCallback.lstat(abs, (err, st) => {
        if (err || !st.isFile()) {
          return;
        }
        lastSeen.set(abs, performance.now());
        sweeper ??= setTimeout(sweep, SETTLE_MS);
      });
    };
    for (const folder of folders) {
      const dir = path.join(root, folder);
      watchers.push(watch(dir, (_event, name) => name && seen(path.join(dir, String(name)))));
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < files.length; i += 256) {
      await Promise.all(files.slice(i, i + 256).map(f => write(root, f)));
    }
    // Linux drops notifications when its queue overflows (100,000 files in
    // one folder can): once the watches have been quiet for a second, list
    // the folders for files never reported, as any lossless tool must.
    const rescan = setInterval(() => {
      if (performance.now() - lastNotified < 1000 || lastSeen.size) {
        return;
      }
      for (const folder of folders) {
        const dir = path.join(root, folder);
        for (const name of fsCallback.readdirSync(dir)) {
          const abs = path.join(dir, name);
          if (!recorded.has(abs)) {
            seen(abs);
          }
        }
      }
    }, 500);
    await allDurable;
    clearInterval(rescan);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    watchers.forEach(w => w.close());
    clearTimeout(sweeper);
    while (flushing) {
      await flushing;
    }
    return seconds;
  } finally {
    watchers.forEach(w => w.close());
    await journal.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}
