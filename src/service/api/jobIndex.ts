/**
 * An in-memory index of the job records for the API: ids newest first,
 * counts by status and children by parent, kept up to date from the job
 * store's change signal. Listing, filtering and paging 10,000 jobs touches
 * no disk and sorts nothing per request.
 */
import type { IJobPage, IJobQuery } from '../../core/api';
import { DEFAULT_JOB_LIMIT } from '../../core/api';
import { compileJobFilter, descendingStrings, insertSorted } from '../../core/jobFilter';
import { JOB_STATUSES } from '../../core/jobs';
import type { IJob, JobStatus } from '../../core/types';

export class JobIndex {
  /** Build from the current records (any order). */
  constructor(jobs: Iterable<IJob> = []) {
    for (const job of jobs) {
      this._jobs.set(job.id, job);
    }
    this._ids = [...this._jobs.keys()].sort(descendingStrings);
    for (const job of this._jobs.values()) {
      this._counts[job.status]++;
      this._link(job);
    }
  }

  get size(): number {
    return this._ids.length;
  }

  get(id: string): IJob | undefined {
    return this._jobs.get(id);
  }

  /** Counts by status (a copy). */
  counts(): Record<JobStatus, number> {
    return { ...this._counts };
  }

  /** Ids of the jobs triggered by a file this job wrote. */
  children(id: string): string[] {
    return [...(this._children.get(id) ?? [])];
  }

  /** A job was created or its record changed. */
  update(job: IJob): void {
    const previous = this._jobs.get(job.id);
    this._jobs.set(job.id, job);
    if (previous) {
      this._counts[previous.status]--;
      this._counts[job.status]++;
      return;
    }
    this._counts[job.status]++;
    this._link(job);
    insertSorted(this._ids, job.id, descendingStrings);
  }

  /** Filter, newest first, then page. */
  query(q: IJobQuery): IJobPage {
    const offset = q.offset ?? 0;
    const limit = q.limit ?? DEFAULT_JOB_LIMIT;
    const matches = compileJobFilter(q);
    const jobs: IJob[] = [];
    let total = 0;
    for (const id of this._ids) {
      const job = this._jobs.get(id)!;
      if (!matches(job)) {
        continue;
      }
      if (total >= offset && jobs.length < limit) {
        jobs.push(job);
      }
      total++;
    }
    return { jobs, total, offset, limit };
  }

  private _link(job: IJob): void {
    if (job.parent) {
      const list = this._children.get(job.parent);
      if (list) {
        list.push(job.id);
      } else {
        this._children.set(job.parent, [job.id]);
      }
    }
  }

  private readonly _jobs = new Map<string, IJob>();
  private readonly _ids: string[];
  private readonly _children = new Map<string, string[]>();
  private readonly _counts = Object.fromEntries(JOB_STATUSES.map(s => [s, 0])) as Record<JobStatus, number>;
}
