/**
 * Kernels killed while pooled, starting or running, with jobs in parallel:
 * each affected job fails (or gets another kernel), the service never sees
 * an unhandled rejection or an uncaught exception, and no kernel is left.
 */
import { promises as fsp, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI } from '@jupyterlab/services';
import { KernelConductor } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';
import type { IExecutionResult } from '../../../src/service/tokens';
import { SafeKernelConnection } from '../../../src/service/conductors/connection';
import { kernelPids, notebook, request, waitFor } from './helpers';

jest.setTimeout(240_000);

let root: string;
let server: PrivateJupyterServer;
const problems: string[] = [];
const onRejection = (reason: unknown) =>
  problems.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
const onException = (err: Error) => problems.push(`uncaughtException: ${err.stack}`);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-kernel-faults-')));
  server = new PrivateJupyterServer({ rootDir: root });
  await server.start();
});

afterAll(async () => {
  process.removeListener('unhandledRejection', onRejection);
  process.removeListener('uncaughtException', onException);
  await server?.stop();
  if (root) {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

/** SIGKILL the processes of kernels on the server, each with probability `p`. */
async function killSome(p: number): Promise<number> {
  let killed = 0;
  const kernels = await KernelAPI.listRunning(server.serverSettings).catch(() => []);
  for (const k of kernels) {
    if (Math.random() < p) {
      for (const pid of kernelPids(k.id)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
      }
    }
  }
  return killed;
}

it('survives kernels killed while pooled, starting and running, two workers at a time', async () => {
  const log: string[] = [];
  const t0 = Date.now();
  const stamp = (m: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1)} ${m}`);
  const conductor = new KernelConductor({ server, poolSize: 2, log: stamp, kernelStartTimeoutMs: 20_000 });
  await conductor.start();
  let killing = true;
  let kills = 0;
  const killer = (async () => {
    while (killing && Date.now() - t0 < 40_000) {
      const n = await killSome(0.2);
      if (n) {
        stamp(`killed ${n}`);
      }
      kills += n;
      await new Promise(r => setTimeout(r, 200 + Math.random() * 500));
    }
  })();

  const results: IExecutionResult[] = [];
  const worker = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const code = i % 2 ? 'import time\ntime.sleep(0.3)\nprint("ok")' : 'print("ok")';
      const started = Date.now();
      const r = await conductor.execute(request(root, notebook([code, 'x = 1'])));
      stamp(`job ${n}/${i}: ${r.status} after ${Date.now() - started} ms ${r.error?.message ?? ''}`);
      results.push(r);
    }
  };
  try {
    await Promise.all([worker(8), worker(8)]);
  } catch (err) {
    console.log(log.join('\n'));
    throw err;
  }
  killing = false;
  await killer;
  expect(kills).toBeGreaterThan(3);

  // Every job ended with a clear outcome; the server was fine, so none is retryable.
  expect(results).toHaveLength(16);
  for (const r of results) {
    expect(['done', 'failed']).toContain(r.status);
    expect(r.retryable).toBeFalsy();
    if (r.status === 'failed') {
      expect(r.error?.message).toMatch(
        /^(kernel died (while running cell \d|while preparing the kernel)|could not start a "python3" kernel: .*tried twice|lost contact with the kernel)/
      );
    }
  }

  // Undisturbed, jobs run again.
  await new Promise(r => setTimeout(r, 2000));
  for (let i = 0; i < 2; i++) {
    const r = await conductor.execute(request(root, notebook(['print("after")'])));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('done');
  }

  await conductor.dispose();
  expect(await KernelAPI.listRunning(server.serverSettings)).toEqual([]);
  expect(problems).toEqual([]);
});

it('a kernel that dies while its kernel_info request is pending rejects nothing unhandled', async () => {
  // The crash under load: the library sends kernel_info when the websocket
  // connects and chains on it without a catch; the server auto-restarts the
  // dead kernel, the library cancels the pending request, and the chain rejects.
  const before = problems.length;
  const model = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
  const pids = kernelPids(model.id);
  expect(pids.length).toBeGreaterThan(0);
  const messages: string[] = [];
  const connection = new SafeKernelConnection({ model, serverSettings: server.serverSettings, handleComms: false }, m =>
    messages.push(m)
  );
  const statuses: string[] = [];
  connection.statusChanged.connect((_, s) => statuses.push(s));
  connection.connectionStatusChanged.connect((_, s) => {
    if (s === 'connected') {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
  try {
    await waitFor(() => statuses.includes('autorestarting'), 30_000, 'the server to restart the kernel');
    await new Promise(r => setTimeout(r, 500));
    expect(messages.some(m => /kernel_info to kernel .* failed: Canceled future for kernel_info_request/.test(m))).toBe(
      true
    );
  } finally {
    connection.dispose();
    await KernelAPI.shutdownKernel(model.id, server.serverSettings).catch(() => undefined);
  }
  expect(problems.slice(before)).toEqual([]);
});
