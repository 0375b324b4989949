/**
 * Why a kernel job stops early, where it was then, and what its result says
 * about it (the job's status and error message).
 */
import type { IJobError, JobStatus } from '../../core/types';
import { formatSeconds } from './outputs';

/** Why a job stopped before its cells finished. */
export interface IStop {
  kind: 'timeout' | 'cancelled' | 'dead' | 'server';
  /** For `dead`: what was seen; for `server`: why the server counts as gone. */
  detail?: string;
  /** For `cancelled`: who asked. */
  reason?: string;
}

/** Thrown out of a job's awaits when it stops (see `KernelJob._guard`). */
export class StopSignal extends Error {
  constructor(readonly stop: IStop) {
    super(`job stopped: ${stop.kind}`);
  }
}

/** Where a job is. */
export type Phase = { kind: 'prepare' } | { kind: 'start' } | { kind: 'setup' } | { kind: 'cell'; index: number };

const DEATH_HINT = 'the process exited; it may have run out of memory or called os._exit';

/** `while running cell 3`, for messages. */
export function whereIn(phase: Phase): string {
  switch (phase.kind) {
    case 'prepare':
      return 'before the kernel was started';
    case 'start':
      return 'while starting the kernel';
    case 'setup':
      return 'while preparing the kernel';
    case 'cell':
      return `while running cell ${phase.index + 1}`;
  }
}

/**
 * Status and error of a job stopped by its kernel's death, a timeout or a
 * cancel (`server` stops are retried, not described here).
 */
export function stopOutcome(
  stop: IStop,
  phase: Phase,
  timeoutMs: number,
  hadKernel: boolean
): { status: Extract<JobStatus, 'failed' | 'cancelled'>; error: IJobError } {
  const where = whereIn(phase);
  const cell = phase.kind === 'cell' ? phase.index : undefined;
  let status: 'failed' | 'cancelled' = 'failed';
  let error: IJobError;
  if (stop.kind === 'dead' || stop.kind === 'server') {
    error = {
      message:
        cell !== undefined
          ? `kernel died while running cell ${cell + 1} (${stop.detail ?? DEATH_HINT})`
          : `kernel died ${where} (${stop.detail ?? DEATH_HINT})`
    };
  } else if (stop.kind === 'timeout') {
    error = {
      message:
        `timed out after ${formatSeconds(timeoutMs)} ` +
        (cell !== undefined ? `in cell ${cell + 1}` : where) +
        (hadKernel ? ' (the kernel was interrupted and shut down)' : '')
    };
  } else {
    status = 'cancelled';
    error = { message: `cancelled ${where}${stop.reason ? `: ${stop.reason}` : ''}` };
  }
  if (cell !== undefined) {
    error.cell = cell;
  }
  return { status, error };
}
