/**
 * A job's code cells on its kernel: execute requests, their replies and
 * iopub messages matched to cells, outputs into the result notebook as they
 * arrive, nbclient's timing metadata. One cell at a time, or all at once
 * (pipelined: IPython kernels, guarded in the kernel so nothing after a
 * failing cell runs).
 */
import { performance } from 'perf_hooks';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { INotebook } from '../../core/types';
import type { OutputCollector } from './outputs';
import { Deferred, errorMessage } from './util';
import type { NotebookWriter } from './writer';

/** A cell sent to the kernel. */
export interface ICellRun {
  index: number;
  msgId: string;
  t0: number;
  timing: Record<string, string>;
  reply?: KernelMessage.IExecuteReplyMsg;
  idle: boolean;
  finished: boolean;
  outcome: Deferred<ICellOutcome>;
}

export type ICellOutcome = { kind: 'reply'; reply: KernelMessage.IExecuteReplyMsg } | { kind: 'lost'; error: string };

/** How long to wait for a cell's idle status after its reply (it travels on iopub, just after). */
const IDLE_GRACE_MS = 2000;

export class CellRunner {
  constructor(options: CellRunner.IOptions) {
    this._notebook = options.notebook;
    this._collector = options.collector;
    this._writer = options.writer;
  }

  /** The kernel's connection, once the job has one. */
  connection: Kernel.IKernelConnection | undefined;

  /** Every cell is sent at once (set before the first is sent). */
  pipelined = false;

  /**
   * The job ended: late messages of cells queued behind that point change
   * nothing (pipelined).
   */
  ended = false;

  /** The job ended (finished, failed, timed out or cancelled): no late message changes anything now. */
  end(): void {
    this.ended = true;
    this._failedAt = undefined;
  }

  /** The cell running now (one at a time), or the one awaited (pipelined). */
  current: ICellRun | undefined;

  /** Pipelined: the requests already sent, by cell index. */
  readonly queued = new Map<number, ICellRun>();

  /** Execute one code cell; resolves when both its reply and its idle status arrived. */
  execute(index: number, code: string): Promise<ICellOutcome> {
    const run = this.send(index, code);
    this.current = run;
    return run.outcome.promise;
  }

  /** Send one cell's execute_request; its outcome settles when both reply and idle status arrived. */
  send(index: number, code: string): ICellRun {
    const cell = this._notebook.cells[index];
    if (!this.pipelined) {
      this._collector.begin(index);
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
    if (!this.pipelined) {
      // Pipelined: set when the cell finishes (a queued cell may never run).
      cell.metadata.execution = run.timing;
    }
    let future: Kernel.IShellFuture<KernelMessage.IExecuteRequestMsg, KernelMessage.IExecuteReplyMsg>;
    try {
      future = this.connection!.requestExecute(
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
    future.onReply = reply => this._onReply(run, reply);
    future.done.then(
      () => {
        // Never wait for the idle status for long.
        setTimeout(() => {
          if (!run.finished && run.reply) {
            run.idle = true;
            this._maybeFinish(run);
          }
        }, IDLE_GRACE_MS);
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

  /**
   * Pipelined: the furthest cell the kernel was seen to start (busy or
   * execute_input on iopub). A kernel that dies can take the replies of
   * the cells before it with it, so the first cell without a reply is not
   * always the one that was running.
   */
  furthestStarted(): number | undefined {
    let furthest: number | undefined;
    for (const run of this._runs.values()) {
      if (run.timing['iopub.status.busy'] || run.timing['iopub.execute_input']) {
        furthest = Math.max(furthest ?? run.index, run.index);
      }
    }
    return furthest;
  }

  /** The kernel's iopub messages: outputs, timing and idle status of the cell they belong to. */
  readonly onIOPub = (_: unknown, msg: KernelMessage.IIOPubMessage): void => {
    const type = msg.header.msg_type;
    const content = msg.content as any;
    if (type === 'update_display_data') {
      if (this._collector.handle(type, content)) {
        this._writer.markDirty();
      }
      return;
    }
    const parent = (msg.parent_header as any)?.msg_id;
    const run = parent ? this._runs.get(parent) : undefined;
    if (!run || (this.pipelined ? run.finished || this._after(run) : run !== this.current)) {
      return;
    }
    if (run.index !== this._collecting) {
      // Pipelined: the kernel runs cells in order; this one has started.
      this._collector.begin(run.index);
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
        if (typeof content.execution_count === 'number' && !this.pipelined) {
          this._notebook.cells[run.index].execution_count = content.execution_count;
        }
        return;
      default:
        if (!run.finished && this._collector.handle(type, content)) {
          this._writer.markDirty();
        }
    }
  };

  private _onReply(run: ICellRun, reply: KernelMessage.IExecuteReplyMsg): void {
    if (this.pipelined && this.ended) {
      return;
    }
    run.timing['shell.execute_reply'] = reply.header.date;
    run.reply = reply;
    this._maybeFinish(run);
    if (this.pipelined && reply.content.status !== 'ok') {
      // Replies come in order: later cells' messages are ignored from here.
      // This cell's own iopub messages still count: its error output and
      // idle status travel on another channel and may come after the reply.
      this.ended = true;
      this._failedAt = run.index;
    }
  }

  /** Pipelined: a message of a cell past the end of the job, which changes nothing. */
  private _after(run: ICellRun): boolean {
    return this.ended && (this._failedAt === undefined || run.index > this._failedAt);
  }

  private _maybeFinish(run: ICellRun): void {
    if (run.finished || !run.reply || !run.idle) {
      return;
    }
    run.finished = true;
    if (this.pipelined && run.reply.content.status === 'aborted') {
      // Never ran: the cell stays as it was.
      run.outcome.resolve({ kind: 'reply', reply: run.reply });
      return;
    }
    const cell = this._notebook.cells[run.index];
    const count = run.reply.content.execution_count;
    if (cell.execution_count === null || cell.execution_count === undefined) {
      cell.execution_count = typeof count === 'number' ? count : null;
    }
    // Same keys, same order as nbclient's record_timing.
    const t = run.timing;
    const execution: Record<string, string> = {};
    for (const key of ['iopub.status.busy', 'iopub.execute_input', 'shell.execute_reply', 'iopub.status.idle']) {
      if (t[key]) {
        execution[key] = t[key];
      }
    }
    cell.metadata.execution = execution;
    cell.metadata.meow = { duration_ms: Math.round(performance.now() - run.t0) };
    run.outcome.resolve({ kind: 'reply', reply: run.reply });
  }

  private readonly _notebook: INotebook;
  private readonly _collector: OutputCollector;
  private readonly _writer: NotebookWriter;
  /** Cells by execute_request id (a job's outputs are matched to cells by it). */
  private readonly _runs = new Map<string, ICellRun>();
  private _collecting = -1;
  /** Pipelined: the cell whose failure ended the job. */
  private _failedAt: number | undefined;
}

export namespace CellRunner {
  export interface IOptions {
    /** The result notebook: outputs, counts and timing are written into it. */
    notebook: INotebook;
    collector: OutputCollector;
    writer: NotebookWriter;
  }
}
