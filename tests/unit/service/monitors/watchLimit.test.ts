/**
 * The inotify watch limit (ENOSPC): say so once, with the limit and the fix,
 * and keep reporting files by scanning instead of going blind.
 */
import * as fsModule from 'fs';
// The module object the folder watcher calls `watch` on (not the ES namespace).
const fsCjs = require('fs') as typeof fsModule;
const realWatch = fsCjs.watch;
import * as path from 'path';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, sleep, startMonitor } from './helpers';

describe('FileMonitor at the inotify watch limit', () => {
  let root: string;
  let run: IRunning | undefined;
  afterEach(async () => {
    fsCjs.watch = realWatch;
    await run?.monitor.stop();
    run = undefined;
    await removeWorkgroup(root);
  });

  it('reports files in a folder it could not watch, and names the limit and the fix once', async () => {
    root = await makeWorkgroup({ 'in/.keep': '' });
    run = await startMonitor(root, { blindScanIntervalMs: 300 });
    // From now on the system refuses new watches for new/, as it does when
    // fs.inotify.max_user_watches is used up: fs.watch throws.
    fsCjs.watch = ((file: string, ...rest: unknown[]) => {
      if (String(file).includes(`${path.sep}new`)) {
        const err = new Error(
          `ENOSPC: System limit for number of file watchers reached, watch '${file}'`
        ) as NodeJS.ErrnoException;
        err.code = 'ENOSPC';
        throw err;
      }
      return (realWatch as (...a: unknown[]) => fsModule.FSWatcher)(file, ...rest);
    }) as typeof fsModule.watch;
    await fsModule.promises.mkdir(path.join(root, 'new'));
    await sleep(500); // the folder is seen (and its watch refused) before files come
    const files = ['new/a.dat', 'new/b.dat', 'new/c.dat'];
    for (const f of files) {
      await writeFile(root, f, f);
    }
    await until(
      () => files.every(f => run!.events.some(e => e.kind === 'created' && e.path === f)),
      8000,
      'events for files in the unwatched folder'
    );
    expect(run.monitor.blind).toBe(true);
    const errors = run.log.lines.filter(l => l.level === 'error').map(l => l.message);
    expect(errors.filter(m => /max_user_watches/.test(m))).toHaveLength(1);
    expect(errors[0]).toMatch(/sysctl fs\.inotify\.max_user_watches=\d+/);
    expect(errors[0]).toMatch(/scanning the workgroup every 0\.3 s/);
  });

  it('an ENOSPC error event alone switches to frequent scans', async () => {
    root = await makeWorkgroup({ 'in/.keep': '' });
    run = await startMonitor(root, { blindScanIntervalMs: 300, relistDelayMs: 60_000 });
    // The watch of in/ fails (and is closed): its FSWatcher emits the error.
    const folders = (run.monitor as unknown as { _folders: { _watches: Map<string, fsModule.FSWatcher> } })._folders;
    const err = new Error('ENOSPC: System limit for number of file watchers reached') as NodeJS.ErrnoException;
    err.code = 'ENOSPC';
    folders._watches.get('in')!.emit('error', err);
    expect(folders._watches.has('in')).toBe(false);
    await sleep(50);
    await writeFile(root, 'in/x.dat', 'x');
    await until(() => run!.events.some(e => e.path === 'in/x.dat'), 5000, 'the scanned event');
    expect(run.log.text('error')).toMatch(/inotify file watchers is reached/);
  });
});
