/**
 * `meow exec-job JOBDIR`: run one job from its folder, away from the
 * service (on a Slurm compute node). It starts a private Jupyter server and
 * kernel there, runs the job's parameterised notebook with the same kernel
 * conductor as local jobs (result.ipynb as it runs, the writes log for
 * provenance), then records the end in `exec-result.json` and `job.yaml`.
 *
 * The service writes `exec.json` (what to run) before submitting, and reads
 * `exec-result.json` once the engine says the job ended: both are files in
 * the job folder, which is on a filesystem shared with the compute nodes.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import type { IJob } from '../../core/types';
import { KernelConductor } from '../conductors/kernel';
import { JobStore } from '../jobs/jobStore';
import { writeFileAtomic } from '../fsutil';
import { PrivateJupyterServer } from '../jupyter/server';
import type { ILogger } from '../log';
import type { IExecutionResult } from '../tokens';

/** What to run: written by the service into the job folder. */
export interface IExecJobFile {
  version: 1;
  /** The meow job id. */
  job: string;
  /** Its attempt, so a result of an earlier attempt is never taken for this one. */
  attempt: number;
  /** Absolute path of the workgroup: the job's working directory. */
  workgroup: string;
  /** Python whose jupyter_server and ipykernel run the job (on the node). */
  python?: string;
  /** Whole-job timeout in ms (0 = none). */
  timeoutMs: number;
}

/** How it ended: written by `exec-job`, read by the service. */
export interface IExecJobResult {
  version: 1;
  job: string;
  attempt: number;
  /** `$SLURM_JOB_ID` when run by Slurm. */
  slurmJobId?: string;
  host: string;
  started: string;
  finished: string;
  result: IExecutionResult;
}

export const EXEC_FILE = 'exec.json';
export const EXEC_RESULT_FILE = 'exec-result.json';

/** Files of a job folder that `exec-job` reads and writes. */
export function execPaths(jobDir: string) {
  return {
    request: path.join(jobDir, EXEC_FILE),
    result: path.join(jobDir, EXEC_RESULT_FILE),
    notebook: path.join(jobDir, 'job.ipynb'),
    output: path.join(jobDir, 'result.ipynb'),
    writes: path.join(jobDir, 'writes.log'),
    record: path.join(jobDir, 'job.yaml')
  };
}

/** The result `exec-job` left in a job folder, or undefined (none yet, or not readable). */
export async function readExecResult(jobDir: string): Promise<IExecJobResult | undefined> {
  try {
    const data = JSON.parse(await fs.readFile(execPaths(jobDir).result, 'utf8')) as IExecJobResult;
    return data && data.version === 1 && data.result ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run the job in `jobDir` to its end. Resolves with the process exit code:
 * 0 done, 1 failed, 3 cancelled (SIGTERM from scancel or the time limit).
 * Bad input (no exec.json, no notebook) is an Error naming the file and fix.
 */
export async function execJob(jobDir: string, log: ILogger, pythonOverride?: string): Promise<number> {
  const files = execPaths(path.resolve(jobDir));
  const request = await readRequest(files.request);
  const notebook = await readJson(files.notebook, 'the parameterised notebook the service wrote');
  const started = new Date().toISOString();
  const controller = new AbortController();
  const onSignal = (signal: string) => {
    log.warn(`exec-job ${request.job}: ${signal} — stopping the job (Slurm's time limit or scancel)`);
    controller.abort(new Error(`stopped by ${signal} (its Slurm time limit, or scancel)`));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await markRunning(files.record, started);

  const server = new PrivateJupyterServer({
    rootDir: request.workgroup,
    python: pythonOverride ?? request.python,
    log,
    restart: false
  });
  const conductor = new KernelConductor({ server, poolSize: 0, log });
  let result: IExecutionResult;
  try {
    await server.start();
    await conductor.start();
    result = await conductor.execute({
      job: (await readRecord(files.record)) ?? ({ id: request.job } as IJob),
      notebook: notebook as never,
      resultPath: files.output,
      writesLogPath: files.writes,
      cwd: request.workgroup,
      timeoutMs: request.timeoutMs,
      signal: controller.signal
    });
  } catch (err) {
    // The node could not run it at all (no Python, no jupyter_server): an
    // infrastructure failure, so the service may run it again elsewhere.
    result = {
      status: 'failed',
      filesWritten: [],
      retryable: true,
      error: { message: `exec-job on ${os.hostname()}: ${(err as Error).message}` }
    };
  } finally {
    await conductor.dispose().catch(() => undefined);
    await server.stop().catch(() => undefined);
  }
  const finished = new Date().toISOString();
  const out: IExecJobResult = {
    version: 1,
    job: request.job,
    attempt: request.attempt,
    ...(process.env.SLURM_JOB_ID ? { slurmJobId: process.env.SLURM_JOB_ID } : {}),
    host: os.hostname(),
    started,
    finished,
    result
  };
  await writeFileAtomic(files.result, JSON.stringify(out, null, 1) + '\n');
  await markEnded(files.record, request.workgroup, out);
  log.info(
    `exec-job ${request.job}: ${result.status}${result.error ? ` (${result.error.message.split('\n')[0]})` : ''}`
  );
  return result.status === 'done' ? 0 : result.status === 'cancelled' ? 3 : 1;
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${file} (${what}): ${(err as Error).message}; is the job folder on a filesystem this node shares with meow?`
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} (${what}) is not valid JSON: ${(err as Error).message}`);
  }
}

async function readRequest(file: string): Promise<IExecJobFile> {
  const data = (await readJson(file, 'what exec-job runs, written by meow')) as Partial<IExecJobFile>;
  const missing = (['job', 'workgroup', 'timeoutMs', 'attempt'] as const).filter(k => data[k] === undefined);
  if (data.version !== 1 || missing.length > 0) {
    throw new Error(
      `${file}: ${data.version !== 1 ? `version ${String(data.version)} is not 1` : `missing ${missing.join(', ')}`}; ` +
        'it is written by meow when it submits the job — submit the job again from meow (rerun) rather than by hand'
    );
  }
  return data as IExecJobFile;
}

async function readRecord(file: string): Promise<IJob | undefined> {
  try {
    return YAML.parse(await fs.readFile(file, 'utf8')) as IJob;
  } catch {
    return undefined;
  }
}

/** job.yaml while meow may be away: the same fields the service records. */
async function markRunning(file: string, started: string): Promise<void> {
  const job = await readRecord(file);
  if (job) {
    await writeRecord(file, { ...job, status: 'running', started });
  }
}

async function markEnded(file: string, workgroup: string, out: IExecJobResult): Promise<void> {
  const job = await readRecord(file);
  if (!job) {
    return;
  }
  const r = out.result;
  const next: IJob = {
    ...job,
    status: r.status,
    finished: out.finished,
    filesWritten: r.filesWritten.map(p => path.relative(workgroup, p)).filter(p => !p.startsWith('..')),
    ...(r.kernel ? { kernel: r.kernel } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.outputsTruncated ? { outputsTruncated: r.outputsTruncated } : {})
  };
  await writeRecord(file, next);
}

async function writeRecord(file: string, job: IJob): Promise<void> {
  // The same text the service's job store writes.
  await writeFileAtomic(file, JobStore.serialise(job), { fsync: false });
}
