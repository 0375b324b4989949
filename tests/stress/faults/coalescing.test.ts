/**
 * Fault test (issue 6): coalescing. A file rewritten 20 times while its
 * rule's job waits behind a gated job: exactly one job runs, on the last
 * content; every older one is `skipped` as superseded and never started.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';
import { gate, IStarted, jobsOf, sha256, startScripted, until, within, writeFile } from './helpers';

describe('coalescing: a newer version supersedes a queued job', () => {
  let root: string;
  let s: IStarted | undefined;

  afterEach(async () => {
    await s?.runner.stop();
    s = undefined;
    await removeWorkgroup(root);
  });

  async function setUp() {
    root = await makeWorkgroup({
      '.meow/recipes/Copy.ipynb': recipeNotebook({ infile: "''", outfile: "''" }),
      '.meow/recipes/Block.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Copy.yaml':
        'recipe: Copy\ntrigger:\n  path: "in/*.txt"\ninput: infile\noutputs:\n  outfile: "{VGRID}/out/{FILENAME}"\n',
      '.meow/patterns/Block.yaml': 'recipe: Block\ntrigger:\n  path: "block/*.txt"\ninput: infile\n'
    });
    const blocker = gate();
    s = await startScripted(
      root,
      {
        Block: blocker.script,
        Copy: async (p, io) => io.write(p.outfile, await fs.readFile(p.infile, 'utf8'))
      },
      { settleMs: 100 }
    );
    await writeFile(root, 'block/b.txt', 'b');
    await until(() => jobsOf(s!.runner, 'Block').some(j => j.status === 'running'), 20_000, 'the Block job to run');
    return blocker;
  }

  /** Exactly one Copy job ran, on `last`; the others were superseded before they started. */
  async function expectOneOnLast(last: string): Promise<void> {
    const { runner, conductor } = s!;
    const copies = jobsOf(runner, 'Copy');
    const done = copies.filter(j => j.status === 'done');
    expect(done).toHaveLength(1);
    expect(done[0].trigger.hash).toBe(sha256(last));
    const others = copies.filter(j => j !== done[0]);
    expect(others.filter(j => j.status !== 'skipped' || !/superseded by job/.test(j.error?.message ?? ''))).toEqual([]);
    expect(copies.filter(j => j !== done[0] && j.started !== undefined)).toEqual([]);
    // The conductor ran the Block job and that one Copy job, nothing else.
    expect(conductor.executed.filter(id => runner.store.get(id)!.pattern === 'Copy')).toEqual([done[0].id]);
    expect(await fs.readFile(path.join(root, 'out', 'data.txt'), 'utf8')).toBe(last);
  }

  it('20 versions, each seen as its own job: 19 superseded, one run on the last content', async () => {
    const t0 = Date.now();
    const blocker = await setUp();
    const { runner } = s!;
    let last = '';
    for (let v = 1; v <= 20; v++) {
      last = `version ${v}\n`;
      await writeFile(root, 'in/data.txt', last);
      await until(() => jobsOf(runner, 'Copy').length === v, 10_000, `a job for version ${v}`);
    }
    await until(
      () => jobsOf(runner, 'Copy').filter(j => j.status === 'queued').length === 1,
      10_000,
      'the older jobs to be superseded'
    );
    blocker.open();
    await within(runner.waitUntilIdle(), 60_000, 'the runner to be idle');
    expect(jobsOf(runner, 'Copy')).toHaveLength(20);
    await expectOneOnLast(last);
    console.log(`[coalescing one by one] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('20 rewrites 5 ms apart (every 4th after a pause), then a last one: however many jobs are made, one runs, on the last content', async () => {
    const t0 = Date.now();
    const blocker = await setUp();
    const { runner } = s!;
    let last = '';
    for (let v = 1; v <= 20; v++) {
      last = `fast version ${v}\n`;
      await writeFile(root, 'in/data.txt', last);
      await new Promise(r => setTimeout(r, v % 4 === 0 ? 150 : 5)); // some rewrites settle, some do not
    }
    // A last version well after the others: chokidar reports at most one
    // change per file per 50 ms, so a rewrite inside that window is only
    // seen by the next reconciliation scan (see the report on this test).
    await new Promise(r => setTimeout(r, 150));
    last = 'fast version 21 (last)\n';
    await writeFile(root, 'in/data.txt', last);
    // The job for the last version exists and has superseded the older ones
    // (a job is visible in the store while its record is being committed,
    // before it supersedes anything: opening the gate then would let the
    // worker reach an older job first, which it then skips as changed).
    await until(
      () =>
        jobsOf(runner, 'Copy').some(j => j.trigger.hash === sha256(last)) &&
        jobsOf(runner, 'Copy').filter(j => j.status === 'queued').length === 1,
      10_000,
      'a job for the last version, the only one queued'
    );
    blocker.open();
    await within(runner.waitUntilIdle(), 60_000, 'the runner to be idle');
    const made = jobsOf(runner, 'Copy').length;
    expect(made).toBeGreaterThan(1); // the paused rewrites each made a job
    await expectOneOnLast(last);
    console.log(`[coalescing fast] ${((Date.now() - t0) / 1000).toFixed(1)} s; ${made} jobs made for 21 rewrites`);
  });
});
