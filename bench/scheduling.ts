/**
 * Scheduling overhead, after the thesis (§17.4.2, appendix P, table P.1):
 * seconds from the first trigger until the last job exists, with an executor
 * that runs nothing, so only meow's own work is measured (detection,
 * settling, matching, hashing, job records).
 *
 *   SPMF   1 pattern,  N files
 *   MPSF   N patterns, 1 file
 *   SPSFP  1 pattern,  1 file, N-value sweep
 *   MPMF   N patterns, each its own file (quadratic in the thesis's runner)
 *   SPSFS  1 pattern whose job writes the next file: N jobs one after the
 *          other (the looping workflow; in the thesis 2.8 s per job, most of
 *          it a 1 s settle window and 1 s queue polling)
 *
 * Beside each: the thesis's WorkflowRunner (mig_meow's local runner) on its
 * Threadripper at 500 jobs, and the performance issue's target, < 0.1 s at
 * 500 jobs (0.2 ms per job), growing linearly (per-job time at the largest
 * size at most twice that at 500; SPSFS, sequential by nature, is held to
 * the thesis's figure instead).
 *
 *   MEOW_BENCH_SIZES=500,2000,10000   sizes (100000 is accepted; slow for MPSF/MPMF)
 *   MEOW_BENCH_SPSFS_MAX=2000          largest SPSFS chain (one job after the other)
 *   MEOW_BENCH_CASES=SPMF,SPSFP        only these
 *   MEOW_BENCH_REPS=3                  repetitions per case and size
 *   MEOW_BENCH_OUT=file.json           default bench/results/scheduling.json
 *   MEOW_BENCH_MERGE=1                 keep the rows of that file this run does not
 *                                      measure (each row keeps the date it was measured)
 *   MEOW_BENCH_PROGRESS=10             seconds between progress lines during a measurement
 *   MEOW_BENCH_PROFILE=dir             a CPU profile of each measured span (first trigger to
 *                                      last job) into dir, for Chrome DevTools or speedscope
 */
import { promises as fs } from 'fs';
import { Session } from 'inspector';
import * as os from 'os';
import * as path from 'path';
import { MeowRunner } from '../src/service/runner';
import type { IConductor, IExecutionRequest, IExecutionResult } from '../src/service/tokens';
import { IStats, NoopConductor, recipe, stats } from './common';
import { measureFloor } from './floor';

const RECIPE = recipe("infile = ''\nn = 0\n");
const TARGET_AT_500_S = 0.1;
/** Table P.1, "Threadripper MEOW", 500 jobs. */
const THESIS_AT_500_S: Record<string, number> = { SPMF: 0.96, MPSF: 0.88, SPSFP: 0.89, MPMF: 8.33, SPSFS: 1411.54 };

async function write(root: string, rel: string, text: string) {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

/** SPSFS's job: writes the next file of the chain, as its recipe would. */
class ChainConductor implements IConductor {
  constructor(
    private readonly root: string,
    private readonly n: number
  ) {}
  readonly name = 'chain';
  async start(): Promise<void> {}
  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    const i = Number(/f(\d+)$/.exec(request.job.trigger.path)?.[1]);
    if (i + 1 >= this.n) {
      return { status: 'done', filesWritten: [] };
    }
    const next = path.join(this.root, 'in', `f${i + 1}`);
    await fs.writeFile(next, `step ${i + 1}`);
    return { status: 'done', filesWritten: [next] };
  }
  async dispose(): Promise<void> {}
}

interface ICase {
  name: string;
  /** Also measure the floor (bench/floor.ts) on the same files. */
  floor?: boolean;
  patterns: (n: number) => Record<string, string>;
  /** Files written at the start. */
  files: (n: number) => string[];
  conductor?: (root: string, n: number) => IConductor;
}

const pattern = (glob: string, extra = '') => `recipe: r\ntrigger:\n  path: "${glob}"\ninput: infile\n${extra}`;

const CASES: ICase[] = [
  { name: 'SPMF', floor: true, patterns: () => ({ p: pattern('in/*') }), files: n => range(n).map(i => `in/f${i}`) },
  {
    name: 'MPSF',
    patterns: n => Object.fromEntries(range(n).map(i => [`p${i}`, pattern('in/*')])),
    files: () => ['in/f']
  },
  {
    name: 'SPSFP',
    patterns: n => ({ p: pattern('in/*', `sweep:\n  n: {start: 1, stop: ${n}, step: 1}\n`) }),
    files: () => ['in/f']
  },
  {
    name: 'MPMF',
    floor: true,
    patterns: n => Object.fromEntries(range(n).map(i => [`p${i}`, pattern(`in${i}/*`)])),
    files: n => range(n).map(i => `in${i}/f`)
  },
  {
    name: 'SPSFS',
    // The chain is as deep as it is long: no runaway depth limit.
    patterns: () => ({ p: pattern('in/*', 'max_depth: 0\n') }),
    files: () => ['in/f0'],
    conductor: (root, n) => new ChainConductor(root, n)
  }
];

/** A line every `MEOW_BENCH_PROGRESS` seconds (default 10) while a long measurement runs. */
function progressEvery(name: string, n: number, t0: bigint, what: () => string): ReturnType<typeof setInterval> {
  const every = Number(process.env.MEOW_BENCH_PROGRESS ?? 10);
  const timer = setInterval(() => {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`  ${name} ${n}: ${what()} after ${s.toFixed(0)} s`);
  }, every * 1000);
  timer.unref();
  return timer;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * With MEOW_BENCH_PROFILE=dir, start the V8 profiler; the function returned
 * stops it and writes `dir/<name>-<time>.cpuprofile`. Only the measured span
 * is profiled, not the set-up (writing and loading thousands of patterns).
 */
async function startProfile(): Promise<((name: string) => Promise<void>) | undefined> {
  const dir = process.env.MEOW_BENCH_PROFILE;
  if (!dir) {
    return undefined;
  }
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<{ profile?: object }>((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as { profile?: object })))
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async name => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
  };
}

/**
 * The bench's writer alone, on the same files in a fresh folder that nothing
 * watches: no tool can make a job for a file before it is written.
 */
async function measureWriter(files: string[]): Promise<number> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-writer-')));
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < files.length; i += 256) {
      await Promise.all(files.slice(i, i + 256).map(f => write(root, f, 'data')));
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** Seconds until the last job exists. */
async function measure(c: ICase, n: number): Promise<number> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `meow-bench-${c.name}-`)));
  try {
    await write(root, '.meow/recipes/r.ipynb', RECIPE);
    // In slices: 100,000 pattern files opened at once exceed the open-file limit.
    const patterns = Object.entries(c.patterns(n));
    for (let i = 0; i < patterns.length; i += 256) {
      await Promise.all(
        patterns.slice(i, i + 256).map(([name, text]) => write(root, `.meow/patterns/${name}.yaml`, text))
      );
    }
    const conductor = c.conductor?.(root, n) ?? new NoopConductor();
    // The queue limit (backpressure, 50,000 by default) is lifted: past it new
    // events wait for jobs to run, and this measures making jobs, not running them.
    // (Not to n: events being scheduled count too, and a held event waits 2 s.)
    const runner = new MeowRunner({ root, conductor, settleMs: 20, workers: 2, maxQueued: Infinity });
    await runner.start();
    // Measured from a settled runner: start() returns with rules loaded, but
    // each new rule's pass over existing files (M10) may still be running.
    await runner.waitUntilIdle();
    let count = 0;
    let allMade: () => void = () => undefined;
    const made = new Promise<void>(resolve => (allMade = resolve));
    runner.jobChanged.connect((_, change) => {
      if (!change.previous && ++count >= n) {
        allMade();
      }
    });
    const profile = await startProfile();
    const t0 = process.hrtime.bigint();
    const files = c.files(n);
    let written = 0;
    const progress = progressEvery(c.name, n, t0, () => `${count} jobs, ${written} of ${files.length} files written`);
    for (let i = 0; i < files.length; i += 256) {
      await Promise.all(files.slice(i, i + 256).map(f => write(root, f, 'data')));
      written = Math.min(files.length, i + 256);
    }
    const limitS = 120 + n / 50;
    const timeout = new Promise<'timeout'>(resolve => setTimeout(() => resolve('timeout'), limitS * 1000).unref());
    const outcome = await Promise.race([made, timeout]);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await profile?.(`${c.name}-${n}`);
    clearInterval(progress);
    await runner.stop();
    if (outcome === 'timeout') {
      throw new Error(`${c.name} n=${n}: only ${count} of ${n} jobs after ${limitS} s`);
    }
    return seconds;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

interface IRow {
  test: string;
  /** When it was measured (ISO), and how many times. */
  date?: string;
  reps?: number;
  jobs: number;
  seconds: IStats;
  msPerJob: number;
  /** The same files through the floor: no meow, only watch, settle, hash, journal. */
  floorSeconds?: IStats;
  /** The same writer on the same files with nothing watching: no tool can be faster (cases with many files). */
  writeSeconds?: IStats;
}

async function main() {
  const sizes = (process.env.MEOW_BENCH_SIZES ?? '500,2000,10000').split(',').map(Number);
  const spsfsMax = Number(process.env.MEOW_BENCH_SPSFS_MAX ?? 2000);
  const only = (process.env.MEOW_BENCH_CASES ?? '').split(',').filter(Boolean);
  const reps = Number(process.env.MEOW_BENCH_REPS ?? 3);
  const out = process.env.MEOW_BENCH_OUT ?? path.join('bench', 'results', 'scheduling.json');
  console.log('Scheduling overhead: seconds from the first trigger until the last job exists');
  console.log(`(no-op execution; settle window 20 ms; ${os.cpus().length} cores; min/median/max of ${reps})\n`);
  console.log(['test', 'jobs', 'seconds', 'ms/job', 'thesis @500', 'target'].join('\t'));
  const rows: IRow[] = [];
  for (const c of CASES.filter(x => !only.length || only.includes(x.name))) {
    for (const n of sizes.filter(s => c.name !== 'SPSFS' || s <= spsfsMax)) {
      const runs: number[] = [];
      for (let r = 0; r < reps; r++) {
        runs.push(await measure(c, n));
      }
      const row: IRow = {
        test: c.name,
        date: new Date().toISOString(),
        reps,
        jobs: n,
        seconds: stats(runs),
        msPerJob: (stats(runs).median / n) * 1000
      };
      if (c.files(n).length > 1) {
        const writes: number[] = [];
        for (let r = 0; r < reps; r++) {
          writes.push(await measureWriter(c.files(n)));
        }
        row.writeSeconds = stats(writes);
      }
      if (c.floor) {
        const floors: number[] = [];
        for (let r = 0; r < reps; r++) {
          floors.push(await measureFloor(c.files(n)));
        }
        row.floorSeconds = stats(floors);
      }
      rows.push(row);
      const s = row.seconds;
      console.log(
        [
          c.name,
          n,
          `${s.min.toFixed(3)}/${s.median.toFixed(3)}/${s.max.toFixed(3)} s`,
          row.msPerJob.toFixed(3),
          n === 500 ? `${THESIS_AT_500_S[c.name]} s` : '',
          ''
        ].join('\t')
      );
      if (row.writeSeconds) {
        const w = row.writeSeconds;
        console.log(
          `  writer alone (same files, nothing watching)\t${n}\t${w.min.toFixed(3)}/${w.median.toFixed(3)}/${w.max.toFixed(3)} s`
        );
      }
      if (row.floorSeconds) {
        const f = row.floorSeconds;
        console.log(
          `  floor (watch, settle, hash, journal; no meow)\t${n}\t${f.min.toFixed(3)}/${f.median.toFixed(3)}/${f.max.toFixed(3)} s`
        );
      }
      await save(out, reps, rows, true, false);
    }
  }
  await save(out, reps, rows, process.env.MEOW_BENCH_MERGE === '1', true);
  console.log(`written to ${out}`);
}

/**
 * Write the results file. After each row (a long run cut short keeps what it
 * measured) the rows of the file this run has not measured yet are kept; at
 * the end only with MEOW_BENCH_MERGE=1.
 */
async function save(out: string, reps: number, measured: IRow[], keepEarlier: boolean, final: boolean): Promise<void> {
  const rows = [...measured];
  if (keepEarlier) {
    rows.unshift(...(await earlierRows(out)).filter(e => !rows.some(r => r.test === e.test && r.jobs === e.jobs)));
  }
  const summary: Record<string, unknown>[] = [];
  for (const c of CASES) {
    const mine = rows.filter(r => r.test === c.name).sort((x, y) => x.jobs - y.jobs);
    if (mine.length) {
      summary.push(summarise(c.name, mine, final));
    }
  }
  rows.sort(
    (x, y) => CASES.findIndex(c => c.name === x.test) - CASES.findIndex(c => c.name === y.test) || x.jobs - y.jobs
  );
  const text =
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        node: process.version,
        reps,
        rows,
        summary
      },
      null,
      1
    ) + '\n';
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(`${out}.tmp`, text);
  await fs.rename(`${out}.tmp`, out);
}

/** The rows of an earlier run's file, each with its date. */
async function earlierRows(file: string): Promise<IRow[]> {
  try {
    const earlier = JSON.parse(await fs.readFile(file, 'utf8')) as { date: string; reps: number; rows: IRow[] };
    return earlier.rows.map(r => ({ ...r, date: r.date ?? earlier.date, reps: r.reps ?? earlier.reps }));
  } catch {
    return [];
  }
}

/** A case's verdict: under the target at 500, and per-job time at the largest size at most twice that at 500. */
function summarise(name: string, mine: IRow[], say: boolean): Record<string, unknown> {
  const at500 = mine.find(r => r.jobs === 500);
  const largest = mine[mine.length - 1];
  // Linear growth needs a size beyond 500 to be judged at all.
  const linear = at500 && largest && largest.jobs > at500.jobs ? largest.msPerJob <= 2 * at500.msPerJob : undefined;
  const fast = at500
    ? name === 'SPSFS'
      ? at500.seconds.median < THESIS_AT_500_S.SPSFS
      : at500.seconds.median < TARGET_AT_500_S
    : undefined;
  const met = fast === true && linear === true;
  if (say) {
    console.log(
      `${name}: ${at500 ? `${at500.seconds.median.toFixed(3)} s at 500 (thesis ${THESIS_AT_500_S[name]} s)` : 'not run at 500'}, ` +
        `${largest.msPerJob.toFixed(3)} ms/job at ${largest.jobs}, linear: ${linear === undefined ? 'not measured (one size)' : linear ? 'yes' : 'no'} — target ${met ? 'met' : 'NOT met'}`
    );
  }
  return {
    test: name,
    at500S: at500?.seconds.median,
    thesisAt500S: THESIS_AT_500_S[name],
    target500S: name === 'SPSFS' ? THESIS_AT_500_S.SPSFS : TARGET_AT_500_S,
    linear,
    met
  };
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
