/**
 * File bursts (issue 9): N files written at once by 4 writer processes, half
 * into folders of their own and half into one shared folder, watched by a
 * real MeowRunner with a no-op executor. Measured: seconds from the first
 * write until every file has its job (recorded in the journal), events per
 * second to job, files that had no job when the service first went idle
 * (must be 0), seconds until the service is idle again (jobs run, folders
 * written), and the service's resident memory at the end. Beside, in the
 * same run and on the same burst: python watchdog (the thesis's and
 * meow_base's monitor, installed into the benchmark-only venv), counting
 * files it reported and how fast (detection only: no hashing, no job), and
 * the target.
 *
 *   MEOW_BENCH_BURST=10000,100000   sizes (default 10000)
 *   MEOW_BENCH_REPS=3               repetitions per size (default 3)
 *   MEOW_BENCH_VENV=.venv-bench     venv for watchdog (created when missing)
 *   MEOW_BENCH_WATCHDOG=0           meow only
 *   MEOW_BENCH_OUT=file.json        default bench/results/burst.json
 */
import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MeowRunner } from '../src/service/runner';
import { benchVenv, NoopConductor, recipe, stats } from './common';

const WRITERS = 4;
const TARGET_EVENTS_PER_S = 10_000;
const VENV = path.resolve(process.env.MEOW_BENCH_VENV ?? '.venv-bench');
const WITH_WATCHDOG = process.env.MEOW_BENCH_WATCHDOG !== '0';

/**
 * watchdog's observer on the burst folder: every file it reports a created
 * or modified event for is counted once; it stops once all are seen or none
 * came for 10 s, and prints how many and when the last one came
 * (time.monotonic, the same clock as Node's hrtime on Linux).
 */
const WATCHDOG = `
import json, sys, threading, time
from watchdog.observers import Observer
from watchdog.events import FileSystemEventHandler
root, n = sys.argv[1], int(sys.argv[2])
seen, last, lock = set(), [0.0], threading.Lock()
class Count(FileSystemEventHandler):
    def on_any_event(self, e):
        if e.is_directory or e.event_type not in ('created', 'modified', 'closed', 'moved'):
            return
        p = getattr(e, 'dest_path', '') or e.src_path
        with lock:
            if p not in seen:
                seen.add(p)
                last[0] = time.monotonic()
o = Observer()
o.schedule(Count(), root, recursive=True)
o.start()
print('ready', flush=True)
while True:
    time.sleep(0.05)
    with lock:
        if len(seen) >= n or (last[0] and time.monotonic() - last[0] > 10):
            break
o.stop()
print(json.dumps({'seen': len(seen), 'last': last[0]}), flush=True)
`;

const WRITER = `
const fs = require('fs');
const [root, w, count] = process.argv.slice(1);
fs.mkdirSync(root + '/burst/w' + w, { recursive: true });
fs.mkdirSync(root + '/burst/shared', { recursive: true });
for (let i = 0; i < Number(count); i++) {
  const dir = i % 2 ? 'shared' : 'w' + w;
  fs.writeFileSync(root + '/burst/' + dir + '/w' + w + '-' + i + '.dat', 'writer ' + w + ' file ' + i + '\\n');
}
`;

function writer(root: string, w: number, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', WRITER, root, String(w), String(count)], { stdio: 'inherit' });
    child.on('exit', code => (code === 0 ? resolve() : reject(new Error(`writer ${w} exited with ${code}`))));
  });
}

/** The same burst under watchdog: files it reported and its events per second. */
async function watchdogOnce(py: string, files: number): Promise<{ seen: number; eventsPerS: number }> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-watchdog-')));
  try {
    await fs.mkdir(path.join(root, 'burst'));
    const child = spawn(py, ['-c', WATCHDOG, path.join(root, 'burst'), String(files)], {
      stdio: ['ignore', 'pipe', 'inherit']
    });
    let out = '';
    child.stdout.on('data', d => (out += d));
    const ended = new Promise<void>(resolve => child.on('exit', () => resolve()));
    while (!out.includes('ready')) {
      await new Promise(r => setTimeout(r, 20));
    }
    const t0 = Number(process.hrtime.bigint()) / 1e9;
    const per = Math.ceil(files / WRITERS);
    await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => writer(root, w, Math.max(0, Math.min(per, files - w * per))))
    );
    await ended;
    const { seen, last } = JSON.parse(out.slice(out.indexOf('{'))) as { seen: number; last: number };
    return { seen, eventsPerS: seen / (last - t0) };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

interface IRun {
  files: number;
  writtenS: number;
  jobsS: number;
  eventsPerS: number;
  lost: number;
  duplicated: number;
  idleS: number;
  rssMB: number;
}

async function once(files: number): Promise<IRun> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bench-burst-')));
  try {
    await fs.mkdir(path.join(root, '.meow', 'recipes'), { recursive: true });
    await fs.mkdir(path.join(root, '.meow', 'patterns'), { recursive: true });
    await fs.writeFile(path.join(root, '.meow', 'recipes', 'Count.ipynb'), recipe("infile = ''"));
    await fs.writeFile(
      path.join(root, '.meow', 'patterns', 'Burst.yaml'),
      'recipe: Count\ntrigger:\n  path: "burst/**"\ninput: infile\n'
    );
    const runner = new MeowRunner({ root, workers: 4, conductor: new NoopConductor() });
    await runner.start();
    let made = 0;
    let allMade: () => void = () => undefined;
    const jobsMade = new Promise<void>(resolve => (allMade = resolve));
    runner.jobChanged.connect((_, change) => {
      if (!change.previous && ++made >= files) {
        allMade();
      }
    });
    const t0 = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
    const per = Math.ceil(files / WRITERS);
    await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => writer(root, w, Math.max(0, Math.min(per, files - w * per))))
    );
    const writtenS = seconds();
    await Promise.race([jobsMade, runner.waitUntilIdle(500)]);
    const jobsS = seconds();
    await runner.waitUntilIdle(500);
    const idleS = seconds();
    const rssMB = process.memoryUsage().rss / 2 ** 20;
    const perPath = new Map<string, number>();
    for (const job of runner.store.list()) {
      perPath.set(job.trigger.path, (perPath.get(job.trigger.path) ?? 0) + 1);
    }
    await runner.stop();
    return {
      files,
      writtenS,
      jobsS,
      eventsPerS: files / jobsS,
      lost: files - perPath.size,
      duplicated: [...perPath.values()].filter(n => n > 1).length,
      idleS,
      rssMB
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = (process.env.MEOW_BENCH_BURST ?? '10000').split(',').map(Number);
  const reps = Number(process.env.MEOW_BENCH_REPS ?? 3);
  const out = process.env.MEOW_BENCH_OUT ?? path.join('bench', 'results', 'burst.json');
  console.log(
    `File bursts from ${WRITERS} writers, no-op execution, ${os.cpus().length} cores, ${reps} repetition(s)\n`
  );
  console.log(
    [
      'files',
      'written',
      'all jobs',
      'events/s to job',
      'lost',
      'idle',
      'RSS',
      'watchdog events/s',
      'watchdog missed',
      'target'
    ].join('\t')
  );
  const py = WITH_WATCHDOG ? benchVenv(VENV, 'import watchdog', ['watchdog']) : '';
  const results: Record<string, unknown>[] = [];
  for (const files of sizes) {
    const runs: IRun[] = [];
    const dog: { seen: number; eventsPerS: number }[] = [];
    for (let r = 0; r < reps; r++) {
      runs.push(await once(files));
      if (py) {
        dog.push(await watchdogOnce(py, files));
      }
    }
    const rate = stats(runs.map(r => r.eventsPerS));
    const lost = runs.reduce((n, r) => n + r.lost + r.duplicated, 0);
    const met = rate.median >= TARGET_EVENTS_PER_S && lost === 0;
    const row = {
      files,
      writtenS: stats(runs.map(r => r.writtenS)),
      jobsS: stats(runs.map(r => r.jobsS)),
      eventsPerS: rate,
      lost: runs.map(r => r.lost),
      duplicated: runs.map(r => r.duplicated),
      idleS: stats(runs.map(r => r.idleS)),
      rssMB: stats(runs.map(r => r.rssMB)),
      target: { eventsPerS: TARGET_EVENTS_PER_S, lost: 0, met },
      watchdog: dog.length
        ? { eventsPerS: stats(dog.map(d => d.eventsPerS)), missed: dog.map(d => files - d.seen) }
        : undefined
    };
    results.push(row);
    const f = (s: { min: number; median: number; max: number }, d = 2) =>
      `${s.min.toFixed(d)}/${s.median.toFixed(d)}/${s.max.toFixed(d)}`;
    console.log(
      [
        files,
        f(row.writtenS) + ' s',
        f(row.jobsS) + ' s',
        f(rate, 0),
        row.lost.join(','),
        f(row.idleS) + ' s',
        f(row.rssMB, 0) + ' MB',
        row.watchdog ? f(row.watchdog.eventsPerS, 0) : '-',
        row.watchdog ? row.watchdog.missed.join(',') : '-',
        met ? 'met' : 'NOT met'
      ].join('\t')
    );
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
  console.log(`\n(min/median/max; watchdog only detects — no hashing, no job; written to ${out})`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
