/**
 * A private Jupyter server killed with SIGKILL: it is restarted, the job
 * that was running comes back quickly as retryable, later jobs run on the
 * new server, and failures of the job's own making stay not retryable.
 */
import { promises as fsp, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI } from '@jupyterlab/services';
import { KernelConductor, IKernelExecutionResult } from '../../../src/service/conductors';
import { findFreePort, fixedServerLink, makeServerSettings, PrivateJupyterServer } from '../../../src/service/jupyter';
import { alive, kernelPids, notebook, readResult, request, text, waitFor } from './helpers';

jest.setTimeout(180_000);

let root: string;
let server: PrivateJupyterServer;
let conductor: KernelConductor;
const logLines: string[] = [];
const log = (m: string) => logLines.push(m);

beforeAll(async () => {
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-server-death-')));
  server = new PrivateJupyterServer({ rootDir: root, log });
  await server.start();
  conductor = new KernelConductor({ server, poolSize: 1, log });
  await conductor.start();
});

afterAll(async () => {
  await conductor?.dispose();
  await server?.stop();
  if (root) {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

describe('a private Jupyter server killed with SIGKILL', () => {
  it('is restarted; the running job comes back retryable within seconds; later jobs run', async () => {
    const oldUrl = server.url;
    const oldPid = server.pid!;
    const restarted = new Promise(resolve => server.once('restart', resolve));
    const req = request(root, notebook(['print("started", flush=True)\nimport time\ntime.sleep(120)']));
    const running = conductor.execute(req) as Promise<IKernelExecutionResult>;
    await waitFor(
      async () => text((await readResult(req).catch(() => undefined))?.cells[0].outputs?.[0] ?? {}) === 'started\n',
      60_000,
      'the job to print'
    );
    const kernelId = conductor.kernelIds.find(id => !conductor.pooledKernelIds.includes(id))!;
    const pids = kernelPids(kernelId);
    expect(pids.length).toBeGreaterThan(0);

    const t0 = Date.now();
    process.kill(oldPid, 'SIGKILL');
    const result = await running;
    const took = Date.now() - t0;
    expect(result.status).toBe('failed');
    expect(result.retryable).toBe(true);
    expect(result.error?.message).toMatch(
      /Jupyter server .* (does not answer|was restarted).* while running cell 1; not the job's fault/
    );
    expect(took).toBeLessThan(10_000);

    await restarted;
    expect(server.restarts).toBe(1);
    expect(server.url).not.toBe(oldUrl);
    expect(logLines.some(l => /the private Jupyter server \(pid \d+, .*\) died \(SIGKILL\)/.test(l))).toBe(true);
    expect(logLines.some(l => /private Jupyter server restarted at/.test(l))).toBe(true);
    // ipykernel exits when its parent (the dead server) is gone.
    await waitFor(() => pids.every(pid => !alive(pid)), 10_000, 'the orphaned kernel to exit');

    const next = (await conductor.execute(request(root, notebook(['print(40 + 2)'])))) as IKernelExecutionResult;
    expect(next.error).toBeUndefined();
    expect(next.status).toBe('done');
    expect(next.retryable).toBeUndefined();
    // the pool refills on the new server
    await conductor.whenPoolReady();
    const running2 = (await KernelAPI.listRunning(server.serverSettings)).map(k => k.id);
    expect(running2.sort()).toEqual(conductor.pooledKernelIds.sort());
  });

  it('a job started while the server restarts waits for it and runs', async () => {
    const restarted = new Promise(resolve => server.once('restart', resolve));
    process.kill(server.pid!, 'SIGKILL');
    await waitFor(() => server.isRestarting, 5_000, 'the restart to begin');
    const result = await conductor.execute(request(root, notebook(['print("ran")'])));
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('done');
    await restarted;
    expect(server.restarts).toBe(2);
  });

  it('a new conductor started while the server restarts waits for it', async () => {
    process.kill(server.pid!, 'SIGKILL');
    await waitFor(() => server.isRestarting, 5_000, 'the restart to begin');
    const other = new KernelConductor({ server, poolSize: 1, log });
    try {
      await other.start();
      expect(other.pooledKernelIds).toHaveLength(1);
      const result = await other.execute(request(root, notebook(['1 + 1'])));
      expect(result.status).toBe('done');
    } finally {
      await other.dispose();
    }
  });

  it('keeps failures of the job itself not retryable', async () => {
    const exit = await conductor.execute(request(root, notebook(['import os\nos._exit(1)'])));
    expect(exit.status).toBe('failed');
    expect(exit.error?.message).toMatch(/^kernel died while running cell 1/);
    expect(exit.retryable).toBeFalsy();

    const raised = await conductor.execute(request(root, notebook(['1 / 0'])));
    expect(raised.status).toBe('failed');
    expect(raised.retryable).toBeFalsy();

    const spec = await conductor.execute(request(root, notebook(['1'], 'no-such-kernel')));
    expect(spec.error?.message).toMatch(/kernelspec "no-such-kernel" is not available/);
    expect(spec.retryable).toBeFalsy();

    const slow = await conductor.execute(request(root, notebook(['import time\ntime.sleep(30)']), { timeoutMs: 1500 }));
    expect(slow.error?.message).toMatch(/^timed out after 1.5 s in cell 1/);
    expect(slow.retryable).toBeFalsy();
  });
});

describe('a Jupyter server that does not answer', () => {
  it('makes jobs retryable after the bounded wait, with a clear message', async () => {
    const port = await findFreePort(); // nothing listens there
    const dead = new KernelConductor({
      server: fixedServerLink(makeServerSettings(`http://127.0.0.1:${port}/`, 'x')),
      poolSize: 0,
      serverWaitMs: 1000
    });
    const t0 = Date.now();
    const result = await dead.execute(request(root, notebook(['1'])));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(result.status).toBe('failed');
    expect(result.retryable).toBe(true);
    expect(result.error?.message).toMatch(
      /^the Jupyter server is not available: the Jupyter server at http:\/\/127\.0\.0\.1:\d+\/ did not answer within 1 s \(cannot reach .*ECONNREFUSED\); check that it is running/
    );
    await expect(dead.start()).rejects.toThrow(/cannot reach the Jupyter server at http:\/\/127\.0\.0\.1:\d+\//);
    await dead.dispose();
  });
});
