/**
 * N trivial jobs through Slurm versus local kernels, and raw sbatch
 * submissions per second, beside the thesis's "Slurm sbatch" figures (spec
 * §9: SPMF, 500 jobs, 2.76 s scheduling overhead; SPSFS 0.03 s per job with
 * sequential sbatch).
 *
 *   slurm   a real MeowRunner with only the Slurm executor (its default), one
 *           pattern `in/*` on a one-cell recipe (`x = 1`), N files written at
 *           once. Measured from the first write: (a) until every job exists,
 *           (b) until every job has been submitted (its Slurm id recorded:
 *           the paper's scheduling overhead), (c) until every job is done
 *           (each runs `meow exec-job` on the node: a private Jupyter server
 *           and kernel), and jobs per second end to end. Every job must be
 *           done with its own Slurm id (none lost, none submitted twice).
 *           Settings: poll 500 ms, 100 submissions/s, and a lane of
 *           max(N, 200) jobs at once (the default 200 would hold jobs
 *           201..N back in meow until others end, which is not scheduling
 *           overhead; MEOW_BENCH_SLURM_MAX_JOBS=200 for the default).
 *   local   the same N jobs on local kernels: LocalExecutor (kernel
 *           conductor) on a PrivateJupyterServer, 2 workers, pool of 2.
 *   sbatch  raw submission rate, M held jobs (`--hold`, never run, all
 *           cancelled afterwards): (a) `sbatch --parsable --wrap true --hold`
 *           one after another, (b) SlurmCommands.submit at 1,000/s, all M at
 *           once.
 *
 * Slurm is the single-node cluster of `make slurm` (run first here; the
 * bench fails with its message when it cannot start). Compute jobs run
 * jupyterlab_meow/service/meow.js: `npm run build:service` first
 * (scripts/bench.mjs does).
 *
 *   MEOW_BENCH_SLURM_JOBS=500     N, jobs per slurm/local repetition
 *   MEOW_BENCH_SBATCH=200         M, submissions per sbatch repetition
 *   MEOW_BENCH_REPS=3             repetitions of the sbatch cases
 *   MEOW_BENCH_SLURM_REPS=1       repetitions of the slurm and local cases
 *   MEOW_BENCH_SLURM_CASES=sbatch,local,slurm   which cases (default all)
 *   MEOW_BENCH_SLURM_MAX_JOBS=N   the Slurm executor's lane (default max(N, 200))
 *   MEOW_BENCH_SLURM_NOTE=text    a note stored in the JSON (e.g. why N is smaller)
 *   MEOW_BENCH_OUT=file.json      where the numbers go (default bench/results/slurm.json)
 */
import { execFile, execFileSync } from 'child_process';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_SLURM_MAX_JOBS } from '../src/core/executor';
import type { IJob } from '../src/core/types';
import { ExecutorSet } from '../src/service/executors/executor';
import { LocalExecutor } from '../src/service/executors/local';
import { SlurmExecutor } from '../src/service/executors/slurm';
import { SlurmCommands } from '../src/service/executors/slurmCommands';
import { PrivateJupyterServer } from '../src/service/jupyter/server';
import { MeowRunner } from '../src/service/runner';
import { IStats, recipe, stats } from './common';

const REPO = process.env.MEOW_REPO ?? process.cwd();
const BUNDLE = path.join(REPO, 'jupyterlab_meow', 'service', 'meow.js');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const RECIPE = recipe("infile = ''\nx = 1\n");
const PATTERN = 'recipe: r\ntrigger:\n  path: "in/*"\ninput: infile\n';

/** The thesis's Slurm sbatch column (spec §9), and its local runner for context. */
const PAPER = {
  slurmSubmitAllSeconds: 2.76, // SPMF, 500 jobs: scheduling overhead until all were submitted
  slurmSecondsPerSequentialSbatch: 0.03, // SPSFS: per job, sequential sbatch
  localRunnerSpmfSeconds: 0.96, // mig_meow local runner, SPMF 500 jobs, no-op execution
  localRunnerSecondsPerJob: 2.82, // SPSFS, real execution, local runner
  jobs: 500
};

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function write(root: string, rel: string, text: string): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)
    )
  );
}

/** scancel in batches (the ids of one repetition). */
async function cancelAll(ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    await run('scancel', ids.slice(i, i + 200)).catch(err =>
      console.error(`  (scancel failed: ${(err as Error).message})`)
    );
  }
}

// ---------------------------------------------------------------- sbatch

interface ISbatchRep {
  sequentialSeconds: number;
  sequentialPerSecond: number;
  secondsPerSubmission: number;
  concurrentSeconds: number;
  concurrentPerSecond: number;
}

async function sbatchRep(m: number, rep: number): Promise<ISbatchRep> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-sbatch-'));
  const ids: string[] = [];
  try {
    // (a) sequential sbatch, as a shell loop would.
    let t0 = now();
    for (let i = 0; i < m; i++) {
      const out = await run(
        'sbatch',
        ['--parsable', '--hold', `--job-name=meow-bench-seq-${rep}-${i}`, '--output=/dev/null', '--wrap', 'true'],
        dir
      );
      ids.push(out.trim().split(';')[0]);
    }
    const sequentialSeconds = now() - t0;
    // (b) SlurmCommands.submit, all at once, throttle at 1,000/s.
    const script = path.join(dir, 'true.sbatch');
    await fs.writeFile(script, '#!/bin/bash\n#SBATCH --output=/dev/null\ntrue\n');
    const commands = new SlurmCommands({ submitPerSecond: 1000 });
    t0 = now();
    const got = await Promise.all(
      Array.from({ length: m }, (_, i) =>
        commands.submit(script, { name: `meow-bench-con-${rep}-${i}-${process.pid}`, cwd: dir, args: ['--hold'] })
      )
    );
    const concurrentSeconds = now() - t0;
    ids.push(...got);
    if (new Set(ids).size !== 2 * m || ids.some(id => !/^\d+$/.test(id))) {
      throw new Error(`sbatch rep ${rep}: ${ids.length} ids, ${new Set(ids).size} distinct, want ${2 * m}`);
    }
    return {
      sequentialSeconds,
      sequentialPerSecond: m / sequentialSeconds,
      secondsPerSubmission: sequentialSeconds / m,
      concurrentSeconds,
      concurrentPerSecond: m / concurrentSeconds
    };
  } finally {
    await cancelAll(ids);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- slurm / local

interface IJobsRep {
  createdSeconds: number;
  /** Slurm only: until every job had its Slurm id. */
  submittedSeconds?: number;
  doneSeconds: number;
  jobsPerSecond: number;
  /** Mean over jobs of (finished - started) from the job records, seconds (Slurm: from meow taking the job, so waiting in Slurm counts). */
  meanJobSeconds: number;
  slurmIds?: number;
}

async function jobsRep(kind: 'slurm' | 'local', n: number, rep: number, maxJobs: number): Promise<IJobsRep> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `meow-bench-${kind}-`));
  let runner: MeowRunner | undefined;
  let server: PrivateJupyterServer | undefined;
  const slurmIds = new Set<string>();
  let ok = false;
  try {
    await write(root, '.meow/recipes/r.ipynb', RECIPE);
    await write(root, '.meow/patterns/p.yaml', PATTERN);
    let executors: ExecutorSet;
    let workers = 1;
    if (kind === 'slurm') {
      const slurm = new SlurmExecutor({
        meowCommand: [process.execPath, BUNDLE],
        python: PYTHON,
        settings: { pollMs: 500, submitPerSecond: 100, maxJobs }
      });
      executors = new ExecutorSet({ executors: { slurm }, defaultKind: 'slurm' });
    } else {
      server = new PrivateJupyterServer({ rootDir: root, python: PYTHON });
      await server.start();
      workers = 2;
      const local = new LocalExecutor({ server, poolSize: 2 });
      executors = new ExecutorSet({ executors: { local }, defaultKind: 'local' });
    }
    runner = new MeowRunner({ root, settleMs: 20, workers, executors });
    await runner.start();

    const created = new Map<string, number>();
    const submitted = new Map<string, number>();
    const ended = new Map<string, number>();
    const idsOf = new Map<string, Set<string>>(); // meow job → Slurm ids seen
    let t0 = 0;
    runner.jobChanged.connect((_, { job }) => {
      const t = now() - t0;
      if (!created.has(job.id)) {
        created.set(job.id, t);
      }
      const ext = job.external?.id;
      if (ext) {
        if (!submitted.has(job.id)) {
          submitted.set(job.id, t);
        }
        const set = idsOf.get(job.id) ?? new Set<string>();
        set.add(ext);
        idsOf.set(job.id, set);
        slurmIds.add(ext);
      }
      if (['done', 'failed', 'cancelled', 'skipped'].includes(job.status) && !ended.has(job.id)) {
        ended.set(job.id, t);
      }
    });

    t0 = now();
    await Promise.all(
      Array.from({ length: n }, (_, i) => write(root!, `in/f${String(i).padStart(4, '0')}.txt`, String(i)))
    );
    const limitS = Number(process.env.MEOW_BENCH_SLURM_TIMEOUT ?? 300 + n * 5);
    let lastProgress = 0;
    let lastReport = now();
    let lastCount = -1;
    while (ended.size < n) {
      const t = now() - t0;
      const count = ended.size + submitted.size + created.size;
      if (count !== lastCount) {
        lastCount = count;
        lastProgress = t;
      }
      if (t - lastProgress > 300 || t > limitS) {
        throw new Error(
          `${kind} rep ${rep + 1}: after ${t.toFixed(0)} s only ${created.size} of ${n} jobs created, ` +
            `${submitted.size} submitted, ${ended.size} ended (${t > limitS ? 'time limit' : 'no progress for 300 s'})`
        );
      }
      if (now() - lastReport >= 10) {
        lastReport = now();
        console.log(`  ${kind} ${t.toFixed(0).padStart(5)} s: ${progress(runner.store.list(), n, kind)}`);
      }
      await sleep(kind === 'slurm' ? 20 : 5);
    }
    const doneSeconds = Math.max(...ended.values());
    const jobs = runner.store.list();
    console.log(`  ${kind} ${doneSeconds.toFixed(0).padStart(5)} s: ${progress(jobs, n, kind)}`);

    // None lost, none doubled.
    const notDone = jobs.filter(j => j.status !== 'done');
    const paths = new Set(jobs.map(j => j.trigger.path));
    if (jobs.length !== n || paths.size !== n || notDone.length) {
      throw new Error(
        `${kind} rep ${rep + 1}: ${jobs.length} jobs for ${n} files (${paths.size} distinct paths), ${notDone.length} not done` +
          (notDone.length ? `, e.g. ${notDone[0].id} ${notDone[0].status}: ${notDone[0].error?.message ?? ''}` : '')
      );
    }
    if (kind === 'slurm') {
      const twice = [...idsOf.entries()].filter(([, s]) => s.size > 1);
      const finalIds = jobs.map(j => j.external?.id);
      if (finalIds.some(id => !id) || new Set(finalIds).size !== n || slurmIds.size !== n || twice.length) {
        throw new Error(
          `slurm rep ${rep + 1}: ${new Set(finalIds.filter(Boolean)).size} distinct Slurm ids on ${n} jobs, ` +
            `${slurmIds.size} ids seen, ${twice.length} job(s) with more than one` +
            (twice.length ? ` (e.g. ${twice[0][0]}: ${[...twice[0][1]].join(', ')})` : '')
        );
      }
      const notCompleted = jobs.filter(j => j.external?.state !== 'COMPLETED');
      if (notCompleted.length) {
        throw new Error(
          `slurm rep ${rep + 1}: ${notCompleted.length} job(s) not COMPLETED in Slurm, e.g. ${notCompleted[0].external?.state}`
        );
      }
    }
    const durations = jobs
      .map(j => (Date.parse(j.finished!) - Date.parse(j.started!)) / 1000)
      .filter(d => Number.isFinite(d));
    ok = true;
    return {
      createdSeconds: Math.max(...created.values()),
      ...(kind === 'slurm' ? { submittedSeconds: Math.max(...submitted.values()), slurmIds: slurmIds.size } : {}),
      doneSeconds,
      jobsPerSecond: n / doneSeconds,
      meanJobSeconds: durations.reduce((a, b) => a + b, 0) / durations.length
    };
  } finally {
    await runner?.stop();
    if (!ok && slurmIds.size) {
      console.error(`  cancelling the ${slurmIds.size} Slurm job(s) of the failed run`);
      await cancelAll([...slurmIds]);
    }
    await server?.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

function progress(jobs: IJob[], n: number, kind: string): string {
  const by = (s: string) => jobs.filter(j => j.status === s).length;
  const parts = [`${jobs.length}/${n} created`];
  if (kind === 'slurm') {
    const inSlurm = jobs.filter(j => j.external?.id);
    parts.push(
      `${inSlurm.length} submitted`,
      `${inSlurm.filter(j => j.external?.state === 'PENDING').length} pending in Slurm`,
      `${inSlurm.filter(j => j.external?.state === 'RUNNING').length} running in Slurm`
    );
  } else {
    parts.push(`${by('queued')} queued`, `${by('running')} running`);
  }
  parts.push(`${by('done')} done`);
  const bad = by('failed') + by('cancelled');
  if (bad) {
    parts.push(`${bad} FAILED/CANCELLED`);
  }
  return parts.join(', ');
}

// ---------------------------------------------------------------- main

const fmt = (s: number | undefined) =>
  s === undefined || !Number.isFinite(s) ? '—' : s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
const fmtRate = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(1)}/s`);
const triple = (s: IStats | undefined, f: (x: number) => string) =>
  !s ? '—' : s.values.length === 1 ? f(s.median) : `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;

function summarise<T extends object>(reps: T[]): Record<string, IStats> {
  const out: Record<string, IStats> = {};
  for (const key of Object.keys(reps[0] ?? {})) {
    const values = reps.map(r => (r as Record<string, number>)[key]).filter(v => typeof v === 'number');
    if (values.length) {
      out[key] = stats(values);
    }
  }
  return out;
}

function ensureCluster(): string {
  try {
    execFileSync('make', ['--no-print-directory', 'slurm'], { cwd: REPO, stdio: 'inherit', timeout: 12 * 60_000 });
  } catch (err) {
    throw new Error(
      `the Slurm benchmark needs the test cluster and \`make slurm\` could not start it (${(err as Error).message.split('\n')[0]}); ` +
        'run `sudo make slurm` by hand, or leave slurm out of the benchmarks'
    );
  }
  return execFileSync('sbatch', ['--version'], { encoding: 'utf8' }).trim();
}

async function main() {
  console.debug = () => undefined; // @jupyterlab/services: "Starting WebSocket" per kernel, as the CLI silences it
  const n = Number(process.env.MEOW_BENCH_SLURM_JOBS ?? 500);
  const m = Number(process.env.MEOW_BENCH_SBATCH ?? 200);
  const reps = Number(process.env.MEOW_BENCH_REPS ?? 3);
  const jobReps = Number(process.env.MEOW_BENCH_SLURM_REPS ?? 1);
  const maxJobs = Number(process.env.MEOW_BENCH_SLURM_MAX_JOBS ?? Math.max(n, DEFAULT_SLURM_MAX_JOBS));
  const cases = (process.env.MEOW_BENCH_SLURM_CASES ?? 'sbatch,local,slurm').split(',');
  const out = process.env.MEOW_BENCH_OUT ?? path.join('bench', 'results', 'slurm.json');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';

  if (!existsSync(BUNDLE) || !existsSync(PYTHON)) {
    throw new Error(
      `${!existsSync(BUNDLE) ? BUNDLE : PYTHON} is missing: run \`make setup\` and \`npm run build:service\` (scripts/bench.mjs builds it) from the repository root`
    );
  }
  const slurmVersion = ensureCluster();
  const nodeLine = execFileSync('scontrol', ['show', 'node', '-o'], { encoding: 'utf8' });
  const nodeCpus = Number(/CPUTot=(\d+)/.exec(nodeLine)?.[1] ?? NaN);

  console.log('\nSlurm versus local kernels: N trivial one-cell jobs, and raw sbatch submissions');
  console.log(
    `(N = ${n} jobs x ${jobReps} rep(s); M = ${m} submissions x ${reps} rep(s); ${slurmVersion}, node with ${nodeCpus} CPUs;`
  );
  console.log(
    ` this machine ${os.cpus().length} cores, ${cpu}, load ${os.loadavg()[0].toFixed(1)}; Slurm lane ${maxJobs} jobs, poll 500 ms)\n`
  );
  const loadBefore = os.loadavg();
  const started = now();

  const result: Record<string, unknown> = {};
  let sbatch: Record<string, IStats> | undefined;
  let local: Record<string, IStats> | undefined;
  let slurm: Record<string, IStats> | undefined;
  if (cases.includes('sbatch')) {
    const rs: ISbatchRep[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const r = await sbatchRep(m, rep);
      rs.push(r);
      console.log(
        `  sbatch rep ${rep + 1}: sequential ${m} in ${fmt(r.sequentialSeconds)} (${fmtRate(r.sequentialPerSecond)}, ${fmt(r.secondsPerSubmission)} each); ` +
          `SlurmCommands.submit all at once ${fmt(r.concurrentSeconds)} (${fmtRate(r.concurrentPerSecond)})`
      );
    }
    sbatch = summarise(rs);
    result.sbatch = { submissions: m, repetitions: rs, ...sbatch };
  }
  for (const kind of ['local', 'slurm'] as const) {
    if (!cases.includes(kind)) {
      continue;
    }
    const rs: IJobsRep[] = [];
    for (let rep = 0; rep < jobReps; rep++) {
      console.log(`  ${kind} rep ${rep + 1}: ${n} files written at once…`);
      const r = await jobsRep(kind, n, rep, maxJobs);
      rs.push(r);
      console.log(
        `  ${kind} rep ${rep + 1}: all created ${fmt(r.createdSeconds)}` +
          (r.submittedSeconds !== undefined ? `, all submitted ${fmt(r.submittedSeconds)}` : '') +
          `, all done ${fmt(r.doneSeconds)} (${fmtRate(r.jobsPerSecond)}; a job ${fmt(r.meanJobSeconds)} on average)`
      );
    }
    const s = summarise(rs);
    result[kind] = { jobs: n, repetitions: rs, ...s };
    if (kind === 'local') {
      local = s;
    } else {
      slurm = s;
    }
  }
  const elapsed = now() - started;

  const rows: [string, string, string, string][] = [
    [
      `all ${n} jobs created (meow's scheduling)`,
      triple(local?.createdSeconds, fmt),
      triple(slurm?.createdSeconds, fmt),
      '—'
    ],
    [
      `all ${n} jobs submitted to Slurm (scheduling overhead, SPMF)`,
      '—',
      triple(slurm?.submittedSeconds, fmt),
      `${fmt(PAPER.slurmSubmitAllSeconds)} (500 jobs)`
    ],
    [`all ${n} jobs done (end to end)`, triple(local?.doneSeconds, fmt), triple(slurm?.doneSeconds, fmt), '—'],
    ['jobs per second, end to end', triple(local?.jobsPerSecond, fmtRate), triple(slurm?.jobsPerSecond, fmtRate), '—'],
    [
      'one job, meow started → finished (mean; Slurm: incl. queue wait)',
      triple(local?.meanJobSeconds, fmt),
      triple(slurm?.meanJobSeconds, fmt),
      '—'
    ],
    [
      'sequential sbatch: seconds per submission (SPSFS)',
      '—',
      triple(sbatch?.secondsPerSubmission, fmt),
      fmt(PAPER.slurmSecondsPerSequentialSbatch)
    ],
    [
      'sequential sbatch: submissions per second',
      '—',
      triple(sbatch?.sequentialPerSecond, fmtRate),
      fmtRate(1 / PAPER.slurmSecondsPerSequentialSbatch)
    ],
    [
      `SlurmCommands.submit, ${m} at once: submissions per second`,
      '—',
      triple(sbatch?.concurrentPerSecond, fmtRate),
      '—'
    ]
  ];
  const w = [0, 1, 2, 3].map(i =>
    Math.max(...rows.map(r => r[i].length), ['measure', 'meow local', 'meow Slurm', 'paper Slurm sbatch'][i].length)
  );
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log('\n' + line(['measure', 'meow local', 'meow Slurm', 'paper Slurm sbatch']));
  for (const r of rows) {
    console.log(line(r));
  }
  console.log(`(min / median / max where more than one repetition; ${elapsed.toFixed(0)} s in all)`);

  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(
    out,
    JSON.stringify(
      {
        benchmark:
          'N trivial jobs through Slurm versus local kernels, and sbatch submissions per second (thesis Slurm sbatch column)',
        date: new Date().toISOString(),
        ...(process.env.MEOW_BENCH_SLURM_NOTE ? { note: process.env.MEOW_BENCH_SLURM_NOTE } : {}),
        machine: {
          cpu,
          cores: os.cpus().length,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          platform: `${os.platform()} ${os.release()}`,
          node: process.version,
          slurm: slurmVersion,
          slurmNodeCpus: nodeCpus
        },
        jobs: n,
        submissions: m,
        repetitions: { sbatch: reps, jobs: jobReps },
        settings: {
          slurm: { pollMs: 500, submitPerSecond: 100, maxJobs },
          local: { workers: 2, kernelPool: 2 },
          settleMs: 20,
          recipe: "one code cell: infile = ''; x = 1"
        },
        loadAverage: { before: loadBefore, after: os.loadavg() },
        elapsedSeconds: elapsed,
        results: result,
        paper: PAPER,
        paperNotes:
          'spec §9 (thesis §17.4.2, appendix P): SPMF = 1 pattern, N files, time until the last job was submitted; ' +
          'SPSFS = 1 pattern re-triggering itself, 0.03 s per job with sequential sbatch; the local runner figures are for context'
      },
      null,
      2
    ) + '\n'
  );
  console.log(`numbers written to ${out}`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
