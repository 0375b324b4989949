/**
 * The network-events paper's experiments on this machine (its Tables 1 and
 * 2): time from the first message sent until every message has its job, on
 * a real MeowRunner with a no-op conductor (as bench/scheduling.ts), so the
 * whole path is measured: socket → `.part` file → fsync + rename → reply →
 * scheduler → hash → job record and folder.
 *
 *   single listener:    1, 10, 100, 1,000 messages to one port
 *   multiple listeners: 1,000 messages spread evenly over 1, 10, 100, 250,
 *                       500, 1,000 ports (one pattern per port)
 *
 * The paper stopped its clock when the events reached the runner's queue;
 * here it stops when the jobs are recorded, which is later. Every message is
 * sent at once from this process (the paper's senders were threads of its
 * test process too). None may be lost: the jobs' trigger paths must be
 * distinct, one per message, and their content hashes must be exactly those
 * of the payloads sent.
 *
 *   MEOW_BENCH_REPS=5        repetitions per case (default 50, as in the paper)
 *   MEOW_BENCH_NETWORK=single,multi   which experiments (default both)
 *   MEOW_BENCH_OUT=file.json where the numbers go (default bench/results/network.json)
 */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { MeowRunner } from '../src/service/runner';
import { NetworkTrigger } from '../src/service/triggers/network';
import { NoopConductor, recipe } from './common';

const RECIPE = recipe("infile = ''\n");

/** The paper's desktop rows (i7-7700K), seconds: min, avg, max. */
const PAPER_SINGLE: Record<number, [number, number, number]> = {
  1: [0.0004, 0.0016, 0.0022],
  10: [0.003, 0.056, 1.0],
  100: [0.025, 0.44, 2.2],
  1000: [0.24, 5.2, 16]
};
const PAPER_MULTI: Record<number, [number, number, number]> = {
  1: [0.24, 5.2, 16],
  10: [0.24, 4.0, 19],
  100: [0.25, 1.0, 10],
  250: [0.27, 0.9, 12],
  500: [0.31, 0.31, 0.33],
  1000: [0.38, 0.4, 0.42]
};

interface ICaseResult {
  experiment: 'single' | 'multi';
  listeners: number;
  messages: number;
  seconds: number[];
  /** Seconds until every message was stored (its `ok` reply received), per repetition. */
  stored: number[];
  storedAvg: number;
  min: number;
  avg: number;
  max: number;
  paper: { min: number; avg: number; max: number };
}

async function write(root: string, rel: string, text: string): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

/** `n` ports nothing listens on just now (held together, so all differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        })
    )
  );
  const ports = servers.map(s => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map(s => new Promise(r => s.close(r))));
  return ports;
}

/** Send one message as any plain client does: data, half-close, read the reply. */
function sendOne(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.end(payload));
    let reply = '';
    socket.on('data', c => (reply += c));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * One runner with `listeners` patterns, one per port; `reps` rounds of
 * `messages` messages spread evenly over the ports.
 */
async function measure(
  listeners: number,
  messages: number,
  reps: number
): Promise<{ seconds: number[]; stored: number[] }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `meow-bench-net-${listeners}x${messages}-`));
  let runner: MeowRunner | undefined;
  try {
    const ports = await freePorts(listeners);
    const perPort = Math.ceil(messages / listeners);
    await write(root, '.meow/recipes/r.ipynb', RECIPE);
    for (const [i, port] of ports.entries()) {
      await write(
        root,
        `.meow/patterns/p${i}.yaml`,
        `recipe: r\ntrigger: {port: ${port}, max_connections: ${Math.max(64, perPort)}}\ninput: infile\n`
      );
    }
    runner = await startRunner(root);
    const trigger = runner.triggers.triggers.find(t => t.kinds.includes('network')) as NetworkTrigger;
    const until = Date.now() + 120_000;
    while (trigger.ports.length < listeners) {
      if (Date.now() > until) {
        throw new Error(`only ${trigger.ports.length} of ${listeners} ports opened within 120 s`);
      }
      await new Promise(r => setTimeout(r, 20));
    }
    const times: number[] = [];
    const storedTimes: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const payloads = Array.from({ length: messages }, (_, i) =>
        Buffer.from(`instrument,sequence,value\nprobe-${i % listeners},${rep}-${i},${Math.sin(i + rep * messages)}\n`)
      );
      const made = new Map<string, string>(); // trigger path → content hash
      let count = 0;
      const onJob = (_: unknown, change: { job: { trigger: { path: string; hash?: string } }; previous?: unknown }) => {
        if (!change.previous) {
          count++;
          made.set(change.job.trigger.path, change.job.trigger.hash ?? '');
        }
      };
      runner.jobChanged.connect(onJob);
      const t0 = process.hrtime.bigint();
      let stored = 0;
      const replies = Promise.all(payloads.map((p, i) => sendOne(ports[i % listeners], p))).then(all => {
        stored = Number(process.hrtime.bigint() - t0) / 1e9;
        return all;
      });
      const deadline = Date.now() + 120_000;
      while (count < messages) {
        if (Date.now() > deadline) {
          throw new Error(`${listeners} listener(s), ${messages} messages: only ${count} jobs after 120 s`);
        }
        await new Promise(r => setImmediate(r));
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      runner.jobChanged.disconnect(onJob);
      times.push(seconds);
      // None lost: one job per message, each with the content sent.
      const answers = await replies;
      storedTimes.push(stored);
      const bad = answers.filter(a => !a.startsWith('ok '));
      if (bad.length) {
        throw new Error(`${bad.length} message(s) refused, e.g. ${JSON.stringify(bad[0])}`);
      }
      const bytes = answers.reduce((s, a) => s + Number(a.split(' ')[1]), 0);
      const sent = payloads.reduce((s, p) => s + p.length, 0);
      const want = payloads.map(sha256).sort().join();
      const got = [...made.values()].sort().join();
      if (made.size !== messages || count !== messages || bytes !== sent || got !== want) {
        throw new Error(
          `${listeners} listener(s), ${messages} messages: ${count} jobs, ${made.size} distinct paths, ` +
            `${bytes} of ${sent} bytes acknowledged, content ${got === want ? 'matches' : 'DIFFERS'}`
        );
      }
      await runner.waitUntilIdle();
    }
    return { seconds: times, stored: storedTimes };
  } finally {
    await runner?.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** A runner with the network trigger (added here unless the runner has it built in). */
async function startRunner(root: string): Promise<MeowRunner> {
  const options = { root, conductor: new NoopConductor(), settleMs: 20 };
  let runner = new MeowRunner(options);
  if (!runner.triggers.triggers.some(t => t.kinds.includes('network'))) {
    runner = new MeowRunner({ ...options, triggers: context => [new NetworkTrigger({ context })] });
  }
  await runner.start();
  return runner;
}

const fmt = (s: number) => (s < 0.1 ? `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms` : `${s.toFixed(2)} s`);

function summarise(
  experiment: 'single' | 'multi',
  listeners: number,
  messages: number,
  { seconds, stored }: { seconds: number[]; stored: number[] }
): ICaseResult {
  const paper = (experiment === 'single' ? PAPER_SINGLE[messages] : PAPER_MULTI[listeners]) ?? [NaN, NaN, NaN];
  return {
    experiment,
    listeners,
    messages,
    seconds,
    stored,
    storedAvg: stored.reduce((a, b) => a + b, 0) / stored.length,
    min: Math.min(...seconds),
    avg: seconds.reduce((a, b) => a + b, 0) / seconds.length,
    max: Math.max(...seconds),
    paper: { min: paper[0], avg: paper[1], max: paper[2] }
  };
}

function row(first: number, r: ICaseResult): string {
  return [
    String(first).padStart(5),
    fmt(r.min).padStart(9),
    fmt(r.avg).padStart(9),
    fmt(r.max).padStart(9),
    fmt(r.avg / r.messages).padStart(9),
    fmt(r.storedAvg).padStart(9),
    '   ',
    fmt(r.paper.min).padStart(9),
    fmt(r.paper.avg).padStart(9),
    fmt(r.paper.max).padStart(9)
  ].join(' ');
}

async function main() {
  const reps = Number(process.env.MEOW_BENCH_REPS ?? 50);
  const which = (process.env.MEOW_BENCH_NETWORK ?? 'single,multi').split(',');
  const out = process.env.MEOW_BENCH_OUT ?? path.join('bench', 'results', 'network.json');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log('\nNetwork triggers (network-events paper, Tables 1 and 2): time from the first message');
  console.log('sent until every message has its job; no-op execution; paper = its desktop rows, i7-7700K');
  console.log(
    `(${reps} repetitions per case; the paper used 50. ${os.cpus().length} cores, ${cpu}, load ${os.loadavg()[0].toFixed(1)})`
  );
  console.log('stored = avg time until every message was on disk and acknowledged, before its job was made\n');
  const loadBefore = os.loadavg();
  const results: ICaseResult[] = [];
  const header = (first: string) =>
    `${first.padStart(5)} ${'min'.padStart(9)} ${'avg'.padStart(9)} ${'max'.padStart(9)} ${'avg/msg'.padStart(9)} ${'stored'.padStart(9)}     ` +
    `${'paper min'.padStart(9)} ${'avg'.padStart(9)} ${'max'.padStart(9)}`;
  if (which.includes('single')) {
    console.log('Single listener: n messages to one port');
    console.log(header('n'));
    for (const n of [1, 10, 100, 1000]) {
      const r = summarise('single', 1, n, await measure(1, n, reps));
      results.push(r);
      console.log(row(n, r));
    }
    console.log('');
  }
  if (which.includes('multi')) {
    console.log('Multiple listeners: 1,000 messages spread over L ports (one pattern each)');
    console.log(header('L'));
    for (const l of [1, 10, 100, 250, 500, 1000]) {
      const r = summarise('multi', l, 1000, await measure(l, 1000, reps));
      results.push(r);
      console.log(row(l, r));
    }
    console.log('');
  }
  const single1000 = results.find(r => r.experiment === 'single' && r.messages === 1000);
  if (single1000) {
    console.log(
      `1,000 messages to one listener: avg ${fmt(single1000.avg)} (target < 0.5 s: ${single1000.avg < 0.5 ? 'met' : 'NOT met'}); ` +
        `all stored after ${fmt(single1000.storedAvg)}, the rest is making their jobs; none lost in any case`
    );
  }
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(
    out,
    JSON.stringify(
      {
        benchmark: 'network-events paper, Tables 1 and 2 (time until every message has its job)',
        date: new Date().toISOString(),
        machine: {
          cpu,
          cores: os.cpus().length,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          platform: `${os.platform()} ${os.release()}`,
          node: process.version
        },
        repetitions: reps,
        loadAverage: { before: loadBefore, after: os.loadavg() },
        paperMachine:
          'desktop, Intel i7-7700K, 4 cores, 4.2 GHz, 32 GB; paper repetitions 50; its clock stopped at the runner queue',
        results
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
