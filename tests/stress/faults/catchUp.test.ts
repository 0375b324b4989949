/**
 * Fault test (issue 6): catching up after a restart. While meow is stopped,
 * 30 files are created, 5 processed ones are modified and 2 are deleted:
 * the next start makes exactly 35 jobs (the 30 new files and the 5 modified
 * ones), each done once on the current content, and nothing processed
 * before runs again.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';
import { exactlyOneDoneEach, IStarted, jobsOf, sha256, startScripted, within, writeFile } from './helpers';

describe('restart catch-up', () => {
  let root: string;
  let s: IStarted | undefined;

  afterEach(async () => {
    await s?.runner.stop();
    s = undefined;
    await removeWorkgroup(root);
  });

  const copy = async (p: Record<string, any>, io: { write(f: string, t: string): Promise<void> }) =>
    io.write(p.outfile, await fs.readFile(p.infile, 'utf8'));

  it('runs exactly the 30 new and 5 modified files after a restart, nothing processed before', async () => {
    const t0 = Date.now();
    root = await makeWorkgroup({
      '.meow/recipes/Copy.ipynb': recipeNotebook({ infile: "''", outfile: "''" }),
      '.meow/patterns/Copy.yaml':
        'recipe: Copy\ntrigger:\n  path: "in/*.txt"\ninput: infile\noutputs:\n  outfile: "{VGRID}/out/{FILENAME}"\n'
    });
    s = await startScripted(root, { Copy: copy }, { workers: 2 });
    const first = Array.from({ length: 10 }, (_, i) => `in/p${i}.txt`);
    await Promise.all(first.map(f => writeFile(root, f, `first ${f}\n`)));
    await within(s.runner.waitUntilIdle(), 60_000, 'the first run');
    expect(exactlyOneDoneEach(jobsOf(s.runner, 'Copy'), first)).toEqual([]);
    const before = new Map<string, IJob>(s.runner.store.list().map(j => [j.id, j]));
    await s.runner.stop();
    s = undefined;

    // While meow is down.
    const created = Array.from({ length: 30 }, (_, i) => `in/n${String(i).padStart(2, '0')}.txt`);
    await Promise.all(created.map(f => writeFile(root, f, `new ${f}\n`)));
    const modified = first.slice(0, 5);
    await Promise.all(modified.map(f => writeFile(root, f, `modified while meow was down: ${f}\n`)));
    const deleted = first.slice(5, 7);
    await Promise.all(deleted.map(f => fs.rm(path.join(root, f))));

    s = await startScripted(root, { Copy: copy }, { workers: 2 });
    await within(s.runner.waitUntilIdle(), 60_000, 'the catch-up');
    const took = (Date.now() - t0) / 1000;

    const fresh = s.runner.store.list().filter(j => !before.has(j.id));
    expect(exactlyOneDoneEach(fresh, [...created, ...modified])).toEqual([]);
    expect(fresh).toHaveLength(35);
    // Only the new jobs ran; the old ones are unchanged.
    expect([...s.conductor.executed].sort()).toEqual(fresh.map(j => j.id).sort());
    for (const [id, job] of before) {
      expect(s.runner.store.get(id)).toEqual(job);
    }
    // Each ran on the current content, and wrote it.
    for (const job of fresh) {
      const text = await fs.readFile(path.join(root, job.trigger.path), 'utf8');
      expect(job.trigger.hash).toBe(sha256(text));
      expect(await fs.readFile(path.join(root, 'out', path.basename(job.trigger.path)), 'utf8')).toBe(text);
    }
    expect(s.runner.store.list().filter(j => j.status === 'failed')).toEqual([]);
    console.log(`[catch-up] ${took.toFixed(1)} s`);
  });
});
