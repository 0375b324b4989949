/**
 * Issue 9: the monitor watches folders, not files (one fs.watch per folder:
 * a watch per file cost 65 MB per 10,000 files and ~1 ms each). What that
 * must not break: trees moved in with their contents, folders moved away or
 * removed, renames, and writes to files it already knows.
 */
import * as fsModule from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, quiet, startMonitor } from './helpers';

// The module object the folder watcher calls `watch` on (not the ES namespace).
const fsCjs = require('fs') as typeof fsModule;
const realWatch = fsCjs.watch;

describe('FileMonitor watching folders', () => {
  let root: string;
  let outside: string | undefined;
  let run: IRunning | undefined;
  afterEach(async () => {
    fsCjs.watch = realWatch;
    await run?.monitor.stop();
    run = undefined;
    await removeWorkgroup(root);
    if (outside) {
      await fs.rm(outside, { recursive: true, force: true });
      outside = undefined;
    }
  });

  it('puts one watch on each folder and none on files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      files[`a/f${i}.dat`] = 'x';
      files[`a/b/g${i}.dat`] = 'y';
    }
    root = await makeWorkgroup({ ...files, 'c/.keep': '' });
    const watched: string[] = [];
    fsCjs.watch = ((file: string, ...rest: unknown[]) => {
      watched.push(path.relative(root, String(file)));
      return (realWatch as (...a: unknown[]) => fsModule.FSWatcher)(file, ...rest);
    }) as typeof fsModule.watch;
    run = await startMonitor(root);
    // The state folder (.meow) is meow's own and not watched by this monitor.
    expect(watched.sort()).toEqual(['', 'a', 'a/b', 'c']);
  });

  it('reports every file of a tree moved in with its contents, and files written there later', async () => {
    root = await makeWorkgroup({ 'in/.keep': '' });
    outside = await fs.mkdtemp(path.join(path.dirname(root), 'meow-outside-'));
    const tree = ['x.dat', 'sub/y.dat', 'sub/deeper/z.dat', 'sub/deeper/deepest/w.dat'];
    for (const f of tree) {
      await fs.mkdir(path.dirname(path.join(outside, 'batch', f)), { recursive: true });
      await fs.writeFile(path.join(outside, 'batch', f), f);
    }
    // Listed as soon as it is watched, not by the relister's later listing (2 s at the earliest here).
    run = await startMonitor(root, { relistDelayMs: 60_000 });
    await fs.rename(path.join(outside, 'batch'), path.join(root, 'in', 'batch'));
    const created = () =>
      run!.events
        .filter(e => e.kind === 'created')
        .map(e => e.path)
        .sort();
    const expected = tree.map(f => `in/batch/${f}`).sort();
    await until(() => created().length === expected.length, 1500, 'every file of the moved tree').catch(
      () => undefined
    );
    expect(created()).toEqual(expected);
    // The deepest folder is watched now: a new file there is an event of its own.
    await quiet(run.monitor);
    await writeFile(root, 'in/batch/sub/deeper/deepest/later.dat', 'l');
    await until(() => created().includes('in/batch/sub/deeper/deepest/later.dat'), 5000, 'the later file');
  });

  it('reports the files of a folder moved out of the workgroup or removed as deleted', async () => {
    root = await makeWorkgroup({ 'gone/a.dat': 'a', 'gone/deep/b.dat': 'b', 'rm/c.dat': 'c', 'rm/deep/d.dat': 'd' });
    outside = await fs.mkdtemp(path.join(path.dirname(root), 'meow-outside-'));
    run = await startMonitor(root);
    await fs.rename(path.join(root, 'gone'), path.join(outside, 'gone'));
    await fs.rm(path.join(root, 'rm'), { recursive: true });
    const deleted = () =>
      run!.events
        .filter(e => e.kind === 'deleted')
        .map(e => e.path)
        .sort();
    const expected = ['gone/a.dat', 'gone/deep/b.dat', 'rm/c.dat', 'rm/deep/d.dat'];
    await until(() => deleted().length === expected.length, 8000, 'the deletions').catch(() => undefined);
    expect(deleted()).toEqual(expected);
    expect(run.monitor.index.size).toBe(0);
  });

  it('reports a rename as one move, and a rewrite of a known file as modified', async () => {
    root = await makeWorkgroup({ 'd/old.dat': 'o', 'd/kept.dat': 'k' });
    run = await startMonitor(root);
    await fs.rename(path.join(root, 'd/old.dat'), path.join(root, 'd/new.dat'));
    await fs.appendFile(path.join(root, 'd/kept.dat'), 'more');
    await until(() => run!.events.length >= 2, 5000, 'two events').catch(() => undefined);
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['modified d/kept.dat', 'moved d/old.dat -> d/new.dat']);
  });
});
