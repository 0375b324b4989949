/**
 * Helpers for the stress tests: the real `meow` service as a child process
 * (the bundled jupyterlab_meow/service/meow.js, as users run it), the job
 * journal read from disk, and the processes left behind.
 */
import { ChildProcess, spawn } from 'child_process';
import { createWriteStream, promises as fs } from 'fs';
import * as path from 'path';
import type { IJob } from '../../src/core/types';

export const REPO = path.resolve(__dirname, '..', '..');
export const BUNDLE = path.join(REPO, 'jupyterlab_meow', 'service', 'meow.js');
export const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** A `meow run` process on a workgroup, its output appended to `logFile`. */
export class ServiceProcess {
  constructor(
    readonly root: string,
    readonly args: string[],
    readonly logFile: string
  ) {}

  start(): void {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n=== start ${new Date().toISOString()} ===\n`);
    this.child = spawn(process.execPath, [BUNDLE, 'run', this.root, ...this.args], {
      env: { ...process.env, MEOW_PYTHON: PYTHON },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    this.child.stdout!.pipe(log, { end: false });
    this.child.stderr!.pipe(log, { end: false });
    this.exited = new Promise(resolve =>
      this.child!.once('exit', (code, signal) => {
        log.end();
        resolve({ code, signal });
      })
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL: no handler runs, nothing is flushed. */
  async kill9(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Ctrl-C, as a person stops it. */
  async interrupt(): Promise<{ code: number | null; signal: string | null }> {
    this.child?.kill('SIGINT');
    return this.exited!;
  }

  child: ChildProcess | undefined;
  exited: Promise<{ code: number | null; signal: string | null }> | undefined;
}

/** Every record in the job journal, in order (a torn last line is left out). */
export async function journalRecords(root: string): Promise<IJob[]> {
  let text = '';
  try {
    text = await fs.readFile(path.join(root, '.meow', 'jobs', 'journal.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: IJob[] = [];
  for (const line of text.split('\n')) {
    if (line.trim()) {
      try {
        out.push(JSON.parse(line));
      } catch {
        // torn by the kill
      }
    }
  }
  return out;
}

/** The latest record of each job. */
export function latest(records: IJob[]): Map<string, IJob> {
  const jobs = new Map<string, IJob>();
  for (const r of records) {
    jobs.set(r.id, r);
  }
  return jobs;
}

/** Pids of Jupyter kernels (and servers) whose working directory is `root`. */
export async function processesIn(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) {
      continue;
    }
    try {
      const cwd = await fs.readlink(`/proc/${pid}/cwd`);
      if (cwd === root) {
        const cmd = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
        found.push(`${pid} ${cmd}`);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/**
 * Processes still in `root` once they had `graceMs` to exit: a kernel or
 * fork template ends a moment after the server that owned it.
 */
export async function processesLeft(root: string, graceMs = 10_000): Promise<string[]> {
  const end = Date.now() + graceMs;
  let left = await processesIn(root);
  while (left.length && Date.now() < end) {
    await sleep(200);
    left = await processesIn(root);
  }
  return left;
}

/** A notebook with one code cell. */
export function notebook(source: string): string {
  return JSON.stringify({
    cells: [{ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 4
  });
}

/** Seeded random numbers, so a failing run can be repeated (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
