/**
 * Hostile-input catalogue, part 3: trigger files in the workgroup (see
 * harness.ts). Several of these are the file monitor's and runner's to fix
 * (FIFOs, odd names); they are written against the behaviour issue 6 asks
 * for.
 */
import { constants, promises as fs } from 'fs';
import { execFileSync } from 'child_process';
import { sleep } from '../../helpers/scriptedConductor';
import { recipeNotebook, until } from '../../helpers/workgroup';
import { Catalogue } from './harness';

const noop = recipeNotebook({ infile: "''" });
const pat = (recipe: string, glob: string) => `recipe: ${recipe}\ntrigger: {path: "${glob}"}\ninput: infile\n`;

describe('hostile trigger files', () => {
  const c = new Catalogue();
  const jobsFor = (rel: string) => c.runner.store.list().filter(j => j.trigger.path === rel);
  beforeAll(
    () =>
      c.start(
        {
          '.meow/recipes/Noop.ipynb': noop,
          '.meow/recipes/Slow.ipynb': noop,
          '.meow/patterns/Any.yaml': pat('Noop', 'h/**'),
          '.meow/patterns/Slow.yaml': pat('Slow', 'slow/*')
        },
        { Noop: () => undefined, Slow: (_p, io) => sleep(1500, io.signal) }
      ),
    60000
  );
  afterAll(async () => {
    // Release any reader blocked opening the FIFO, so nothing hangs at exit.
    for (const fifo of ['h/fifo', 'h/fifo2']) {
      await fs.open(c.abs(fifo), constants.O_WRONLY | constants.O_NONBLOCK).then(
        h => h.close(),
        () => undefined
      );
    }
    await c.stop();
  });

  it('a binary trigger file runs its job like any other', async () => {
    await c.write('h/image.bin', Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0]));
    await until(() => jobsFor('h/image.bin').some(j => j.status === 'done'));
    await c.stillServing();
  });

  it('a 1 GB (sparse) trigger file gets one job and does not stall other jobs', async () => {
    const handle = await fs.open(c.abs('h/huge.dat'), 'w');
    await handle.truncate(1024 ** 3);
    await handle.close();
    await c.stillServing(60000);
    await until(() => jobsFor('h/huge.dat').some(j => j.status === 'done'), 120000);
    expect(jobsFor('h/huge.dat')).toHaveLength(1);
  }, 180000);

  it('a trigger file deleted before its job runs: the job is skipped, nothing else is affected', async () => {
    await c.write('slow/first.txt', 'busy'); // occupies the only worker
    await until(() => jobsFor('slow/first.txt').some(j => j.status === 'running'));
    await c.write('h/gone.txt', 'soon gone');
    await until(() => jobsFor('h/gone.txt').length > 0);
    await fs.rm(c.abs('h/gone.txt'));
    await until(
      () => jobsFor('h/gone.txt').every(j => ['skipped', 'failed', 'cancelled', 'done'].includes(j.status)),
      20000
    );
    expect(jobsFor('h/gone.txt').map(j => j.status)).toEqual(['skipped']);
    await until(() => jobsFor('slow/first.txt').some(j => j.status === 'done'));
    await c.stillServing();
  });

  it('file names with a newline and ESC get their jobs, and the log shows them escaped', async () => {
    await c.write('h/new\nline.txt', 'a');
    await c.write('h/\u001b[2Jclear.txt', 'b');
    await until(() => jobsFor('h/new\nline.txt').some(j => j.status === 'done'), 15000);
    await until(() => jobsFor('h/\u001b[2Jclear.txt').some(j => j.status === 'done'), 15000);
    await c.stillServing();
  });

  it('a trigger file nobody may read (chmod 000): a job as root, else a warning naming it', async () => {
    await c.write('h/locked.txt', 'x');
    await fs.chmod(c.abs('h/locked.txt'), 0o000);
    await c.write('h/locked2.txt', 'x'); // created already locked would be the same
    if (process.getuid?.() === 0) {
      await until(() => jobsFor('h/locked.txt').some(j => j.status === 'done'), 15000);
    } else {
      await until(() => c.logged('h/locked.txt').some(l => l.startsWith('warn:')), 15000);
    }
    await c.stillServing();
  });

  it('a FIFO matching a glob is skipped with a warning and blocks nothing', async () => {
    execFileSync('mkfifo', [c.abs('h/fifo')]);
    execFileSync('mkfifo', [c.abs('h/fifo2')]);
    await c.stillServing();
    await until(() => c.logged('h/fifo').some(l => l.startsWith('warn:')), 15000);
    expect(jobsFor('h/fifo')).toEqual([]);
    await c.stillServing();
  });
});
