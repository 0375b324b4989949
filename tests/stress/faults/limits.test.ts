/**
 * Fault test (issue 6): each runaway limit through the real runner (real
 * file watching, scripted conductor). A tripped limit pauses the rule — a
 * pause file `<state>/paused/<pattern>.yaml` and a log line naming the
 * limit — makes no further job and drops nothing: resuming rescans the
 * rule's files and each gets exactly one job.
 *
 * Resuming starts the rule's counts afresh (RuleLimits._resumed), so with
 * more files waiting than the limit allows, the rule trips again after the
 * next batch; the tests assert exactly that and resume again.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';
import { exactlyOneDoneEach, IStarted, jobsOf, pause, startScripted, until, within, writeFile } from './helpers';

const noop = () => undefined;

describe('runaway limits pause the rule and lose nothing', () => {
  let root: string;
  let s: IStarted | undefined;

  afterEach(async () => {
    await s?.runner.stop();
    s = undefined;
    await removeWorkgroup(root);
  });

  const pausedFile = (pattern: string) => path.join(root, '.meow', 'paused', `${pattern}.yaml`);
  const exists = (file: string) =>
    fs.stat(file).then(
      () => true,
      () => false
    );
  const idle = () => within(s!.runner.waitUntilIdle(), 60_000, 'the runner to be idle');

  /** Wait for the pause of `pattern` by `limit`: in memory, on disk and in the log. */
  async function expectPaused(pattern: string, limit: string, after = 0): Promise<void> {
    await until(() => s!.runner.limits.isPaused(pattern), 20_000, `${pattern} to be paused`);
    await until(() => exists(pausedFile(pattern)), 10_000, `${pausedFile(pattern)} to be written`);
    const file = YAML.parse(await fs.readFile(pausedFile(pattern), 'utf8'));
    expect(file).toMatchObject({ pattern, limit });
    expect(s!.runner.pausedRules().map(r => [r.pattern, r.limit])).toEqual([[pattern, limit]]);
    const lines = s!.log.lines
      .slice(after)
      .filter(l => l.level === 'warn' && l.message.includes(`pattern "${pattern}" paused: ${limit} exceeded`));
    expect(lines).toHaveLength(1);
  }

  it('max_rate: 5 — 12 files make 5 jobs and pause; each resume admits 5 more; every file gets exactly one job', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/R.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Rate.yaml': 'recipe: R\ntrigger:\n  path: "rate/*.txt"\ninput: infile\nmax_rate: 5\n'
    });
    s = await startScripted(root, { R: noop });
    const files = Array.from({ length: 12 }, (_, i) => `rate/f${String(i).padStart(2, '0')}.txt`);
    await Promise.all(files.map(f => writeFile(root, f, f)));
    await idle();
    await expectPaused('Rate', 'max_rate');
    expect(jobsOf(s.runner, 'Rate')).toHaveLength(5);
    expect(jobsOf(s.runner, 'Rate').every(j => j.status === 'done')).toBe(true);
    // Nothing else runs while paused, not even a new file's job.
    await writeFile(root, 'rate/late.txt', 'late');
    await pause(1000);
    await idle();
    expect(jobsOf(s.runner, 'Rate')).toHaveLength(5);

    // Resume: the counts start afresh, 5 more jobs, then the limit trips again.
    let mark = s.log.lines.length;
    expect(await s.runner.limits.resume('Rate')).toBe(true);
    expect(await exists(pausedFile('Rate'))).toBe(false);
    await idle();
    await expectPaused('Rate', 'max_rate', mark);
    expect(jobsOf(s.runner, 'Rate')).toHaveLength(10);

    mark = s.log.lines.length;
    await s.runner.limits.resume('Rate');
    await idle();
    expect(s.runner.limits.isPaused('Rate')).toBe(false);
    expect(await exists(pausedFile('Rate'))).toBe(false);
    expect(exactlyOneDoneEach(jobsOf(s.runner, 'Rate'), [...files, 'rate/late.txt'])).toEqual([]);
    expect(s.log.lines.slice(mark).filter(l => /paused: max_rate/.test(l.message))).toEqual([]);
    console.log(`[limits max_rate] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('max_jobs: 3 — 8 files make 3 jobs and pause; deleting the pause file resumes; every file gets exactly one job', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/J.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Jobs.yaml': 'recipe: J\ntrigger:\n  path: "jobs/*.txt"\ninput: infile\nmax_jobs: 3\n'
    });
    s = await startScripted(root, { J: noop });
    const files = Array.from({ length: 8 }, (_, i) => `jobs/f${i}.txt`);
    await Promise.all(files.map(f => writeFile(root, f, f)));
    await idle();
    await expectPaused('Jobs', 'max_jobs');
    expect(jobsOf(s.runner, 'Jobs')).toHaveLength(3);
    await pause(1000);
    expect(jobsOf(s.runner, 'Jobs')).toHaveLength(3);

    // Resumed by deleting the file (what `meow resume` does), twice: 3 + 3 + 2.
    let mark = s.log.lines.length;
    await fs.rm(pausedFile('Jobs'));
    await until(() => jobsOf(s!.runner, 'Jobs').length === 6, 20_000, '3 more jobs after the first resume');
    await idle();
    await expectPaused('Jobs', 'max_jobs', mark);
    expect(jobsOf(s.runner, 'Jobs')).toHaveLength(6);

    mark = s.log.lines.length;
    await fs.rm(pausedFile('Jobs'));
    await until(() => jobsOf(s!.runner, 'Jobs').length === 8, 20_000, 'the last 2 jobs');
    await idle();
    expect(s.runner.limits.isPaused('Jobs')).toBe(false);
    expect(exactlyOneDoneEach(jobsOf(s.runner, 'Jobs'), files)).toEqual([]);
    expect(s.log.lines.slice(mark).filter(l => /paused: max_jobs/.test(l.message))).toEqual([]);
    console.log(`[limits max_jobs] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  /** A recipe that writes loop/n{i+1}.txt from loop/n{i}.txt, up to n{last}. */
  const loop = (last: number) => async (p: Record<string, any>, io: { write(f: string, t: string): Promise<void> }) => {
    const i = Number(/n(\d+)\.txt$/.exec(p.infile)![1]);
    if (i < last) {
      await io.write(`loop/n${i + 1}.txt`, `round ${i + 1}\n`);
    }
  };

  it('max_depth: 4 — a self-triggering loop stops after 4 jobs and pauses; resuming re-trips (the chain is still too deep)', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/L.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Loop.yaml': 'recipe: L\ntrigger:\n  path: "loop/*.txt"\ninput: infile\nmax_depth: 4\n'
    });
    s = await startScripted(root, { L: loop(1000) });
    await writeFile(root, 'loop/n1.txt', 'round 1\n');
    await until(() => s!.runner.limits.isPaused('Loop'), 30_000, 'the loop to be paused');
    await idle();
    await expectPaused('Loop', 'max_depth');
    const jobs = jobsOf(s.runner, 'Loop');
    expect(jobs.map(j => [j.trigger.path, j.depth, j.status])).toEqual([
      ['loop/n1.txt', 1, 'done'],
      ['loop/n2.txt', 2, 'done'],
      ['loop/n3.txt', 3, 'done'],
      ['loop/n4.txt', 4, 'done']
    ]);
    // The output of the 4th job exists and got no job: the chain stopped there.
    expect(await exists(path.join(root, 'loop/n5.txt'))).toBe(true);
    expect(await exists(path.join(root, 'loop/n6.txt'))).toBe(false);
    expect(s.runner.pausedRules()[0].path).toBe('loop/n5.txt');
    // Each job's parent is the previous one.
    expect(jobs.slice(1).map(j => j.parent)).toEqual(jobs.slice(0, 3).map(j => j.id));

    // Resuming rescans: loop/n5.txt still ends a chain of 5, so it trips again.
    const mark = s.log.lines.length;
    await s.runner.limits.resume('Loop');
    await idle();
    await expectPaused('Loop', 'max_depth', mark);
    expect(jobsOf(s.runner, 'Loop')).toHaveLength(4);
    console.log(`[limits max_depth] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('the default max_depth (100) lets a 20-round loop finish without pausing', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/L.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Loop.yaml': 'recipe: L\ntrigger:\n  path: "loop/*.txt"\ninput: infile\n'
    });
    s = await startScripted(root, { L: loop(20) });
    await writeFile(root, 'loop/n1.txt', 'round 1\n');
    await until(() => jobsOf(s!.runner, 'Loop').length === 20, 60_000, '20 rounds');
    await idle();
    const jobs = jobsOf(s.runner, 'Loop');
    expect(
      exactlyOneDoneEach(
        jobs,
        Array.from({ length: 20 }, (_, i) => `loop/n${i + 1}.txt`)
      )
    ).toEqual([]);
    expect(jobs.map(j => j.depth)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(s.runner.pausedRules()).toEqual([]);
    expect(await exists(pausedFile('Loop'))).toBe(false);
    expect(s.log.text('warn')).not.toMatch(/paused/);
    console.log(`[limits default depth] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
