/**
 * One job in one kernel: the kernelspec check, a kernel from the conductor,
 * the hidden setup request, then each code cell in order, every output into
 * the result notebook as it arrives. Stops on timeout, cancel or kernel
 * death; tells a failure of the job from one of the Jupyter server
 * (`retryable`).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Kernel, KernelAPI, KernelMessage, KernelSpec } from '@jupyterlab/services';
import type { IJobError, INotebook } from '../../core/types';
import type { ILogSink } from '../jupyter/log';
import type { IExecutionRequest, IExecutionResult } from '../tokens';
import type { IKernelHandle } from './launcher';
import {
  OutputCollector,
  cellSource,
  formatSeconds,
  parseWritesLog,
  prepareResultNotebook,
  stripAnsi
} from './outputs';
import { ServerLostError, ServerWatch } from './serverWatch';
import { pythonSetupCode } from './setup';
import { bounded, Deferred, errorMessage, REST_TIMEOUT_MS, sleep } from './util';
import { NotebookWriter } from './writer';

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

const DEATH_HINT = 'the process exited; it may have run out of memory or called os._exit';
/** After interrupting a cell, how long to wait for its traceback before shutting down. */
const INTERRUPT_GRACE_MS = 3_000;
/** How long a dropped websocket may take to reconnect before the job fails. */
const RECONNECT_GRACE_MS = 20_000;
/** How often the kernel's model is polled while a job runs (catches deaths the websocket misses). */
const LIVENESS_POLL_MS = 3_000;
/** While the websocket is down, how often the server is asked whether it is still there. */
const SERVER_PROBE_MS = 1_000;

/** Why a job stopped before its cells finished. */
interface IStop {
  kind: 'timeout' | 'cancelled' | 'dead' | 'server';
  /** For `dead`: what was seen; for `server`: why the server counts as gone. */
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
export class KernelJob {
  constructor(
    private readonly conductor: IKernelJobHost,
    private readonly request: IExecutionRequest
  ) {
    this.notebook = prepareResultNotebook(request.notebook);
    this.collector = new OutputCollector(this.notebook, { maxBytes: conductor.maxOutputBytes });
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
      // Not awaited: the write goes on while the kernel is found.
      void this.writer.flush();

      // A restarting server is waited for (bounded), not failed on.
      try {
        await this._guard(this.conductor.server.ready(this.conductor.serverWaitMs));
      } catch (err) {
        if (err instanceof StopSignal) {
          throw err;
        }
        return this._retryable(`the Jupyter server is not available: ${errorMessage(err)}`);
      }

      // The kernelspec must exist on the server.
      let specs: KernelSpec.ISpecModels;
      try {
        specs = await this._guard(this.conductor.specsWith(this.spec));
      } catch (err) {
        if (err instanceof StopSignal) {
          throw err;
        }
        // Listing kernelspecs never fails because of a job: the server did.
        return this._retryable(
          `could not list the kernelspecs of the Jupyter server at ${this.conductor.server.settings.baseUrl}: ` +
            errorMessage(err)
        );
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
        if (err instanceof ServerLostError) {
          return this._retryable(`could not start a "${this.spec}" kernel: ${errorMessage(err)}`);
        }
        return this._result('failed', {
          message: `could not start a "${this.spec}" kernel: ${errorMessage(err)}`
        });
      }
      this._watchKernel(this.kernel);

      // Cells back to back: the round trips through the server are paid
      // once, not per cell. Only for IPython (the guard lives there), and
      // only when a stop file can tell queued cells a job was stopped.
      const python = spec.language?.toLowerCase() === 'python';
      let pipelined = false;
      if (python && this.conductor.pipelineCells) {
        const info = await this._guard(this.kernel.connection.info).catch(err => {
          if (err instanceof StopSignal) {
            throw err;
          }
          return undefined;
        });
        pipelined = info?.implementation === 'ipython';
      }
      if (python) {
        this.phase = { kind: 'setup' };
        const setup = this._setup(pipelined ? this._stopPath : undefined);
        if (pipelined) {
          this._pipelined = true;
          for (const index of codeCells) {
            const code = cellSource(this.notebook.cells[index]);
            if (code.trim() !== '') {
              this._queued.set(index, this._sendCell(index, code));
            }
          }
        }
        const reply = await this._guard(setup);
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
          const queued = this._queued.get(index);
          if (queued) {
            this.current = queued;
          }
          const outcome = await this._guard(queued ? queued.outcome.promise : this._executeCell(index, code));
          // Batched: written within writeIntervalMs, and at the end.
          this.writer.markDirty();
          if (outcome.kind === 'lost') {
            // The library dropped the request (e.g. the kernel restarted):
            // give the death detection a moment to say why.
            await Promise.race([this._stopped.promise, sleep(3000)]);
            if (this._stop) {
              throw new StopSignal(this._stop);
            }
            const lost = await this.conductor.server.lost(this.kernel.server);
            if (lost) {
              return this._retryable(`${lost} while running cell ${index + 1}`, index);
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
      let stop = err.stop;
      const where = this._where();
      if (stop.kind === 'dead' && this.kernel) {
        // A kernel "dies" with its server: that is not the job's doing.
        const lost = await this.conductor.server.lost(this.kernel.server);
        if (lost) {
          stop = { kind: 'server', detail: lost };
        }
      }
      if (stop.kind === 'server') {
        return this._retryable(
          `${stop.detail ?? 'the Jupyter server went away'} ${where}`,
          this.phase.kind === 'cell' ? this.phase.index : undefined
        );
      }
      if (stop.kind === 'dead') {
        status = 'failed';
        error = {
          message:
            this.phase.kind === 'cell'
              ? `kernel died while running cell ${this.phase.index + 1} (${stop.detail ?? DEATH_HINT})`
              : `kernel died ${where} (${stop.detail ?? DEATH_HINT})`
        };
      } else {
        // Cells queued behind the running one must not start.
        await this._writeStopFile();
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
        // The result is written by now: in the background the job need not wait.
        const background =
          this.conductor.shutdownInBackground &&
          this.conductor.shuttingDown < this.conductor.maxBackgroundShutdowns;
        const shutdown = this.conductor.shutdownKernel(this.kernel);
        const stopFile = this._stopFileWritten ? this._stopPath : undefined;
        if (stopFile) {
          // Kept until the kernel is gone: a queued cell must still see it.
          void shutdown.then(() => fsp.rm(stopFile, { force: true }).catch(() => undefined));
        }
        if (!background) {
          await shutdown;
        }
      } else if (acquiring) {
        // Stopped while the kernel was starting: shut it down when it arrives.
        acquiring.then(h => this.conductor.shutdownKernel(h)).catch(() => undefined);
      }
      this.conductor.log.debug(
        `[kernel] job ${request.job.id} ended after ${formatSeconds(Date.now() - started)}`
      );
    }
  }

  /**
   * The job did not run to an end because of the Jupyter server: `failed`
   * and `retryable`, so the runner runs it again as the same job.
   */
  private async _retryable(message: string, cell?: number): Promise<IKernelExecutionResult> {
    const error: IJobError = { message: `${message}; not the job's fault: it can be run again` };
    if (cell !== undefined) {
      error.cell = cell;
    }
    this.conductor.log.warn(`[kernel] job ${this.request.job.id}: ${error.message}`);
    const result = await this._result('failed', error);
    result.retryable = true;
    return result;
  }

  /** Finish: final write, files written, result. */
  private async _result(
    status: IExecutionResult['status'],
    error?: IJobError
  ): Promise<IKernelExecutionResult> {
    // Late messages of cells queued behind this point change nothing.
    this._ended = true;
    this.collector.finalize();
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
    const truncated = this.collector.truncated;
    if (truncated) {
      result.outputsTruncated = truncated;
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

  /** Where a stopped job tells its queued cells not to run (pipelined cells). */
  private get _stopPath(): string {
    return `${this.request.writesLogPath}.stop`;
  }

  private async _writeStopFile(): Promise<void> {
    if (!this._pipelined) {
      return;
    }
    try {
      await fsp.writeFile(this._stopPath, 'stopped\n');
      this._stopFileWritten = true;
    } catch (err) {
      this.conductor.log.warn(`[kernel] could not write ${this._stopPath}: ${errorMessage(err)}`);
    }
  }

  /** The hidden request: cwd, sys.path, the writes audit hook (and the pipelining guard). Nothing reaches the result. */
  private async _setup(guardStopPath?: string): Promise<KernelMessage.IExecuteReplyMsg> {
    const code = pythonSetupCode(this.request.cwd, this.request.writesLogPath, guardStopPath);
    const future = this.kernel!.connection.requestExecute(
      { code, silent: true, store_history: false, allow_stdin: false, stop_on_error: true },
      true
    );
    return (await future.done) as KernelMessage.IExecuteReplyMsg;
  }

  /** Execute one code cell; resolves when both its reply and its idle status arrived. */
  private _executeCell(index: number, code: string): Promise<ICellOutcome> {
    const run = this._sendCell(index, code);
    this.current = run;
    return run.outcome.promise;
  }

  /** Send one cell's execute_request; its outcome settles when both reply and idle status arrived. */
  private _sendCell(index: number, code: string): ICellRun {
    const cell = this.notebook.cells[index];
    if (!this._pipelined) {
      this.collector.begin(index);
      this._collecting = index;
    }
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
    if (!this._pipelined) {
      // Pipelined: set when the cell finishes (a queued cell may never run).
      cell.metadata.execution = run.timing;
    }
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
      run.finished = true;
      run.outcome.resolve({ kind: 'lost', error: errorMessage(err) });
      return run;
    }
    run.msgId = future.msg.header.msg_id;
    this._runs.set(run.msgId, run);
    future.onReply = reply => {
      if (this._pipelined && this._ended) {
        return;
      }
      run.timing['shell.execute_reply'] = reply.header.date;
      run.reply = reply;
      this._maybeFinish(run);
      if (this._pipelined && reply.content.status !== 'ok') {
        // Replies come in order: later cells' messages are ignored from here.
        this._ended = true;
      }
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
    return run;
  }

  private _maybeFinish(run: ICellRun): void {
    if (run.finished || !run.reply || !run.idle) {
      return;
    }
    run.finished = true;
    if (this._pipelined && run.reply.content.status === 'aborted') {
      // Never ran: the cell stays as it was.
      run.outcome.resolve({ kind: 'reply', reply: run.reply });
      return;
    }
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
    const parent = (msg.parent_header as any)?.msg_id;
    const run = parent ? this._runs.get(parent) : undefined;
    if (!run || (this._pipelined ? this._ended || run.finished : run !== this.current)) {
      return;
    }
    if (run.index !== this._collecting) {
      // Pipelined: the kernel runs cells in order; this one has started.
      this.collector.begin(run.index);
      this._collecting = run.index;
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
        if (typeof content.execution_count === 'number' && !this._pipelined) {
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
      clearInterval(this._serverProbe);
      this._serverProbe = undefined;
    } else if (status === 'disconnected') {
      this._fireStop({ kind: 'dead', detail: 'the connection to the kernel was lost' });
    } else if (status === 'connecting' && !this._reconnectTimer) {
      // A dead server is seen in about a second, not after the grace period.
      this._probeServer();
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

  /** While the websocket is down: ask the server, stop as `server` when it is gone. */
  private _probeServer(): void {
    if (this._serverProbe || !this.kernel) {
      return;
    }
    const identity = this.kernel.server;
    let probing = false;
    const probe = async () => {
      if (probing || this._stop) {
        return;
      }
      probing = true;
      try {
        const lost = await this.conductor.server.lost(identity);
        if (lost) {
          this._fireStop({ kind: 'server', detail: lost });
        }
      } finally {
        probing = false;
      }
    };
    this._serverProbe = setInterval(() => void probe(), SERVER_PROBE_MS);
    void probe();
  }

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
          KernelAPI.getKernelModel(handle.id, handle.server.settings),
          REST_TIMEOUT_MS,
          'polling the kernel'
        );
        if (!model) {
          this._fireStop({ kind: 'dead', detail: 'the kernel disappeared from the Jupyter server' });
        } else if (model.execution_state === 'dead') {
          this._fireStop({ kind: 'dead' });
        }
      } catch {
        // Unreachable: find out whether the server is gone.
        this._probeServer();
      } finally {
        polling = false;
      }
    }, LIVENESS_POLL_MS);
  }

  private _unwatchKernel(): void {
    clearInterval(this._poll);
    clearInterval(this._serverProbe);
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
  /** Cells by execute_request id (a job's outputs are matched to cells by it). */
  private _runs = new Map<string, ICellRun>();
  /** Pipelined: the requests already sent, by cell index. */
  private _queued = new Map<number, ICellRun>();
  private _pipelined = false;
  private _ended = false;
  private _collecting = -1;
  private _stopFileWritten = false;
  private phase: Phase = { kind: 'prepare' };
  private _stop: IStop | undefined;
  private _stopped = new Deferred<IStop>();
  private _finished = new Deferred<unknown>();
  private _poll: ReturnType<typeof setInterval> | undefined;
  private _reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private _serverProbe: ReturnType<typeof setInterval> | undefined;
}
