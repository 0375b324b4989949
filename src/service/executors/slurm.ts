/**
 * The Slurm executor: each job becomes a Slurm batch job named after its
 * meow job id, whose script runs `meow exec-job JOBDIR` on the compute node.
 * meow follows the Slurm state until the job really ended (not "submitted
 * = done", the remote-conductor paper's shortcut), records the Slurm id and
 * state in the job record, cancels with `scancel`, and after a crash finds
 * its jobs in Slurm by name instead of submitting them twice.
 *
 * The workgroup must be on a filesystem the compute nodes share: the batch
 * script, exec.json, result.ipynb and exec-result.json live in the job folder.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { ISlurmSettings } from '../../core/executor';
import {
  DEFAULT_SLURM_MAX_JOBS,
  DEFAULT_SLURM_POLL_MS,
  DEFAULT_SLURM_SUBMIT_PER_SECOND,
  describeResources
} from '../../core/executor';
import type { IJobExternal, IResources } from '../../core/types';
import { writeFileAtomic } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import type { IExecutionRequest, IExecutionResult } from '../tokens';
import { ShuttingDown } from '../tokens';
import { execPaths, IExecJobFile, IExecJobResult, readExecResult } from './execJob';
import type { IExecutor } from './executor';
import { ISlurmJobState, isFinalSlurmState, SlurmCommands, sbatchDirectives, slurmStateMeaning } from './slurmCommands';

/** Polls in a row a followed job may be unknown to Slurm before it counts as lost. */
const UNKNOWN_POLLS = 5;
/** How long a result file may take to show after Slurm says the job ended (shared filesystems cache). */
const RESULT_WAIT_MS = 10_000;
/** Lines of the Slurm output file quoted when a job failed without a result. */
const OUTPUT_TAIL_LINES = 15;

export namespace SlurmExecutor {
  export interface IOptions {
    settings?: ISlurmSettings;
    /** The command that runs meow on a compute node, e.g. [node, .../meow.js]. */
    meowCommand: string[];
    /** Python with jupyter_server and ipykernel on the compute nodes. */
    python?: string;
    /** Slurm's commands (default: from PATH, throttled per the settings). */
    commands?: SlurmCommands;
    log?: ILogger;
  }
}

/** A Slurm job meow follows until it ends. */
interface IFollowed {
  id: string;
  state?: string;
  unknownPolls: number;
  onState: (s: ISlurmJobState) => void;
  ended: (s: ISlurmJobState | undefined) => void;
}

export class SlurmExecutor implements IExecutor {
  constructor(options: SlurmExecutor.IOptions) {
    this._settings = options.settings ?? {};
    this._meow = options.meowCommand;
    this._python = options.python;
    this._log = options.log ?? silentLogger;
    this._commands =
      options.commands ??
      new SlurmCommands({
        submitPerSecond: this._settings.submitPerSecond ?? DEFAULT_SLURM_SUBMIT_PER_SECOND,
        log: this._log
      });
    this.concurrency = this._settings.maxJobs ?? DEFAULT_SLURM_MAX_JOBS;
  }

  readonly kind = 'slurm' as const;
  readonly name = 'slurm';
  readonly outlivesService = true;
  readonly concurrency: number;

  describe(): string {
    const where = this._settings.partition ? `partition ${this._settings.partition}` : 'the default partition';
    return `Slurm (${this._version ?? 'version unknown'}), ${where}, up to ${this.concurrency} jobs at once`;
  }

  /** Checks that Slurm answers; fails with the reason and fix when it does not. */
  async start(): Promise<void> {
    const check = await this._commands.available();
    if (!check.ok) {
      throw new Error(check.message);
    }
    this._version = check.version;
    this._stopped = false;
  }

  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    const { job } = request;
    const jobDir = request.jobDir ?? path.dirname(request.resultPath);
    const name = slurmJobName(job.id);
    const attempt = job.attempt ?? 1;
    try {
      let id = job.external?.id;
      // exec.json is written just before sbatch: without it this job was
      // never submitted, and the lookup (one squeue per job) is skipped.
      if (!id && (await exists(execPaths(jobDir).request))) {
        // meow may have died between sbatch and recording the id.
        const found = await this._commands.findByName(name);
        if (found && (!isFinalSlurmState(found.state) || (await this._resultOf(jobDir, attempt)))) {
          id = found.id;
          this._log.info(
            `job ${job.id}: found in Slurm as ${id} (${found.state}); following it instead of submitting again`
          );
        }
      }
      if (!id) {
        id = await this._submit(request, jobDir, name, attempt);
      }
      const initial = job.external?.id === id ? job.external.state : 'PENDING';
      request.onExternal?.({ id, state: initial });
      return await this._follow(request, jobDir, id, attempt, initial);
    } catch (err) {
      if (request.signal.aborted) {
        return cancelled(request);
      }
      // sbatch kept failing or Slurm did not answer: not the job's fault.
      return {
        status: 'failed',
        retryable: true,
        filesWritten: [],
        error: { message: `Slurm: ${(err as Error).message}` }
      };
    }
  }

  async dispose(): Promise<void> {
    this._stopped = true;
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    // Jobs go on in Slurm; their followers end as "meow is shutting down".
    for (const f of this._followed.values()) {
      f.ended(undefined);
    }
    this._followed.clear();
  }

  /** Write exec.json and the batch script, then sbatch it. */
  private async _submit(request: IExecutionRequest, jobDir: string, name: string, attempt: number): Promise<string> {
    const files = execPaths(jobDir);
    const exec: IExecJobFile = {
      version: 1,
      job: request.job.id,
      attempt,
      workgroup: request.cwd,
      timeoutMs: request.timeoutMs,
      ...(this._python ? { python: this._python } : {})
    };
    await fs.mkdir(jobDir, { recursive: true });
    await fs.rm(files.result, { force: true }); // an earlier attempt's
    // No fsync: a kill of meow keeps them (page cache), and closing them is
    // what makes them visible to the nodes of a shared filesystem.
    await writeFileAtomic(files.request, JSON.stringify(exec, null, 1) + '\n', { fsync: false });
    const script = path.join(jobDir, 'job.sbatch');
    await writeFileAtomic(script, this._script(request, jobDir, attempt), { fsync: false });
    const id = await this._commands.submit(script, { name, cwd: request.cwd });
    this._log.info(
      `job ${request.job.id} submitted to Slurm as ${id}` +
        (request.resources ? ` (${describeResources(request.resources)})` : '')
    );
    return id;
  }

  /** The batch script: resources as #SBATCH lines, then exec-job on the node. */
  private _script(request: IExecutionRequest, jobDir: string, attempt: number): string {
    const resources: IResources = { ...(request.resources ?? {}) };
    if (!resources.partition && this._settings.partition) {
      resources.partition = this._settings.partition;
    }
    const extra = [...(this._settings.sbatchArgs ?? []), ...(resources.extraArgs ?? [])];
    const directives = sbatchDirectives({ ...resources, extraArgs: extra });
    return [
      '#!/bin/bash',
      `#SBATCH --job-name=${slurmJobName(request.job.id)}`,
      `#SBATCH --output=${path.join(jobDir, 'slurm-%j.out')}`,
      `#SBATCH --chdir=${request.cwd}`,
      ...directives,
      `# Written by meow for job ${request.job.id} (${request.job.pattern} → ${request.job.recipe}), attempt ${attempt}.`,
      '# It runs the job here with a private kernel; meow reads exec-result.json when Slurm says it ended.',
      `exec ${[...this._meow, 'exec-job', jobDir].map(shellQuote).join(' ')}`,
      ''
    ].join('\n');
  }

  /** Wait for the Slurm job to end (or be cancelled), then read its result. */
  private async _follow(
    request: IExecutionRequest,
    jobDir: string,
    id: string,
    attempt: number,
    initial: string | undefined
  ): Promise<IExecutionResult> {
    let cancelledByUs = false;
    let last = initial;
    const final = await new Promise<ISlurmJobState | undefined>(resolve => {
      const followed: IFollowed = {
        id,
        state: initial,
        unknownPolls: 0,
        onState: s => {
          if (s.state !== last) {
            last = s.state;
            request.onExternal?.(external(s));
          }
        },
        ended: s => {
          this._followed.delete(id);
          request.signal.removeEventListener('abort', onAbort);
          resolve(s);
        }
      };
      const onAbort = () => {
        if (request.signal.reason instanceof ShuttingDown) {
          followed.ended(undefined); // it goes on in Slurm
          return;
        }
        cancelledByUs = true;
        this._commands
          .cancel(id)
          .catch(err => this._log.warn(`job ${request.job.id}: scancel ${id} failed: ${(err as Error).message}`));
      };
      request.signal.addEventListener('abort', onAbort);
      this._followed.set(id, followed);
      this._schedulePoll(0);
    });
    if (!final) {
      return cancelled(request);
    }
    if (final.state !== last) {
      request.onExternal?.(external(final));
    }
    return this._outcome(request, jobDir, final, attempt, cancelledByUs);
  }

  /** What a Slurm job's end means for the meow job. */
  private async _outcome(
    request: IExecutionRequest,
    jobDir: string,
    final: ISlurmJobState,
    attempt: number,
    cancelledByUs: boolean
  ): Promise<IExecutionResult> {
    const state = final.state;
    const exec = await this._resultOf(
      jobDir,
      attempt,
      state === 'COMPLETED' || state === 'FAILED' ? RESULT_WAIT_MS : 0
    );
    const where = `Slurm job ${final.id}${final.nodes ? ` on ${final.nodes}` : ''}`;
    if (cancelledByUs || (state === 'CANCELLED' && !exec)) {
      return {
        status: 'cancelled',
        filesWritten: exec?.result.filesWritten ?? [],
        error: {
          message: cancelledByUs
            ? `cancelled (${where} cancelled with scancel)`
            : `${where} was cancelled in Slurm (scancel outside meow)`
        }
      };
    }
    if (state === 'TIMEOUT' || state === 'DEADLINE' || state === 'OUT_OF_MEMORY') {
      const limit =
        state === 'TIMEOUT' && request.resources?.timeLimitMs
          ? ` of ${describeResources({ timeLimitMs: request.resources.timeLimitMs })}`
          : '';
      return {
        status: 'failed',
        filesWritten: exec?.result.filesWritten ?? [],
        kernel: exec?.result.kernel,
        error: {
          message: `${where} ${slurmStateMeaning(state)}${limit}; raise "resources: ${state === 'OUT_OF_MEMORY' ? 'memory' : 'time'}" in the pattern if it needs more`
        }
      };
    }
    if (exec) {
      return exec.result;
    }
    const tail = await outputTail(jobDir, final.id);
    if (state === 'NODE_FAIL' || state === 'BOOT_FAIL' || state === 'PREEMPTED' || state === 'UNKNOWN') {
      return {
        status: 'failed',
        retryable: true,
        filesWritten: [],
        error: { message: `${where} ${slurmStateMeaning(state)}; not the job's fault` }
      };
    }
    return {
      status: 'failed',
      // exec-job did not get to write a result: the node could not run meow.
      retryable: state !== 'COMPLETED',
      filesWritten: [],
      error: {
        message:
          `${where} ended ${state}${final.exitCode !== undefined ? ` (exit code ${final.exitCode})` : ''} without a result from meow exec-job; ` +
          `check that the compute node sees the workgroup and can run ${this._meow.join(' ')}` +
          (tail ? `\nlast lines of ${path.join(jobDir, `slurm-${final.id}.out`)}:\n${tail}` : '')
      }
    };
  }

  /** This attempt's exec-result.json, waiting up to `waitMs` for it to show. */
  private async _resultOf(jobDir: string, attempt: number, waitMs = 0): Promise<IExecJobResult | undefined> {
    const end = Date.now() + waitMs;
    for (;;) {
      const r = await readExecResult(jobDir);
      if (r && r.attempt === attempt) {
        return r;
      }
      if (Date.now() >= end) {
        return undefined;
      }
      await new Promise(res => setTimeout(res, 250));
    }
  }

  private _schedulePoll(delayMs: number): void {
    if (this._stopped || this._timer || this._followed.size === 0) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this._poll().finally(() => this._schedulePoll(this._settings.pollMs ?? DEFAULT_SLURM_POLL_MS));
    }, delayMs);
  }

  /** One squeue call for every followed job. */
  private async _poll(): Promise<void> {
    const ids = [...this._followed.keys()];
    if (ids.length === 0) {
      return;
    }
    let states: Map<string, ISlurmJobState>;
    try {
      states = await this._commands.states(ids);
    } catch (err) {
      this._log.warn(
        `Slurm did not answer (${(err as Error).message}); asking again in ${(this._settings.pollMs ?? DEFAULT_SLURM_POLL_MS) / 1000} s`
      );
      return;
    }
    for (const id of ids) {
      const followed = this._followed.get(id);
      if (!followed) {
        continue;
      }
      const s = states.get(id) ?? (await this._commands.detail(id).catch(() => undefined));
      if (!s) {
        if (++followed.unknownPolls >= UNKNOWN_POLLS) {
          this._log.warn(`Slurm no longer knows job ${id}; its result is read from the job folder`);
          followed.ended({ id, name: '', state: 'UNKNOWN' });
        }
        continue;
      }
      followed.unknownPolls = 0;
      followed.onState(s);
      if (isFinalSlurmState(s.state)) {
        followed.ended(s.exitCode === undefined ? ((await this._commands.detail(id).catch(() => undefined)) ?? s) : s);
      }
    }
  }

  private readonly _settings: ISlurmSettings;
  private readonly _meow: string[];
  private readonly _python?: string;
  private readonly _log: ILogger;
  private readonly _commands: SlurmCommands;
  private readonly _followed = new Map<string, IFollowed>();
  private _timer?: ReturnType<typeof setTimeout>;
  private _stopped = false;
  private _version?: string;
}

/** The Slurm job name of a meow job: how meow finds it again after a crash. */
export function slurmJobName(jobId: string): string {
  return `meow-${jobId}`;
}

function external(s: ISlurmJobState): IJobExternal {
  return {
    id: s.id,
    state: s.state,
    ...(s.reason && s.reason !== 'None' ? { reason: s.reason } : {}),
    ...(s.nodes && s.nodes !== '(null)' ? { host: s.nodes } : {})
  };
}

function cancelled(request: IExecutionRequest): IExecutionResult {
  const reason = request.signal.reason;
  return {
    status: 'cancelled',
    filesWritten: [],
    error: { message: reason instanceof Error ? reason.message : 'cancelled' }
  };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false
  );
}

/** Single-quoted for bash. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function outputTail(jobDir: string, id: string): Promise<string> {
  try {
    const text = await fs.readFile(path.join(jobDir, `slurm-${id}.out`), 'utf8');
    return text.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
  } catch {
    return '';
  }
}
