/**
 * The kernel conductor (spec §5): runs a job's notebook in a fresh Jupyter
 * kernel through the Jupyter Server REST + websocket APIs, the same kernels
 * JupyterLab uses. One kernel per job, from a small pool of pre-started
 * kernels; outputs are written into the result notebook as they arrive
 * (batched: at most every `writeIntervalMs`, and at the end). The
 * kernelspecs are asked for once (again when a job names one not seen).
 *
 * The parts: `KernelLauncher` (start/stop kernels, the kernels file),
 * `KernelPool`, `KernelJob` (one job), `ServerWatch` (is a failure the
 * server's?). The conductor does not restart servers: it follows the
 * settings its `server` link hands out and waits for it to be ready.
 */
import { KernelSpec, KernelSpecAPI, ServerConnection } from '@jupyterlab/services';
import { fixedServerLink, IJupyterServerLink } from '../jupyter/link';
import { ILogSink, LogOption, toLogSink } from '../jupyter/log';
import type { IConductor, IExecutionRequest } from '../tokens';
import { KernelRegistry } from './kernelRegistry';
import { IKernelExecutionResult, IKernelJobHost, KernelJob } from './kernelJob';
import { IKernelHandle, KernelLauncher } from './launcher';
import { KernelPool } from './pool';
import { ServerLostError, ServerWatch } from './serverWatch';
import { bounded, errorMessage, REST_TIMEOUT_MS } from './util';

export type { IKernelExecutionResult } from './kernelJob';
export type { IKernelHandle } from './launcher';
export { ServerLostError } from './serverWatch';

export namespace KernelConductor {
  export interface IOptions {
    /**
     * The Jupyter server: a `PrivateJupyterServer` (restarts itself after a
     * crash; the conductor follows its new settings) or `fixedServerLink(settings)`.
     * Give this or `serverSettings`.
     */
    server?: IJupyterServerLink;
    /** Fixed settings of a server (same as `server: fixedServerLink(serverSettings)`). */
    serverSettings?: ServerConnection.ISettings;
    /** Kernels of the default kernelspec kept started and idle (default 1; 0 = no pool). */
    poolSize?: number;
    /** Kernelspec of notebooks without `metadata.kernelspec.name` (default `python3`). */
    defaultKernel?: string;
    log?: LogOption;
    /** Give up on a kernel that is not ready after this long (default 120 s). */
    kernelStartTimeoutMs?: number;
    /** Minimum time between two writes of result.ipynb while a cell runs (default 250 ms). */
    writeIntervalMs?: number;
    /**
     * Most bytes of output kept per job in result.ipynb (default 10 MB; 0 =
     * no cap). Past it outputs are dropped, a note says so in the notebook,
     * and the result has `outputsTruncated`.
     */
    maxOutputBytes?: number;
    /**
     * A small JSON file (under the state folder) listing the kernels this
     * conductor started; `start()` shuts down those a killed predecessor
     * left running. Without it nothing is recorded.
     */
    kernelsFile?: string;
    /**
     * How long `start()` and each job wait for a server that is (re)starting
     * (default 60 s). A job that waited in vain is returned `retryable`.
     */
    serverWaitMs?: number;
    /**
     * Shut a job's kernel down after its result is recorded without making
     * the job wait for it (default false: `execute` resolves once the kernel
     * is gone). The kernel stays in `kernelIds` and the kernels file until it
     * is gone; `dispose` waits for every shutdown.
     */
    shutdownInBackground?: boolean;
    /**
     * With `shutdownInBackground`: at most this many kernels shutting down at
     * once; a job ending past it waits for its own kernel's shutdown (default 8).
     */
    maxBackgroundShutdowns?: number;
    /**
     * Send all of a job's cells to an IPython kernel at once instead of one
     * after the other's reply (default false). A guard installed by the
     * setup request replaces a cell by `pass` once an earlier cell failed or
     * the job was stopped (timeout, cancel: a stop file next to the writes
     * log), so a cell after a failing one never runs, as before. Needs the
     * kernel to see this machine's files (local kernels).
     */
    pipelineCells?: boolean;
  }
}

/** Default per-job output cap. */
export const DEFAULT_MAX_OUTPUT_BYTES = 10_000_000;

export class KernelConductor implements IConductor, IKernelJobHost {
  readonly name = 'kernel';

  constructor(options: KernelConductor.IOptions) {
    const link = options.server ?? (options.serverSettings ? fixedServerLink(options.serverSettings) : undefined);
    if (!link) {
      throw new Error('KernelConductor needs `server` or `serverSettings`');
    }
    this.server = new ServerWatch(link);
    this.poolSize = Math.max(0, options.poolSize ?? 1);
    this.defaultKernel = options.defaultKernel ?? 'python3';
    this.log = toLogSink(options.log);
    this.kernelStartTimeoutMs = options.kernelStartTimeoutMs ?? 120_000;
    this.writeIntervalMs = options.writeIntervalMs ?? 250;
    this.maxOutputBytes = Math.max(0, options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    this.serverWaitMs = options.serverWaitMs ?? 60_000;
    this.kernelsFile = options.kernelsFile;
    this.shutdownInBackground = options.shutdownInBackground ?? false;
    this.maxBackgroundShutdowns = Math.max(0, options.maxBackgroundShutdowns ?? 8);
    this.pipelineCells = options.pipelineCells ?? false;
    this._launcher = new KernelLauncher(
      this.server,
      new KernelRegistry(options.kernelsFile, this.log),
      this.log,
      this.kernelStartTimeoutMs
    );
    this._pool = new KernelPool(
      this._launcher,
      this.defaultKernel,
      this.poolSize,
      () => this.server.ready(this.serverWaitMs),
      this.log
    );
  }

  readonly server: ServerWatch;
  readonly poolSize: number;
  readonly defaultKernel: string;
  readonly kernelStartTimeoutMs: number;
  readonly writeIntervalMs: number;
  readonly maxOutputBytes: number;
  readonly serverWaitMs: number;
  readonly kernelsFile: string | undefined;
  readonly shutdownInBackground: boolean;
  readonly maxBackgroundShutdowns: number;
  readonly pipelineCells: boolean;
  /** @internal */
  readonly log: ILogSink;

  /** Settings of the server as it is now (they change when a private server restarts). */
  get serverSettings(): ServerConnection.ISettings {
    return this.server.settings;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Ids of the pre-started kernels waiting in the pool (ready ones only). */
  get pooledKernelIds(): string[] {
    return this._pool.ids;
  }

  /** Ids of every kernel this conductor has started and not yet shut down. */
  get kernelIds(): string[] {
    return this._launcher.ids;
  }

  /**
   * Wait for the server (through a restart, up to `serverWaitMs`), shut
   * down kernels a killed predecessor left (`kernelsFile`), fill the pool.
   * Throws when the server cannot be reached (a configuration error).
   */
  async start(): Promise<void> {
    if (this._disposed) {
      throw new Error('the kernel conductor has been disposed');
    }
    let specs: KernelSpec.ISpecModels;
    try {
      await this.server.ready(this.serverWaitMs);
      specs = await this.getSpecs(true);
    } catch (err) {
      throw new Error(`cannot reach the Jupyter server at ${this.serverSettings.baseUrl}: ${errorMessage(err)}`);
    }
    await this._launcher.reapLeftovers();
    this._started = true;
    if (!specs.kernelspecs[this.defaultKernel]) {
      this.log.warn(
        `[kernel] default kernelspec "${this.defaultKernel}" is not available ` +
          `(available: ${Object.keys(specs.kernelspecs).join(', ') || 'none'}); no kernels are pre-started`
      );
      return;
    }
    if (this.poolSize > 0) {
      this._pool.open();
      await this.whenPoolReady();
    }
  }

  /** Resolves when every kernel currently in the pool has started (or failed to). */
  whenPoolReady(): Promise<void> {
    return this._pool.whenReady();
  }

  execute(request: IExecutionRequest): Promise<IKernelExecutionResult> {
    if (this._disposed) {
      return Promise.reject(new Error('the kernel conductor has been disposed'));
    }
    const job = new KernelJob(this, request);
    this._jobs.add(job);
    return job.run().finally(() => this._jobs.delete(job));
  }

  /** Cancel running jobs and shut down every kernel this conductor started. */
  async dispose(): Promise<void> {
    if (this._disposed) {
      return this._disposing;
    }
    this._disposed = true;
    this._disposing = (async () => {
      const jobs = [...this._jobs];
      for (const job of jobs) {
        job.abort('the kernel conductor was disposed');
      }
      this._launcher.close();
      await Promise.allSettled(jobs.map(j => j.finished));
      await this._pool.close();
      await this._launcher.whenIdle();
      await this._launcher.shutdownAll();
    })();
    return this._disposing;
  }

  /**
   * @internal Kernelspecs on the server (bounded). Asked once per server and
   * kept: `refresh` (or a server that was replaced) asks again.
   */
  async getSpecs(refresh = false): Promise<KernelSpec.ISpecModels> {
    const settings = this.serverSettings;
    const cached = this._specs;
    if (!refresh && cached && cached.settings === settings) {
      return cached.models;
    }
    let pending = this._specsPending;
    if (!pending || pending.settings !== settings) {
      const promise = bounded(KernelSpecAPI.getSpecs(settings), REST_TIMEOUT_MS, 'listing kernelspecs');
      pending = { settings, promise };
      this._specsPending = pending;
      const forget = () => {
        if (this._specsPending === pending) {
          this._specsPending = undefined;
        }
      };
      promise.then(models => {
        this._specs = { settings, models };
        forget();
      }, forget);
    }
    return pending.promise;
  }

  /**
   * @internal The kernelspecs, such that `name` is in them if the server has
   * it: from the cache, asked again when `name` is missing (a kernelspec
   * installed since).
   */
  async specsWith(name: string): Promise<KernelSpec.ISpecModels> {
    const specs = await this.getSpecs();
    return specs.kernelspecs[name] ? specs : this.getSpecs(true);
  }

  /**
   * @internal A ready kernel of `spec` for one job: from the pool when
   * possible. A kernel that fails to start is retried once; when the server
   * is at fault the rejection is a `ServerLostError` (the job is retryable).
   */
  async acquire(spec: string): Promise<IKernelHandle> {
    if (spec === this.defaultKernel && this._started && this.poolSize > 0) {
      const pooled = await this._pool.take();
      if (pooled) {
        return pooled;
      }
    }
    let first: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      await this.server.ready(this.serverWaitMs);
      try {
        return await this._launcher.launch(spec, false);
      } catch (err) {
        if (err instanceof ServerLostError || this._disposed) {
          throw err;
        }
        const lost = await this.server.lost();
        if (lost) {
          throw new ServerLostError(`${lost} (${errorMessage(err)})`);
        }
        if (attempt === 1) {
          first = err;
          this.log.warn(`[kernel] a "${spec}" kernel failed to start (${errorMessage(err)}); trying once more`);
        } else {
          throw new Error(
            `${errorMessage(err)} (tried twice; first: ${errorMessage(first)}). ` +
              `Check that the kernel starts in JupyterLab, and the Jupyter server log`
          );
        }
      }
    }
    throw new Error('unreachable');
  }

  /** @internal Shut a kernel down (idempotent, bounded, never rejects). */
  shutdownKernel(handle: IKernelHandle): Promise<void> {
    return this._launcher.shutdown(handle);
  }

  /** @internal Kernels now being shut down. */
  get shuttingDown(): number {
    return this._launcher.shuttingDown;
  }

  /** Resolves when no kernel is being shut down (background shutdowns included). */
  whenShutdownsDone(): Promise<void> {
    return this._launcher.whenShutdownsDone();
  }

  /** @internal Interrupt a kernel (bounded, never rejects). */
  interruptKernel(handle: IKernelHandle): Promise<void> {
    return this._launcher.interrupt(handle);
  }

  private _disposed = false;
  private _disposing: Promise<void> = Promise.resolve();
  private _started = false;
  private readonly _launcher: KernelLauncher;
  private readonly _pool: KernelPool;
  private _jobs = new Set<KernelJob>();
  private _specs: { settings: ServerConnection.ISettings; models: KernelSpec.ISpecModels } | undefined;
  private _specsPending: { settings: ServerConnection.ISettings; promise: Promise<KernelSpec.ISpecModels> } | undefined;
}
