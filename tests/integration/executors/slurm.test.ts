/**
 * The Slurm executor against the real single-node cluster `make slurm`
 * starts: jobs become Slurm jobs named after their meow job id, run on the
 * node with `meow exec-job`, and are followed until they really end.
 * No mocks: sbatch, squeue, scontrol and scancel are Slurm's own.
 */
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { ExecutorSet } from '../../../src/service/executors/executor';
import { SlurmExecutor } from '../../../src/service/executors/slurm';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { BUNDLE, journalRecords, latest, PYTHON, REPO, ServiceProcess, sleep } from '../../stress/harness';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until } from '../../helpers/workgroup';

jest.setTimeout(15 * 60_000);

/** `scontrol show job -o ID` as a map of its fields. */
function slurmJob(id: string): Record<string, string> {
  const line = execFileSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(\S*)/g)) {
    out[m[1]] = out[m[1]] ?? m[2];
  }
  return out;
}

/** Names of every Slurm job the controller knows, finished ones included. */
function slurmJobNames(): string[] {
  return execFileSync('squeue', ['-h', '-t', 'all', '-o', '%j'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

const SETTINGS = 'slurm:\n  poll_seconds: 0.3\n';

beforeAll(() => {
  // Installs Slurm with apt when missing and starts the cluster; fails (not skips) when it cannot.
  execFileSync('make', ['--no-print-directory', 'slurm'], { cwd: REPO, stdio: 'inherit', timeout: 12 * 60_000 });
}, 13 * 60_000);

describe('meow run --executor slurm', () => {
  let root: string;
  afterEach(async () => root && removeWorkgroup(root));

  it('runs the foundational example through Slurm: four COMPLETED Slurm jobs named after their meow jobs, exact output', async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-slurm-foundational-'));
    await fs.cp(path.join(REPO, 'examples', 'foundational'), root, { recursive: true });
    await fs.rm(path.join(root, '.meow', 'jobs'), { recursive: true, force: true });
    await fs.writeFile(path.join(root, '.meow', 'settings.yaml'), SETTINGS);
    const logFile = path.join(root, '..', `${path.basename(root)}.log`);
    const service = new ServiceProcess(root, ['--executor', 'slurm', '--until-idle'], logFile);
    service.start();
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(await fs.readFile(path.join(root, 'second', 'Alpha.txt'), 'utf8')).toBe(
      'This is the starting state of Alpha\nThis line was added by Pattern_One\nThis line was added by Pattern_Two'
    );
    const jobs = [...latest(await journalRecords(root)).values()];
    expect(jobs.map(j => j.status)).toEqual(['done', 'done', 'done', 'done']);
    for (const job of jobs) {
      expect(job.executor).toBe('slurm');
      expect(job.external?.state).toBe('COMPLETED');
      const slurm = slurmJob(job.external!.id);
      expect(slurm.JobName).toBe(`meow-${job.id}`);
      expect(slurm.JobState).toBe('COMPLETED');
      // The record on disk says the same, and provenance links the chain.
      const result = JSON.parse(await fs.readFile(path.join(root, '.meow', 'jobs', job.id, 'result.ipynb'), 'utf8'));
      expect(result.cells.length).toBeGreaterThan(0);
    }
    const second = jobs.find(j => j.trigger.path === 'first/Alpha.txt')!;
    expect(second.parent).toBe(jobs.find(j => j.trigger.path === 'start/Alpha.txt')!.id);
    await fs.rm(logFile, { force: true });
  });

  it('reports a failing notebook failed, with its traceback', async () => {
    root = await makeWorkgroup({
      '.meow/settings.yaml': SETTINGS,
      '.meow/recipes/Fail.ipynb': recipeNotebook(
        { infile: "''" },
        'raise ValueError("broken on purpose: " + infile)\n'
      ),
      '.meow/patterns/Fail.yaml': 'recipe: Fail\ntrigger: {path: "in/*"}\ninput: infile\nexecutor: slurm\n',
      'in/a.txt': 'a'
    });
    const service = new ServiceProcess(root, ['--until-idle'], path.join(root, 'meow.log'));
    service.start();
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const [job] = [...latest(await journalRecords(root)).values()];
    expect(job.status).toBe('failed');
    expect(job.error?.message).toMatch(/ValueError: broken on purpose: .*in\/a.txt/);
    expect(job.error?.traceback?.join('\n')).toMatch(/ValueError/);
    expect(slurmJob(job.external!.id).JobName).toBe(`meow-${job.id}`);
  });

  it('follows jobs that were in Slurm while meow was killed with SIGKILL: no second submission, every result collected', async () => {
    const N = 6;
    const files: Record<string, string> = {
      '.meow/settings.yaml': SETTINGS,
      '.meow/recipes/Slow.ipynb': recipeNotebook(
        { infile: "''", outfile: "''" },
        'import os, time\ntime.sleep(4)\nos.makedirs("out", exist_ok=True)\nopen(outfile, "w").write("done " + os.path.basename(infile))\n'
      ),
      '.meow/patterns/Slow.yaml':
        'recipe: Slow\ntrigger: {path: "in/*"}\ninput: infile\noutputs: {outfile: "out/{FILENAME}"}\nexecutor: slurm\n'
    };
    for (let i = 0; i < N; i++) {
      files[`in/f${i}.txt`] = String(i);
    }
    root = await makeWorkgroup(files);
    const logFile = path.join(root, 'meow.log');
    let service = new ServiceProcess(root, [], logFile);
    service.start();
    // Kill once every job is in Slurm and at least one runs.
    await until(
      async () => {
        const jobs = [...latest(await journalRecords(root)).values()];
        return jobs.length === N && jobs.every(j => j.external?.id) && jobs.some(j => j.external?.state === 'RUNNING');
      },
      180_000,
      'every job to be in Slurm'
    );
    await service.kill9();
    await sleep(6000); // some finish while meow is down
    service = new ServiceProcess(root, ['--until-idle'], logFile);
    service.start();
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const jobs = [...latest(await journalRecords(root)).values()];
    expect(jobs.filter(j => j.status !== 'done').map(j => `${j.id} ${j.status}: ${j.error?.message}`)).toEqual([]);
    for (let i = 0; i < N; i++) {
      expect(await fs.readFile(path.join(root, 'out', `f${i}.txt`), 'utf8')).toBe(`done f${i}.txt`);
    }
    const names = slurmJobNames();
    for (const job of jobs) {
      expect(names.filter(n => n === `meow-${job.id}`)).toHaveLength(1);
    }
    const log = await fs.readFile(logFile, 'utf8');
    expect(log).toMatch(/meow follows it again/);
  });
});

describe('the Slurm executor in a runner', () => {
  let root: string;
  let runner: MeowRunner;
  const log = new RecordingLogger();

  afterEach(async () => {
    await runner?.stop();
    if (root) {
      await removeWorkgroup(root);
    }
  });

  async function start(files: Record<string, string>): Promise<void> {
    root = await makeWorkgroup(files);
    const slurm = new SlurmExecutor({
      meowCommand: [process.execPath, BUNDLE],
      python: PYTHON,
      settings: { pollMs: 300 },
      log
    });
    runner = new MeowRunner({
      root,
      settleMs: 50,
      executors: new ExecutorSet({ executors: { slurm }, defaultKind: 'slurm', log }),
      log
    });
    await runner.start();
  }

  const job = (): IJob => runner.store.list()[0];

  it('cancels a job pending in Slurm and one running there (scancel)', async () => {
    await start({
      '.meow/recipes/Sleep.ipynb': recipeNotebook(
        { infile: "''" },
        'print("started", flush=True)\nimport time\ntime.sleep(600)\n'
      ),
      '.meow/patterns/Later.yaml':
        'recipe: Sleep\ntrigger: {path: "later/*"}\ninput: infile\nresources: {extra_args: ["--begin=now+1hour"]}\n',
      '.meow/patterns/Now.yaml':
        'recipe: Sleep\ntrigger: {path: "now/*"}\ninput: infile\nresources: {time: 30m, cpus: 1}\n',
      'later/a.txt': 'a',
      'now/b.txt': 'b'
    });
    const of = (pattern: string) => runner.store.list().find(j => j.pattern === pattern);
    await until(() => of('Later')?.external?.state === 'PENDING', 60_000, 'the Later job to be pending in Slurm');
    await until(() => of('Now')?.external?.state === 'RUNNING', 120_000, 'the Now job to run in Slurm');
    const resultOf = (j: IJob) => path.join(root, '.meow', 'jobs', j.id, 'result.ipynb');
    await until(
      async () => (await fs.readFile(resultOf(of('Now')!), 'utf8').catch(() => '')).includes('started'),
      120_000,
      'the job to print'
    );

    await runner.cancel(of('Later')!.id, 'cancelled by a person');
    await runner.cancel(of('Now')!.id, 'cancelled by a person');
    await until(() => ['Later', 'Now'].every(p => of(p)!.status === 'cancelled'), 60_000, 'both to be cancelled');
    for (const p of ['Later', 'Now']) {
      expect(slurmJob(of(p)!.external!.id).JobState).toBe('CANCELLED');
      expect(of(p)!.error?.message).toMatch(/cancelled/);
    }
    expect(slurmJob(of('Now')!.external!.id).TimeLimit).toBe('00:30:00');
  });

  it('fails a job that exceeds its Slurm time limit, saying so', async () => {
    await start({
      '.meow/recipes/Sleep.ipynb': recipeNotebook({ infile: "''" }, 'import time\ntime.sleep(600)\n'),
      '.meow/patterns/Short.yaml': 'recipe: Sleep\ntrigger: {path: "in/*"}\ninput: infile\nresources: {time: 1m}\n',
      'in/a.txt': 'a'
    });
    await until(() => job()?.status === 'failed', 5 * 60_000, 'the job to hit its time limit');
    expect(job().external?.state).toBe('TIMEOUT');
    expect(job().error?.message).toMatch(/exceeded its Slurm time limit of 1m/);
    expect(slurmJob(job().external!.id).JobState).toBe('TIMEOUT');
  });
});
