/**
 * Fork kernels (jupyterlab_meow/kernels, the `meow-fork` provisioner) on the
 * private server: what the speed-ups could break. Each job still gets a
 * process of its own with a clean namespace; interrupts, kernel deaths,
 * restarts and a killed template behave; nothing is left running.
 */
import { promises as fsp, readFileSync, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI, KernelConnection, KernelMessage } from '@jupyterlab/services';
import { IKernelExecutionResult, KernelConductor } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';
import { alive, kernelPids, notebook, readResult, request, text, waitFor } from './helpers';

jest.setTimeout(180_000);

let root: string;
let server: PrivateJupyterServer;
let conductor: KernelConductor;
const logLines: string[] = [];
/** Every process id seen (kernels and templates): none may outlive the server. */
const seen = new Set<number>();

/** Running, not a zombie waiting for a reaper (orphans go to pid 1, which may be slow to reap). */
function running(pid: number): boolean {
  if (!alive(pid)) {
    return false;
  }
  try {
    return !/^[ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!);
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Run cells; the last line each cell prints is returned per cell. */
async function run(
  cells: string[],
  c = conductor,
  extra = {}
): Promise<{ result: IKernelExecutionResult; out: string[] }> {
  const req = request(root, notebook(cells), extra);
  const result = (await c.execute(req)) as IKernelExecutionResult;
  const nb = await readResult(req);
  const out = nb.cells.map(cell => (cell.outputs ?? []).map(text).join('').trim());
  return { result, out };
}

const PIDS = 'import os\nprint(os.getpid(), os.getppid())';

async function pids(c = conductor): Promise<{ pid: number; ppid: number; kernelId: string }> {
  const { result, out } = await run([PIDS], c);
  expect(result.error).toBeUndefined();
  const [pid, ppid] = out[0].split(' ').map(Number);
  seen.add(pid);
  if (ppid > 1) {
    seen.add(ppid); // 1 for a kernel whose template was killed (see below)
  }
  return { pid, ppid, kernelId: result.kernelId! };
}

beforeAll(async () => {
  jest.spyOn(console, 'debug').mockImplementation(() => undefined);
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-fork-')));
  server = new PrivateJupyterServer({
    rootDir: root,
    log: {
      debug: m => logLines.push(m),
      info: m => logLines.push(m),
      warn: m => logLines.push(m),
      error: m => logLines.push(m)
    }
  });
  await server.start();
  // As the local executor of `meow run` sets it up (configure.ts).
  conductor = new KernelConductor({
    server,
    poolSize: 1,
    shutdownInBackground: true,
    pipelineCells: true,
    log: m => logLines.push(m)
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

describe('fork kernels', () => {
  it('are forked from a template: own pid per job, parent is the template, found by their command line', async () => {
    expect(server.forkKernels).toBe(true);
    const a = await pids();
    const b = await pids();
    expect(a.pid).not.toBe(b.pid);
    expect(a.pid).not.toBe(server.pid);
    // The parent is the template process, not the server.
    expect(a.ppid).not.toBe(server.pid);
    expect(b.ppid).toBe(a.ppid);
    expect(cmdline(a.ppid)).toMatch(/jupyterlab_meow\/kernels\/template\.py/);
    // Its command line is the kernel's, as for any kernel (pgrep -f kernel-<id>.json finds it).
    const { result, out } = await run(['print(open("/proc/self/cmdline").read().replace(chr(0), " ").strip())']);
    expect(out[0]).toMatch(new RegExp(`-m ipykernel_launcher -f \\S*kernel-${result.kernelId}\\.json$`));
  });

  it("a job never sees the previous job's variables, imports or open files", async () => {
    const leak = path.join(root, 'left-open.txt');
    // Paths of this process's open file descriptors.
    const OPEN_PATHS =
      'def _open_paths():\n' +
      '    import os\n' +
      '    out = []\n' +
      '    for n in os.listdir("/proc/self/fd"):\n' +
      '        try:\n' +
      '            out.append(os.readlink("/proc/self/fd/" + n))\n' +
      '        except OSError:\n' +
      '            pass\n' +
      '    return out\n';
    const first = await run([
      'secret = 41\nimport colorsys\n' +
        `f = open(${JSON.stringify(leak)}, "w")\nf.write("x")\nf.flush()\n` +
        OPEN_PATHS +
        `import os\nprint(os.getpid(), _open_paths().count(${JSON.stringify(leak)}))`
    ]);
    expect(first.result.error).toBeUndefined();
    expect(first.out[0]).toMatch(/^\d+ 1$/);
    const second = await run([
      OPEN_PATHS +
        'import os, sys\n' +
        `print("secret" in globals(), "colorsys" in sys.modules, "f" in globals(), _open_paths().count(${JSON.stringify(leak)}), os.getpid())`
    ]);
    expect(second.result.error).toBeUndefined();
    const [secret, colorsys, f, openFiles, pid] = second.out[0].split(' ');
    expect([secret, colorsys, f, openFiles]).toEqual(['False', 'False', 'False', '0']);
    expect(Number(pid)).not.toBe(Number(first.out[0].split(' ')[0]));
    // Nor does the next job see what this one defined in the same way.
    const third = await run(['print(globals().get("secret", "undefined"))']);
    expect(third.out[0]).toBe('undefined');
  });

  it('random state is not shared between forked kernels', async () => {
    const a = await run(['import random\nprint(random.random())']);
    const b = await run(['import random\nprint(random.random())']);
    expect(a.out[0]).not.toBe(b.out[0]);
  });

  it('a job timeout interrupts the running cell (KeyboardInterrupt) and shuts the kernel down', async () => {
    const req = request(root, notebook(['import time\ntime.sleep(60)', 'print("never")']), { timeoutMs: 3000 });
    const t0 = Date.now();
    const result = (await conductor.execute(req)) as IKernelExecutionResult;
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('timed out after 3 s in cell 1 (the kernel was interrupted and shut down)');
    const nb = await readResult(req);
    expect(nb.cells[0].outputs!.some(o => o.output_type === 'error' && o.ename === 'KeyboardInterrupt')).toBe(true);
    expect(nb.cells[1].outputs).toEqual([]);
    await conductor.whenShutdownsDone();
    expect(kernelPids(result.kernelId!)).toEqual([]);
  });

  it('a kernel that dies (os._exit) fails its job as before', async () => {
    const { result } = await run(['import os\nos._exit(3)', 'print("never")']);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/^kernel died while running cell 1 \(/);
    expect(result.error?.cell).toBe(0);
  });

  it('a cell that raises stops the job: later cells do not run', async () => {
    const marker = path.join(root, 'ran-after-error');
    const { result, out } = await run([
      'x = 1',
      'raise ValueError("bad")',
      `open(${JSON.stringify(marker)}, "w").close()\nprint("ran")`
    ]);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('cell 2 raised ValueError: bad');
    expect(out[2]).toBe('');
    await expect(fsp.access(marker)).rejects.toThrow();
  });

  it('cells sent back to back: nothing after a failing cell runs, even a cell that would be quick', async () => {
    for (let i = 0; i < 5; i++) {
      const marker = path.join(root, `after-error-${i}`);
      const { result, out } = await run([
        'raise KeyError("first")',
        `open(${JSON.stringify(marker)}, "w").close()`,
        `open(${JSON.stringify(marker)}, "a").close()\nprint("ran")`
      ]);
      expect(result.status).toBe('failed');
      expect(result.error?.message).toBe("cell 1 raised KeyError: 'first'");
      expect(out.slice(1)).toEqual(['', '']);
      await expect(fsp.access(marker)).rejects.toThrow();
    }
  });

  it('cells sent back to back: a timeout stops the running cell and no queued cell runs', async () => {
    const marker = path.join(root, 'after-timeout');
    const req = request(
      root,
      notebook(['import time\ntime.sleep(60)', `open(${JSON.stringify(marker)}, "w").close()`, 'print("never")']),
      {
        timeoutMs: 2000
      }
    );
    const result = await conductor.execute(req);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('timed out after 2 s in cell 1 (the kernel was interrupted and shut down)');
    await conductor.whenShutdownsDone();
    await expect(fsp.access(marker)).rejects.toThrow();
    const nb = await readResult(req);
    expect(nb.cells[1].execution_count).toBeNull();
    expect(nb.cells[2].outputs).toEqual([]);
    // The stop file is removed once the kernel is gone.
    await waitFor(
      async () =>
        !(await fsp.access(`${req.writesLogPath}.stop`).then(
          () => true,
          () => false
        )),
      5_000,
      'the stop file to go'
    );
  });

  it('cells sent back to back: outputs, counts and timing land in their own cells', async () => {
    const req = request(
      root,
      notebook(['print("a")', { markdown: 'm' }, '1 + 1', '', 'import sys\nsys.stderr.write("e\\n")\nprint("c")'])
    );
    const result = await conductor.execute(req);
    expect(result.error).toBeUndefined();
    const nb = await readResult(req);
    expect(nb.cells[0].outputs!.map(text)).toEqual(['a\n']);
    expect(nb.cells[2].outputs!.map(text)).toEqual(['2']);
    // (stderr and stdout are flushed independently: their order is not fixed)
    expect(nb.cells[4].outputs!.map(o => [o.name, text(o)]).sort()).toEqual([
      ['stderr', 'e\n'],
      ['stdout', 'c\n']
    ]);
    const counts = [0, 2, 4].map(i => nb.cells[i].execution_count);
    expect(counts).toEqual([1, 2, 3]);
    for (const i of [0, 2, 4]) {
      expect(Object.keys(nb.cells[i].metadata.execution as object)).toEqual([
        'iopub.status.busy',
        'iopub.execute_input',
        'shell.execute_reply',
        'iopub.status.idle'
      ]);
    }
    expect(nb.cells[3].execution_count ?? null).toBeNull();
  });

  it('kernel restart and interrupt through the server work on forked kernels', async () => {
    const model = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
    const kernel = new KernelConnection({ model, serverSettings: server.serverSettings, handleComms: false });
    const exec = async (code: string): Promise<string> => {
      let out = '';
      const future = kernel.requestExecute({ code });
      future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
        if (msg.header.msg_type === 'stream') {
          out += (msg.content as any).text;
        } else if (msg.header.msg_type === 'error') {
          out += `error:${(msg.content as any).ename}`;
        }
      };
      await future.done;
      return out.trim();
    };
    try {
      await kernel.info;
      const before = Number(await exec('import os\nprint(os.getpid())'));
      seen.add(before);
      expect(await exec('y = 5\nprint(y)')).toBe('5');
      // interrupt
      const sleeping = exec('import time\ntime.sleep(30)');
      await new Promise(r => setTimeout(r, 1000));
      await kernel.interrupt();
      expect(await sleeping).toBe('error:KeyboardInterrupt');
      // restart: a new process, a clean namespace
      await kernel.restart();
      await kernel.info;
      const after = Number(await exec('import os\nprint(os.getpid())'));
      seen.add(after);
      expect(after).not.toBe(before);
      expect(running(before)).toBe(false);
      expect(await exec('print("y" in globals())')).toBe('False');
    } finally {
      kernel.dispose();
      await KernelAPI.shutdownKernel(model.id, server.serverSettings);
    }
  });

  it('a killed template is replaced at the next kernel start; running kernels live on', async () => {
    const direct = new KernelConductor({ server, poolSize: 0, log: m => logLines.push(m) });
    await direct.start();
    try {
      const before = await pids(direct);
      const template = before.ppid;
      // A kernel running while its template is killed finishes its job.
      const sleeper = run(['import time, os\ntime.sleep(2)\nprint(os.getpid(), os.getppid())'], direct);
      await new Promise(r => setTimeout(r, 1000));
      process.kill(template, 'SIGKILL');
      await waitFor(() => !running(template), 5_000, 'the template to die');
      const survivor = await sleeper;
      expect(survivor.result.status).toBe('done');
      const after = await pids(direct);
      expect(after.ppid).not.toBe(template);
      expect(after.ppid).not.toBe(server.pid);
      expect(cmdline(after.ppid)).toMatch(/template\.py/);
    } finally {
      await direct.dispose();
    }
  });

  it('a kernel launched with MEOW_FORK_KERNELS=0 semantics (forkKernels: false) is a child of the server', async () => {
    const plain = new PrivateJupyterServer({ rootDir: root, forkKernels: false });
    await plain.start();
    const c = new KernelConductor({ server: plain, poolSize: 0 });
    try {
      await c.start();
      const p = await pids(c);
      expect(p.ppid).toBe(plain.pid);
    } finally {
      await c.dispose();
      await plain.stop();
    }
  });

  it('a server killed with SIGKILL takes its template and forked kernels along', async () => {
    const doomed = new PrivateJupyterServer({ rootDir: root, restart: false });
    await doomed.start();
    const c = new KernelConductor({ server: doomed, poolSize: 1 });
    await c.start();
    const p = await pids(c);
    await c.whenPoolReady();
    const pooled = c.pooledKernelIds.flatMap(id => kernelPids(id));
    expect(pooled.length).toBe(1);
    process.kill(doomed.pid!, 'SIGKILL');
    await waitFor(
      () => [p.ppid, ...pooled].every(pid => !running(pid)),
      15_000,
      'the template and the pooled kernel to exit'
    );
    await c.dispose();
    await doomed.stop();
  });

  it('leaves no process behind when the server stops', async () => {
    await pids();
    await conductor.dispose();
    await server.stop();
    await waitFor(
      () => [...seen].every(pid => !running(pid)),
      15_000,
      `every kernel and template to exit (${[...seen]
        .filter(running)
        .map(p => `${p}: ${cmdline(p)}`)
        .join(', ')})`
    );
    expect(logLines.filter(l => /could not fork|usual way/.test(l))).toEqual([]);
  });
});
