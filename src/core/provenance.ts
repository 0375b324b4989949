/**
 * The provenance report (spec §7): a DAG drawn after the fact, jobs as
 * nodes, files as edges. Every job records the job whose output triggered
 * it (`parent`), so an edge runs parent → child, labelled with the child's
 * trigger path.
 *
 * Filters follow the thesis ReportWidget's six: job, triggering path,
 * pattern, recipe, before and after a time. They combine (all must hold);
 * a filtered graph keeps only edges between kept jobs.
 */

import { globMatches, isGlob } from './glob';
import type { IJob, JobStatus } from './types';

/** A job in the report. */
export interface IProvenanceNode {
  id: string;
  pattern: string;
  recipe: string;
  rule: string;
  status: JobStatus;
  created: string;
  started?: string;
  finished?: string;
  /** Workgroup-relative path of the triggering file. */
  trigger: string;
  /** The job whose output triggered this one, if any. */
  parent?: string;
  /** Files the job wrote. */
  filesWritten: string[];
  /** The error message of a failed job. */
  error?: string;
}

/** `from` wrote the file `path`, which triggered `to`. */
export interface IProvenanceEdge {
  from: string;
  to: string;
  path: string;
}

export interface IProvenanceGraph {
  /** Kept jobs, in id (creation) order. */
  jobs: IProvenanceNode[];
  /** Edges between kept jobs, in the order of their child. */
  edges: IProvenanceEdge[];
}

/** A time as ISO 8601 text, ms since the epoch, or a Date. */
export type TimeLike = string | number | Date;

/** ReportWidget filters; unset ones keep everything. */
export interface IProvenanceFilter {
  /** Part of a job id (e.g. its date part) or the whole id. */
  job?: string;
  /** A glob over trigger paths (`first/*`), or a part of one (`Alpha`). */
  path?: string;
  /** Exact pattern name. */
  pattern?: string;
  /** Exact recipe name. */
  recipe?: string;
  /** Jobs created at or before this time. */
  before?: TimeLike;
  /** Jobs created at or after this time. */
  after?: TimeLike;
}

function toMs(t: TimeLike): number {
  if (t instanceof Date) {
    return t.getTime();
  }
  return typeof t === 'number' ? t : Date.parse(t);
}

/**
 * Whether a job passes a filter. An unparseable `before`/`after` keeps
 * nothing rather than everything, so a typo is noticed.
 */
export function jobMatchesFilter(job: IJob, filter: IProvenanceFilter = {}): boolean {
  if (filter.job && !job.id.includes(filter.job)) {
    return false;
  }
  if (filter.path) {
    const p = job.trigger?.path ?? '';
    const ok = isGlob(filter.path) ? globMatches(filter.path, p) : p.includes(filter.path);
    if (!ok) {
      return false;
    }
  }
  if (filter.pattern && job.pattern !== filter.pattern) {
    return false;
  }
  if (filter.recipe && job.recipe !== filter.recipe) {
    return false;
  }
  const created = Date.parse(job.created);
  if (filter.before !== undefined && filter.before !== '') {
    const before = toMs(filter.before);
    if (!(created <= before)) {
      return false;
    }
  }
  if (filter.after !== undefined && filter.after !== '') {
    const after = toMs(filter.after);
    if (!(created >= after)) {
      return false;
    }
  }
  return true;
}

function nodeOf(job: IJob): IProvenanceNode {
  const node: IProvenanceNode = {
    id: job.id,
    pattern: job.pattern,
    recipe: job.recipe,
    rule: job.rule,
    status: job.status,
    created: job.created,
    trigger: job.trigger?.path ?? '',
    filesWritten: [...(job.filesWritten ?? [])]
  };
  if (job.started) {
    node.started = job.started;
  }
  if (job.finished) {
    node.finished = job.finished;
  }
  if (job.parent) {
    node.parent = job.parent;
  }
  if (job.error) {
    node.error = job.error.message;
  }
  return node;
}

/** The report graph of `jobs`, optionally filtered. */
export function provenanceGraph(jobs: IJob[], filter: IProvenanceFilter = {}): IProvenanceGraph {
  const kept = jobs
    .filter(job => jobMatchesFilter(job, filter))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = new Set(kept.map(j => j.id));
  const edges: IProvenanceEdge[] = [];
  for (const job of kept) {
    if (job.parent && job.parent !== job.id && ids.has(job.parent)) {
      edges.push({ from: job.parent, to: job.id, path: job.trigger?.path ?? '' });
    }
  }
  return { jobs: kept.map(nodeOf), edges };
}

/**
 * The jobs upstream (ancestors) and downstream (descendants) of one job,
 * itself included: "what produced this, and what did it lead to?".
 */
export function provenanceLineage(jobs: IJob[], id: string): IJob[] {
  const byId = new Map(jobs.map(j => [j.id, j]));
  const children = new Map<string, string[]>();
  for (const j of jobs) {
    if (j.parent) {
      const list = children.get(j.parent);
      if (list) {
        list.push(j.id);
      } else {
        children.set(j.parent, [j.id]);
      }
    }
  }
  const keep = new Set<string>();
  // Up: follow parents (guarding against a malformed cycle).
  for (let cur = byId.get(id); cur && !keep.has(cur.id); cur = cur.parent ? byId.get(cur.parent) : undefined) {
    keep.add(cur.id);
  }
  // Down: breadth-first over children.
  const queue = byId.has(id) ? [id] : [];
  for (let next = 0; next < queue.length; next++) {
    for (const child of children.get(queue[next]) ?? []) {
      if (!keep.has(child)) {
        keep.add(child);
        queue.push(child);
      }
    }
  }
  return jobs.filter(j => keep.has(j.id));
}
