/**
 * Issue 6, "silent stall": 2,000 files written quickly into one folder must
 * all be reported, by time alone, with no later event needed to release them.
 *
 * Cause on the old code: chokidar re-reads a folder on change at most once
 * per second (`_throttle('readdir', dir, 1000)` in its nodefs handler). When
 * a read lasts longer than that (a big folder while the service is busy),
 * the throttle's timer clears the entry and the count of changes that came
 * in during the read is lost, so the "one more read" at its end never
 * happens: files written during the read are not reported until some later
 * change in that folder.
 */
import { execFile } from 'child_process';
import { promisify } from 'util';
import type { IFileEvent } from '../../../../src/core/types';
import { FileMonitor } from '../../../../src/service/monitors/fileMonitor';
import { makeWorkgroup, removeWorkgroup, until } from '../../../helpers/workgroup';

const run = promisify(execFile);

/** Keep this process's event loop as loaded as a busy service's. */
function loadEventLoop(): () => void {
  const timer = setInterval(() => {
    const end = Date.now() + 45;
    while (Date.now() < end) {
      /* busy, like hashing and writing job files */
    }
  }, 50);
  return () => clearInterval(timer);
}

describe('FileMonitor under a burst into one folder', () => {
  let root: string;
  let monitor: FileMonitor | undefined;
  afterEach(async () => {
    await monitor?.stop();
    monitor = undefined;
    await removeWorkgroup(root);
  });

  it('reports every one of 2,000 files written quickly into bulk/ without a later event', async () => {
    root = await makeWorkgroup({ 'bulk/.keep': '' });
    const events: IFileEvent[] = [];
    monitor = new FileMonitor({ root, settleMs: 50, onEvent: e => events.push(e) });
    await monitor.start();
    const stopLoad = loadEventLoop();
    // Another process writes them, as an instrument or a script would.
    await run(process.execPath, [
      '-e',
      `const fs=require('fs');for(let i=0;i<2000;i++)fs.writeFileSync(process.argv[1]+'/bulk/f'+String(i).padStart(4,'0')+'.dat','x'+i)`,
      root
    ]);
    await new Promise(r => setTimeout(r, 3000));
    stopLoad();
    const created = () => new Set(events.filter(e => e.kind === 'created').map(e => e.path));
    await until(() => created().size >= 2000, 15000, 'all 2,000 created events').catch(() => undefined);
    expect(2000 - created().size).toBe(0);
    expect(events.filter(e => e.kind === 'created')).toHaveLength(2000);
  });
});
