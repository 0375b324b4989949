/**
 * Job statuses and ids (spec §6).
 *
 *   queued ─→ running ─→ done | failed | cancelled
 *      └───→ cancelled | skipped | failed
 *      ↑_________│  a crash interrupted it: it runs again as the same job
 *
 * A final status never changes.
 */

import { FINAL_JOB_STATUSES, JobStatus } from './types';

/** Every status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled', 'skipped'];

/** True for done, failed, cancelled and skipped. */
export function isFinalStatus(s: JobStatus): boolean {
  return FINAL_JOB_STATUSES.includes(s);
}

const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  // failed: e.g. the notebook cannot be parameterised or the kernel
  // cannot start; skipped: the trigger file changed before the job ran.
  queued: ['running', 'cancelled', 'skipped', 'failed'],
  running: ['done', 'failed', 'cancelled', 'queued'],
  done: [],
  failed: [],
  cancelled: [],
  skipped: []
};

/** Whether a job may go from one status to another. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

const SEQ_MOD = 1000000;
const ID_RE = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})-(\d{6})-([A-Za-z0-9]+)$/;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * A job id, `YYYYMMDD-HHMMSS-mmm-SSSSSS-suffix` in UTC, e.g.
 * `20261122-024433-123-000001-ab12`. Fixed-width fields make ids sort by
 * creation time, then by `seq`; the suffix (e.g. random hex) keeps ids from
 * two services unique. Only `seq` modulo 10^6 is kept, so ids stay ordered
 * while fewer than a million jobs are made in one millisecond.
 *
 * @throws RangeError for a time outside years 0–9999, a negative or
 * fractional seq, or a suffix that is not letters and digits.
 */
export function makeJobId(timeMs: number, seq: number, suffix: string): string {
  const d = new Date(timeMs);
  if (!Number.isFinite(timeMs) || Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) {
    throw new RangeError(`job id: time ${timeMs} is not a date in years 0-9999`);
  }
  if (!Number.isInteger(seq) || seq < 0) {
    throw new RangeError(`job id: seq ${seq} must be a whole number >= 0`);
  }
  if (!/^[A-Za-z0-9]+$/.test(suffix)) {
    throw new RangeError(`job id: suffix "${suffix}" must be letters and digits`);
  }
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    '-' +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    '-' +
    pad(d.getUTCMilliseconds(), 3) +
    '-' +
    pad(seq % SEQ_MOD, 6) +
    '-' +
    suffix
  );
}

/** The parts of a job id, or undefined if it is not one. */
export function parseJobId(id: string): { time: number; seq: number; suffix: string } | undefined {
  const m = ID_RE.exec(id);
  if (!m) {
    return undefined;
  }
  const [y, mo, da, h, mi, s, ms, seq] = m.slice(1, 9).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, da);
  date.setUTCHours(h, mi, s, ms);
  const time = date.getTime();
  // Reject ids whose fields overflow (month 13, hour 25, ...).
  if (makeJobId(time, seq, m[9]) !== id) {
    return undefined;
  }
  return { time, seq, suffix: m[9] };
}

/**
 * The sequence number in a job id, without checking the rest as `parseJobId`
 * does (that makes the id again): read for every job created and loaded.
 */
export function jobIdSeq(id: string): number | undefined {
  const m = ID_RE.exec(id);
  return m ? Number(m[8]) : undefined;
}

/** Whether a string is a job id made by `makeJobId`. */
export function isJobId(id: string): boolean {
  return parseJobId(id) !== undefined;
}

/**
 * The short form of a job id shown wherever jobs are listed or drawn (the
 * Monitor, the Report, a pattern's runs), the same everywhere: sequence and
 * suffix (`20261122-035941-703-000005-6d07` → `000005-6d07`). The sequence
 * tells jobs of one service apart and the suffix those of two; the full id
 * is on hover. Anything that is not a job id is returned as it is.
 */
export function shortJobId(id: string): string {
  const parts = parseJobId(id);
  return parts ? id.slice(id.length - parts.suffix.length - 7) : id;
}

/** Creation time (ms since the epoch) encoded in a job id; NaN if not an id. */
export function jobIdTime(id: string): number {
  return parseJobId(id)?.time ?? NaN;
}
