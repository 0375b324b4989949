/**
 * The job store: one folder per job under `<state>/jobs/<id>/`, holding
 * `job.yaml` (spec §6), the recipe snapshot, the parameterised notebook,
 * `result.ipynb` and the kernel's log of written files.
 *
 * Every `job.yaml` write is atomic and fsynced, and a final status is never
 * changed, so what is on disk after a crash is always a state the job
 * really passed through.
 */
import { Signal, ISignal } from '@lumino/signaling';
import { promises as fs } from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { canTransition, isFinalStatus } from '../../core/jobs';
import { jsonReplacer } from '../../core/pyvalue';
import type { IJob, INotebook } from '../../core/types';
import { writeFileAtomic } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';

/** File names inside a job folder. */
export const JOB_FILES = {
  job: 'job.yaml',
  recipe: 'recipe.ipynb',
  notebook: 'job.ipynb',
  result: 'result.ipynb',
  writes: 'writes.log'
} as const;

export class JobStore {
  constructor(options: JobStore.IOptions) {
    this._dir = options.jobsDir;
    this._log = options.log ?? silentLogger;
  }

  /** Emitted after a job is created or its record changes. */
  get changed(): ISignal<this, JobStore.IChange> {
    return this._changed;
  }

  /**
   * Read every `job.yaml` (at start-up). A folder whose record cannot be
   * read is reported and left alone, never deleted.
   */
  async load(): Promise<IJob[]> {
    await fs.mkdir(this._dir, { recursive: true });
    const entries = await fs.readdir(this._dir, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory()) {
        continue;
      }
      const file = path.join(this._dir, entry.name, JOB_FILES.job);
      try {
        const job = YAML.parse(await fs.readFile(file, 'utf8')) as IJob;
        if (!job || typeof job.id !== 'string' || typeof job.status !== 'string') {
          throw new Error('missing "id" or "status"');
        }
        job.filesWritten = job.filesWritten ?? [];
        this._add(job);
      } catch (err) {
        this._log.warn(
          `job store: cannot read ${file}: ${(err as Error).message}; ` +
            'the folder is left as it is (fix or remove it by hand)'
        );
      }
    }
    return this.list();
  }

  get(id: string): IJob | undefined {
    return this._jobs.get(id);
  }

  /** All jobs, oldest first (ids sort by creation time). */
  list(): IJob[] {
    return [...this._jobs.values()].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0
    );
  }

  /** Jobs that are not finished. */
  unfinished(): IJob[] {
    return this.list().filter(j => !isFinalStatus(j.status));
  }

  /** Jobs of one rule content for one trigger path (for deduplication). */
  byTrigger(ruleKey: string, triggerPath: string): IJob[] {
    const ids = this._byTrigger.get(`${ruleKey}\n${triggerPath}`) ?? [];
    return ids.map(id => this._jobs.get(id)!);
  }

  jobDir(id: string): string {
    return path.join(this._dir, id);
  }

  filePath(id: string, file: keyof typeof JOB_FILES): string {
    return path.join(this._dir, id, JOB_FILES[file]);
  }

  /** Create a job folder with its record and notebooks. */
  async create(job: IJob, notebooks: { recipe: INotebook; notebook: INotebook }): Promise<void> {
    if (this._jobs.has(job.id)) {
      throw new Error(`job ${job.id} already exists`);
    }
    const dir = this.jobDir(job.id);
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(
      path.join(dir, JOB_FILES.recipe),
      JSON.stringify(notebooks.recipe, null, 1) + '\n',
      { fsync: false }
    );
    await writeFileAtomic(
      path.join(dir, JOB_FILES.notebook),
      JSON.stringify(notebooks.notebook, null, 1) + '\n',
      { fsync: false }
    );
    // The record goes last: a job exists once its job.yaml does.
    await writeFileAtomic(path.join(dir, JOB_FILES.job), JobStore.serialise(job));
    this._add(job);
    this._changed.emit({ job, previous: undefined });
  }

  /**
   * Change a job's record. Status changes must follow the job life cycle
   * (a final status never changes); an illegal one is refused with an error.
   * Writes to one job are serialised so the file always holds the latest.
   */
  update(id: string, patch: Partial<IJob>): Promise<IJob> {
    const run = async (): Promise<IJob> => {
      const current = this._jobs.get(id);
      if (!current) {
        throw new Error(`no job ${id}`);
      }
      if (patch.status && patch.status !== current.status) {
        if (!canTransition(current.status, patch.status)) {
          throw new JobStore.TransitionError(id, current.status, patch.status);
        }
      } else if (isFinalStatus(current.status) && patch.status === undefined) {
        // Finished jobs only accept bookkeeping that does not alter history.
        const allowed = ['filesWritten'];
        const keys = Object.keys(patch).filter(k => !allowed.includes(k));
        if (keys.length) {
          throw new Error(`job ${id} is ${current.status}; cannot change ${keys.join(', ')}`);
        }
      }
      const next: IJob = { ...current, ...patch };
      await writeFileAtomic(this.filePath(id, 'job'), JobStore.serialise(next), {
        fsync: isFinalStatus(next.status) || patch.status !== undefined
      });
      this._jobs.set(id, next);
      this._changed.emit({ job: next, previous: current });
      return next;
    };
    const queued = (this._writes.get(id) ?? Promise.resolve()).then(run, run);
    this._writes.set(
      id,
      queued.then(
        () => undefined,
        () => undefined
      )
    );
    return queued;
  }

  private _add(job: IJob): void {
    this._jobs.set(job.id, job);
    // Rule key and trigger path never change, so the index is built once.
    const key = `${job.ruleKey}\n${job.trigger.path}`;
    const ids = this._byTrigger.get(key);
    if (ids) {
      ids.push(job.id);
    } else {
      this._byTrigger.set(key, [job.id]);
    }
  }

  private readonly _dir: string;
  private readonly _log: ILogger;
  private readonly _jobs = new Map<string, IJob>();
  private readonly _byTrigger = new Map<string, string[]>();
  private readonly _writes = new Map<string, Promise<void>>();
  private readonly _changed = new Signal<this, JobStore.IChange>(this);
}

export namespace JobStore {
  export interface IOptions {
    /** Absolute path of `<workgroup>/<state>/jobs`. */
    jobsDir: string;
    log?: ILogger;
  }

  export interface IChange {
    job: IJob;
    previous: IJob | undefined;
  }

  export class TransitionError extends Error {
    constructor(id: string, from: string, to: string) {
      super(`job ${id}: status cannot change from ${from} to ${to}`);
    }
  }

  /** The YAML text of a job record (JSON-safe values only). */
  export function serialise(job: IJob): string {
    return YAML.stringify(JSON.parse(JSON.stringify(job, jsonReplacer)), { lineWidth: 0 });
  }
}
