/**
 * What a kernel job needs from its conductor (`KernelConductor` in
 * kernel.ts), and what it returns.
 */
import type { KernelSpec } from '@jupyterlab/services';
import type { ILogSink } from '../jupyter/log';
import type { IExecutionResult } from '../tokens';
import type { IKernelHandle } from './launcher';
import type { ServerWatch } from './serverWatch';

/** What `KernelConductor.execute` returns: the interface's result, plus kernel details. */
export interface IKernelExecutionResult extends IExecutionResult {
  /** Id of the kernel the job ran in (shut down by now). */
  kernelId?: string;
  /** True when that kernel came from the pre-started pool. */
  pooled?: boolean;
}

/** What a job needs from its conductor. */
export interface IKernelJobHost {
  readonly log: ILogSink;
  readonly server: ServerWatch;
  readonly defaultKernel: string;
  readonly writeIntervalMs: number;
  readonly maxOutputBytes: number;
  /** How long a job waits for a (re)starting server before it is given back as retryable. */
  readonly serverWaitMs: number;
  /** The kernelspecs (cached), including `name` if the server has it. */
  specsWith(name: string): Promise<KernelSpec.ISpecModels>;
  /** Do not wait for a job's kernel to be shut down (up to `maxBackgroundShutdowns` at once). */
  readonly shutdownInBackground: boolean;
  readonly maxBackgroundShutdowns: number;
  /** Kernels being shut down now. */
  readonly shuttingDown: number;
  /**
   * Send every cell's execute_request at once (IPython kernels only),
   * guarded in the kernel so that nothing after a failing cell runs.
   */
  readonly pipelineCells: boolean;
  /** A ready kernel; rejects with `ServerLostError` when the server is at fault. */
  acquire(spec: string): Promise<IKernelHandle>;
  shutdownKernel(handle: IKernelHandle): Promise<void>;
  interruptKernel(handle: IKernelHandle): Promise<void>;
}
