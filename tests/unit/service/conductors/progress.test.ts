/**
 * Progress reported by an executor reaches the job record throttled: a job
 * of quick cells records it once, with its end, not once per cell; a slow
 * job shows it while it runs.
 */
import { ExecutorSet, IExecutor } from '../../../../src/service/executors/executor';
import type { IExecutionRequest, IExecutionResult } from '../../../../src/service/tokens';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, writeFile } from '../../../helpers/workgroup';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Reports `cells` cells done, `pauseMs` apart, then succeeds. */
class ProgressExecutor implements IExecutor {
  constructor(
    private readonly cells: number,
    private readonly pauseMs: number
  ) {}
  readonly kind = 'local' as const;
  readonly name = 'progress';
  describe(): string {
    return 'progress reporter';
  }
  async start(): Promise<void> {}
  async dispose(): Promise<void> {}
  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    for (let done = 1; done <= this.cells; done++) {
      await sleep(this.pauseMs);
      request.onProgress?.(done, this.cells);
    }
    return { status: 'done', filesWritten: [] };
  }
}

describe('job progress', () => {
  let root: string;
  let runner: MeowRunner | undefined;

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await removeWorkgroup(root);
  });

  /** Runs one job; returns the progress seen in change events while it ran, and the final record's. */
  async function run(cells: number, pauseMs: number) {
    root = await makeWorkgroup({
      '.meow/recipes/R.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/P.yaml': 'recipe: R\ntrigger:\n  path: "in/*.txt"\ninput: infile\n'
    });
    const local = new ProgressExecutor(cells, pauseMs);
    runner = new MeowRunner({
      root,
      settleMs: 20,
      log: new RecordingLogger(),
      executors: new ExecutorSet({ executors: { local }, defaultKind: 'local' })
    });
    const running: string[] = [];
    runner.jobChanged.connect((_, { job, previous }) => {
      if (job.status === 'running' && job.progress && job.progress !== previous?.progress) {
        running.push(`${job.progress.done}/${job.progress.total}`);
      }
    });
    await runner.start();
    await writeFile(root, 'in/a.txt', 'a');
    await runner.waitUntilIdle();
    const [job] = runner.store.list();
    expect(job.status).toBe('done');
    return { running, final: job.progress };
  }

  it('records the progress of quick cells once, with the end of the job', async () => {
    const { running, final } = await run(5, 5);
    expect(running).toEqual([]);
    expect(final).toEqual({ done: 5, total: 5 });
  });

  it('shows the progress of slow cells while the job runs', async () => {
    const { running, final } = await run(3, 400);
    expect(running.length).toBeGreaterThanOrEqual(2);
    expect(running).toContain('1/3');
    expect(final).toEqual({ done: 3, total: 3 });
  });
});
