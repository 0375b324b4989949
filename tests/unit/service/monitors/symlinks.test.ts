/**
 * Symlink policy: folder symlinks are not followed; a file symlink is a
 * file when it resolves inside the workgroup and refused otherwise.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RecordingLogger } from '../../../../src/service/log';
import { walkWorkgroup } from '../../../../src/service/monitors/fileMonitor';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, quiet, startMonitor } from './helpers';

describe('symlinks', () => {
  let root: string;
  let outside: string;
  let run: IRunning | undefined;
  beforeEach(async () => {
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-outside-'));
    await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
  });
  afterEach(async () => {
    await run?.monitor.stop();
    run = undefined;
    await removeWorkgroup(root);
    await removeWorkgroup(outside);
  });

  it('ln -s . h/selfdir: the walker and the monitor give the real files once', async () => {
    root = await makeWorkgroup({ 'h/a.txt': 'a', 'h/b.txt': 'b' });
    await fs.symlink('.', path.join(root, 'h/selfdir'));
    const log = new RecordingLogger();
    const walked: string[] = [];
    for await (const rel of walkWorkgroup(root, 'h', '.meow', log)) {
      walked.push(rel);
    }
    expect(walked).toEqual(['h/a.txt', 'h/b.txt']);
    expect(log.text()).toMatch(/directory symlink h\/selfdir is not followed/);

    run = await startMonitor(root);
    await fs.symlink('.', path.join(root, 'h/again'));
    await writeFile(root, 'h/c.txt', 'c');
    await until(() => run!.events.some(e => e.path === 'h/c.txt'), 5000, 'h/c.txt');
    await quiet(run.monitor);
    await run.monitor.scan();
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created h/c.txt']);
    expect(run.log.text().match(/directory symlink h\/again is not followed/g)).toHaveLength(1);
  });

  it('a file symlink inside the workgroup is a file; one to a file outside is refused', async () => {
    root = await makeWorkgroup({ 'h/.keep': '', 'data/real.txt': 'r' });
    run = await startMonitor(root);
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'h/out.txt'));
    await fs.symlink('../data/real.txt', path.join(root, 'h/in.txt'));
    await until(() => run!.events.some(e => e.path === 'h/in.txt'), 5000, 'h/in.txt');
    await quiet(run.monitor);
    await run.monitor.scan();
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created h/in.txt']);
    const warn = run.log.text('warn');
    expect(warn).toContain(
      `symlink h/out.txt points to ${await fs.realpath(path.join(outside, 'secret.txt'))}, outside the workgroup`
    );
    expect(warn.match(/symlink h\/out\.txt points/g)).toHaveLength(1);
    const walked: string[] = [];
    for await (const rel of walkWorkgroup(root, '', '.meow', run.log)) {
      walked.push(rel);
    }
    expect(walked).toEqual(['data/real.txt', 'h/.keep', 'h/in.txt']);
  });
});
