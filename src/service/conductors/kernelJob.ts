/**
 * One job in one kernel, in steps: prepare (the writes log, the server,
 * the kernelspec), acquire a kernel from the conductor, set it up (the
 * hidden setup request; pipelining), run each code cell in order
 * (kernelCells.ts), finish (result, kernel shut down). Stops on timeout,
 * cancel or kernel death (kernelWatch.ts); tells a failure of the job from
 * one of the Jupyter server (`retryable`).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { KernelMessage, KernelSpec } from '@jupyterlab/services';
import type { IJobError, INotebook } from '../../core/types';
import type { IExecutionRequest, IExecutionResult } from '../tokens';
import { CellRunner, ICellOutcome } from './kernelCells';
import type { IKernelExecutionResult, IKernelJobHost } from './kernelJobHost';
import { IStop, Phase, StopSignal, stopOutcome, whereIn } from './kernelStop';
import { KernelWatch } from './kernelWatch';
import type { IKernelHandle } from './launcher';
import {
  OutputCollector,
  cellSource,
  formatSeconds,
  parseWritesLog,
  prepareResultNotebook,
  stripAnsi
} from './outputs';
import { ServerLostError } from './serverWatch';
import { pythonSetupCode } from './setup';
import { Deferred, errorMessage, sleep } from './util';
import { NotebookWriter } from './writer';

export type { IKernelExecutionResult, IKernelJobHost } from './kernelJobHost';

/** After interrupting a cell, how long to wait for its traceback before shutting down. */
const INTERRUPT_GRACE_MS = 3_000;

/** A step's answer: the job's result when it ends the job there, else nothing (go on). */
type StepResult = Promise<IKernelExecutionResult | undefined>;

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
    this.cells = new CellRunner({ notebook: this.notebook, collector: this.collector, writer: this.writer });
    this.spec =
      (typeof this.notebook.metadata?.kernelspec?.name === 'string' && this.notebook.metadata.kernelspec.name) ||
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

  /** The steps in order; the first that has a result ends the job. */
  private async _run(): Promise<IKernelExecutionResult> {
    const started = Date.now();
    const unlisten = this._listenForStops();
    try {
      return (
        (await this._prepare()) ??
        (await this._acquireKernel()) ??
        (await this._setUpKernel()) ??
        (await this._runCells())
      );
    } catch (err) {
      if (!(err instanceof StopSignal)) {
        throw err;
      }
      return await this._stoppedResult(err.stop);
    } finally {
      unlisten();
      await this._finish(started);
    }
  }

  /** Cancel (the request's signal) and timeout stop the job; returns the clean-up. */
  private _listenForStops(): () => void {
    const { request } = this;
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
    return () => {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
    };
  }

  /** The writes log, a server that answers (waited for through a restart), the kernelspec, the code cells. */
  private async _prepare(): StepResult {
    const { request } = this;
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
    this.specModel = spec;
    this.codeCells = this.notebook.cells.map((c, i) => (c.cell_type === 'code' ? i : -1)).filter(i => i >= 0);
    return this.codeCells.length === 0 ? this._result('done') : undefined;
  }

  /** A ready kernel, ideally pre-started, watched for its death from now on. */
  private async _acquireKernel(): StepResult {
    this.phase = { kind: 'start' };
    this._acquiring = this.conductor.acquire(this.spec);
    try {
      this.kernel = await this._guard(this._acquiring);
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
    return undefined;
  }

  /**
   * Python: the hidden setup request (and, for IPython, every cell sent
   * back to back: the round trips through the server are paid once, not per
   * cell; the guard lives in the kernel, and a stop file tells queued cells a
   * job was stopped). Other languages run as they are.
   */
  private async _setUpKernel(): StepResult {
    const kernel = this.kernel!;
    const python = this.specModel!.language?.toLowerCase() === 'python';
    if (!python) {
      this.conductor.log.warn(
        `[kernel] kernel language ${this.specModel!.language} is not Python: the working directory is the ` +
          `server's and files written are not recorded`
      );
      return undefined;
    }
    let pipelined = false;
    if (this.conductor.pipelineCells) {
      const info = await this._guard(kernel.connection.info).catch(err => {
        if (err instanceof StopSignal) {
          throw err;
        }
        return undefined;
      });
      pipelined = info?.implementation === 'ipython';
    }
    this.phase = { kind: 'setup' };
    // The setup's reply comes before any cell is sent (one round trip): a
    // kernel that dies in cell 1 can lose that reply with it, and the death
    // was then put on the setup.
    const reply = await this._guard(this._setup(pipelined ? this._stopPath : undefined));
    if (reply.content.status !== 'ok') {
      const c = reply.content as any;
      return this._result('failed', {
        message: `could not prepare the kernel: ${c.ename ?? 'error'}: ${c.evalue ?? ''}`,
        ename: c.ename,
        evalue: c.evalue,
        traceback: Array.isArray(c.traceback) ? c.traceback.map((l: string) => stripAnsi(l)) : undefined
      });
    }
    if (pipelined) {
      this.cells.pipelined = true;
      for (const index of this.codeCells) {
        const code = cellSource(this.notebook.cells[index]);
        if (code.trim() !== '') {
          this.cells.queued.set(index, this.cells.send(index, code));
        }
      }
    }
    return undefined;
  }

  /** Each code cell in order, progress reported after each; the first failure ends the job. */
  private async _runCells(): Promise<IKernelExecutionResult> {
    const total = this.codeCells.length;
    let done = 0;
    for (const index of this.codeCells) {
      const code = cellSource(this.notebook.cells[index]);
      if (code.trim() !== '') {
        const failed = await this._runCell(index, code);
        if (failed) {
          return failed;
        }
      }
      done++;
      try {
        this.request.onProgress?.(done, total);
      } catch (err) {
        this.conductor.log.warn(`[kernel] onProgress failed: ${errorMessage(err)}`);
      }
    }
    return this._result('done');
  }

  /** One cell (already sent when pipelined); a result when it did not run to `ok`. */
  private async _runCell(index: number, code: string): StepResult {
    this.phase = { kind: 'cell', index };
    const queued = this.cells.queued.get(index);
    if (queued) {
      this.cells.current = queued;
    }
    const outcome = await this._guard(queued ? queued.outcome.promise : this.cells.execute(index, code));
    // Batched: written within writeIntervalMs, and at the end.
    this.writer.markDirty();
    if (outcome.kind === 'lost') {
      return this._lostCell(index, outcome);
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
    return undefined;
  }

  /**
   * The library dropped a cell's request (e.g. the kernel restarted): give
   * the death detection a moment to say why, else blame the server or the
   * kernel.
   */
  private async _lostCell(
    index: number,
    outcome: Extract<ICellOutcome, { kind: 'lost' }>
  ): Promise<IKernelExecutionResult> {
    await Promise.race([this._stopped.promise, sleep(3000)]);
    if (this._stop) {
      throw new StopSignal(this._stop);
    }
    const lost = await this.conductor.server.lost(this.kernel!.server);
    if (lost) {
      return this._retryable(`${lost} while running cell ${index + 1}`, index);
    }
    return this._result('failed', {
      message: `lost contact with the kernel while running cell ${index + 1} (${outcome.error})`,
      cell: index
    });
  }

  /** The result of a job stopped by timeout, cancel, kernel death or its server going away. */
  private async _stoppedResult(stop: IStop): Promise<IKernelExecutionResult> {
    if (stop.kind === 'dead' && this.kernel) {
      // A kernel "dies" with its server: that is not the job's doing.
      const lost = await this.conductor.server.lost(this.kernel.server);
      if (lost) {
        stop = { kind: 'server', detail: lost };
      }
    }
    const started = this.cells.pipelined ? this.cells.furthestStarted() : undefined;
    if (this.phase.kind === 'cell' && started !== undefined && started > this.phase.index) {
      this.phase = { kind: 'cell', index: started };
    }
    const cell = this.phase.kind === 'cell' ? this.phase.index : undefined;
    if (stop.kind === 'server') {
      return this._retryable(`${stop.detail ?? 'the Jupyter server went away'} ${whereIn(this.phase)}`, cell);
    }
    if (stop.kind !== 'dead') {
      // Cells queued behind the running one must not start.
      await this._writeStopFile();
      await this._interruptCurrent();
    }
    const { status, error } = stopOutcome(stop, this.phase, this.request.timeoutMs, !!this.kernel);
    return this._result(status, error);
  }

  /** Stop watching the kernel and shut it down (in the background when allowed). */
  private async _finish(started: number): Promise<void> {
    this._unwatchKernel();
    if (this.kernel) {
      // The result is written by now: in the background the job need not wait.
      const background =
        this.conductor.shutdownInBackground && this.conductor.shuttingDown < this.conductor.maxBackgroundShutdowns;
      const shutdown = this.conductor.shutdownKernel(this.kernel);
      const stopFile = this._stopFileWritten ? this._stopPath : undefined;
      if (stopFile) {
        // Kept until the kernel is gone: a queued cell must still see it.
        void shutdown.then(() => fsp.rm(stopFile, { force: true }).catch(() => undefined));
      }
      if (!background) {
        await shutdown;
      }
    } else if (this._acquiring) {
      // Stopped while the kernel was starting: shut it down when it arrives.
      this._acquiring.then(h => this.conductor.shutdownKernel(h)).catch(() => undefined);
    }
    this.conductor.log.debug(`[kernel] job ${this.request.job.id} ended after ${formatSeconds(Date.now() - started)}`);
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
  private async _result(status: IExecutionResult['status'], error?: IJobError): Promise<IKernelExecutionResult> {
    // Late messages of cells queued behind this point change nothing.
    this.cells.end();
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
    if (!this.cells.pipelined) {
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

  /** Cells' messages and the kernel's death, watched while the job has the kernel. */
  private _watchKernel(handle: IKernelHandle): void {
    this.cells.connection = handle.connection;
    handle.connection.iopubMessage.connect(this.cells.onIOPub);
    this._watch = new KernelWatch({
      handle,
      server: this.conductor.server,
      stop: stop => this._fireStop(stop),
      stopped: () => !!this._stop
    });
  }

  private _unwatchKernel(): void {
    this._watch?.dispose();
    const c = this.kernel?.connection;
    if (c && !c.isDisposed) {
      c.iopubMessage.disconnect(this.cells.onIOPub);
    }
  }

  /** Timeout/cancel: interrupt the running cell and give it a moment to report. */
  private async _interruptCurrent(): Promise<void> {
    const kernel = this.kernel;
    if (!kernel || kernel.connection.isDisposed || kernel.connection.status === 'dead') {
      return;
    }
    await this.conductor.interruptKernel(kernel);
    const run = this.cells.current;
    if (this.phase.kind === 'cell' && run && !run.finished) {
      await Promise.race([run.outcome.promise, sleep(INTERRUPT_GRACE_MS)]);
      await this.writer.flush();
    }
  }

  private readonly notebook: INotebook;
  private readonly collector: OutputCollector;
  private readonly writer: NotebookWriter;
  private readonly cells: CellRunner;
  private readonly spec: string;
  /** The kernelspec, once `_prepare` found it. */
  private specModel: KernelSpec.ISpecModel | undefined;
  /** Indices of the notebook's code cells. */
  private codeCells: number[] = [];
  private kernel: IKernelHandle | undefined;
  private _acquiring: Promise<IKernelHandle> | undefined;
  private _watch: KernelWatch | undefined;
  private _stopFileWritten = false;
  private phase: Phase = { kind: 'prepare' };
  private _stop: IStop | undefined;
  private _stopped = new Deferred<IStop>();
  private _finished = new Deferred<unknown>();
}
