/**
 * The kernel conductor against a real private Jupyter Server (spec §5).
 * One server for the whole file; every job gets its own kernel.
 */
import { promises as fsp, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI, KernelConnection } from '@jupyterlab/services';
import type { IJob, INotebook, INotebookCell } from '../../../src/core/types';
import type { IExecutionRequest } from '../../../src/service/tokens';
import { KernelConductor, IKernelExecutionResult } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';

jest.setTimeout(180_000);

let root: string;
let workgroup: string;
let server: PrivateJupyterServer;
let conductor: KernelConductor;
let counter = 0;
const logLines: string[] = [];

beforeAll(async () => {
  // @jupyterlab/services logs websocket and kernel status changes with console.debug.
  jest.spyOn(console, 'debug').mockImplementation(() => undefined);
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-conductor-')));
  workgroup = path.join(root, 'workgroup');
  await fsp.mkdir(workgroup);
  server = new PrivateJupyterServer({ rootDir: root });
  await server.start();
  conductor = new KernelConductor({
    serverSettings: server.serverSettings,
    poolSize: 1,
    log: m => logLines.push(`${new Date().toISOString()} ${expect.getState().currentTestName} ${m}`)
  });
  await conductor.start();
});

afterAll(async () => {
  await conductor?.dispose();
  await server?.stop();
  if (root) {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

type CellSpec = string | { markdown: string };

function notebook(cells: CellSpec[], kernel = 'python3'): INotebook {
  return {
    cells: cells.map((c, i): INotebookCell =>
      typeof c === 'string'
        ? { cell_type: 'code', id: `c${i}`, source: c, metadata: {}, outputs: [], execution_count: null }
        : { cell_type: 'markdown', id: `c${i}`, source: c.markdown, metadata: {} }
    ),
    metadata: { kernelspec: { name: kernel, display_name: kernel, language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

function request(nb: INotebook, extra: Partial<IExecutionRequest> = {}): IExecutionRequest {
  const id = `job-${++counter}`;
  const dir = path.join(workgroup, '.meow', 'jobs', id);
  return {
    job: { id } as IJob,
    notebook: nb,
    resultPath: path.join(dir, 'result.ipynb'),
    writesLogPath: path.join(dir, 'writes.log'),
    cwd: workgroup,
    timeoutMs: 0,
    signal: new AbortController().signal,
    ...extra
  };
}

async function readResult(req: IExecutionRequest): Promise<INotebook> {
  return JSON.parse(await fsp.readFile(req.resultPath, 'utf8'));
}

function text(output: any): string {
  const t = output.text ?? output.data?.['text/plain'] ?? '';
  return Array.isArray(t) ? t.join('') : t;
}

async function runningKernelIds(): Promise<string[]> {
  return (await KernelAPI.listRunning(server.serverSettings)).map(k => k.id);
}

describe('KernelConductor', () => {
  it('uses a pre-started kernel from the pool and replenishes it', async () => {
    const pooled = conductor.pooledKernelIds;
    expect(pooled).toHaveLength(1);
    const req = request(notebook(['print("pooled")']));
    const result = (await conductor.execute(req)) as IKernelExecutionResult;
    expect(result.status).toBe('done');
    expect(result.kernelId).toBe(pooled[0]);
    expect(result.pooled).toBe(true);
    await conductor.whenPoolReady();
    expect(conductor.pooledKernelIds).toHaveLength(1);
    expect(conductor.pooledKernelIds[0]).not.toBe(pooled[0]);
    // the used kernel is gone
    await conductor.whenShutdownsDone(); // shutdowns run in the background
    expect(await runningKernelIds()).not.toContain(pooled[0]);
  });

  it('writes outputs, execution counts and nbclient-style timing into result.ipynb', async () => {
    const progress: [number, number][] = [];
    const nb = notebook([
      'print("hello")',
      { markdown: '# untouched *markdown*' },
      '1 + 1',
      'import sys\nprint("a")\nprint("b", flush=True)\nsys.stderr.write("warn\\n")\nsys.stderr.flush()\nprint("c")',
      'from IPython.display import display, clear_output\n' +
        'h = display("old", display_id=True)\nh.update("new")\n' +
        'print("gone")\nclear_output(wait=True)\nprint("kept")'
    ]);
    const req = request(nb, { onProgress: (d, t) => progress.push([d, t]) });
    const result = await conductor.execute(req);
    expect(result).toMatchObject({ status: 'done', kernel: 'python3' });
    expect(result.error).toBeUndefined();
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4]
    ]);

    const out = await readResult(req);
    expect(out.cells).toHaveLength(5);
    expect(out.cells[1]).toEqual(nb.cells[1]);
    const [c0, , c2, c3, c4] = out.cells;
    expect(c0.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'hello\n' }]);
    expect(c0.execution_count).toBe(1);
    expect(c2.outputs).toEqual([
      { output_type: 'execute_result', execution_count: 2, data: { 'text/plain': '2' }, metadata: {} }
    ]);
    expect(c2.execution_count).toBe(2);
    expect(c3.outputs!.map(o => [o.name, o.text])).toEqual([
      ['stdout', 'a\nb\n'],
      ['stderr', 'warn\n'],
      ['stdout', 'c\n']
    ]);
    // clear_output(wait=True) removed the display and "gone"
    expect(c4.outputs!.map(text)).toEqual(['kept\n']);

    for (const c of [c0, c2, c3, c4]) {
      const exec = c.metadata.execution;
      expect(Object.keys(exec)).toEqual([
        'iopub.status.busy',
        'iopub.execute_input',
        'shell.execute_reply',
        'iopub.status.idle'
      ]);
      for (const v of Object.values(exec)) {
        expect(Number.isNaN(Date.parse(v as string))).toBe(false);
      }
      expect(typeof c.metadata.meow.duration_ms).toBe('number');
    }
  });

  it('applies display updates to earlier outputs', async () => {
    const req = request(
      notebook([
        'from IPython.display import display\nh = display("v1", display_id=True)',
        'h.update("v2")\nprint("updated")'
      ])
    );
    const result = await conductor.execute(req);
    expect(result.status).toBe('done');
    const out = await readResult(req);
    expect(out.cells[0].outputs!.map(text)).toEqual(["'v2'"]);
    expect(out.cells[1].outputs!.map(text)).toEqual(['updated\n']);
  });

  it('updates result.ipynb while a cell is still running', async () => {
    const req = request(notebook(['import time\nprint("first", flush=True)\ntime.sleep(2)\nprint("second")']));
    let finished = false;
    const running = conductor.execute(req).then(r => {
      finished = true;
      return r;
    });
    let seenMidRun: string | undefined;
    const deadline = Date.now() + 60_000;
    while (!finished && Date.now() < deadline) {
      try {
        const nb = await readResult(req); // must always be valid JSON
        const outputs = nb.cells[0].outputs ?? [];
        if (outputs.length && !finished) {
          seenMidRun = outputs.map(text).join('');
          break;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw err;
        }
      }
      await new Promise(r => setTimeout(r, 50));
    }
    expect(seenMidRun).toBe('first\n');
    expect(finished).toBe(false);
    const result = await running;
    expect(result.status).toBe('done');
    expect((await readResult(req)).cells[0].outputs!.map(text)).toEqual(['first\nsecond\n']);
  });

  it('stops at the first error and reports it', async () => {
    const req = request(notebook(['x = 1', 'x / 0', 'print("never")']));
    const result = await conductor.execute(req);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      message: 'cell 2 raised ZeroDivisionError: division by zero',
      ename: 'ZeroDivisionError',
      evalue: 'division by zero',
      cell: 1
    });
    const tb = result.error!.traceback!.join('\n');
    expect(tb).toContain('ZeroDivisionError');
    expect(tb).not.toContain('\u001b');
    const out = await readResult(req);
    expect(out.cells[1].outputs![0]).toMatchObject({ output_type: 'error', ename: 'ZeroDivisionError' });
    expect(out.cells[2].outputs).toEqual([]);
    expect(out.cells[2].execution_count).toBeNull();
    expect(out.cells[2].metadata.execution).toBeUndefined();
  });

  it('fails quickly when a cell asks for input()', async () => {
    const t0 = Date.now();
    const result = await conductor.execute(request(notebook(['name = input("name? ")'])));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(result.status).toBe('failed');
    expect(result.error?.ename).toBe('StdinNotImplementedError');
    expect(result.error?.message).toMatch(/^cell 1 raised StdinNotImplementedError/);
  });

  it('reports a kernel that dies (os._exit) as failed', async () => {
    const req = request(notebook(['print("before")', 'import os\nos._exit(1)', 'print("after")']));
    const result = (await conductor.execute(req)) as IKernelExecutionResult;
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe(
      'kernel died while running cell 2 (the process exited; it may have run out of memory or called os._exit)'
    );
    expect(result.error?.cell).toBe(1);
    await conductor.whenShutdownsDone(); // shutdowns run in the background
    expect(await runningKernelIds()).not.toContain(result.kernelId);
    const out = await readResult(req);
    expect(out.cells[0].outputs!.map(text)).toEqual(['before\n']);
    expect(out.cells[2].outputs).toEqual([]);
  });

  it('reports a kernel killed by SIGKILL as failed', async () => {
    const result = await conductor.execute(
      request(notebook(['import os, signal\nos.kill(os.getpid(), signal.SIGKILL)']))
    );
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/^kernel died while running cell 1 /);
  });

  it('times out: interrupts, shuts the kernel down, says where', async () => {
    const t0 = Date.now();
    const req = request(notebook(['print("start")', 'import time\ntime.sleep(60)']), { timeoutMs: 2000 });
    const result = (await conductor.execute(req)) as IKernelExecutionResult;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/^timed out after 2 s in cell 2/);
    expect(result.error?.cell).toBe(1);
    expect(result.kernelId).toBeTruthy();
    await conductor.whenShutdownsDone(); // shutdowns run in the background
    expect(await runningKernelIds()).not.toContain(result.kernelId);
    // the interrupt's traceback made it into the result
    const out = await readResult(req);
    expect(out.cells[1].outputs!.some(o => o.ename === 'KeyboardInterrupt')).toBe(true);
  });

  it('cancels when the signal is aborted', async () => {
    const controller = new AbortController();
    const req = request(notebook(['print(1)', 'import time\ntime.sleep(60)']), {
      signal: controller.signal,
      onProgress: done => {
        if (done === 1) {
          setTimeout(() => controller.abort(), 500);
        }
      }
    });
    const t0 = Date.now();
    const result = (await conductor.execute(req)) as IKernelExecutionResult;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toBe('cancelled while running cell 2');
    await conductor.whenShutdownsDone(); // shutdowns run in the background
    expect(await runningKernelIds()).not.toContain(result.kernelId);
  });

  it('returns cancelled at once for an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort('rule deleted');
    const result = await conductor.execute(request(notebook(['print(1)']), { signal: controller.signal }));
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toBe('cancelled before the kernel was started: rule deleted');
  });

  it('records files written (open, pathlib, shutil, os.rename) while running, setup stays hidden', async () => {
    await fsp.writeFile(path.join(workgroup, 'input.txt'), 'in\n');
    const req = request(
      notebook([
        'with open("input.txt") as f:\n    data = f.read()',
        'with open("out/a.txt", "w") as f:\n    f.write(data)',
        'import pathlib\npathlib.Path("out/b.txt").write_text("b")',
        'import shutil\nshutil.copy("out/a.txt", "out/c.txt")',
        'import os\nopen("out/tmp.txt", "w").close()\nos.rename("out/tmp.txt", "out/d.txt")',
        'open("/dev/null", "w").close()\nwith open("out/a.txt", "a") as f:\n    f.write("again")',
        'import time\ntime.sleep(1.5)'
      ])
    );
    await fsp.mkdir(path.join(workgroup, 'out'));
    let seenWhileRunning = '';
    let finished = false;
    const running = conductor.execute(req).finally(() => (finished = true));
    while (!finished) {
      const log = await fsp.readFile(req.writesLogPath, 'utf8').catch(() => '');
      if (log.includes('d.txt')) {
        seenWhileRunning = log;
        break;
      }
      await new Promise(r => setTimeout(r, 50));
    }
    const result = await running;
    expect(result.status).toBe('done');
    const out = (p: string) => path.join(workgroup, 'out', p);
    expect(seenWhileRunning).toContain(out('a.txt') + '\n');
    expect(result.filesWritten).toEqual(
      expect.arrayContaining([out('a.txt'), out('b.txt'), out('c.txt'), out('tmp.txt'), out('d.txt')])
    );
    expect(new Set(result.filesWritten).size).toBe(result.filesWritten.length);
    expect(result.filesWritten).not.toContain(path.join(workgroup, 'input.txt'));
    expect(result.filesWritten).not.toContain('/dev/null');
    expect(result.filesWritten).not.toContain(req.writesLogPath);

    const nb = await readResult(req);
    expect(nb.cells).toHaveLength(7);
    expect(JSON.stringify(nb)).not.toContain('__meow_setup__');
    // the hidden setup request used no execution count
    expect(nb.cells.map(c => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('runs with the request cwd as working directory and on sys.path', async () => {
    await fsp.writeFile(path.join(workgroup, 'helper_mod.py'), 'VALUE = 42\n');
    const req = request(
      notebook(['import os, sys\nprint(os.getcwd())\nprint(sys.path[0])', 'import helper_mod\nhelper_mod.VALUE'])
    );
    const result = await conductor.execute(req);
    expect(result.status).toBe('done');
    const out = await readResult(req);
    expect(text(out.cells[0].outputs![0])).toBe(`${workgroup}\n${workgroup}\n`);
    expect(text(out.cells[1].outputs![0])).toBe('42');
    // importing from the workgroup writes __pycache__, which is not a job output
    expect(result.filesWritten.filter(f => f.includes('__pycache__'))).toEqual([]);
  });

  it('starts kernels with the server root as working directory', async () => {
    const model = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
    const kernel = new KernelConnection({ model, serverSettings: server.serverSettings });
    try {
      let out = '';
      const future = kernel.requestExecute({ code: 'import os\nprint(os.getcwd())' });
      future.onIOPub = msg => {
        if (msg.header.msg_type === 'stream') {
          out += (msg.content as any).text;
        }
      };
      await future.done;
      expect(out).toBe(`${root}\n`);
    } finally {
      await kernel.shutdown();
      kernel.dispose();
    }
  });

  it('fails clearly for an unknown kernelspec', async () => {
    const result = await conductor.execute(request(notebook(['1'], 'no-such-kernel')));
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe(
      'kernelspec "no-such-kernel" is not available on the Jupyter server; available kernelspecs: python3'
    );
  });

  it('never reuses a kernel', async () => {
    const pids: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const req = request(notebook(['import os\nprint(os.getpid())']));
      const result = (await conductor.execute(req)) as IKernelExecutionResult;
      expect(result.status).toBe('done');
      pids.push(text((await readResult(req)).cells[0].outputs![0]).trim());
      ids.push(result.kernelId!);
    }
    expect(pids[0]).toMatch(/^\d+$/);
    expect(pids[0]).not.toBe(pids[1]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('dispose shuts down every kernel it started, the pool included', async () => {
    const other = new KernelConductor({ serverSettings: server.serverSettings, poolSize: 2 });
    await other.start();
    const started = other.pooledKernelIds;
    expect(started).toHaveLength(2);
    const running = await runningKernelIds();
    expect(running).toEqual(expect.arrayContaining(started));
    await other.dispose();
    const after = await runningKernelIds();
    for (const id of started) {
      expect(after).not.toContain(id);
    }
    expect(other.kernelIds).toEqual([]);
  });

  it('leaves only its own pool kernel running, and logged no shutdown problems', async () => {
    expect(logLines.filter(l => /could not/.test(l))).toEqual([]);
    // Kernels are shut down and the pool refilled in the background: the
    // last job's kernel may still be going, and its replacement coming.
    await conductor.whenShutdownsDone();
    await conductor.whenPoolReady();
    expect((await runningKernelIds()).sort()).toEqual([...conductor.pooledKernelIds].sort());
  });
});

describe('PrivateJupyterServer', () => {
  it('listens on 127.0.0.1 with a token, and stop() is idempotent', async () => {
    const s = new PrivateJupyterServer({ rootDir: root });
    await s.start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(s.token).toMatch(/^[0-9a-f]{48}$/);
    expect((await fetch(`${s.url}api/status`)).status).toBe(403);
    expect((await fetch(`${s.url}api/status?token=${s.token}`)).status).toBe(200);
    await Promise.all([s.stop(), s.stop()]);
    await s.stop();
    expect(s.isRunning).toBe(false);
    await expect(fetch(`${s.url}api/status?token=${s.token}`)).rejects.toThrow();
  });

  it('explains a Python without jupyter_server', async () => {
    const fake = path.join(root, 'fake-python');
    await fsp.writeFile(
      fake,
      '#!/bin/sh\necho "ModuleNotFoundError: No module named \'jupyter_server\'" >&2\nexit 1\n',
      { mode: 0o755 }
    );
    const s = new PrivateJupyterServer({ rootDir: root, python: fake });
    await expect(s.start()).rejects.toThrow(
      /cannot start Jupyter Server with .*fake-python: the server exited with 1\. jupyter_server is not installed for .*MEOW_PYTHON[\s\S]*No module named 'jupyter_server'/
    );
    await s.stop();
  });

  it('explains a Python that does not exist', async () => {
    const s = new PrivateJupyterServer({ rootDir: root, python: path.join(root, 'no-such-python') });
    await expect(s.start()).rejects.toThrow(/could not run .*no-such-python.*MEOW_PYTHON/);
    await s.stop();
  });
});
