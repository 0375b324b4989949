/**
 * The stored index and the reconciliation scan (issue 6, lossless
 * detection): what changed while meow was down is reported on start, what
 * the watcher missed is reported by a scan, unchanged files never again.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { FileIndex } from '../../../../src/service/monitors/fileIndex';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, quiet, sleep, startMonitor, unwatchFolder } from './helpers';

describe('FileMonitor reconciliation with its stored index', () => {
  let root: string;
  let run: IRunning | undefined;
  afterEach(async () => {
    await run?.monitor.stop();
    run = undefined;
    await removeWorkgroup(root);
  });

  it('reports nothing on the first start, then what changed while stopped, and only that', async () => {
    root = await makeWorkgroup({ 'd/keep.txt': 'k', 'd/change.txt': 'v1', 'd/gone.txt': 'g' });
    run = await startMonitor(root);
    await quiet(run.monitor);
    expect(run.events).toEqual([]);
    expect(run.log.text('info')).toMatch(/no file index yet; recorded 3 files/);
    await run.monitor.stop();
    const rows = await readRows(path.join(root, '.meow/files.jsonl'));
    expect(rows.map(r => r[0]).sort()).toEqual(['d/change.txt', 'd/gone.txt', 'd/keep.txt']);

    // While meow is down.
    await writeFile(root, 'd/new.txt', 'n');
    await writeFile(root, 'd/change.txt', 'version 2');
    await fs.rm(path.join(root, 'd/gone.txt'));

    run = await startMonitor(root);
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created d/new.txt', 'deleted d/gone.txt', 'modified d/change.txt']);
    await run.monitor.stop();

    // Nothing changed: a third start reports nothing.
    run = await startMonitor(root);
    await quiet(run.monitor);
    expect(run.events).toEqual([]);
  });

  it('the same monitor can be stopped and started again and still lists active folders', async () => {
    root = await makeWorkgroup({ 'd/.keep': '' });
    run = await startMonitor(root);
    await run.monitor.stop();
    await run.monitor.start();
    await writeFile(root, 'd/after.txt', 'a');
    await until(() => run!.events.some(e => e.path === 'd/after.txt'), 5000, 'the event after restart');
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created d/after.txt']);
  });

  it('reports a move made while stopped as one moved event', async () => {
    root = await makeWorkgroup({ 'a/x.dat': 'x' });
    run = await startMonitor(root);
    await run.monitor.stop();
    await fs.mkdir(path.join(root, 'b'));
    await fs.rename(path.join(root, 'a/x.dat'), path.join(root, 'b/x.dat'));
    run = await startMonitor(root);
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['moved a/x.dat -> b/x.dat']);
  });

  it('a scan reports a file the watcher never saw, once, and counts it in pending until settled', async () => {
    root = await makeWorkgroup({ 'w/.keep': '' });
    run = await startMonitor(root, { relistDelayMs: 60_000 });
    // Blind the watcher for w/ (as a lost notification would), then write.
    unwatchFolder(run.monitor, 'w');
    await sleep(50);
    await writeFile(root, 'w/missed.txt', 'm');
    await sleep(300);
    expect(run.events).toEqual([]);
    const pushed = await run.monitor.scan();
    expect(pushed).toBe(1);
    expect(run.monitor.pending).toBeGreaterThan(0);
    await until(() => run!.events.length > 0, 5000, 'the missed event');
    expect(run.seen()).toEqual(['created w/missed.txt']);
    expect(await run.monitor.scan()).toBe(0);
  });

  it('runs the periodic scan on its own', async () => {
    root = await makeWorkgroup({ 'w/.keep': '' });
    run = await startMonitor(root, { scanIntervalMs: 300, relistDelayMs: 60_000 });
    unwatchFolder(run.monitor, 'w');
    await sleep(50);
    await writeFile(root, 'w/late.txt', 'l');
    await until(() => run!.events.length > 0, 5000, 'the periodic scan');
    expect(run.seen()).toEqual(['created w/late.txt']);
  });

  it('a touch that keeps the content is not an event once the hash is known', async () => {
    root = await makeWorkgroup({ 'd/f.txt': 'same' });
    run = await startMonitor(root);
    await run.monitor.stop();
    run = await startMonitor(root);
    expect(await run.monitor.hashOf('d/f.txt')).toMatch(/^[0-9a-f]{64}$/);
    await run.monitor.stop();
    const later = new Date(Date.now() + 5000);
    await fs.utimes(path.join(root, 'd/f.txt'), later, later);
    run = await startMonitor(root);
    await quiet(run.monitor);
    expect(run.events).toEqual([]);
  });

  it('hashOf reuses the stored hash while size, mtime and inode are unchanged', async () => {
    root = await makeWorkgroup({ 'd/f.txt': 'aaaa' });
    run = await startMonitor(root);
    const first = await run.monitor.hashOf('d/f.txt');
    expect(run.monitor.index.get('d/f.txt')?.hash).toBe(first);
    // While size, mtime and inode stay, the stored hash is the answer (the
    // file is not read again): a planted hash shows it.
    const abs = path.join(root, 'd/f.txt');
    run.monitor.index.set('d/f.txt', await fs.stat(abs), 'f'.repeat(64));
    expect(await run.monitor.hashOf('d/f.txt')).toBe('f'.repeat(64));
    // A real change (new mtime) is hashed again.
    await writeFile(root, 'd/f.txt', 'cccc');
    const third = await run.monitor.hashOf('d/f.txt');
    expect(third).not.toBe(first);
    expect(third).not.toBe('f'.repeat(64));
    expect(await run.monitor.hashOf('d/missing.txt')).toBeUndefined();
  });
});

describe('FileIndex', () => {
  let root: string;
  afterEach(() => removeWorkgroup(root));
  const logger = (lines: string[]) => ({
    debug() {},
    info: (m: string) => lines.push(m),
    error() {},
    warn: (m: string) => lines.push(m)
  });

  it('saves atomically and loads back; a damaged file is rebuilt with a warning', async () => {
    root = await makeWorkgroup();
    const file = path.join(root, 'state/files.jsonl');
    const index = new FileIndex({ file, saveDelayMs: 10 });
    expect(await index.load()).toBe(false);
    index.set('a/b.txt', { size: 3, mtimeMs: 1.5, ino: 7 }, 'h'.repeat(64));
    index.set('a/c.txt', { size: 1, mtimeMs: 2, ino: 8 });
    index.delete('a/c.txt');
    await until(async () => ((await fs.stat(file).catch(() => undefined))?.size ?? 0) > 0, 2000, 'the save');
    await index.close();
    const again = new FileIndex({ file });
    expect(await again.load()).toBe(true);
    expect(again.get('a/b.txt')).toEqual({ size: 3, mtimeMs: 1.5, ino: 7, hash: 'h'.repeat(64) });
    expect([...again.filesIn('a')]).toEqual(['b.txt']);
    await again.close();
    expect((await fs.readdir(path.dirname(file))).filter(n => n.endsWith('.tmp'))).toEqual([]);
    await fs.writeFile(file, '{"format":1,"files":');
    const lines: string[] = [];
    const broken = new FileIndex({ file, log: logger(lines) });
    expect(await broken.load()).toBe(false);
    expect(broken.size).toBe(0);
    expect(lines.join('\n')).toMatch(/is damaged .*rebuilding/);
    await broken.close();
  });

  it('appends only what changed: a save costs the changes, not the whole index (issue 9)', async () => {
    root = await makeWorkgroup();
    const file = path.join(root, 'state/files.jsonl');
    const index = new FileIndex({ file, saveDelayMs: 60_000 });
    await index.load();
    for (let i = 0; i < 2000; i++) {
      index.set(`d/f${i}.txt`, { size: i, mtimeMs: i, ino: i });
    }
    await index.flush();
    const before = await fs.readFile(file, 'utf8');
    index.set('d/f7.txt', { size: 70, mtimeMs: 71, ino: 72 }, 'a'.repeat(64));
    index.delete('d/f8.txt');
    await index.flush();
    const after = await fs.readFile(file, 'utf8');
    // Appended, not rewritten: what was saved stays as it was, and the save is two rows, not 2,000.
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length).trim().split('\n')).toHaveLength(2);
    // Not closed: what a kill -9 after the save leaves.
    const loaded = new FileIndex({ file });
    expect(await loaded.load()).toBe(true);
    expect(loaded.size).toBe(1999);
    expect(loaded.get('d/f7.txt')).toEqual({ size: 70, mtimeMs: 71, ino: 72, hash: 'a'.repeat(64) });
    expect(loaded.has('d/f8.txt')).toBe(false);
    await loaded.close();
    await index.close();
  });

  it('compacts once stale rows outnumber the files, keeping every file', async () => {
    root = await makeWorkgroup();
    const file = path.join(root, 'state/files.jsonl');
    const index = new FileIndex({ file, saveDelayMs: 60_000 });
    await index.load();
    // 12 saves of the same 1,000 files: 12,000 rows, more than max(10,000, 1,000).
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 1000; i++) {
        index.set(`f${i}`, { size: round, mtimeMs: round, ino: i });
      }
      await index.flush();
    }
    const rows = await readRows(file);
    expect(rows.length).toBeLessThan(3000);
    await index.close();
    const again = new FileIndex({ file });
    expect(await again.load()).toBe(true);
    expect(again.size).toBe(1000);
    expect(again.get('f999')).toEqual({ size: 11, mtimeMs: 11, ino: 999 });
    await again.close();
  });

  it('skips a torn last row (a crash during a save) and says so', async () => {
    root = await makeWorkgroup();
    const file = path.join(root, 'state/files.jsonl');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '["a",1,2,3]\n["b",4,5,6]\n["c",7,');
    const lines: string[] = [];
    const index = new FileIndex({ file, log: logger(lines) });
    expect(await index.load()).toBe(true);
    expect([...index.paths()].sort()).toEqual(['a', 'b']);
    expect(lines.join('\n')).toMatch(/1 damaged row\(s\) skipped; their files are checked again/);
    index.set('d', { size: 1, mtimeMs: 1, ino: 1 });
    await index.close();
    // The next row starts on a line of its own.
    const again = new FileIndex({ file });
    expect(await again.load()).toBe(true);
    expect([...again.paths()].sort()).toEqual(['a', 'b', 'd']);
    await again.close();
  });

  it('moves the index.json of earlier versions into the journal', async () => {
    root = await makeWorkgroup();
    const dir = path.join(root, 'state');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, 'index.json'),
      JSON.stringify({ format: 1, files: { 'x/y.txt': [3, 1.5, 7, 'h'.repeat(64)], 'z.txt': [1, 2, 8] } })
    );
    const index = new FileIndex({ file: path.join(dir, 'files.jsonl') });
    expect(await index.load()).toBe(true);
    expect(index.get('x/y.txt')).toEqual({ size: 3, mtimeMs: 1.5, ino: 7, hash: 'h'.repeat(64) });
    expect(index.get('z.txt')).toEqual({ size: 1, mtimeMs: 2, ino: 8 });
    await index.close();
    expect((await fs.readdir(dir)).sort()).toEqual(['files.jsonl']);
    const again = new FileIndex({ file: path.join(dir, 'files.jsonl') });
    expect(await again.load()).toBe(true);
    expect(again.size).toBe(2);
    await again.close();
  });
});

async function readRows(file: string): Promise<unknown[][]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line) as unknown[]);
}
