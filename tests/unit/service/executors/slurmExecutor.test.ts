/**
 * The Slurm executor's decisions, with Slurm's commands replaced by a fake
 * that keeps jobs in memory: never submit a job Slurm already has, say
 * what a final state means, leave jobs running at shutdown.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob, IJobExternal } from '../../../../src/core/types';
import { EXEC_RESULT_FILE, IExecJobResult } from '../../../../src/service/executors/execJob';
import { SlurmExecutor } from '../../../../src/service/executors/slurm';
import type { ISlurmJobState, SlurmCommands, SlurmState } from '../../../../src/service/executors/slurmCommands';
import { IExecutionRequest, ShuttingDown } from '../../../../src/service/tokens';

/** Slurm in memory: jobs by id, each with a state the test moves on. */
class FakeSlurm {
  jobs = new Map<string, ISlurmJobState>();
  submitted: string[] = [];
  cancelled: string[] = [];
  lookups = 0;
  private _next = 100;

  add(name: string, state: SlurmState): string {
    const id = String(this._next++);
    this.jobs.set(id, { id, name, state });
    return id;
  }

  set(id: string, state: SlurmState): void {
    this.jobs.get(id)!.state = state;
  }

  readonly commands = {
    available: async () => ({ ok: true as const, version: 'slurm 22.05 (fake)' }),
    submit: async (_script: string, o: { name: string }) => {
      this.submitted.push(o.name);
      return this.add(o.name, 'PENDING');
    },
    findByName: async (name: string) => {
      this.lookups++;
      return [...this.jobs.values()].reverse().find(j => j.name === name);
    },
    states: async (ids: string[]) =>
      new Map(ids.filter(id => this.jobs.has(id)).map(id => [id, { ...this.jobs.get(id)! }])),
    detail: async (id: string) => this.jobs.get(id),
    cancel: async (id: string) => {
      this.cancelled.push(id);
      if (this.jobs.has(id)) {
        this.set(id, 'CANCELLED');
      }
    }
  };
}

let dir: string;
let slurm: FakeSlurm;
let executor: SlurmExecutor;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-slurm-exec-'));
  slurm = new FakeSlurm();
  executor = new SlurmExecutor({
    meowCommand: ['node', '/opt/meow it/meow.js'],
    commands: slurm.commands as unknown as SlurmCommands,
    settings: { pollMs: 20, partition: 'debug', sbatchArgs: ['--account=lab'] }
  });
  await executor.start();
});

afterEach(async () => {
  await executor.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

function request(job: Partial<IJob>, controller = new AbortController()) {
  const externals: IJobExternal[] = [];
  const req: IExecutionRequest = {
    job: { id: 'j1', pattern: 'P', recipe: 'R', attempt: 1, ...job } as IJob,
    notebook: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
    resultPath: path.join(dir, 'result.ipynb'),
    writesLogPath: path.join(dir, 'writes.log'),
    cwd: dir,
    timeoutMs: 0,
    signal: controller.signal,
    jobDir: dir,
    resources: { cpus: 2, timeLimitMs: 3_600_000 },
    onExternal: e => externals.push(e)
  };
  return { req, externals, controller };
}

async function writeResult(status: 'done' | 'failed', attempt = 1): Promise<void> {
  const r: IExecJobResult = {
    version: 1,
    job: 'j1',
    attempt,
    host: 'node1',
    started: '',
    finished: '',
    result: { status, filesWritten: [path.join(dir, 'out.txt')] }
  };
  await fs.writeFile(path.join(dir, EXEC_RESULT_FILE), JSON.stringify(r));
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) {
    await new Promise(r => setTimeout(r, 10));
  }
};

it('submits a batch script with the resources, follows it to COMPLETED and returns exec-job’s result', async () => {
  const { req, externals } = request({});
  const running = executor.execute(req);
  await until(() => slurm.submitted.length === 1);
  const script = await fs.readFile(path.join(dir, 'job.sbatch'), 'utf8');
  expect(script).toMatch(/#SBATCH --job-name=meow-j1/);
  expect(script).toMatch(/#SBATCH --cpus-per-task=2/);
  expect(script).toMatch(/#SBATCH --partition=debug/);
  expect(script).toMatch(/#SBATCH --account=lab/);
  expect(script).toMatch(/exec node '\/opt\/meow it\/meow.js' exec-job /);
  expect(JSON.parse(await fs.readFile(path.join(dir, 'exec.json'), 'utf8'))).toMatchObject({
    job: 'j1',
    attempt: 1,
    workgroup: dir
  });
  const id = [...slurm.jobs.keys()][0];
  slurm.set(id, 'RUNNING');
  await until(() => externals.some(e => e.state === 'RUNNING'));
  await writeResult('done');
  slurm.set(id, 'COMPLETED');
  const result = await running;
  expect(result.status).toBe('done');
  expect(result.filesWritten).toEqual([path.join(dir, 'out.txt')]);
  expect(externals.map(e => e.state)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
  expect(slurm.lookups).toBe(0); // never submitted before: no squeue per job before sbatch
});

it('never submits twice: a job Slurm already has under its name is followed instead', async () => {
  const id = slurm.add('meow-j1', 'RUNNING'); // sbatch went through, then meow died before recording it
  await fs.writeFile(path.join(dir, 'exec.json'), '{}'); // written before that sbatch
  const { req, externals } = request({ attempt: 2 });
  const running = executor.execute(req);
  await until(() => externals.length > 0);
  expect(externals[0].id).toBe(id);
  await writeResult('done', 2);
  slurm.set(id, 'COMPLETED');
  expect((await running).status).toBe('done');
  expect(slurm.submitted).toEqual([]);
});

it('follows the recorded Slurm id after a restart, and takes a result written while meow was down', async () => {
  const id = slurm.add('meow-j1', 'COMPLETED');
  await writeResult('failed');
  const { req } = request({ external: { id, state: 'RUNNING' } });
  const result = await executor.execute(req);
  expect(result.status).toBe('failed');
  expect(slurm.submitted).toEqual([]);
});

it('does not take an earlier attempt’s result for this one', async () => {
  slurm.add('meow-j1', 'NODE_FAIL');
  await writeResult('done', 1);
  const { req } = request({ attempt: 2 });
  const running = executor.execute(req);
  await until(() => slurm.submitted.length === 1);
  await expect(fs.stat(path.join(dir, EXEC_RESULT_FILE))).rejects.toThrow(); // removed before submitting
  slurm.set([...slurm.jobs.keys()][1], 'COMPLETED');
  await writeResult('done', 2);
  expect((await running).status).toBe('done');
});

it.each([
  ['NODE_FAIL', true, /its node failed|node/i],
  ['TIMEOUT', false, /time limit of 1h/],
  ['OUT_OF_MEMORY', false, /memory/]
] as const)('a Slurm job ending %s is failed (retryable: %s) with the reason', async (state, retryable, message) => {
  const { req } = request({});
  const running = executor.execute(req);
  await until(() => slurm.submitted.length === 1);
  slurm.set([...slurm.jobs.keys()][0], state);
  const result = await running;
  expect(result.status).toBe('failed');
  expect(!!result.retryable).toBe(retryable);
  expect(result.error?.message).toMatch(message);
});

it('cancels with scancel, but leaves the job running in Slurm when meow shuts down', async () => {
  const a = request({});
  const running = executor.execute(a.req);
  await until(() => slurm.submitted.length === 1);
  a.controller.abort(new Error('cancelled by a person'));
  expect((await running).status).toBe('cancelled');
  expect(slurm.cancelled).toHaveLength(1);

  const b = request({ id: 'j2' } as Partial<IJob>);
  const second = executor.execute(b.req);
  await until(() => slurm.submitted.length === 2);
  b.controller.abort(new ShuttingDown());
  expect((await second).status).toBe('cancelled');
  expect(slurm.cancelled).toHaveLength(1); // no scancel for the shutdown
});
