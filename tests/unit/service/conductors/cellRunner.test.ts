/**
 * Pipelined cells on a fake kernel connection whose shell reply comes before
 * the iopub messages of the same request: the two travel on different
 * channels, and under load iopub lags. A failing cell's error output and idle
 * status must still reach the result notebook (CI once found a failed job
 * whose result.ipynb had no traceback), while later cells' messages, and
 * anything after the job ended, change nothing. And the cell a dying kernel
 * was running is known from iopub when the replies before it were lost.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { INotebook } from '../../../../src/core/types';
import { CellRunner, ICellOutcome } from '../../../../src/service/conductors/kernelCells';
import { OutputCollector } from '../../../../src/service/conductors/outputs';
import { NotebookWriter } from '../../../../src/service/conductors/writer';

interface IFakeFuture {
  msg: { header: { msg_id: string } };
  onReply?: (reply: KernelMessage.IExecuteReplyMsg) => void;
  done: Promise<void>;
  finish: () => void;
}

/** requestExecute only: records the futures so the test delivers messages in its own order. */
function fakeConnection(): { connection: Kernel.IKernelConnection; futures: IFakeFuture[] } {
  const futures: IFakeFuture[] = [];
  const connection = {
    requestExecute: () => {
      let finish: () => void = () => undefined;
      const done = new Promise<void>(resolve => (finish = resolve));
      const future: IFakeFuture = { msg: { header: { msg_id: `m${futures.length}` } }, done, finish };
      futures.push(future);
      return future;
    }
  } as unknown as Kernel.IKernelConnection;
  return { connection, futures };
}

const date = '2026-11-30T00:00:00.000Z';
const reply = (status: 'ok' | 'error' | 'aborted', count: number) =>
  ({
    header: { date, msg_type: 'execute_reply' },
    content:
      status === 'error'
        ? { status, execution_count: count, ename: 'ValueError', evalue: 'no', traceback: ['ValueError: no'] }
        : { status, execution_count: count }
  }) as unknown as KernelMessage.IExecuteReplyMsg;
const iopub = (parent: string, msgType: string, content: object) =>
  ({
    header: { date, msg_type: msgType },
    parent_header: { msg_id: parent },
    content
  }) as unknown as KernelMessage.IIOPubMessage;

describe('CellRunner, pipelined', () => {
  let dir: string;
  let notebook: INotebook;
  let runner: CellRunner;
  let futures: IFakeFuture[];
  let writer: NotebookWriter;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-cells-'));
    const cell = (source: string) => ({
      cell_type: 'code' as const,
      source,
      metadata: {},
      outputs: [],
      execution_count: null
    });
    notebook = {
      cells: [cell('x = 1'), cell('raise ValueError("no")'), cell('print("never")')],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5
    } as unknown as INotebook;
    const fake = fakeConnection();
    futures = fake.futures;
    runner = new CellRunner({
      notebook,
      collector: new OutputCollector(notebook),
      writer: (writer = new NotebookWriter(path.join(dir, 'result.ipynb'), notebook))
    });
    runner.connection = fake.connection;
    runner.pipelined = true;
  });

  afterEach(async () => {
    await writer.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("keeps a failing cell's error output and idle status that arrive after its reply; ignores later cells", async () => {
    const runs = [0, 1, 2].map(i => runner.send(i, notebook.cells[i].source as string));
    const outcomes: ICellOutcome[] = [];
    runs.forEach(r => void r.outcome.promise.then(o => outcomes.push(o)));

    // Cell 0 runs normally.
    runner.onIOPub(undefined, iopub('m0', 'status', { execution_state: 'busy' }));
    futures[0].onReply!(reply('ok', 1));
    runner.onIOPub(undefined, iopub('m0', 'status', { execution_state: 'idle' }));
    // Cell 1 fails: its reply first, then (late) its error output and idle.
    runner.onIOPub(undefined, iopub('m1', 'status', { execution_state: 'busy' }));
    futures[1].onReply!(reply('error', 2));
    runner.onIOPub(
      undefined,
      iopub('m1', 'error', { ename: 'ValueError', evalue: 'no', traceback: ['ValueError: no'] })
    );
    runner.onIOPub(undefined, iopub('m1', 'status', { execution_state: 'idle' }));
    // Cell 2 is aborted; a stray output of it must not land.
    futures[2].onReply?.(reply('aborted', 3));
    runner.onIOPub(undefined, iopub('m2', 'stream', { name: 'stdout', text: 'never\n' }));
    await Promise.all([runs[0], runs[1]].map(r => r.outcome.promise));

    expect(runs[1].finished).toBe(true);
    expect(notebook.cells[1].outputs).toEqual([
      expect.objectContaining({ output_type: 'error', ename: 'ValueError', traceback: ['ValueError: no'] })
    ]);
    expect(notebook.cells[1].execution_count).toBe(2);
    expect(notebook.cells[2].outputs).toEqual([]);
    expect(outcomes.map(o => (o.kind === 'reply' ? o.reply.content.status : o.kind))).toEqual(['ok', 'error']);
  });

  it('after end(), even the failing cell changes nothing', async () => {
    const runs = [0, 1].map(i => runner.send(i, notebook.cells[i].source as string));
    futures[0].onReply!(reply('ok', 1));
    runner.onIOPub(undefined, iopub('m0', 'status', { execution_state: 'idle' }));
    futures[1].onReply!(reply('error', 2));
    runner.end();
    runner.onIOPub(
      undefined,
      iopub('m1', 'error', { ename: 'ValueError', evalue: 'no', traceback: ['ValueError: no'] })
    );
    runner.onIOPub(undefined, iopub('m1', 'status', { execution_state: 'idle' }));
    await runs[0].outcome.promise;
    expect(runs[1].finished).toBe(false);
    expect(notebook.cells[1].outputs).toEqual([]);
  });

  it('knows the furthest cell the kernel started, though earlier replies never came', () => {
    [0, 1, 2].map(i => runner.send(i, notebook.cells[i].source as string));
    expect(runner.furthestStarted()).toBeUndefined();
    // The kernel dies in cell 1 and takes cell 0's reply with it: only iopub tells.
    runner.onIOPub(undefined, iopub('m0', 'status', { execution_state: 'busy' }));
    expect(runner.furthestStarted()).toBe(0);
    runner.onIOPub(undefined, iopub('m1', 'execute_input', { code: 'raise ValueError("no")', execution_count: 2 }));
    expect(runner.furthestStarted()).toBe(1);
  });
});
