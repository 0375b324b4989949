/**
 * Issue 9: a burst overflows inotify's queue and libuv drops the overflow
 * without a word, so a whole folder's files can go unreported with no
 * activity left there to list it (measured: thousands of 10,000 burst files
 * waited for the 60 s reconciliation scan). Once a listing finds a file the
 * watcher never reported, the monitor must compare the whole tree soon after
 * the watcher goes quiet. The drop is simulated: the watcher's notifications
 * for some files are thrown away before the monitor sees them.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { makeWorkgroup, removeWorkgroup, until } from '../../../helpers/workgroup';
import { IRunning, startMonitor } from './helpers';

describe('FileMonitor when the watcher drops events', () => {
  let root: string;
  let running: IRunning | undefined;
  afterEach(async () => {
    await running?.monitor.stop();
    running = undefined;
    await removeWorkgroup(root);
  });

  it('finds files of a folder with no reported activity by a catch-up scan, long before the periodic one', async () => {
    root = await makeWorkgroup({ 'busy/.keep': '', 'silent/.keep': '' });
    // The periodic reconciliation would find them only after 10 minutes.
    running = await startMonitor(root, { scanIntervalMs: 600_000 });
    const monitor = running.monitor as unknown as Record<string, (...a: unknown[]) => void>;
    const dropped = (s: unknown) => typeof s === 'string' && /dropped/.test(s);
    const original = monitor._onFolderEvent.bind(running.monitor);
    monitor._onFolderEvent = (...args: unknown[]) => (args.some(dropped) ? undefined : original(...args));
    // busy/: one file the watcher reports and one it drops; silent/: all dropped.
    await fs.writeFile(path.join(root, 'busy', 'dropped-a.dat'), 'a');
    await fs.writeFile(path.join(root, 'silent', 'dropped-b.dat'), 'b');
    await fs.writeFile(path.join(root, 'silent', 'dropped-c.dat'), 'c');
    await fs.writeFile(path.join(root, 'busy', 'seen.dat'), 's');
    const created = () =>
      running!.events
        .filter(e => e.kind === 'created')
        .map(e => e.path)
        .sort();
    await until(() => created().length === 4, 8000, 'all four files reported').catch(() => undefined);
    expect(created()).toEqual(['busy/dropped-a.dat', 'busy/seen.dat', 'silent/dropped-b.dat', 'silent/dropped-c.dat']);
    expect(running.log.lines.map(l => l.message).join('\n')).toMatch(
      /2 file change\(s\) the watcher dropped during a burst were found by a catch-up scan/
    );
  });
});
