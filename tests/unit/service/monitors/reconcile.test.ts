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
    const stored = JSON.parse(await fs.readFile(path.join(root, '.meow/index.json'), 'utf8'));
    expect(Object.keys(stored.files).sort()).toEqual(['d/change.txt', 'd/gone.txt', 'd/keep.txt']);

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

  it('saves atomically and loads back; a damaged file is rebuilt with a warning', async () => {
    root = await makeWorkgroup();
    const file = path.join(root, 'state/index.json');
    const index = new FileIndex({ file, saveDelayMs: 10 });
    expect(await index.load()).toBe(false);
    index.set('a/b.txt', { size: 3, mtimeMs: 1.5, ino: 7 }, 'h'.repeat(64));
    index.set('a/c.txt', { size: 1, mtimeMs: 2, ino: 8 });
    index.delete('a/c.txt');
    await until(async () => (await fs.stat(file).catch(() => undefined)) !== undefined, 2000, 'the save');
    await index.flush();
    const again = new FileIndex({ file });
    expect(await again.load()).toBe(true);
    expect(again.get('a/b.txt')).toEqual({ size: 3, mtimeMs: 1.5, ino: 7, hash: 'h'.repeat(64) });
    expect([...again.filesIn('a')]).toEqual(['b.txt']);
    expect((await fs.readdir(path.dirname(file))).filter(n => n.endsWith('.tmp'))).toEqual([]);
    await fs.writeFile(file, '{"format":1,"files":');
    const lines: string[] = [];
    const broken = new FileIndex({ file, log: { debug() {}, info() {}, error() {}, warn: m => lines.push(m) } });
    expect(await broken.load()).toBe(false);
    expect(lines.join('\n')).toMatch(/is damaged .*rebuilding/);
  });
});
