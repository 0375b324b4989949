/**
 * Interfaces between the small parts of the service:
 * monitors → rules → jobs → conductors.
 */
import type { IJob, IJobError, IJobExternal, INotebook, IResources } from '../core/types';

/** Something that reports settled file events from the workgroup. */
export interface IFileEventSource {
  /** Start watching; resolves once the initial scan is complete. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Number of events seen but not yet settled/emitted. */
  readonly pending: number;
}

/** What a conductor gets to execute one job. */
export interface IExecutionRequest {
  /** The job being executed (read-only for the conductor). */
  job: Readonly<IJob>;
  /** The parameterised notebook to run. */
  notebook: INotebook;
  /** Absolute path where the executed notebook is (re)written as it runs. */
  resultPath: string;
  /**
   * Absolute path of a file the kernel appends every path it opens for
   * writing to, one absolute path per line, as it happens. The service reads
   * it while the job runs to link child jobs to this parent.
   */
  writesLogPath: string;
  /** Absolute path of the workgroup root: the job's working directory. */
  cwd: string;
  /** Whole-job timeout in milliseconds (0 = none). */
  timeoutMs: number;
  /** Aborted when the job is cancelled (by a person or by M11). */
  signal: AbortSignal;
  /** Called after every finished code cell. */
  onProgress?: (done: number, total: number) => void;
  /** Absolute path of the job's folder (job.yaml, notebook, result). */
  jobDir?: string;
  /** Resources asked for by the job's pattern and recipe. */
  resources?: IResources;
  /** Called when the executor's engine knows the job (Slurm id, state), to record it. */
  onExternal?: (external: IJobExternal) => void;
}

/**
 * The reason `signal` is aborted with when meow itself stops: not a cancel.
 * Executors whose jobs live on without meow (Slurm) leave them running and
 * follow them again at the next start.
 */
export class ShuttingDown extends Error {
  constructor() {
    super('meow is shutting down');
  }
}

/** How a job ended, as far as the conductor can tell. */
export interface IExecutionResult {
  status: 'done' | 'failed' | 'cancelled';
  error?: IJobError;
  /** Kernelspec actually used, when a kernel was involved. */
  kernel?: string;
  /** Absolute paths the job opened for writing (deduplicated). */
  filesWritten: string[];
  /**
   * True when the job did not run to an end because of the infrastructure
   * (the Jupyter server was unreachable or died, a kernel could not be
   * started for a reason outside the job): the runner runs it again as the
   * same job, up to the pattern's retry limit, once the conductor is ready.
   */
  retryable?: boolean;
  /** Set when stored outputs were cut to the per-job cap. */
  outputsTruncated?: { message: string; droppedBytes: number };
}

/**
 * Runs jobs somewhere: a Jupyter kernel, Slurm, a remote gateway.
 * Conductors are interchangeable; the runner picks one per job.
 */
export interface IConductor {
  /** Short name recorded in job.yaml, e.g. `kernel`. */
  readonly name: string;
  /** Prepare (e.g. connect, pre-start kernels). */
  start(): Promise<void>;
  /** Execute one job. Never throws for job-level failures: they are results. */
  execute(request: IExecutionRequest): Promise<IExecutionResult>;
  /** Release every resource (kernels, connections). */
  dispose(): Promise<void>;
}
