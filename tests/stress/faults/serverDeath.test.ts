/**
 * Fault test (issue 6): the private Jupyter server dies (kill -9) while jobs
 * run, end to end — a MeowRunner with a real KernelConductor on a real
 * PrivateJupyterServer, two workers, jobs that sleep 2 s and then write an
 * output. The server must come back, the interrupted jobs run again as the
 * same jobs (attempt 2+), every trigger ends with exactly one `done` job and
 * the right output, nothing fails, and no kernel is left behind.
 */
import { promises as fs, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI } from '@jupyterlab/services';
import { KernelConductor } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { notebook, processesIn } from '../harness';
import { exactlyOneDoneEach, jobsOf, pause, until, within, writeFile } from './helpers';

const TRIGGERS = 8;

const SLOW = notebook(
  [
    "infile = ''",
    "outfile = ''",
    'import os, time, pathlib',
    'time.sleep(2)',
    'text = pathlib.Path(infile).read_text()',
    'os.makedirs(os.path.dirname(outfile), exist_ok=True)',
    "pathlib.Path(outfile).write_text(text.upper() + 'ok\\n')"
  ].join('\n')
);

describe('the private Jupyter server is killed with SIGKILL while jobs run', () => {
  let root: string;
  let server: PrivateJupyterServer | undefined;
  let runner: MeowRunner | undefined;
  const log = new RecordingLogger();

  beforeAll(async () => {
    root = realpathSync(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-fault-server-')));
    await writeFile(root, '.meow/recipes/Slow.ipynb', SLOW);
    await writeFile(
      root,
      '.meow/patterns/Slow.yaml',
      'recipe: Slow\ntrigger:\n  path: "in/*.txt"\ninput: infile\noutputs:\n  outfile: "{VGRID}/out/{FILENAME}"\n'
    );
  });

  afterAll(async () => {
    await runner?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    if (root) {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('restarts the server and runs every trigger exactly once to done; interrupted jobs keep their id', async () => {
    const t0 = Date.now();
    server = new PrivateJupyterServer({ rootDir: root, log });
    await server.start();
    const conductor = new KernelConductor({
      server,
      poolSize: 2,
      kernelsFile: path.join(root, '.meow', 'kernels.json'),
      log
    });
    runner = new MeowRunner({ root, workers: 2, settleMs: 100, conductor, log });
    await runner.start();

    const names = Array.from({ length: TRIGGERS }, (_, i) => `f${i}`);
    for (const n of names) {
      await writeFile(root, `in/${n}.txt`, `input ${n}\n`);
    }

    // Two jobs well inside their 2 s sleep: kill the server under them.
    const inSleep = () =>
      jobsOf(runner!, 'Slow').filter(j => j.status === 'running' && Date.now() - Date.parse(j.started!) > 700);
    await until(() => inSleep().length === 2, 120_000, 'two jobs running for 0.7 s');
    const interrupted = inSleep().map(j => j.id);
    const oldPid = server.pid!;
    const oldUrl = server.url;
    const restartsBefore = server.restarts;
    process.kill(oldPid, 'SIGKILL');

    await until(() => server!.restarts > restartsBefore, 120_000, 'the server to restart');
    expect(server.url).not.toBe(oldUrl);
    expect(server.pid).not.toBe(oldPid);
    await within(runner.waitUntilIdle(), 240_000, 'the runner to finish every job');

    const jobs = jobsOf(runner, 'Slow');
    const stamp =
      `[server death] ${((Date.now() - t0) / 1000).toFixed(1)} s; jobs: ` +
      jobs.map(j => `${j.trigger.path}=${j.status}#${j.attempt}`).join(' ');
    console.log(stamp);

    // Every trigger: exactly one job, done (the interrupted ones are that same job).
    expect(
      exactlyOneDoneEach(
        jobs,
        names.map(n => `in/${n}.txt`)
      )
    ).toEqual([]);
    expect(runner.store.list().filter(j => j.status === 'failed')).toEqual([]);
    for (const id of interrupted) {
      const job = runner.store.get(id)!;
      expect({ id: job.id, status: job.status, attemptAtLeast2: (job.attempt ?? 1) >= 2 }).toEqual({
        id,
        status: 'done',
        attemptAtLeast2: true
      });
    }
    // The others ran once.
    for (const job of jobs.filter(j => !interrupted.includes(j.id))) {
      expect(job.attempt ?? 1).toBe(1);
    }
    // Every output is right.
    for (const n of names) {
      expect(await fs.readFile(path.join(root, 'out', `${n}.txt`), 'utf8')).toBe(`INPUT ${n.toUpperCase()}\nok\n`);
    }
    expect(log.text()).toMatch(/the private Jupyter server \(pid \d+, .*\) died \(SIGKILL\)/);
    expect(log.text()).toMatch(/runs again as the same job/);

    // Stopping the runner shuts its kernels down on the new server.
    await runner.stop();
    runner = undefined;
    expect(await KernelAPI.listRunning(server.serverSettings)).toEqual([]);
    await server.stop();
    server = undefined;
    // No kernel (of the old or the new server) and no server is left.
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = await processesIn(root);
      if (!left.length) {
        break;
      }
      await pause(200);
    }
    expect(left).toEqual([]);
  }, 420_000);
});
