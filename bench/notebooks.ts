/**
 * Notebook throughput against papermill, same machine, same run, same
 * parallelism: N trivial 3-cell notebooks (one job per input file) through
 *
 *   meow       a real MeowRunner with the LocalExecutor on a
 *              PrivateJupyterServer, configured as `meow run` configures it
 *              (pool of 3 kernels per worker, 4 to 16, shutdown in the
 *              background, fork kernels), with 1 and 2 workers; the clock
 *              runs from the first input file written until every job is
 *              done (the service and its pool are up before, as for a
 *              running service);
 *   papermill  the same notebooks with `papermill.execute_notebook` in a
 *              pool of 1 and 2 worker processes that have imported
 *              papermill already (its best case: no interpreter start per
 *              notebook), installed into a benchmark-only venv that the
 *              bench creates (`.venv-bench`, never the project's .venv).
 *
 * Reported per parallelism: seconds per job (wall time / N) min / median /
 * max over the repetitions, the throughput ratio meow / papermill (median
 * over median), meow's overhead per job (a job's recorded wall time minus
 * the kernel's execution time of its cells, from result.ipynb's timing),
 * CPU seconds per job (meow: this process, the Jupyter server, the kernels
 * and their template; papermill: its worker and the kernel, per notebook),
 * and kernel start time (REST start until kernel_info answers) with fork
 * kernels and started the usual way. Targets (the performance issue): at
 * least 5x papermill, under 0.15 s of meow overhead per job; each is marked
 * met or not.
 *
 *   MEOW_BENCH_NOTEBOOKS=100     jobs per repetition
 *   MEOW_BENCH_REPS=3            repetitions per case
 *   MEOW_BENCH_WORKERS=1,2       parallelism
 *   MEOW_BENCH_KERNEL_STARTS=8   kernel starts measured per kind
 *   MEOW_BENCH_VENV=.venv-bench  the papermill venv (created with python3 -m venv when missing)
 *   MEOW_BENCH_OUT=file.json     where the numbers go (default bench/results/notebooks.json)
 *   MEOW_BENCH_PAPERMILL=0       meow only (quick runs; no ratio, nothing written)
 *   MEOW_KERNEL_POOL=n           pre-started kernels (default as `meow run`: 3 per worker, 4 to 16)
 */
import { execFileSync, spawn } from 'child_process';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI, KernelConnection } from '@jupyterlab/services';
import type { IJob } from '../src/core/types';
import { localPoolSize } from '../src/service/executors/configure';
import { ExecutorSet } from '../src/service/executors/executor';
import { LocalExecutor } from '../src/service/executors/local';
import { defaultPython, PrivateJupyterServer } from '../src/service/jupyter/server';
import { MeowRunner } from '../src/service/runner';
import { benchVenv, IStats, stats } from './common';

const N = Number(process.env.MEOW_BENCH_NOTEBOOKS ?? 100);
const REPS = Number(process.env.MEOW_BENCH_REPS ?? 3);
const WORKERS = (process.env.MEOW_BENCH_WORKERS ?? '1,2').split(',').map(Number);
const KERNEL_STARTS = Number(process.env.MEOW_BENCH_KERNEL_STARTS ?? 8);
const VENV = path.resolve(process.env.MEOW_BENCH_VENV ?? '.venv-bench');
const OUT = process.env.MEOW_BENCH_OUT ?? 'bench/results/notebooks.json';
// The bundle runs from the temp folder: find the project's .venv from here.
const PYTHON =
  process.env.MEOW_PYTHON ?? (existsSync('.venv/bin/python') ? path.resolve('.venv/bin/python') : defaultPython());
const WITH_PAPERMILL = process.env.MEOW_BENCH_PAPERMILL !== '0';
const TARGET_RATIO = 5;
const TARGET_OVERHEAD_S = 0.15;

const CELLS = ['x = 1', 'y = x + 1', 'print(y)'];
const NOTEBOOK = {
  cells: CELLS.map((source, i) => ({
    cell_type: 'code',
    id: `c${i}`,
    source,
    metadata: {},
    outputs: [],
    execution_count: null
  })),
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5
};

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const now = () => performance.now() / 1000;
const fmt = (s: number) => (s < 0.1 ? `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms` : `${s.toFixed(2)} s`);
const fmtStats = (st: IStats) => `${fmt(st.min)} / ${fmt(st.median)} / ${fmt(st.max)}`;

async function write(root: string, rel: string, text: string) {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

/** Kernel time of a result notebook: sum over cells of iopub busy → idle. */
function kernelSeconds(nb: any): number {
  let total = 0;
  for (const cell of nb.cells ?? []) {
    const t = cell.metadata?.execution;
    if (t?.['iopub.status.busy'] && t?.['iopub.status.idle']) {
      total += (Date.parse(t['iopub.status.idle']) - Date.parse(t['iopub.status.busy'])) / 1000;
    }
  }
  return total;
}

// ------------------------------------------------------------------ meow

/** CPU seconds used so far by a process and the children it has reaped (fields of /proc/PID/stat after the name). */
function procCpu(stat: string[]): number {
  const tick = 100; // USER_HZ
  return (Number(stat[11]) + Number(stat[12]) + Number(stat[13]) + Number(stat[14])) / tick;
}

/**
 * CPU seconds so far of this process, of its Jupyter server (a child) and of
 * everything under the server (kernels, the fork template and the kernels
 * it reaped). Linux only (/proc): elsewhere the server and kernels read 0.
 */
function meowCpu(): { node: number; server: number; kernels: number } {
  const usage = process.cpuUsage();
  const out = { node: (usage.user + usage.system) / 1e6, server: 0, kernels: 0 };
  const procs = new Map<number, { ppid: number; cpu: number }>();
  let names: string[] = [];
  try {
    names = readdirSync('/proc').filter(n => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const stat = text.slice(text.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(stat[1]), cpu: procCpu(stat) });
    } catch {
      // gone meanwhile
    }
  }
  for (const [pid, p] of procs) {
    let depth = 0;
    let q = pid;
    while (q > 1 && q !== process.pid && procs.has(q)) {
      q = procs.get(q)!.ppid;
      depth++;
    }
    if (q === process.pid && depth > 0) {
      if (depth === 1) {
        out.server += p.cpu;
      } else {
        out.kernels += p.cpu;
      }
    }
  }
  return out;
}

interface IMeowRep {
  secondsPerJob: number;
  /** Mean over jobs: recorded wall time (started → finished) minus kernel execution time. */
  overheadPerJob: number;
  meanJobSeconds: number;
  meanKernelSeconds: number;
  /** CPU seconds per job: this process, the Jupyter server, kernels (with their template). */
  cpuPerJob: { node: number; server: number; kernels: number; total: number };
}

async function meowRep(workers: number): Promise<IMeowRep> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-nb-'));
  let server: PrivateJupyterServer | undefined;
  let runner: MeowRunner | undefined;
  try {
    await write(root, '.meow/recipes/r.ipynb', JSON.stringify(NOTEBOOK));
    await write(root, '.meow/patterns/p.yaml', 'recipe: r\ntrigger:\n  path: "in/*.txt"\ninput: infile\n');
    server = new PrivateJupyterServer({ rootDir: root, python: PYTHON });
    await server.start();
    // As `meow run` makes it (src/service/executors/configure.ts).
    const local = new LocalExecutor({
      server,
      poolSize: localPoolSize(workers),
      shutdownInBackground: true,
      kernelsFile: path.join(root, '.meow', 'kernels.json')
    });
    runner = new MeowRunner({
      root,
      settleMs: 20,
      workers,
      executors: new ExecutorSet({ executors: { local }, defaultKind: 'local' })
    });
    await runner.start();
    await local.conductor.whenPoolReady();
    const ended = new Set<string>();
    runner.jobChanged.connect((_, { job }) => {
      if (['done', 'failed', 'cancelled', 'skipped'].includes(job.status)) {
        ended.add(job.id);
      }
    });
    const cpu0 = meowCpu();
    const t0 = now();
    await Promise.all(
      Array.from({ length: N }, (_, i) => write(root, `in/f${String(i).padStart(4, '0')}.txt`, String(i)))
    );
    const deadline = t0 + 60 + N * 10;
    while (ended.size < N) {
      if (now() > deadline) {
        throw new Error(`meow: only ${ended.size} of ${N} jobs ended in time`);
      }
      await sleep(5);
    }
    const wall = now() - t0;
    const cpu1 = meowCpu();
    const cpuPerJob = {
      node: (cpu1.node - cpu0.node) / N,
      server: (cpu1.server - cpu0.server) / N,
      kernels: (cpu1.kernels - cpu0.kernels) / N,
      total: 0
    };
    cpuPerJob.total = cpuPerJob.node + cpuPerJob.server + cpuPerJob.kernels;
    const jobs: IJob[] = runner.store.list();
    const bad = jobs.filter(j => j.status !== 'done');
    if (jobs.length !== N || bad.length) {
      throw new Error(
        `meow: ${jobs.length} jobs for ${N} files, ${bad.length} not done (${bad[0]?.status}: ${bad[0]?.error?.message ?? ''})`
      );
    }
    let job = 0;
    let kernel = 0;
    for (const j of jobs) {
      job += (Date.parse(j.finished!) - Date.parse(j.started!)) / 1000;
      const nb = JSON.parse(await fs.readFile(path.join(root, '.meow', 'jobs', j.id, 'result.ipynb'), 'utf8'));
      kernel += kernelSeconds(nb);
    }
    return {
      secondsPerJob: wall / N,
      overheadPerJob: (job - kernel) / N,
      meanJobSeconds: job / N,
      meanKernelSeconds: kernel / N,
      cpuPerJob
    };
  } finally {
    await runner?.stop();
    await server?.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------- papermill

/** Runs N notebooks with papermill in a pool of `workers` processes; prints the wall seconds. */
const PAPERMILL_DRIVER = `
import sys, os, time, json, logging
from concurrent.futures import ProcessPoolExecutor
logging.disable(logging.WARNING)
src, outdir, n, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def warm(_):
    import papermill  # imported once per worker, before the clock starts
    return os.getpid()

def cpu():
    import resource
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

def run(i):
    import papermill
    c0 = cpu()
    out = os.path.join(outdir, "out%04d.ipynb" % i)
    papermill.execute_notebook(src, out, progress_bar=False, log_output=False, kernel_name="python3")
    return cpu() - c0  # the worker's and its (reaped) kernel's

if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(warm, range(workers * 4)))
        t0 = time.perf_counter()
        cpus = list(pool.map(run, range(n)))
        print(json.dumps({"seconds": time.perf_counter() - t0, "cpuPerJob": sum(cpus) / n}))
`;

async function papermillRep(py: string, workers: number): Promise<{ secondsPerJob: number; cpuPerJob: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-pm-'));
  try {
    const src = path.join(dir, 'nb.ipynb');
    await fs.writeFile(src, JSON.stringify(NOTEBOOK));
    await fs.mkdir(path.join(dir, 'out'));
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(py, ['-c', PAPERMILL_DRIVER, src, path.join(dir, 'out'), String(N), String(workers)], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe']
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', d => (stdout += d));
      child.stderr.on('data', d => (stderr += d));
      child.on('error', reject);
      child.on('exit', code =>
        code === 0 ? resolve(stdout) : reject(new Error(`papermill driver exited with ${code}: ${stderr.slice(-2000)}`))
      );
    });
    const { seconds, cpuPerJob } = JSON.parse(out.trim().split('\n').pop()!);
    const outputs = await fs.readdir(path.join(dir, 'out'));
    if (outputs.length !== N) {
      throw new Error(`papermill: ${outputs.length} outputs for ${N} notebooks`);
    }
    return { secondsPerJob: seconds / N, cpuPerJob };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------- kernel starts

async function kernelStarts(fork: boolean): Promise<number[]> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-ks-'));
  const server = new PrivateJupyterServer({ rootDir: root, python: PYTHON, forkKernels: fork });
  const times: number[] = [];
  try {
    await server.start();
    // One start first (the template's imports happen once per server; not counted).
    for (let i = 0; i <= KERNEL_STARTS; i++) {
      const t0 = now();
      const model = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
      const k = new KernelConnection({ model, serverSettings: server.serverSettings, handleComms: false });
      await k.info;
      const t = now() - t0;
      k.dispose();
      await KernelAPI.shutdownKernel(model.id, server.serverSettings);
      if (i > 0) {
        times.push(t);
      }
    }
    return times;
  } finally {
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ main

async function main() {
  // @jupyterlab/services logs websocket changes with console.debug.
  console.debug = () => undefined;
  const py = WITH_PAPERMILL ? benchVenv(VENV, 'import papermill, ipykernel', ['papermill', 'ipykernel']) : '';
  const loadBefore = os.loadavg();
  const pmVersion = WITH_PAPERMILL
    ? execFileSync(py, ['-c', 'import papermill; print(papermill.__version__)'], { encoding: 'utf8' }).trim()
    : 'skipped';
  console.log(
    `Notebook throughput: ${N} trivial 3-cell notebooks, ${REPS} repetition(s), workers ${WORKERS.join(', ')}; papermill ${pmVersion}; ${os.cpus().length} cores\n`
  );

  const kernelStart =
    KERNEL_STARTS > 0 ? { fork: stats(await kernelStarts(true)), usual: stats(await kernelStarts(false)) } : undefined;
  if (kernelStart) {
    console.log(
      `kernel start (REST start → kernel_info answered), min / median / max: fork ${fmtStats(kernelStart.fork)}, usual ${fmtStats(kernelStart.usual)}\n`
    );
  }

  const results: any[] = [];
  for (const workers of WORKERS) {
    const meow: IMeowRep[] = [];
    const pm: number[] = [];
    const pmCpu: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const m = await meowRep(workers);
      meow.push(m);
      const c = m.cpuPerJob;
      console.log(
        `  workers ${workers} rep ${rep + 1}: meow ${fmt(m.secondsPerJob)}/job (overhead ${fmt(m.overheadPerJob)}/job, job ${fmt(m.meanJobSeconds)}, kernel ${fmt(m.meanKernelSeconds)}; ` +
          `CPU/job ${fmt(c.total)}: meow ${fmt(c.node)}, server ${fmt(c.server)}, kernels ${fmt(c.kernels)})`
      );
      if (WITH_PAPERMILL) {
        const p = await papermillRep(py, workers);
        pm.push(p.secondsPerJob);
        pmCpu.push(p.cpuPerJob);
        console.log(
          `  workers ${workers} rep ${rep + 1}: papermill ${fmt(p.secondsPerJob)}/job (CPU/job ${fmt(p.cpuPerJob)})`
        );
      }
    }
    if (!WITH_PAPERMILL) {
      continue;
    }
    const meowS = stats(meow.map(m => m.secondsPerJob));
    const pmS = stats(pm);
    const overhead = stats(meow.map(m => m.overheadPerJob));
    const ratio = pmS.median / meowS.median;
    results.push({
      workers,
      meow: {
        secondsPerJob: meowS,
        overheadPerJob: overhead,
        meanJobSeconds: stats(meow.map(m => m.meanJobSeconds)),
        meanKernelSeconds: stats(meow.map(m => m.meanKernelSeconds)),
        cpuSecondsPerJob: {
          total: stats(meow.map(m => m.cpuPerJob.total)),
          meow: stats(meow.map(m => m.cpuPerJob.node)),
          jupyterServer: stats(meow.map(m => m.cpuPerJob.server)),
          kernels: stats(meow.map(m => m.cpuPerJob.kernels))
        }
      },
      papermill: { secondsPerJob: pmS, cpuSecondsPerJob: stats(pmCpu) },
      ratio,
      targets: {
        ratio: { target: TARGET_RATIO, value: ratio, met: ratio >= TARGET_RATIO },
        overhead: { target: TARGET_OVERHEAD_S, value: overhead.median, met: overhead.median < TARGET_OVERHEAD_S }
      }
    });
  }

  if (!WITH_PAPERMILL) {
    return;
  }
  console.log(
    '\n| workers | meow s/job min / median / max | papermill s/job min / median / max | meow / papermill throughput | meow overhead per job (median) |'
  );
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const t = r.targets;
    console.log(
      `| ${r.workers} | ${fmtStats(r.meow.secondsPerJob)} | ${fmtStats(r.papermill.secondsPerJob)} | ` +
        `${r.ratio.toFixed(1)}x (target ≥ ${TARGET_RATIO}x: ${t.ratio.met ? 'met' : 'NOT met'}) | ` +
        `${fmt(r.meow.overheadPerJob.median)} (target < ${fmt(TARGET_OVERHEAD_S)}: ${t.overhead.met ? 'met' : 'NOT met'}) |`
    );
  }

  for (const r of results) {
    const c = r.meow.cpuSecondsPerJob;
    console.log(
      `CPU per job, workers ${r.workers} (median): meow ${fmt(c.total.median)} (meow ${fmt(c.meow.median)}, Jupyter server ${fmt(c.jupyterServer.median)}, ` +
        `kernels ${fmt(c.kernels.median)}), papermill ${fmt(r.papermill.cpuSecondsPerJob.median)}`
    );
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown';
  await fs.mkdir(path.dirname(OUT), { recursive: true });
  await fs.writeFile(
    OUT,
    JSON.stringify(
      {
        benchmark: 'notebooks',
        date: new Date().toISOString(),
        machine: {
          cpu,
          cores: os.cpus().length,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          platform: `${os.platform()} ${os.release()}`,
          node: process.version
        },
        /** 1/5/15-minute load averages before and after: the cores are shared with other work. */
        loadAverage: { before: loadBefore, after: os.loadavg() },
        notebooks: N,
        repetitions: REPS,
        cells: CELLS,
        papermill: {
          version: pmVersion,
          how: 'papermill.execute_notebook in a process pool of `workers` processes, papermill imported before the clock starts'
        },
        kernelStart,
        results
      },
      null,
      2
    ) + '\n'
  );
  console.log(`\nwritten to ${OUT}`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
