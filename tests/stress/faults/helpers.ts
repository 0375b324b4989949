/**
 * Helpers for the fault tests (issue 6): a runner on a workgroup with a
 * scripted conductor, gates that hold a job until the test lets it go, and
 * counting jobs per trigger so every output is accounted for.
 */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { Script, ScriptedConductor } from '../../helpers/scriptedConductor';

export { until, writeFile } from '../../helpers/workgroup';

export interface IStarted {
  runner: MeowRunner;
  conductor: ScriptedConductor;
  log: RecordingLogger;
}

/** A started runner on `root` with a scripted conductor and a recording logger. */
export async function startScripted(
  root: string,
  scripts: Record<string, Script>,
  options: Partial<MeowRunner.IOptions> = {},
  log = new RecordingLogger()
): Promise<IStarted> {
  const conductor = new ScriptedConductor(scripts);
  const runner = new MeowRunner({ root, workers: 1, settleMs: 30, conductor, log, ...options });
  await runner.start();
  return { runner, conductor, log };
}

/**
 * A gate scripted jobs wait at until `open()`. `script` is a recipe that
 * waits there (and ends when the job is aborted, so a runner can always stop).
 */
export function gate(): { wait: Promise<void>; open: () => void; script: Script; readonly entered: number } {
  let open!: () => void;
  let entered = 0;
  const wait = new Promise<void>(resolve => (open = resolve));
  const script: Script = (_p, io) => {
    entered++; // the scripted conductor has written result.ipynb by now
    return Promise.race([
      wait,
      new Promise<void>((_, reject) => {
        if (io.signal.aborted) {
          reject(new Error('aborted'));
        }
        io.signal.addEventListener('abort', () => reject(new Error('aborted')));
      })
    ]);
  };
  return {
    wait,
    open,
    script,
    get entered() {
      return entered;
    }
  };
}

/** Resolve `work`, or fail with `what` after `ms`. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      })
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const pause = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** Jobs of one pattern, oldest first. */
export function jobsOf(runner: MeowRunner, pattern: string): IJob[] {
  return runner.store.list().filter(j => j.pattern === pattern);
}

/** Jobs grouped by trigger path. */
export function byTrigger(jobs: IJob[]): Map<string, IJob[]> {
  const out = new Map<string, IJob[]>();
  for (const j of jobs) {
    out.set(j.trigger.path, [...(out.get(j.trigger.path) ?? []), j]);
  }
  return out;
}

/**
 * Problems with "every one of `paths` has exactly one job of `pattern`, and
 * it is done; no other path has one" (empty when all is well).
 */
export function exactlyOneDoneEach(jobs: IJob[], paths: string[]): string[] {
  const problems: string[] = [];
  const groups = byTrigger(jobs);
  for (const p of paths) {
    const js = groups.get(p) ?? [];
    if (js.length !== 1 || js[0].status !== 'done') {
      problems.push(
        `${p}: ${js.length} job(s) [${js.map(j => `${j.id} ${j.status}${j.error ? ` (${j.error.message})` : ''}`).join('; ')}]`
      );
    }
  }
  for (const p of groups.keys()) {
    if (!paths.includes(p)) {
      problems.push(
        `${p}: unexpected job(s) ${groups
          .get(p)!
          .map(j => `${j.id} ${j.status}`)
          .join('; ')}`
      );
    }
  }
  return problems;
}

/** sha256 of a text, as meow hashes trigger files. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Every file below `dir` (relative paths), recursively. */
export async function treeFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await walk(r);
      } else {
        out.push(r);
      }
    }
  };
  await walk('');
  return out.sort();
}

/** The job journal on disk: parsed records and lines that do not parse. */
export async function readJournal(root: string, stateDir = '.meow'): Promise<{ records: IJob[]; torn: string[] }> {
  const text = await fs.readFile(path.join(root, stateDir, 'jobs', 'journal.jsonl'), 'utf8').catch(() => '');
  const records: IJob[] = [];
  const torn: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      continue;
    }
    try {
      records.push(JSON.parse(line));
    } catch {
      torn.push(line.length > 120 ? `${line.slice(0, 60)}…${line.slice(-60)} (${line.length} chars)` : line);
    }
  }
  return { records, torn };
}

/** The last record of each job. */
export function latest(records: IJob[]): Map<string, IJob> {
  const jobs = new Map<string, IJob>();
  for (const r of records) {
    jobs.set(r.id, r);
  }
  return jobs;
}

/** Log lines that look like an internal error or a stack trace. */
export function internalErrors(log: RecordingLogger): string[] {
  return log.lines
    .filter(l => /internal error|\n\s+at .+:\d+:\d+/.test(l.message))
    .map(l => `${l.level}: ${l.message.slice(0, 400)}`);
}
