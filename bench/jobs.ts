/**
 * Workgroups with many finished jobs (the performance issue): how long a
 * MeowRunner takes to start on one (beside an empty workgroup), how long
 * `meow report --format json` takes with its output piped (it must be whole
 * and parse), and the service's resident memory once started and idle.
 *
 * The workgroup is what a service leaves after running N jobs: two patterns
 * in a chain (Step1 on in/** writes out/<name>, which Step2 takes), N/2
 * input files and N/2 outputs, a job journal, a job folder per job, and the
 * file index with the hash of every trigger. The first two jobs are made by
 * a real runner; the others are copies of them with their own ids, paths,
 * content hashes and idempotency keys, so the runner finds every file
 * already handled, as after a restart.
 *
 * Start-up runs in a child process of its own, so its RSS is the service's
 * alone. The report runs the real CLI bundle (`npm run build:service`).
 *
 *   MEOW_BENCH_JOBS=10000,100000   sizes (default 10000,100000)
 *   MEOW_BENCH_REPS=3              repetitions per size (default 3)
 *   MEOW_BENCH_OUT=file.json       default bench/results/jobs.json
 *   MEOW_BENCH_KEEP=1              keep the workgroups (their paths are printed)
 */
import { execFileSync, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeJobId } from '../src/core/jobs';
import type { IJob } from '../src/core/types';
import { jsonReplacer } from '../src/core/pyvalue';
import { sha256 } from '../src/service/fsutil';
import { JobFactory } from '../src/service/jobs/jobFactory';
import { JobStore, JOB_FILES, JOURNAL_FILE } from '../src/service/jobs/jobStore';
import { FileIndex } from '../src/service/monitors/fileIndex';
import { MeowRunner } from '../src/service/runner';
import type { IConductor, IExecutionRequest, IExecutionResult } from '../src/service/tokens';
import { NoopConductor, recipe, stats, IStats } from './common';

/** The issue's targets: start-up and report at 10,000 jobs, memory at 10,000 and 100,000. */
function targetsFor(n: number): { startupExtraS?: number; reportS?: number; rssMB?: number } {
  if (n <= 10_000) {
    return { startupExtraS: 1, reportS: 1, rssMB: 150 };
  }
  return n <= 100_000 ? { rssMB: 300 } : {};
}
const CLI = path.resolve('jupyterlab_meow', 'service', 'meow.js');

/** Step1's jobs write out/<name of their input>, as a recipe would. */
class ChainConductor implements IConductor {
  constructor(private readonly _root: string) {}
  readonly name = 'chain';
  async start(): Promise<void> {}
  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    if (request.job.pattern !== 'Step1') {
      return { status: 'done', filesWritten: [] };
    }
    const out = path.join(this._root, 'out', path.basename(request.job.trigger.path));
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.appendFile(request.writesLogPath, out + '\n');
    await fs.writeFile(out, `result of ${request.job.trigger.path}\n`);
    return { status: 'done', filesWritten: [out] };
  }
  async dispose(): Promise<void> {}
}

async function write(root: string, rel: string, text: string): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

/** Patterns and recipe only: what both the empty and the full workgroup hold. */
async function definitions(root: string): Promise<void> {
  await write(root, '.meow/recipes/Step.ipynb', recipe("infile = ''\nresult = ''\n"));
  await write(
    root,
    '.meow/patterns/Step1.yaml',
    'recipe: Step\ntrigger:\n  path: "in/**"\ninput: infile\noutputs:\n  result: "out/{FILENAME}"\n'
  );
  await write(root, '.meow/patterns/Step2.yaml', 'recipe: Step\ntrigger:\n  path: "out/**"\ninput: infile\n');
}

/** Run `fn` on 0..n-1, `width` at a time. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        await fn(next++);
      }
    })
  );
}

/** A workgroup holding `n` finished jobs (n/2 chains of two). */
async function buildWorkgroup(root: string, n: number): Promise<void> {
  await definitions(root);
  // One real chain gives the records' shape and folder contents.
  const runner = new MeowRunner({ root, conductor: new ChainConductor(root), settleMs: 20 });
  await runner.start();
  await write(root, 'in/template.dat', 'template\n');
  const deadline = Date.now() + 30_000;
  while (runner.store.list().filter(j => j.status === 'done').length < 2) {
    if (Date.now() > deadline) {
      throw new Error('bench/jobs: the template chain did not finish in 30 s');
    }
    await new Promise(r => setTimeout(r, 20));
  }
  await runner.waitUntilIdle(100);
  const [first, second] = runner.store.list();
  await runner.stop();
  if (first.pattern !== 'Step1' || second.parent !== first.id) {
    throw new Error(`bench/jobs: the template chain is ${first.pattern} → ${second.pattern}, not Step1 → Step2`);
  }
  const jobsDir = path.join(root, '.meow', 'jobs');
  const folder = async (job: IJob) => ({
    recipe: await fs.readFile(path.join(jobsDir, job.id, JOB_FILES.recipe), 'utf8'),
    notebook: await fs.readFile(path.join(jobsDir, job.id, JOB_FILES.notebook), 'utf8')
  });
  const templates = { first: await folder(first), second: await folder(second) };
  await fs.rm(jobsDir, { recursive: true, force: true });
  await fs.rm(path.join(root, 'in'), { recursive: true, force: true });
  await fs.rm(path.join(root, 'out'), { recursive: true, force: true });
  await fs.rm(path.join(root, '.meow', 'files.jsonl'), { force: true });
  await fs.mkdir(jobsDir, { recursive: true });

  const index = new FileIndex({ file: path.join(root, '.meow', 'files.jsonl') });
  await index.load();
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const journal: string[] = [];
  const chains = Math.floor(n / 2);
  let seq = 0;
  const made: { job: IJob; folder: { recipe: string; notebook: string } }[] = [];
  for (let i = 0; i < chains; i++) {
    const name = `d${String(i).padStart(6, '0')}.dat`;
    const inRel = `in/${name}`;
    const outRel = `out/${name}`;
    const inText = `input ${i}\n`;
    const outText = `result of ${inRel}\n`;
    const at = t0 + i * 1000;
    const chain: IJob[] = [];
    for (const [template, rel, text, wrote, offset] of [
      [first, inRel, inText, [outRel], 0],
      [second, outRel, outText, [], 400]
    ] as const) {
      const trigger = { ...template.trigger, path: rel, hash: sha256(text), time: new Date(at + offset).toISOString() };
      const parameters = { ...template.parameters, infile: path.join(root, rel) };
      if ('result' in parameters) {
        parameters.result = outRel;
      }
      const id = makeJobId(at + offset, ++seq, (i % 65536).toString(16).padStart(4, '0'));
      const job: IJob = {
        ...template,
        id,
        trigger,
        parameters,
        key: JobFactory.key(template.ruleKey, trigger, {}),
        created: new Date(at + offset).toISOString(),
        started: new Date(at + offset + 50).toISOString(),
        finished: new Date(at + offset + 300).toISOString(),
        filesWritten: [...wrote]
      };
      if (chain.length) {
        job.parent = chain[0].id;
      }
      chain.push(job);
      // As the store appends them: the new job, then its final record.
      journal.push(
        JSON.stringify(
          { ...job, status: 'queued', started: undefined, finished: undefined, filesWritten: [] },
          jsonReplacer
        )
      );
      journal.push(JSON.stringify(job, jsonReplacer));
      made.push({ job, folder: chain.length === 1 ? templates.first : templates.second });
    }
  }
  await fs.writeFile(path.join(jobsDir, JOURNAL_FILE), journal.join('\n') + '\n');
  await pool(made.length, 16, async k => {
    const { job, folder: files } = made[k];
    const dir = path.join(jobsDir, job.id);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, JOB_FILES.recipe), files.recipe);
    await fs.writeFile(
      path.join(dir, JOB_FILES.notebook),
      files.notebook.split(path.join(root, first.trigger.path)).join(job.parameters.infile as string)
    );
    await fs.writeFile(path.join(dir, JOB_FILES.job), JobStore.serialise(job));
  });
  await fs.mkdir(path.join(root, 'in'));
  await fs.mkdir(path.join(root, 'out'));
  await pool(chains, 16, async i => {
    const name = `d${String(i).padStart(6, '0')}.dat`;
    for (const [rel, text] of [
      [`in/${name}`, `input ${i}\n`],
      [`out/${name}`, `result of in/${name}\n`]
    ]) {
      await fs.writeFile(path.join(root, rel), text);
      index.set(rel, await fs.stat(path.join(root, rel)), sha256(text));
    }
  });
  await index.close();
}

interface IStartup {
  startS: number;
  idleS: number;
  rssMB: number;
  jobs: number;
  made: number;
}

/** In the child: start a runner, wait until it is idle, report. */
async function startupChild(root: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const runner = new MeowRunner({ root, conductor: new NoopConductor(), settleMs: 20 });
  let made = 0;
  runner.jobChanged.connect((_, change) => {
    if (!change.previous) {
      made++;
    }
  });
  await runner.start();
  const startS = seconds();
  // Idle (retroactive matching of the existing files has finished too):
  // the first of three idle checks in a row.
  let quiet = 0;
  let idleS = 0;
  while (quiet < 3) {
    if (runner.idle) {
      idleS = quiet++ ? idleS : seconds();
    } else {
      quiet = 0;
    }
    await new Promise(r => setTimeout(r, 5));
  }
  await new Promise(r => setTimeout(r, 200));
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  const jobs = runner.store.list().length;
  await runner.stop();
  const result: IStartup = { startS, idleS, rssMB, jobs, made };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function child(args: string[]): Promise<{ stdout: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (b: Buffer) => out.push(b));
    proc.stderr.on('data', (b: Buffer) => err.push(b));
    proc.on('error', reject);
    proc.on('close', code => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) {
        reject(new Error(`${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString().slice(0, 2000)}`));
      } else {
        resolve({ stdout: Buffer.concat(out).toString('utf8'), seconds });
      }
    });
  });
}

async function startup(root: string): Promise<IStartup> {
  const { stdout } = await child([process.argv[1], '--startup', root]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as IStartup;
}

/** The real CLI, stdout a pipe: seconds, and the parsed report must hold every job. */
async function report(root: string, n: number): Promise<number> {
  const { stdout, seconds } = await child([CLI, 'report', root, '--format', 'json']);
  let graph: { jobs: unknown[]; edges: unknown[] };
  try {
    graph = JSON.parse(stdout);
  } catch (err) {
    throw new Error(`meow report --format json: ${stdout.length} bytes that do not parse (${(err as Error).message})`);
  }
  const chains = Math.floor(n / 2);
  if (graph.jobs.length !== 2 * chains || graph.edges.length !== chains) {
    throw new Error(
      `meow report: ${graph.jobs.length} jobs and ${graph.edges.length} edges, expected ${2 * chains} and ${chains}`
    );
  }
  return seconds;
}

async function removeUnlessKept(root: string): Promise<void> {
  if (process.env.MEOW_BENCH_KEEP) {
    console.log(`  kept ${root}`);
  } else {
    await fs.rm(root, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = (process.env.MEOW_BENCH_JOBS ?? '10000,100000').split(',').map(Number);
  const reps = Number(process.env.MEOW_BENCH_REPS ?? 3);
  const out = process.env.MEOW_BENCH_OUT ?? path.join('bench', 'results', 'jobs.json');
  execFileSync('npm', ['run', '--silent', 'build:service'], { stdio: 'inherit' });
  console.log(`Workgroups with many finished jobs, ${os.cpus().length} cores, ${reps} repetition(s)\n`);
  const empty = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-jobs-empty-')));
  await definitions(empty);
  const results: Record<string, unknown>[] = [];
  const f = (s: IStats, d = 2) => `${s.min.toFixed(d)}/${s.median.toFixed(d)}/${s.max.toFixed(d)}`;
  const verdict = (limit: number | undefined, unit: string, ok: boolean | undefined) =>
    limit === undefined ? '(no target at this size)' : `target < ${limit} ${unit}\t${ok ? 'met' : 'NOT met'}`;
  try {
    for (const n of sizes) {
      const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `meow-bench-jobs-${n}-`)));
      try {
        const b0 = Date.now();
        await buildWorkgroup(root, n);
        console.log(`${n} jobs: workgroup built in ${((Date.now() - b0) / 1000).toFixed(1)} s`);
        const emptyRuns: IStartup[] = [];
        const fullRuns: IStartup[] = [];
        const reportRuns: number[] = [];
        for (let r = 0; r < reps; r++) {
          emptyRuns.push(await startup(empty));
          const run = await startup(root);
          if (run.made) {
            throw new Error(`the runner made ${run.made} new job(s) on a workgroup whose files were all handled`);
          }
          fullRuns.push(run);
          reportRuns.push(await report(root, n));
        }
        const emptyIdle = stats(emptyRuns.map(r => r.idleS));
        const extra = stats(fullRuns.map((r, k) => r.idleS - emptyRuns[k].idleS));
        const rssMB = stats(fullRuns.map(r => r.rssMB));
        const reportS = stats(reportRuns);
        const target = targetsFor(n);
        const under = (s: IStats, limit?: number) => (limit === undefined ? undefined : s.median < limit);
        const met = {
          startupExtraS: under(extra, target.startupExtraS),
          reportS: under(reportS, target.reportS),
          rssMB: under(rssMB, target.rssMB)
        };
        const row = {
          jobs: fullRuns[0].jobs,
          startS: stats(fullRuns.map(r => r.startS)),
          idleS: stats(fullRuns.map(r => r.idleS)),
          emptyIdleS: emptyIdle,
          startupExtraS: extra,
          reportS,
          rssMB,
          emptyRssMB: stats(emptyRuns.map(r => r.rssMB)),
          target: { ...target, met: Object.values(met).every(ok => ok !== false) }
        };
        results.push(row);
        console.log(`  start-up to idle   ${f(row.idleS)} s (empty workgroup ${f(emptyIdle)} s)`);
        console.log(`  extra over empty   ${f(extra)} s\t${verdict(target.startupExtraS, 's', met.startupExtraS)}`);
        console.log(`  report --format json, piped  ${f(reportS)} s\t${verdict(target.reportS, 's', met.reportS)}`);
        console.log(`  RSS after start-up ${f(rssMB, 0)} MB\t${verdict(target.rssMB, 'MB', met.rssMB)}`);
      } finally {
        await removeUnlessKept(root);
      }
    }
  } finally {
    await removeUnlessKept(empty);
  }
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        node: process.version,
        reps,
        results
      },
      null,
      1
    ) + '\n'
  );
  console.log(`\n(min/median/max; written to ${out})`);
}

if (process.argv[2] === '--startup') {
  startupChild(process.argv[3]).catch(err => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch(err => {
    console.error(err);
    process.exit(1);
  });
}
