/**
 * FIFOs, sockets and devices matching a glob are skipped with a warning and
 * never opened (opening a FIFO blocks a libuv thread for good).
 */
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { NotRegularFileError, sha256File } from '../../../../src/service/fsutil';
import { silentLogger } from '../../../../src/service/log';
import { walkWorkgroup } from '../../../../src/service/monitors/fileMonitor';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, quiet, startMonitor } from './helpers';

async function listen(file: string): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(file, () => resolve()));
  return server;
}

describe('non-regular files', () => {
  let root: string;
  let run: IRunning | undefined;
  let server: net.Server | undefined;
  afterEach(async () => {
    await run?.monitor.stop();
    run = undefined;
    server?.close();
    server = undefined;
    await removeWorkgroup(root);
  });

  it('sha256File refuses FIFOs and sockets at once, without opening them', async () => {
    root = await makeWorkgroup({ 'h/real.txt': 'abc' });
    execFileSync('mkfifo', [path.join(root, 'h/p')]);
    server = await listen(path.join(root, 'h/s'));
    // Five FIFOs: before, each blocked a libuv thread (there are four).
    for (let i = 0; i < 5; i++) {
      execFileSync('mkfifo', [path.join(root, `h/p${i}`)]);
    }
    const fifo = await sha256File(path.join(root, 'h/p')).catch(e => e);
    expect(fifo).toBeInstanceOf(NotRegularFileError);
    expect(fifo.message).toMatch(/h\/p is a FIFO \(named pipe\), not a regular file/);
    await expect(sha256File(path.join(root, 'h/s'))).rejects.toThrow(/is a socket/);
    const all = await Promise.all([0, 1, 2, 3, 4].map(i => sha256File(path.join(root, `h/p${i}`)).catch(e => e.code)));
    expect(all).toEqual(Array(5).fill('ENOTREGULAR'));
    expect(await sha256File(path.join(root, 'h/real.txt'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    );
    expect(await sha256File(path.join(root, 'h/none'))).toBeUndefined();
    expect(await sha256File(path.join(root, 'h'))).toBeUndefined();
  });

  it('the monitor and the walker skip them with a warning naming the path; files still work', async () => {
    root = await makeWorkgroup({ 'h/.keep': '' });
    run = await startMonitor(root);
    execFileSync('mkfifo', [path.join(root, 'h/pipe')]);
    server = await listen(path.join(root, 'h/sock'));
    await writeFile(root, 'h/data.txt', 'd');
    await until(() => run!.events.some(e => e.path === 'h/data.txt'), 5000, 'the regular file');
    await quiet(run.monitor);
    await run.monitor.scan();
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created h/data.txt']);
    const warnings = run.log.text('warn');
    expect(warnings).toMatch(/h\/pipe is a FIFO \(named pipe\), not a regular file: meow does not open it/);
    expect(warnings).toMatch(/h\/sock is a socket/);
    // Said once each, not on every listing or scan.
    expect(warnings.match(/h\/pipe is a FIFO/g)).toHaveLength(1);
    await expect(run.monitor.hashOf('h/pipe')).rejects.toBeInstanceOf(NotRegularFileError);
    const walked: string[] = [];
    for await (const rel of walkWorkgroup(root, 'h', '.meow', silentLogger)) {
      walked.push(rel);
    }
    expect(walked).toEqual(['h/.keep', 'h/data.txt']);
    const started = Date.now();
    await run.monitor.stop();
    run = undefined;
    expect(Date.now() - started).toBeLessThan(2000);
    await fs.rm(path.join(root, 'h/pipe'));
  });
});
