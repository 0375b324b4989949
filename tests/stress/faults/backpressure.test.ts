/**
 * Fault test (issue 6): the global queue limit. With `maxQueued: 10` and
 * the only worker held by a gated job, 50 trigger files must never put more
 * than 10 jobs in the queue; the rest wait (one warning), nothing is
 * dropped, and once the gate opens every file gets exactly one done job.
 */
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';
import { exactlyOneDoneEach, gate, IStarted, jobsOf, pause, startScripted, until, within, writeFile } from './helpers';

describe('the global queue limit (backpressure)', () => {
  let root: string;
  let s: IStarted | undefined;

  afterEach(async () => {
    await s?.runner.stop();
    s = undefined;
    await removeWorkgroup(root);
  });

  it('maxQueued: 10 — 50 files never queue more than 10 jobs; one warning; all 50 get exactly one done job', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/Q.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/recipes/Block.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Q.yaml': 'recipe: Q\ntrigger:\n  path: "q/*.txt"\ninput: infile\n',
      '.meow/patterns/Block.yaml': 'recipe: Block\ntrigger:\n  path: "block/*.txt"\ninput: infile\n'
    });
    const blocker = gate();
    s = await startScripted(root, { Block: blocker.script, Q: () => undefined }, { maxQueued: 10 });
    const { runner, log } = s;
    await writeFile(root, 'block/b.txt', 'b');
    await until(() => jobsOf(runner, 'Block').some(j => j.status === 'running'), 20_000, 'the Block job to run');

    // Sample the queue all along.
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, runner.summary().queued);
    }, 5);
    try {
      const files = Array.from({ length: 50 }, (_, i) => `q/f${String(i).padStart(2, '0')}.txt`);
      await Promise.all(files.map(f => writeFile(root, f, f)));
      // The queue fills to its limit and stays there while the worker is held.
      await until(() => runner.summary().queued >= 10, 20_000, 'the queue to fill');
      await pause(5000); // two retry rounds of the waiting events
      const whileHeld = { queued: runner.summary().queued, jobs: jobsOf(runner, 'Q').length };

      blocker.open();
      await within(runner.waitUntilIdle(), 120_000, 'all 50 files to be processed');
      most = Math.max(most, runner.summary().queued);
      clearInterval(sampler);
      const took = (Date.now() - t0) / 1000;

      const warnings = log.lines.filter(
        l => l.level === 'warn' && /the queue holds \d+ jobs \(limit 10\)/.test(l.message)
      );
      console.log(
        `[backpressure] ${took.toFixed(1)} s; most queued ${most}; while held ${JSON.stringify(whileHeld)}; ` +
          `queue warnings ${warnings.length}`
      );
      expect(exactlyOneDoneEach(jobsOf(runner, 'Q'), files)).toEqual([]);
      expect(runner.store.list().filter(j => j.status === 'failed')).toEqual([]);
      expect(whileHeld.queued).toBeLessThanOrEqual(10);
      expect(whileHeld.jobs).toBeLessThanOrEqual(10); // the rest wait as events, not as jobs
      expect(most).toBeLessThanOrEqual(10);
      expect(warnings.map(l => l.message.slice(0, 200))).toHaveLength(1);
    } finally {
      clearInterval(sampler);
    }
  }, 180_000);
});
