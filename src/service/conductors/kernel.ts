/**
 * The kernel conductor (spec §5): runs a job's notebook in a fresh Jupyter
 * kernel through the Jupyter Server REST + websocket APIs, the same kernels
 * JupyterLab uses. One kernel per job, from a small pool of pre-started
 * kernels; every output is written into the result notebook as it arrives.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import {
  Kernel,
  KernelAPI,
  KernelConnection,
  KernelMessage,
  KernelSpec,
  KernelSpecAPI,
  ServerConnection
} from '@jupyterlab/services';
import type { IJobError, INotebook } from '../../core/types';
import { ILogSink, LogOption, toLogSink } from '../jupyter/log';
import type { IConductor, IExecutionRequest, IExecutionResult } from '../tokens';
import {
  OutputCollector,
  cellSource,
  formatSeconds,
  parseWritesLog,
  prepareResultNotebook,
  stripAnsi
} from './outputs';
import { pythonSetupCode } from './setup';
import { NotebookWriter } from './writer';

/** What `KernelConductor.execute` returns: the interface's result, plus kernel details. */
export interface IKernelExecutionResult extends IExecutionResult {
  /** Id of the kernel the job ran in (shut down by now). */
  kernelId?: string;
  /** True when that kernel came from the pre-started pool. */
  pooled?: boolean;
}

export namespace KernelConductor {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /** Kernels of the default kernelspec kept started and idle (default 1; 0 = no pool). */
    poolSize?: number;
    /** Kernelspec of notebooks without `metadata.kernelspec.name` (default `python3`). */
    defaultKernel?: string;
    log?: LogOption;
    /** Give up on a kernel that is not ready after this long (default 120 s). */
    kernelStartTimeoutMs?: number;
    /** Minimum time between two writes of result.ipynb while a cell runs (default 250 ms). */
    writeIntervalMs?: number;
  }
}

const DEATH_HINT = 'the process exited; it may have run out of memory or called os._exit';
/** Bound for single REST calls (interrupt, shutdown, model, kernelspecs). */
const REST_TIMEOUT_MS = 15_000;
/** How long to keep retrying a failed kernel shutdown. */
const SHUTDOWN_RETRY_MS = 30_000;
/** After interrupting a cell, how long to wait for its traceback before shutting down. */
const INTERRUPT_GRACE_MS = 3_000;
/** How long a dropped websocket may take to reconnect before the job fails. */
const RECONNECT_GRACE_MS = 20_000;
/** How often the kernel's model is polled while a job runs (catches deaths the websocket misses). */
const LIVENESS_POLL_MS = 3_000;

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** Reject with a clear message if `p` takes longer than `ms`. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${formatSeconds(ms)}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `KernelConnection` without its automatic reconnect after a server-side
 * auto-restart. When the server restarts a dead kernel, the library calls
 * `reconnect()` from a fire-and-forget promise; disposing the connection (or
 * the kernel dying for good) then rejects that promise with "Kernel
 * connection disconnected", an unhandled rejection that terminates a Node
 * process. A kernel that died is never used again here (the job fails, the
 * kernel is shut down), so there is nothing to reconnect to.
 */
class SafeKernelConnection extends KernelConnection {
  reconnect(): Promise<void> {
    return Promise.resolve();
  }
}

class Deferred<T> {
  constructor() {
    this.promise = new Promise<T>(resolve => (this.resolve = resolve));
  }
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
}

/** A kernel owned by the conductor. */
interface IKernelHandle {
  id: string;
  spec: string;
  connection: Kernel.IKernelConnection;
  pooled: boolean;
  shutdown?: Promise<void>;
}

interface IPoolEntry {
  promise: Promise<IKernelHandle>;
  handle?: IKernelHandle;
}

export class KernelConductor implements IConductor {
  readonly name = 'kernel';

  constructor(options: KernelConductor.IOptions) {
    this.serverSettings = options.serverSettings;
    this.poolSize = Math.max(0, options.poolSize ?? 1);
    this.defaultKernel = options.defaultKernel ?? 'python3';
    this.log = toLogSink(options.log);
    this.kernelStartTimeoutMs = options.kernelStartTimeoutMs ?? 120_000;
    this.writeIntervalMs = options.writeIntervalMs ?? 250;
  }

  readonly serverSettings: ServerConnection.ISettings;
  readonly poolSize: number;
  readonly defaultKernel: string;
  readonly kernelStartTimeoutMs: number;
  readonly writeIntervalMs: number;
  /** @internal */
  readonly log: ILogSink;

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Ids of the pre-started kernels waiting in the pool (ready ones only). */
  get pooledKernelIds(): string[] {
    return this._pool.filter(e => e.handle).map(e => e.handle!.id);
  }

  /** Ids of every kernel this conductor has started and not yet shut down. */
  get kernelIds(): string[] {
    return [...this._kernels].map(k => k.id);
  }

  /**
   * Check the server answers and fill the pool. Throws when the server
   * cannot be reached (a configuration error, not a job failure).
   */
  async start(): Promise<void> {
    if (this._disposed) {
      throw new Error('the kernel conductor has been disposed');
    }
    let specs: KernelSpec.ISpecModels;
    try {
      specs = await this.getSpecs();
    } catch (err) {
      throw new Error(
        `cannot reach the Jupyter server at ${this.serverSettings.baseUrl}: ${errorMessage(err)}`
      );
    }
    this._started = true;
    if (!specs.kernelspecs[this.defaultKernel]) {
      this.log.warn(
        `[kernel] default kernelspec "${this.defaultKernel}" is not available ` +
          `(available: ${Object.keys(specs.kernelspecs).join(', ') || 'none'}); no kernels are pre-started`
      );
      return;
    }
    this._replenish();
    await this.whenPoolReady();
  }

  /** Resolves when every kernel currently in the pool has started (or failed to). */
  async whenPoolReady(): Promise<void> {
    await Promise.allSettled(this._pool.map(e => e.promise));
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
      await Promise.allSettled(jobs.map(j => j.finished));
      const pool = this._pool.splice(0);
      await Promise.allSettled([...this._launching]);
      await Promise.allSettled(pool.map(e => e.promise.then(h => this.shutdownKernel(h))));
      await Promise.allSettled([...this._kernels].map(h => this.shutdownKernel(h)));
    })();
    return this._disposing;
  }

  /** @internal Kernelspecs on the server (bounded). */
  getSpecs(): Promise<KernelSpec.ISpecModels> {
    return bounded(
      KernelSpecAPI.getSpecs(this.serverSettings),
      REST_TIMEOUT_MS,
      'listing kernelspecs'
    );
  }

  /** @internal A ready kernel of `spec` for one job: from the pool when possible. */
  async acquire(spec: string): Promise<IKernelHandle> {
    if (spec === this.defaultKernel && this._started && this.poolSize > 0) {
      const entry = this._pool.shift();
      this._replenish();
      if (entry) {
        try {
          const handle = await entry.promise;
          const c = handle.connection;
          // An idle, connected kernel; one that died (and was restarted by
          // the server) while waiting is not.
          if (!c.isDisposed && c.status === 'idle' && c.connectionStatus === 'connected') {
            return handle;
          }
          this.log.warn(`[kernel] pooled kernel ${handle.id} is no longer usable; starting another`);
          void this.shutdownKernel(handle);
        } catch (err) {
          this.log.warn(`[kernel] pooled kernel failed to start: ${errorMessage(err)}`);
        }
      }
    }
    return this._launch(spec, false);
  }

  /** @internal Shut a kernel down (idempotent, bounded, never rejects). */
  shutdownKernel(handle: IKernelHandle): Promise<void> {
    if (!handle.shutdown) {
      handle.shutdown = (async () => {
        // Close our websocket first, so the library does not try to reconnect
        // to a kernel that is going away.
        handle.connection.dispose();
        // A DELETE while the server is auto-restarting a dead kernel fails
        // with a 500 (jupyter_client's InvalidStateError on `km.ready`) and
        // the restarted kernel would be left running: retry until it works.
        const deadline = Date.now() + SHUTDOWN_RETRY_MS;
        for (let attempt = 1; ; attempt++) {
          try {
            await bounded(
              KernelAPI.shutdownKernel(handle.id, this.serverSettings),
              REST_TIMEOUT_MS,
              `shutting down kernel ${handle.id}`
            );
            break;
          } catch (err) {
            if ((err as any)?.response?.status === 404) {
              break;
            }
            if (Date.now() > deadline) {
              this.log.warn(
                `[kernel] could not shut down kernel ${handle.id} (${attempt} attempts): ${errorMessage(err)}`
              );
              break;
            }
            await sleep(Math.min(2000, 250 * attempt));
          }
        }
        this._kernels.delete(handle);
      })();
    }
    return handle.shutdown;
  }

  /** @internal Interrupt a kernel (bounded, never rejects). */
  async interruptKernel(handle: IKernelHandle): Promise<void> {
    try {
      await bounded(
        KernelAPI.interruptKernel(handle.id, this.serverSettings),
        REST_TIMEOUT_MS,
        `interrupting kernel ${handle.id}`
      );
    } catch (err) {
      this.log.warn(`[kernel] could not interrupt kernel ${handle.id}: ${errorMessage(err)}`);
    }
  }

  private _replenish(): void {
    while (!this._disposed && this._started && this._pool.length < this.poolSize) {
      const entry: IPoolEntry = { promise: this._launch(this.defaultKernel, true) };
      entry.promise.then(
        h => {
          entry.handle = h;
        },
        err => this.log.warn(`[kernel] could not pre-start a kernel: ${errorMessage(err)}`)
      );
      this._pool.push(entry);
    }
  }

  /** Start a kernel and wait until it answers kernel_info. */
  private _launch(spec: string, pooled: boolean): Promise<IKernelHandle> {
    const p = (async () => {
      const deadline = Date.now() + this.kernelStartTimeoutMs;
      const model = await bounded(
        KernelAPI.startNew({ name: spec }, this.serverSettings),
        this.kernelStartTimeoutMs,
        `starting a "${spec}" kernel`
      );
      const connection = new SafeKernelConnection({
        model,
        serverSettings: this.serverSettings,
        handleComms: false
      });
      const handle: IKernelHandle = { id: model.id, spec, connection, pooled };
      this._kernels.add(handle);
      if (this._disposed) {
        await this.shutdownKernel(handle);
        throw new Error('the kernel conductor was disposed');
      }
      try {
        await this._waitReady(handle, Math.max(1000, deadline - Date.now()));
      } catch (err) {
        await this.shutdownKernel(handle);
        throw err;
      }
      this.log.debug(`[kernel] started ${spec} kernel ${model.id}${pooled ? ' (pool)' : ''}`);
      return handle;
    })();
    this._launching.add(p);
    const forget = () => this._launching.delete(p);
    p.then(forget, forget);
    return p;
  }

  private _waitReady(handle: IKernelHandle, ms: number): Promise<void> {
    const c = handle.connection;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the "${handle.spec}" kernel did not become ready within ${formatSeconds(ms)}`));
      }, ms);
      const onStatus = (_: unknown, status: Kernel.Status) => {
        if (status === 'dead') {
          cleanup();
          reject(new Error(`the "${handle.spec}" kernel died while starting`));
        }
      };
      const onConnection = (_: unknown, status: Kernel.ConnectionStatus) => {
        if (status === 'disconnected') {
          cleanup();
          reject(new Error(`could not open a websocket to the "${handle.spec}" kernel`));
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        if (!c.isDisposed) {
          c.statusChanged.disconnect(onStatus);
          c.connectionStatusChanged.disconnect(onConnection);
        }
      };
      c.statusChanged.connect(onStatus);
      c.connectionStatusChanged.connect(onConnection);
      c.info.then(
        () => {
          cleanup();
          resolve();
        },
        err => {
          cleanup();
          reject(err);
        }
      );
    });
  }

  private _disposed = false;
  private _disposing: Promise<void> = Promise.resolve();
  private _started = false;
  private _pool: IPoolEntry[] = [];
  private _kernels = new Set<IKernelHandle>();
  private _launching = new Set<Promise<IKernelHandle>>();
  private _jobs = new Set<KernelJob>();
}

/** Why a job stopped before its cells finished. */
interface IStop {
  kind: 'timeout' | 'cancelled' | 'dead';
  /** For `dead`: what was seen. */
  detail?: string;
  /** For `cancelled`: who asked. */
  reason?: string;
}

class StopSignal extends Error {
  constructor(readonly stop: IStop) {
    super(`job stopped: ${stop.kind}`);
  }
}

/** The running cell. */
interface ICellRun {
  index: number;
  msgId: string;
  t0: number;
  timing: Record<string, string>;
  reply?: KernelMessage.IExecuteReplyMsg;
  idle: boolean;
  finished: boolean;
  outcome: Deferred<ICellOutcome>;
}

type ICellOutcome =
  | { kind: 'reply'; reply: KernelMessage.IExecuteReplyMsg }
  | { kind: 'lost'; error: string };

type Phase = { kind: 'prepare' } | { kind: 'start' } | { kind: 'setup' } | { kind: 'cell'; index: number };

/** One job in one kernel. */
class KernelJob {
  constructor(
    private readonly conductor: KernelConductor,
    private readonly request: IExecutionRequest
  ) {
    this.notebook = prepareResultNotebook(request.notebook);
    this.collector = new OutputCollector(this.notebook);
    this.writer = new NotebookWriter(request.resultPath, this.notebook, {
      minIntervalMs: conductor.writeIntervalMs,
      log: m => conductor.log.warn(`[kernel] ${m}`)
    });
    this.spec =
      (typeof this.notebook.metadata?.kernelspec?.name === 'string' &&
        this.notebook.metadata.kernelspec.name) ||
      conductor.defaultKernel;
  }

  /** Settles when `run()` has returned. */
  get finished(): Promise<unknown> {
    return this._finished.promise;
  }

  /** Stop the job as cancelled (used by `dispose`). */
  abort(reason: string): void {
    this._fireStop({ kind: 'cancelled', reason });
  }

  async run(): Promise<IKernelExecutionResult> {
    try {
      return await this._run();
    } finally {
      this._finished.resolve(undefined);
    }
  }

  private async _run(): Promise<IKernelExecutionResult> {
    const { request } = this;
    const started = Date.now();
    let status: IExecutionResult['status'] = 'done';
    let error: IJobError | undefined;

    const onAbort = () => {
      // `abort()` without a reason gives a generic AbortError: say nothing then.
      const reason = request.signal.reason;
      this._fireStop({
        kind: 'cancelled',
        reason:
          typeof reason === 'string'
            ? reason
            : reason instanceof Error && reason.name !== 'AbortError'
              ? reason.message
              : undefined
      });
    };
    if (request.signal.aborted) {
      onAbort();
    } else {
      request.signal.addEventListener('abort', onAbort, { once: true });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (request.timeoutMs > 0) {
      timer = setTimeout(() => this._fireStop({ kind: 'timeout' }), request.timeoutMs);
    }

    let acquiring: Promise<IKernelHandle> | undefined;
    try {
      await fsp.mkdir(path.dirname(request.writesLogPath), { recursive: true });
      await fsp.appendFile(request.writesLogPath, '');
      await this.writer.flush();

      // The kernelspec must exist on the server.
      let specs: KernelSpec.ISpecModels;
      try {
        specs = await this._guard(this.conductor.getSpecs());
      } catch (err) {
        if (err instanceof StopSignal) {
          throw err;
        }
        return this._result('failed', {
          message: `could not list the kernelspecs of the Jupyter server: ${errorMessage(err)}`
        });
      }
      const spec = specs.kernelspecs[this.spec];
      if (!spec) {
        const available = Object.keys(specs.kernelspecs).sort();
        return this._result('failed', {
          message:
            `kernelspec "${this.spec}" is not available on the Jupyter server; ` +
            `available kernelspecs: ${available.join(', ') || '(none)'}`
        });
      }

      const codeCells = this.notebook.cells
        .map((c, i) => (c.cell_type === 'code' ? i : -1))
        .filter(i => i >= 0);
      const total = codeCells.length;
      if (total === 0) {
        return this._result('done');
      }

      // A ready kernel, ideally pre-started.
      this.phase = { kind: 'start' };
      acquiring = this.conductor.acquire(this.spec);
      try {
        this.kernel = await this._guard(acquiring);
      } catch (err) {
        if (err instanceof StopSignal) {
          throw err;
        }
        return this._result('failed', {
          message: `could not start a "${this.spec}" kernel: ${errorMessage(err)}`
        });
      }
      this._watchKernel(this.kernel);

      if (spec.language?.toLowerCase() === 'python') {
        this.phase = { kind: 'setup' };
        const reply = await this._guard(this._setup());
        if (reply.content.status !== 'ok') {
          const c = reply.content as any;
          return this._result('failed', {
            message: `could not prepare the kernel: ${c.ename ?? 'error'}: ${c.evalue ?? ''}`,
            ename: c.ename,
            evalue: c.evalue,
            traceback: Array.isArray(c.traceback) ? c.traceback.map((l: string) => stripAnsi(l)) : undefined
          });
        }
      } else {
        this.conductor.log.warn(
          `[kernel] kernel language ${spec.language} is not Python: the working directory is the ` +
            `server's and files written are not recorded`
        );
      }

      let done = 0;
      for (const index of codeCells) {
        const cell = this.notebook.cells[index];
        const code = cellSource(cell);
        if (code.trim() !== '') {
          this.phase = { kind: 'cell', index };
          const outcome = await this._guard(this._executeCell(index, code));
          await this.writer.flush();
          if (outcome.kind === 'lost') {
            // The library dropped the request (e.g. the kernel restarted):
            // give the death detection a moment to say why.
            await Promise.race([this._stopped.promise, sleep(3000)]);
            if (this._stop) {
              throw new StopSignal(this._stop);
            }
            return this._result('failed', {
              message: `lost contact with the kernel while running cell ${index + 1} (${outcome.error})`,
              cell: index
            });
          }
          const content = outcome.reply.content;
          if (content.status === 'error') {
            const traceback = (content.traceback ?? []).map(l => stripAnsi(l));
            return this._result('failed', {
              message: `cell ${index + 1} raised ${content.ename}${content.evalue ? `: ${content.evalue}` : ''}`,
              ename: content.ename,
              evalue: content.evalue,
              traceback,
              cell: index
            });
          }
          if (content.status !== 'ok') {
            return this._result('failed', {
              message: `cell ${index + 1} was not run by the kernel (status ${content.status})`,
              cell: index
            });
          }
        }
        done++;
        try {
          request.onProgress?.(done, total);
        } catch (err) {
          this.conductor.log.warn(`[kernel] onProgress failed: ${errorMessage(err)}`);
        }
      }
      return this._result('done');
    } catch (err) {
      if (!(err instanceof StopSignal)) {
        throw err;
      }
      const stop = err.stop;
      const where = this._where();
      if (stop.kind === 'dead') {
        status = 'failed';
        error = {
          message:
            this.phase.kind === 'cell'
              ? `kernel died while running cell ${this.phase.index + 1} (${stop.detail ?? DEATH_HINT})`
              : `kernel died ${where} (${stop.detail ?? DEATH_HINT})`
        };
      } else {
        await this._interruptCurrent();
        if (stop.kind === 'timeout') {
          status = 'failed';
          error = {
            message:
              `timed out after ${formatSeconds(request.timeoutMs)} ` +
              (this.phase.kind === 'cell' ? `in cell ${this.phase.index + 1}` : where) +
              (this.kernel ? ' (the kernel was interrupted and shut down)' : '')
          };
        } else {
          status = 'cancelled';
          error = { message: `cancelled ${where}${stop.reason ? `: ${stop.reason}` : ''}` };
        }
      }
      if (this.phase.kind === 'cell') {
        error.cell = this.phase.index;
      }
      return this._result(status, error);
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
      this._unwatchKernel();
      if (this.kernel) {
        await this.conductor.shutdownKernel(this.kernel);
      } else if (acquiring) {
        // Stopped while the kernel was starting: shut it down when it arrives.
        acquiring.then(h => this.conductor.shutdownKernel(h)).catch(() => undefined);
      }
      this.conductor.log.debug(
        `[kernel] job ${request.job.id} ended after ${formatSeconds(Date.now() - started)}`
      );
    }
  }

  /** Finish: final write, files written, result. */
  private async _result(
    status: IExecutionResult['status'],
    error?: IJobError
  ): Promise<IKernelExecutionResult> {
    await this.writer.close();
    let filesWritten: string[] = [];
    try {
      filesWritten = parseWritesLog(await fsp.readFile(this.request.writesLogPath, 'utf8'));
    } catch {
      // no log: nothing recorded
    }
    const result: IKernelExecutionResult = { status, kernel: this.spec, filesWritten };
    if (error) {
      result.error = error;
    }
    if (this.kernel) {
      result.kernelId = this.kernel.id;
      result.pooled = this.kernel.pooled;
    }
    return result;
  }

  private _where(): string {
    switch (this.phase.kind) {
      case 'prepare':
        return 'before the kernel was started';
      case 'start':
        return 'while starting the kernel';
      case 'setup':
        return 'while preparing the kernel';
      case 'cell':
        return `while running cell ${this.phase.index + 1}`;
    }
  }

  /** Race `p` against the stop conditions (timeout, cancel, kernel death). */
  private _guard<T>(p: Promise<T>): Promise<T> {
    if (this._stop) {
      return Promise.reject(new StopSignal(this._stop));
    }
    return Promise.race([
      p,
      this._stopped.promise.then(stop => {
        throw new StopSignal(stop);
      })
    ]);
  }

  private _fireStop(stop: IStop): void {
    if (this._stop) {
      return;
    }
    this._stop = stop;
    this._stopped.resolve(stop);
  }

  /** The hidden request: cwd, sys.path, the writes audit hook. Nothing reaches the result. */
  private async _setup(): Promise<KernelMessage.IExecuteReplyMsg> {
    const code = pythonSetupCode(this.request.cwd, this.request.writesLogPath);
    const future = this.kernel!.connection.requestExecute(
      { code, silent: true, store_history: false, allow_stdin: false, stop_on_error: true },
      true
    );
    return (await future.done) as KernelMessage.IExecuteReplyMsg;
  }

  /** Execute one code cell; resolves when both its reply and its idle status arrived. */
  private _executeCell(index: number, code: string): Promise<ICellOutcome> {
    const cell = this.notebook.cells[index];
    this.collector.begin(index);
    const run: ICellRun = {
      index,
      msgId: '',
      t0: performance.now(),
      timing: {},
      idle: false,
      finished: false,
      outcome: new Deferred<ICellOutcome>()
    };
    cell.metadata = cell.metadata ?? {};
    cell.metadata.execution = run.timing;
    let future: Kernel.IShellFuture<
      KernelMessage.IExecuteRequestMsg,
      KernelMessage.IExecuteReplyMsg
    >;
    try {
      future = this.kernel!.connection.requestExecute(
        { code, silent: false, store_history: true, allow_stdin: false, stop_on_error: true },
        true
      );
    } catch (err) {
      return Promise.resolve({ kind: 'lost', error: errorMessage(err) });
    }
    run.msgId = future.msg.header.msg_id;
    this.current = run;
    future.onReply = reply => {
      run.timing['shell.execute_reply'] = reply.header.date;
      run.reply = reply;
      this._maybeFinish(run);
    };
    future.done.then(
      () => {
        // The idle status travels on iopub and is seen just after `done`;
        // never wait for it for long.
        setTimeout(() => {
          if (!run.finished && run.reply) {
            run.idle = true;
            this._maybeFinish(run);
          }
        }, 2000);
      },
      err => {
        if (!run.finished) {
          run.finished = true;
          run.outcome.resolve({ kind: 'lost', error: errorMessage(err) });
        }
      }
    );
    return run.outcome.promise;
  }

  private _maybeFinish(run: ICellRun): void {
    if (run.finished || !run.reply || !run.idle) {
      return;
    }
    run.finished = true;
    const cell = this.notebook.cells[run.index];
    const count = run.reply.content.execution_count;
    if (cell.execution_count === null || cell.execution_count === undefined) {
      cell.execution_count = typeof count === 'number' ? count : null;
    }
    // Same keys, same order as nbclient's record_timing.
    const t = run.timing;
    const execution: Record<string, string> = {};
    for (const key of [
      'iopub.status.busy',
      'iopub.execute_input',
      'shell.execute_reply',
      'iopub.status.idle'
    ]) {
      if (t[key]) {
        execution[key] = t[key];
      }
    }
    cell.metadata.execution = execution;
    cell.metadata.meow = { duration_ms: Math.round(performance.now() - run.t0) };
    run.outcome.resolve({ kind: 'reply', reply: run.reply });
  }

  private _onIOPub = (_: unknown, msg: KernelMessage.IIOPubMessage): void => {
    const type = msg.header.msg_type;
    const content = msg.content as any;
    if (type === 'update_display_data') {
      if (this.collector.handle(type, content)) {
        this.writer.markDirty();
      }
      return;
    }
    const run = this.current;
    const parent = (msg.parent_header as any)?.msg_id;
    if (!run || parent !== run.msgId) {
      return;
    }
    const date = msg.header.date;
    switch (type) {
      case 'status':
        if (content.execution_state === 'busy') {
          run.timing['iopub.status.busy'] ??= date;
        } else if (content.execution_state === 'idle') {
          run.timing['iopub.status.idle'] = date;
          run.idle = true;
          this._maybeFinish(run);
        }
        return;
      case 'execute_input':
        run.timing['iopub.execute_input'] = date;
        if (typeof content.execution_count === 'number') {
          this.notebook.cells[run.index].execution_count = content.execution_count;
        }
        return;
      default:
        if (!run.finished && this.collector.handle(type, content)) {
          this.writer.markDirty();
        }
    }
  };

  private _onStatus = (_: unknown, status: Kernel.Status): void => {
    if (status === 'dead' || status === 'autorestarting' || status === 'restarting') {
      this._fireStop({ kind: 'dead' });
    }
  };

  private _onConnection = (_: unknown, status: Kernel.ConnectionStatus): void => {
    if (status === 'connected') {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = undefined;
    } else if (status === 'disconnected') {
      this._fireStop({ kind: 'dead', detail: 'the connection to the kernel was lost' });
    } else if (status === 'connecting' && !this._reconnectTimer) {
      this._reconnectTimer = setTimeout(
        () =>
          this._fireStop({
            kind: 'dead',
            detail: `the connection to the kernel was lost and not restored within ${formatSeconds(RECONNECT_GRACE_MS)}`
          }),
        RECONNECT_GRACE_MS
      );
    }
  };

  private _watchKernel(handle: IKernelHandle): void {
    const c = handle.connection;
    c.iopubMessage.connect(this._onIOPub);
    c.statusChanged.connect(this._onStatus);
    c.connectionStatusChanged.connect(this._onConnection);
    if (c.isDisposed || c.status === 'dead') {
      this._fireStop({ kind: 'dead' });
    }
    // The websocket can miss a death (e.g. when the server cannot restart
    // the kernel): ask the server now and then.
    let polling = false;
    this._poll = setInterval(async () => {
      if (polling || this._stop) {
        return;
      }
      polling = true;
      try {
        const model = await bounded(
          KernelAPI.getKernelModel(handle.id, this.conductor.serverSettings),
          REST_TIMEOUT_MS,
          'polling the kernel'
        );
        if (!model) {
          this._fireStop({ kind: 'dead', detail: 'the kernel disappeared from the Jupyter server' });
        } else if (model.execution_state === 'dead') {
          this._fireStop({ kind: 'dead' });
        }
      } catch {
        // a slow or unreachable server is caught by the websocket status
      } finally {
        polling = false;
      }
    }, LIVENESS_POLL_MS);
  }

  private _unwatchKernel(): void {
    clearInterval(this._poll);
    clearTimeout(this._reconnectTimer);
    const c = this.kernel?.connection;
    if (c && !c.isDisposed) {
      c.iopubMessage.disconnect(this._onIOPub);
      c.statusChanged.disconnect(this._onStatus);
      c.connectionStatusChanged.disconnect(this._onConnection);
    }
  }

  /** Timeout/cancel: interrupt the running cell and give it a moment to report. */
  private async _interruptCurrent(): Promise<void> {
    const kernel = this.kernel;
    if (!kernel || kernel.connection.isDisposed || kernel.connection.status === 'dead') {
      return;
    }
    await this.conductor.interruptKernel(kernel);
    const run = this.current;
    if (this.phase.kind === 'cell' && run && !run.finished) {
      await Promise.race([run.outcome.promise, sleep(INTERRUPT_GRACE_MS)]);
      await this.writer.flush();
    }
  }

  private readonly notebook: INotebook;
  private readonly collector: OutputCollector;
  private readonly writer: NotebookWriter;
  private readonly spec: string;
  private kernel: IKernelHandle | undefined;
  private current: ICellRun | undefined;
  private phase: Phase = { kind: 'prepare' };
  private _stop: IStop | undefined;
  private _stopped = new Deferred<IStop>();
  private _finished = new Deferred<unknown>();
  private _poll: ReturnType<typeof setInterval> | undefined;
  private _reconnectTimer: ReturnType<typeof setTimeout> | undefined;
}
