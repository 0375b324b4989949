/**
 * How the panels name where a job runs: its executor (this machine's
 * kernels, Slurm, another Jupyter server), its identity there (Slurm job id
 * and state, remote kernel and server) and the resources it asked for.
 * Pure: the Monitor's column, filter and detail use these words.
 */
import { describeResources } from '../core/executor';
import { EXECUTOR_KINDS, ExecutorKind, IJob } from '../core/types';

/** One line on each executor (tooltips, the filter, the form). */
export const EXECUTOR_HELP: Record<ExecutorKind, string> = {
  local: "this machine's Jupyter kernels",
  slurm: 'a Slurm cluster (sbatch)',
  jupyter: 'a remote Jupyter server or Enterprise Gateway'
};

/** Where a job runs; jobs recorded before executors existed ran locally. */
export function jobExecutor(job: Pick<IJob, 'executor'>): ExecutorKind {
  return job.executor && (EXECUTOR_KINDS as readonly string[]).includes(job.executor) ? job.executor : 'local';
}

/** What the engine calls its id: a Slurm job id, a remote kernel id. */
export function externalIdLabel(executor: ExecutorKind): string {
  return executor === 'slurm' ? 'Slurm job id' : executor === 'jupyter' ? 'Kernel id' : 'External id';
}

/**
 * A job's executor in a few words, for a table cell: `local`,
 * `slurm 1234 (PENDING)`, `jupyter @ gpu-box` (a kernel id is long and says
 * little; the server does).
 */
export function executorSummary(job: Pick<IJob, 'executor' | 'external'>): string {
  const executor = jobExecutor(job);
  const ext = job.external;
  if (!ext) {
    return executor;
  }
  if (executor === 'jupyter') {
    return ext.host ? `jupyter @ ${ext.host}` : 'jupyter';
  }
  const state = ext.state ? ` (${ext.state})` : '';
  return `${executor} ${ext.id}${state}`;
}

/** Everything known about where a job runs, one fact a line (tooltips). */
export function executorDetails(job: Pick<IJob, 'executor' | 'external' | 'resources'>): string[] {
  const executor = jobExecutor(job);
  const lines = [
    `executor: ${executor}${job.executor ? '' : ' (not recorded: older job)'} — ${EXECUTOR_HELP[executor]}`
  ];
  const ext = job.external;
  if (ext) {
    lines.push(`${externalIdLabel(executor)}: ${ext.id}`);
    if (ext.state) {
      lines.push(`state: ${ext.state}`);
    }
    if (ext.reason) {
      lines.push(`reason: ${ext.reason}`);
    }
    if (ext.host) {
      lines.push(`${executor === 'slurm' ? 'node' : 'host'}: ${ext.host}`);
    }
  }
  const resources = describeResources(job.resources);
  lines.push(`resources: ${resources || 'none asked'}`);
  return lines;
}
