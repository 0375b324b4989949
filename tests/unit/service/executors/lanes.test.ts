/**
 * Executors in a runner: each job goes to the executor its pattern (or
 * recipe, or the default) names, each executor runs as many jobs at once as
 * its own width, and a job asking for an executor the service lacks fails
 * with the reason and the fix instead of waiting forever.
 */
import type { ExecutorKind, IJob } from '../../../../src/core/types';
import { ExecutorSet, IExecutor } from '../../../../src/service/executors/executor';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import type { IExecutionRequest } from '../../../../src/service/tokens';
import { ScriptedConductor, sleep } from '../../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';

/** A scripted conductor as an executor of `kind`, counting jobs at once. */
class CountingExecutor implements IExecutor {
  constructor(
    readonly kind: ExecutorKind,
    readonly concurrency?: number
  ) {}
  get name(): string {
    return `scripted-${this.kind}`;
  }
  running = 0;
  most = 0;
  requests: IExecutionRequest[] = [];
  private readonly _inner = new ScriptedConductor({
    Wait: async (_p, io) => {
      this.running++;
      this.most = Math.max(this.most, this.running);
      await sleep(100, io.signal).finally(() => this.running--);
    }
  });
  describe(): string {
    return `scripted ${this.kind}`;
  }
  start(): Promise<void> {
    return this._inner.start();
  }
  execute(request: IExecutionRequest) {
    this.requests.push(request);
    return this._inner.execute(request);
  }
  dispose(): Promise<void> {
    return this._inner.dispose();
  }
}

let root: string;
let runner: MeowRunner;
afterEach(async () => {
  await runner?.stop();
  await removeWorkgroup(root);
});

const byPattern = (pattern: string): IJob[] => runner.store.list().filter(j => j.pattern === pattern);

it('routes jobs by executor, each with its own width, and records executor and resources', async () => {
  root = await makeWorkgroup({
    '.meow/recipes/Wait.ipynb': recipeNotebook({ infile: "''" }),
    '.meow/patterns/Here.yaml': 'recipe: Wait\ntrigger: {path: "here/*"}\ninput: infile\n',
    '.meow/patterns/There.yaml':
      'recipe: Wait\ntrigger: {path: "there/*"}\ninput: infile\nexecutor: slurm\nresources: {cpus: 2, time: 1h}\n'
  });
  const local = new CountingExecutor('local');
  const slurm = new CountingExecutor('slurm', 6);
  const log = new RecordingLogger();
  runner = new MeowRunner({
    root,
    settleMs: 20,
    workers: 1,
    executors: new ExecutorSet({ executors: { local, slurm }, defaultKind: 'local', log }),
    log
  });
  await runner.start();
  for (let i = 0; i < 6; i++) {
    await writeFile(root, `here/${i}.txt`, 'x');
    await writeFile(root, `there/${i}.txt`, 'x');
  }
  await until(() => runner.store.list().length === 12 && runner.idle, 20_000, 'all jobs done');
  expect(byPattern('Here').map(j => [j.status, j.executor])).toEqual(Array(6).fill(['done', 'local']));
  expect(byPattern('There').map(j => [j.status, j.executor])).toEqual(Array(6).fill(['done', 'slurm']));
  expect(byPattern('There')[0].resources).toEqual({ cpus: 2, timeLimitMs: 3_600_000 });
  expect(slurm.requests[0].resources).toEqual({ cpus: 2, timeLimitMs: 3_600_000 });
  expect(local.most).toBe(1); // --workers 1
  expect(slurm.most).toBeGreaterThan(1); // its own width, not held up by the local lane
});

it('a job asking for an executor the service does not have fails with the reason and fix', async () => {
  root = await makeWorkgroup({
    '.meow/recipes/Wait.ipynb': recipeNotebook({ infile: "''" }),
    '.meow/patterns/Remote.yaml': 'recipe: Wait\ntrigger: {path: "in/*"}\ninput: infile\nexecutor: jupyter\n',
    'in/a.txt': 'a'
  });
  const log = new RecordingLogger();
  const executors = new ExecutorSet({
    executors: { local: new CountingExecutor('local') },
    defaultKind: 'local',
    missing: { jupyter: 'no remote Jupyter server is configured: set jupyter.url in .meow/settings.yaml' },
    log
  });
  runner = new MeowRunner({ root, settleMs: 20, executors, log });
  await runner.start();
  await until(() => byPattern('Remote')[0]?.status === 'failed', 10_000, 'the job to fail');
  expect(byPattern('Remote')[0].error?.message).toBe(
    'could not start on executor jupyter: no remote Jupyter server is configured: set jupyter.url in .meow/settings.yaml'
  );
  expect(log.text('error')).toMatch(/could not start on executor jupyter/);
});

it('an executor that could not start is tried again when a job needs it', async () => {
  root = await makeWorkgroup({
    '.meow/recipes/Wait.ipynb': recipeNotebook({ infile: "''" }),
    '.meow/patterns/Hpc.yaml': 'recipe: Wait\ntrigger: {path: "in/*"}\ninput: infile\nexecutor: slurm\n'
  });
  const slurm = new CountingExecutor('slurm');
  let up = false;
  slurm.start = async () => {
    if (!up) {
      throw new Error('sbatch not found');
    }
  };
  const log = new RecordingLogger();
  const executors = new ExecutorSet({
    executors: { local: new CountingExecutor('local'), slurm },
    defaultKind: 'local',
    log,
    retryStartMs: 0
  });
  runner = new MeowRunner({ root, settleMs: 20, executors, log });
  await runner.start();
  expect(log.text('info')).toMatch(/the slurm executor is not available: sbatch not found/);
  await writeFile(root, 'in/a.txt', 'a');
  await until(() => byPattern('Hpc')[0]?.status === 'failed', 10_000, 'the first job to fail');
  expect(byPattern('Hpc')[0].error?.message).toMatch(/sbatch not found/);
  up = true;
  await writeFile(root, 'in/b.txt', 'b');
  await until(() => byPattern('Hpc').some(j => j.status === 'done'), 10_000, 'the second job to run');
});

it('a job still running in an engine that outlives meow is followed after a restart, even if its trigger changed', async () => {
  root = await makeWorkgroup({
    '.meow/recipes/Wait.ipynb': recipeNotebook({ infile: "''" }),
    '.meow/patterns/Hpc.yaml': 'recipe: Wait\ntrigger: {path: "in/*"}\ninput: infile\nexecutor: slurm\n',
    'in/a.txt': 'first'
  });
  /** Stands in for Slurm: the job gets an external id and runs until told. */
  const engine = (finish: boolean): IExecutor => ({
    kind: 'slurm',
    name: 'engine',
    outlivesService: true,
    describe: () => 'an engine',
    start: async () => undefined,
    dispose: async () => undefined,
    execute: async request => {
      request.onExternal?.({ id: request.job.external?.id ?? `E-${request.job.id}`, state: 'RUNNING' });
      if (finish) {
        return { status: 'done', filesWritten: [] };
      }
      await new Promise(resolve => request.signal.addEventListener('abort', resolve));
      return { status: 'cancelled', filesWritten: [] };
    }
  });
  const log = new RecordingLogger();
  const make = (finish: boolean) =>
    new MeowRunner({
      root,
      settleMs: 20,
      executors: new ExecutorSet({
        executors: { local: new CountingExecutor('local'), slurm: engine(finish) },
        defaultKind: 'local',
        log
      }),
      log
    });
  runner = make(false);
  await runner.start();
  await until(() => byPattern('Hpc')[0]?.external?.state === 'RUNNING', 10_000, 'the job to run in the engine');
  const { id, started } = byPattern('Hpc')[0];
  await runner.stop();
  await writeFile(root, 'in/a.txt', 'second'); // changed while meow was down
  runner = make(true);
  await runner.start();
  await until(() => runner.store.get(id)?.status === 'done', 10_000, 'the followed job to finish');
  const followed = runner.store.get(id)!;
  expect(followed.external?.id).toBe(`E-${id}`);
  expect(followed.attempt ?? 1).toBe(1); // followed, not run again
  expect(followed.started).toBe(started);
  expect(log.text('info')).toMatch(/meow follows it again/);
});
