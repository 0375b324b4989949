/**
 * The Slurm command client against the real single-node cluster of
 * `make slurm` (installed with apt on a fresh CI machine, hence the long
 * set-up). If the cluster cannot be started these tests fail with the
 * script's message: they are not skipped.
 */
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ISlurmJobState,
  isFinalSlurmState,
  SlurmCommands,
  SlurmState
} from '../../../src/service/executors/slurmCommands';

jest.setTimeout(120000);

const REPO = path.resolve(__dirname, '../../..');

beforeAll(() => {
  try {
    execFileSync('make', ['--no-print-directory', 'slurm'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 10 * 60_000
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `make slurm failed, so Slurm cannot be tested:\n${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`
    );
  }
}, 11 * 60_000);

describe('SlurmCommands on a real cluster', () => {
  const slurm = new SlurmCommands({ backoffMs: 200 });
  const prefix = `meow-it-${process.pid}-${Date.now()}`;
  let dir: string;
  const leftovers: string[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-slurm-it-'));
  });

  afterAll(async () => {
    await Promise.all(leftovers.map(id => slurm.cancel(id).catch(() => undefined)));
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, body: string): Promise<string> {
    const file = path.join(dir, `${name}.sh`);
    await fs.writeFile(file, `#!/bin/bash\n${body}\n`);
    return file;
  }

  async function submit(name: string, body: string, args: string[] = []): Promise<string> {
    const id = await slurm.submit(await script(name, body), { name: `${prefix}-${name}`, cwd: dir, args });
    leftovers.push(id);
    return id;
  }

  /** Polls states() until the job is in one of `wanted`. */
  async function until(id: string, wanted: SlurmState[], ms = 60000): Promise<ISlurmJobState> {
    const deadline = Date.now() + ms;
    let last: ISlurmJobState | undefined;
    while (Date.now() < deadline) {
      last = (await slurm.states([id])).get(id);
      if (last && wanted.includes(last.state)) {
        return last;
      }
      if (last && isFinalSlurmState(last.state)) {
        break;
      }
      await new Promise(r => setTimeout(r, 300));
    }
    throw new Error(`job ${id} is ${last?.state ?? 'unknown'}, not ${wanted.join('/')}`);
  }

  it('is available', async () => {
    const result = await slurm.available();
    expect(result).toEqual({ ok: true, version: expect.stringMatching(/^slurm/) });
  });

  it('runs a job to COMPLETED, with its exit code and output, and finds it by name', async () => {
    const id = await submit('ok', 'echo "hello from $SLURM_JOB_ID"; sleep 1');
    expect(id).toMatch(/^\d+$/);
    const done = await until(id, ['COMPLETED']);
    expect(done).toMatchObject({ id, name: `${prefix}-ok`, state: 'COMPLETED', exitCode: 0, signal: 0 });
    const detail = await slurm.detail(id);
    expect(detail).toMatchObject({ id, state: 'COMPLETED', exitCode: 0, stdout: path.join(dir, `slurm-${id}.out`) });
    expect(await fs.readFile(detail!.stdout!, 'utf8')).toBe(`hello from ${id}\n`);
    // Finished jobs stay known to the controller (MinJobAge).
    expect((await slurm.findByName(`${prefix}-ok`))?.id).toBe(id);
    expect(await slurm.findByName(`${prefix}-never-submitted`)).toBeUndefined();
  });

  it('reports a failing job as FAILED with its exit code', async () => {
    const id = await submit('fails', 'echo oops >&2; exit 3');
    const failed = await until(id, ['FAILED']);
    expect(failed).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3 });
    expect(await slurm.detail(id)).toMatchObject({ state: 'FAILED', exitCode: 3, signal: 0 });
  });

  it('cancels a pending and a running job; cancelling again is fine', async () => {
    const pending = await submit('held', 'true', ['--hold']);
    const running = await submit('long', 'sleep 120');
    expect((await slurm.states([pending])).get(pending)).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser' });
    await until(running, ['RUNNING']);
    await slurm.cancel(pending);
    await slurm.cancel(running);
    expect(await until(pending, ['CANCELLED'])).toMatchObject({ state: 'CANCELLED' });
    const cancelled = await until(running, ['CANCELLED']);
    expect(cancelled.signal).toBe(15);
    await expect(slurm.cancel(running)).resolves.toBeUndefined();
    await expect(slurm.cancel('99999999')).resolves.toBeUndefined();
  });

  it('reads many jobs in one states() call; unknown ids are left out', async () => {
    const ids = await Promise.all([0, 1, 2, 3, 4].map(i => submit(`many-${i}`, 'true', ['--begin=now+1hour'])));
    const states = await slurm.states([...ids, '99999998', '99999999']);
    expect([...states.keys()].sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      expect(states.get(id)).toMatchObject({ name: `${prefix}-many-${i}`, state: 'PENDING', reason: 'BeginTime' });
    }
    // One unknown id makes squeue fail; that is an empty answer too.
    expect(await slurm.states(['99999999'])).toEqual(new Map());
    expect(await slurm.states(['99999998', '99999999'])).toEqual(new Map());
    expect(await slurm.detail('99999999')).toBeUndefined();
    await Promise.all(ids.map(id => slurm.cancel(id)));
  });

  it('fails at once with sbatch own message when the request cannot succeed', async () => {
    const started = Date.now();
    await expect(submit('badpart', 'true', ['--partition=no-such-partition'])).rejects.toThrow(/Invalid partition/);
    expect(Date.now() - started).toBeLessThan(5000); // no retries with backoff
  });
});
