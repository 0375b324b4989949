/**
 * The remote Jupyter executor against real servers meow does not own: a
 * second Jupyter Server on loopback with its own token, and a Jupyter
 * Enterprise Gateway. Whole workflows run through a MeowRunner whose
 * default executor is the remote one; timeouts, cancel, kernel death, a
 * wrong token and a server killed mid-job are checked on real kernels.
 * No mocks.
 */
import { execFile } from 'child_process';
import { promises as fs, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { ExecutorSet, IExecutor } from '../../../src/service/executors/executor';
import { RemoteJupyterExecutor } from '../../../src/service/executors/jupyter';
import { findFreePort, PrivateJupyterServer } from '../../../src/service/jupyter';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import type { IExecutionResult } from '../../../src/service/tokens';
import { recipeNotebook, writeFile } from '../../helpers/workgroup';
import { kernelPids, notebook, readResult, request, text, waitFor } from '../conductor/helpers';
import { Gateway, killProcessesUnder, REPO, settleProcesses } from './gateway';

jest.setTimeout(300_000);

const ALPHA =
  'This is the starting state of Alpha\nThis line was added by Pattern_One\nThis line was added by Pattern_Two';

/** A temporary folder, its real path (the kernels' cwd is compared with it). */
async function tempRoot(prefix: string): Promise<string> {
  return realpathSync(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}

/** The foundational example, without its jobs, in `dest`. */
async function copyFoundational(dest: string): Promise<void> {
  await fs.cp(path.join(REPO, 'examples', 'foundational'), dest, { recursive: true });
  await fs.rm(path.join(dest, '.meow', 'jobs'), { recursive: true, force: true });
}

/** A local executor that must not be used: it records what it was given and fails it. */
function unusedLocal(calls: string[]): IExecutor {
  return {
    kind: 'local',
    name: 'unused-local',
    describe: () => 'not used by these tests',
    start: async () => undefined,
    execute: async req => {
      calls.push(req.job.id);
      return { status: 'failed', error: { message: 'ran on the local executor' }, filesWritten: [] };
    },
    dispose: async () => undefined
  };
}

/** Run the workgroup at `root` until idle with `remote` as the default executor; its jobs by trigger. */
async function runWorkflow(
  root: string,
  remote: RemoteJupyterExecutor
): Promise<{ jobs: IJob[]; log: RecordingLogger }> {
  const log = new RecordingLogger();
  const localCalls: string[] = [];
  const executors = new ExecutorSet({
    executors: { local: unusedLocal(localCalls), jupyter: remote },
    defaultKind: 'jupyter',
    log
  });
  const runner = new MeowRunner({ root, settleMs: 50, executors, log, workers: 2, timeoutMs: 240_000 });
  try {
    await runner.start();
    await runner.waitUntilIdle();
    const jobs = runner.store
      .list()
      .sort((a, b) => `${a.pattern} ${a.trigger.path}`.localeCompare(`${b.pattern} ${b.trigger.path}`));
    expect(localCalls).toEqual([]);
    return { jobs, log };
  } finally {
    await runner.stop();
  }
}

/** Run a job that prints `started` and sleeps; resolves once it printed. */
async function startSleeper(
  executor: RemoteJupyterExecutor,
  cwd: string,
  extra: Parameters<typeof request>[2] = {}
): Promise<{ running: Promise<IExecutionResult>; kernelId: string }> {
  const req = request(cwd, notebook(['print("started", flush=True)\nimport time\ntime.sleep(240)']), extra);
  const running = executor.execute(req);
  await waitFor(
    async () => text((await readResult(req).catch(() => undefined))?.cells[0].outputs?.[0] ?? {}) === 'started\n',
    120_000,
    'the job to print "started"'
  );
  const ids = executor.conductor.kernelIds;
  expect(ids).toHaveLength(1); // no pool: the job's own kernel
  return { running, kernelId: ids[0] };
}

/**
 * The checks both kinds of server must pass, on an executor made by
 * `make` (a new one per use: a runner disposes its executors).
 */
function commonChecks(ctx: {
  root: () => string;
  make: (o?: Partial<RemoteJupyterExecutor.IOptions>) => RemoteJupyterExecutor;
}) {
  let executor: RemoteJupyterExecutor;
  let direct: string;

  beforeAll(async () => {
    direct = path.join(ctx.root(), 'direct');
    await fs.mkdir(direct, { recursive: true });
    executor = ctx.make();
    await executor.start();
  });

  afterAll(async () => {
    await executor?.dispose();
  });

  it('runs a job: outputs exact, files written recorded, kernel shut down after', async () => {
    const req = request(direct, notebook(['import os\nprint(os.getcwd())', "open('out.txt', 'w').write('x')\n6 * 7"]));
    const result = await executor.execute(req);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('done');
    expect(result.retryable).toBeUndefined();
    const nb = await readResult(req);
    // The setup cell moved the remote kernel into the workgroup (same filesystem).
    expect(nb.cells[0].outputs!.map(text)).toEqual([`${direct}\n`]);
    expect(nb.cells[1].outputs!.map(o => [o.output_type, text(o)])).toEqual([['execute_result', '42']]);
    expect(result.filesWritten).toEqual([path.join(direct, 'out.txt')]);
    expect(executor.conductor.kernelIds).toEqual([]);
  });

  it('a failing notebook is failed with its traceback, not retryable', async () => {
    const req = request(direct, notebook(['x = 1', "raise ValueError('bad input')"]));
    const result = await executor.execute(req);
    expect(result.status).toBe('failed');
    expect(result.retryable).toBeUndefined();
    expect(result.error?.message).toBe('cell 2 raised ValueError: bad input');
    expect(result.error?.ename).toBe('ValueError');
    expect(result.error?.traceback?.join('\n')).toMatch(/ValueError: bad input/);
    expect(result.error?.cell).toBe(1);
  });

  it('stdin is off: input() fails the job instead of hanging', async () => {
    const result = await executor.execute(request(direct, notebook(['name = input("name? ")'])));
    expect(result.status).toBe('failed');
    expect(result.error?.ename).toBe('StdinNotImplementedError');
  });

  it('cancelling a running job interrupts it and shuts its kernel down', async () => {
    const controller = new AbortController();
    const { running, kernelId } = await startSleeper(executor, direct, { signal: controller.signal });
    const pids = kernelPids(kernelId);
    expect(pids.length).toBeGreaterThan(0);
    controller.abort('cancelled by the test');
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toBe('cancelled while running cell 1: cancelled by the test');
    expect(executor.conductor.kernelIds).toEqual([]);
    await waitFor(() => kernelPids(kernelId).length === 0, 60_000, "the cancelled job's kernel to exit");
  });

  it('a job past its timeout is failed, interrupted and its kernel shut down', async () => {
    const req = request(direct, notebook(['import time\ntime.sleep(240)']), { timeoutMs: 3000 });
    const result = await executor.execute(req);
    expect(result.status).toBe('failed');
    expect(result.retryable).toBeUndefined();
    expect(result.error?.message).toBe('timed out after 3 s in cell 1 (the kernel was interrupted and shut down)');
    expect(executor.conductor.kernelIds).toEqual([]);
  });

  it('a kernel killed with kill -9 fails its job with the kernel-death message, not retryable', async () => {
    const { running, kernelId } = await startSleeper(executor, direct);
    const pids = kernelPids(kernelId);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      process.kill(pid, 'SIGKILL');
    }
    const result = await running;
    expect(result.status).toBe('failed');
    expect(result.retryable).toBeUndefined();
    expect(result.error?.message).toMatch(/^kernel died while running cell 1 \(/);
    expect(executor.conductor.kernelIds).toEqual([]);
  });
}

describe('RemoteJupyterExecutor on a second Jupyter Server (own token)', () => {
  let root: string;
  let server: PrivateJupyterServer;
  const make = (o: Partial<RemoteJupyterExecutor.IOptions> = {}) =>
    new RemoteJupyterExecutor({ url: server.url, token: server.token, workers: 2, ...o });

  beforeAll(async () => {
    root = await tempRoot('meow-remote-jupyter-');
    // Not restarted when killed: a server we do not own stays dead.
    server = new PrivateJupyterServer({ rootDir: root, restart: false });
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
    const left = await settleProcesses(root);
    await killProcessesUnder(root);
    await fs.rm(root, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('start() checks the token and the URL and says how to fix them', async () => {
    const wrong = make({ token: 'not-the-token' });
    await expect(wrong.start()).rejects.toThrow(
      `the Jupyter server at ${server.url} refused the token (HTTP 403); pass --jupyter-token or set MEOW_JUPYTER_TOKEN`
    );
    await wrong.dispose();

    const port = await findFreePort();
    const nowhere = make({ url: `http://127.0.0.1:${port}/lab?token=abc`, token: undefined, startWaitMs: 1500 });
    await expect(nowhere.start()).rejects.toThrow(
      new RegExp(
        `^no Jupyter server answers at http://127\\.0\\.0\\.1:${port}/ \\(cannot reach .*ECONNREFUSED.*--jupyter-url`
      )
    );
    expect(nowhere.describe()).not.toMatch(/abc/);
    await nowhere.dispose();

    const ok = make();
    await ok.start();
    expect(ok.describe()).toBe(`kernels of the Jupyter server at ${server.url} (2 at once)`);
    expect(ok.describe()).not.toContain(server.token);
    expect(ok.isGateway).toBe(false);
    await ok.dispose();
  });

  it('runs the foundational example through a MeowRunner: jobs done, exact outputs, executor jupyter; a failing recipe fails with its traceback', async () => {
    const wg = path.join(root, 'foundational');
    await copyFoundational(wg);
    await writeFile(
      wg,
      '.meow/recipes/Boom.ipynb',
      recipeNotebook({ infile: "''" }, "raise ValueError('boom ' + infile)\n")
    );
    await writeFile(
      wg,
      '.meow/patterns/Boom.yaml',
      'recipe: Boom\ntrigger:\n  path: "start/Alpha.txt"\ninput: infile\n'
    );
    const { jobs, log } = await runWorkflow(wg, make());
    expect(log.text('info')).toContain(`kernels of the Jupyter server at ${server.url} (2 at once)`);
    expect(jobs.map(j => [j.pattern, j.trigger.path, j.status, j.executor])).toEqual([
      ['Boom', 'start/Alpha.txt', 'failed', 'jupyter'],
      ['Pattern_One', 'start/Alpha.txt', 'done', 'jupyter'],
      ['Pattern_One', 'start/Bravo.txt', 'done', 'jupyter'],
      ['Pattern_Two', 'first/Alpha.txt', 'done', 'jupyter'],
      ['Pattern_Two', 'first/Bravo.txt', 'done', 'jupyter']
    ]);
    expect(await fs.readFile(path.join(wg, 'second', 'Alpha.txt'), 'utf8')).toBe(ALPHA);
    const boom = jobs[0];
    expect(boom.error?.ename).toBe('ValueError');
    expect(boom.error?.traceback?.join('\n')).toMatch(/ValueError: boom .*start\/Alpha\.txt/);
    // Provenance: the writes log worked in the remote kernel.
    const one = jobs.find(j => j.pattern === 'Pattern_One' && j.trigger.path === 'start/Alpha.txt')!;
    const two = jobs.find(j => j.pattern === 'Pattern_Two' && j.trigger.path === 'first/Alpha.txt')!;
    expect(one.filesWritten.map(f => f.replace(wg + '/', ''))).toEqual(['first/Alpha.txt']);
    expect(two.parent).toBe(one.id);
    const record = await fs.readFile(path.join(wg, '.meow', 'jobs', one.id, 'job.yaml'), 'utf8');
    expect(record).toMatch(/^executor: jupyter$/m);
  });

  it('meow run --executor jupyter --jupyter-url URL runs the workflow on that server (token from $MEOW_JUPYTER_TOKEN)', async () => {
    const wg = path.join(root, 'cli');
    await copyFoundational(wg);
    const out = await new Promise<{ code: number | null; text: string }>(resolve => {
      const child = execFile(
        process.execPath,
        [
          path.join(REPO, 'jupyterlab_meow', 'service', 'meow.js'),
          'run',
          wg,
          '--executor',
          'jupyter',
          '--jupyter-url',
          server.url,
          '--until-idle'
        ],
        {
          env: {
            ...process.env,
            MEOW_JUPYTER_TOKEN: server.token,
            MEOW_PYTHON: path.join(REPO, '.venv', 'bin', 'python')
          },
          timeout: 240_000
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr })
      );
      child.stdin?.end();
    });
    expect(out.text).toMatch(/idle — jobs: 4 done/);
    expect(out.code).toBe(0);
    expect(out.text).toContain(`executor jupyter (default): kernels of the Jupyter server at ${server.url}`);
    expect(out.text).not.toContain(server.token);
    expect(await fs.readFile(path.join(wg, 'second', 'Alpha.txt'), 'utf8')).toBe(ALPHA);
  });

  describe('jobs', () => {
    commonChecks({ root: () => root, make });
  });

  it('the server killed mid-job: the job comes back retryable, naming the server', async () => {
    // A server of its own, so the others' tests keep theirs.
    const root2 = await tempRoot('meow-remote-killed-');
    const doomed = new PrivateJupyterServer({ rootDir: root2, restart: false });
    await doomed.start();
    const executor = new RemoteJupyterExecutor({ url: doomed.url, token: doomed.token, serverWaitMs: 5000 });
    try {
      await executor.start();
      const { running, kernelId } = await startSleeper(executor, root2);
      const pids = kernelPids(kernelId);
      process.kill(doomed.pid!, 'SIGKILL');
      const result = await running;
      expect(result.status).toBe('failed');
      expect(result.retryable).toBe(true);
      expect(result.error?.message).toMatch(
        new RegExp(
          `^the Jupyter server at ${doomed.url.replace(/\./g, '\\.')} does not answer \\(.*\\) while running cell 1; not the job's fault`
        )
      );
      // ipykernel exits when its server is gone.
      expect(pids.length).toBeGreaterThan(0);
      await waitFor(() => kernelPids(kernelId).length === 0, 60_000, 'the orphaned kernel to exit');
      // A job while the server is down waits a little, then is retryable too.
      const next = await executor.execute(request(root2, notebook(['1'])));
      expect(next.retryable).toBe(true);
      expect(next.error?.message).toMatch(
        /^the Jupyter server is not available: the Jupyter server at .* did not answer within 5 s/
      );
    } finally {
      await executor.dispose();
      await doomed.stop();
      const left = await settleProcesses(root2);
      await killProcessesUnder(root2);
      await fs.rm(root2, { recursive: true, force: true });
      expect(left).toEqual([]);
    }
  });
});

describe('RemoteJupyterExecutor on Jupyter Enterprise Gateway', () => {
  let root: string;
  let gateway: Gateway | undefined;
  const make = (o: Partial<RemoteJupyterExecutor.IOptions> = {}) =>
    new RemoteJupyterExecutor({ url: gateway!.url, token: gateway!.token, workers: 2, ...o });

  beforeAll(async () => {
    root = await tempRoot('meow-remote-eg-');
    // Fails (with EG's output) rather than skips when EG cannot start.
    gateway = await Gateway.start({ cwd: root });
  });

  afterAll(async () => {
    await gateway?.stop();
    await killProcessesUnder(root);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('start() recognises the gateway and refuses a wrong token clearly', async () => {
    const wrong = make({ token: 'not-the-token' });
    // EG answers 401 where Jupyter Server answers 403.
    await expect(wrong.start()).rejects.toThrow(
      `the Jupyter server at ${gateway!.url} refused the token (HTTP 401); pass --jupyter-token or set MEOW_JUPYTER_TOKEN`
    );
    await wrong.dispose();
    const ok = make({ workers: 4 });
    await ok.start();
    expect(ok.isGateway).toBe(true);
    expect(ok.describe()).toBe(`kernels of the Jupyter Enterprise Gateway at ${gateway!.url} (4 at once)`);
    expect(ok.describe()).not.toContain(gateway!.token);
    await ok.dispose();
  });

  it('runs the foundational example through a MeowRunner: four jobs done, exact output, executor jupyter', async () => {
    const wg = path.join(root, 'foundational');
    await copyFoundational(wg);
    const { jobs } = await runWorkflow(wg, make());
    expect(jobs.map(j => [j.pattern, j.trigger.path, j.status, j.executor])).toEqual([
      ['Pattern_One', 'start/Alpha.txt', 'done', 'jupyter'],
      ['Pattern_One', 'start/Bravo.txt', 'done', 'jupyter'],
      ['Pattern_Two', 'first/Alpha.txt', 'done', 'jupyter'],
      ['Pattern_Two', 'first/Bravo.txt', 'done', 'jupyter']
    ]);
    expect(await fs.readFile(path.join(wg, 'second', 'Alpha.txt'), 'utf8')).toBe(ALPHA);
    const two = jobs.find(j => j.pattern === 'Pattern_Two' && j.trigger.path === 'first/Alpha.txt')!;
    expect(two.parent).toBe(jobs.find(j => j.pattern === 'Pattern_One' && j.trigger.path === 'start/Alpha.txt')!.id);
  });

  describe('jobs', () => {
    commonChecks({ root: () => root, make });
  });

  it('kernels a killed meow left on the gateway are shut down at the next start, though EG forbids listing kernels', async () => {
    const kernelsFile = path.join(root, 'kernels-remote.json');
    const first = make({ kernelsFile });
    const log = new RecordingLogger();
    const second = make({ kernelsFile, log });
    try {
      await first.start();
      const { running, kernelId } = await startSleeper(first, path.join(root, 'direct'));
      expect(kernelPids(kernelId).length).toBeGreaterThan(0);
      // The first meow "was killed": its successor starts while its kernel still runs.
      await second.start();
      expect(log.text()).toMatch(/shut down 1 kernel\(s\) left running by an earlier run of the service/);
      expect(log.text('warn')).toBe('');
      await waitFor(() => kernelPids(kernelId).length === 0, 60_000, 'the left kernel to exit');
      expect((await running).status).toBe('failed');
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });

  it('EG killed mid-job: the job comes back retryable, naming the gateway', async () => {
    const root3 = await tempRoot('meow-remote-eg-killed-');
    const doomed = await Gateway.start({ cwd: root3 });
    const executor = new RemoteJupyterExecutor({ url: doomed.url, token: doomed.token, serverWaitMs: 5000 });
    try {
      await executor.start();
      const { running } = await startSleeper(executor, root3);
      process.kill(doomed.pid!, 'SIGKILL');
      const result = await running;
      expect(result.status).toBe('failed');
      expect(result.retryable).toBe(true);
      expect(result.error?.message).toMatch(
        new RegExp(
          `^the Jupyter server at ${doomed.url.replace(/\./g, '\\.')} does not answer \\(.*\\) while running cell 1; not the job's fault`
        )
      );
    } finally {
      await executor.dispose();
      await doomed.stop();
      const left = await settleProcesses(root3, 30_000);
      await killProcessesUnder(root3);
      await fs.rm(root3, { recursive: true, force: true });
      expect(left).toEqual([]);
    }
  });

  it('once EG is stopped, no process is left in the test folder', async () => {
    await gateway!.stop();
    const left = await settleProcesses(root);
    if (left.length) {
      console.log(`Enterprise Gateway output:\n${gateway!.tail(60)}`);
    }
    expect(left).toEqual([]);
  });
});
