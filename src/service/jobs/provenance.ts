/**
 * Provenance tracking: which job wrote a file, so that a job triggered by
 * that file records the writer as its parent (spec §7).
 *
 * Running jobs report every path they open for writing to a log in their
 * folder as it happens; finished jobs' paths are kept in an index. A writer
 * only counts as the parent when the file's modification time falls within
 * the writer's run, so a person editing the file later breaks the link.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IJob } from '../../core/types';
import { readIfExists, toRelative } from '../fsutil';

/** Slack for file-system timestamp granularity and clock steps, in ms. */
const SLACK_MS = 1500;

export class ProvenanceTracker {
  constructor(options: ProvenanceTracker.IOptions) {
    this._root = path.resolve(options.root);
  }

  /** Index the files of finished jobs (at start-up). */
  load(jobs: Iterable<IJob>): void {
    for (const job of jobs) {
      if (job.finished) {
        this._recordFiles(job);
      }
    }
  }

  /** A job starts: its write log is consulted until it is recorded. */
  started(job: IJob, writesLogPath: string): void {
    this._active.set(job.id, { logPath: writesLogPath, started: Date.parse(job.started ?? job.created) });
  }

  /** A job finished: index its files and stop reading its log. */
  finished(job: IJob): void {
    this._recordFiles(job);
    this._active.delete(job.id);
  }

  /**
   * Workgroup-relative paths written by a job, from its log of absolute
   * paths (paths outside the workgroup stay absolute).
   */
  relativise(paths: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const p of paths) {
      const rel = toRelative(this._root, p);
      out.add(rel.startsWith('..') || path.isAbsolute(rel) ? p : rel);
    }
    return [...out].sort();
  }

  /** The job that produced the file at `rel` as it is now, if any. */
  async parentOf(rel: string): Promise<string | undefined> {
    let mtime: number;
    try {
      mtime = (await fs.stat(path.join(this._root, rel))).mtimeMs;
    } catch {
      mtime = Date.now(); // deleted: judge by the writer alone
    }
    const abs = path.join(this._root, rel);
    let best: { id: string; started: number } | undefined;
    for (const [id, active] of this._active) {
      if (mtime < active.started - SLACK_MS) {
        continue;
      }
      const log = await readIfExists(active.logPath);
      if (log && log.split('\n').includes(abs)) {
        if (!best || active.started > best.started) {
          best = { id, started: active.started };
        }
      }
    }
    if (best) {
      return best.id;
    }
    const writer = this._writers.get(rel);
    if (writer && mtime >= writer.started - SLACK_MS && mtime <= writer.finished + SLACK_MS) {
      return writer.id;
    }
    return undefined;
  }

  private _recordFiles(job: IJob): void {
    const started = Date.parse(job.started ?? job.created);
    const finished = Date.parse(job.finished ?? new Date().toISOString());
    for (const file of job.filesWritten ?? []) {
      const current = this._writers.get(file);
      if (!current || current.finished <= finished) {
        this._writers.set(file, { id: job.id, started, finished });
      }
    }
  }

  private readonly _root: string;
  private readonly _active = new Map<string, { logPath: string; started: number }>();
  private readonly _writers = new Map<string, { id: string; started: number; finished: number }>();
}

export namespace ProvenanceTracker {
  export interface IOptions {
    root: string;
  }
}
