/**
 * The runner with real file watching and a scripted conductor (no Jupyter):
 * the system requirements M4–M6, M10, M11, chaining with provenance, the
 * trigger-changed race, restarts and runtime edits of definitions.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { ScriptedConductor, Script, sleep } from '../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../helpers/workgroup';

const copyLine: Script = async (p, io) => {
  const text = await fs.readFile(p.infile, 'utf8');
  await io.write(p.outfile, text + p.extra + '\n');
};

const patternYaml = (recipe: string, glob: string, out: string, extra = 'x') =>
  `recipe: ${recipe}\ntrigger:\n  path: "${glob}"\ninput: infile\nparameters:\n  extra: "${extra}"\noutputs:\n  outfile: "${out}"\n`;

const appendRecipe = recipeNotebook({ infile: "''", extra: "''", outfile: "''" });

describe('MeowRunner', () => {
  let root: string;
  let runner: MeowRunner | undefined;
  let log: RecordingLogger;

  async function startRunner(scripts: Record<string, Script>, workers = 1) {
    log = new RecordingLogger();
    const conductor = new ScriptedConductor(scripts);
    runner = new MeowRunner({ root, workers, settleMs: 30, conductor, log });
    await runner.start();
    return { runner, conductor };
  }

  const jobs = () => runner!.store.list();
  const byPattern = (name: string) => jobs().filter(j => j.pattern === name);

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await removeWorkgroup(root);
  });

  describe('M4/M5/M6 one workgroup is monitored, all subdirectories included, every event seen', () => {
    it('sees files created in nested subdirectories and every one of a burst', async () => {
      root = await makeWorkgroup({
        '.meow/recipes/Count.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/patterns/All.yaml': 'recipe: Count\ntrigger:\n  path: "data/**"\ninput: infile\n'
      });
      await startRunner({ Count: () => undefined }, 2);
      const files: string[] = [];
      for (let i = 0; i < 100; i++) {
        files.push(`data/d${i % 5}/sub/f${i}.bin`);
      }
      await Promise.all(files.map(f => writeFile(root, f, f)));
      await runner!.waitUntilIdle();
      expect(
        byPattern('All')
          .map(j => j.trigger.path)
          .sort()
      ).toEqual([...files].sort());
      expect(byPattern('All').every(j => j.status === 'done')).toBe(true);
    });
  });

  describe('M4/M5/M6 under a burst of new folders', () => {
    it('sees a file written into each of 500 folders created at once (chokidar alone misses one now and then)', async () => {
      root = await makeWorkgroup({
        '.meow/recipes/Count.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/patterns/Any.yaml': 'recipe: Count\ntrigger:\n  path: "d*/f.txt"\ninput: infile\n'
      });
      await startRunner({ Count: () => undefined }, 2);
      const files = Array.from({ length: 500 }, (_, i) => `d${i}/f.txt`);
      await Promise.all(files.map(f => writeFile(root, f, f)));
      await runner!.waitUntilIdle();
      expect(
        jobs()
          .map(j => j.trigger.path)
          .sort()
      ).toEqual([...files].sort());
    });
  });

  describe('M10 when a rule is created, existing matching files are treated as just created', () => {
    it('schedules jobs for existing files when a recipe is added after its pattern', async () => {
      root = await makeWorkgroup({
        'start/a.txt': 'A\n',
        'start/b.txt': 'B\n',
        'start/nested/c.txt': 'not matched by start/*\n',
        '.meow/patterns/One.yaml': patternYaml('Append', 'start/*', '{VGRID}/first/{FILENAME}')
      });
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      expect(jobs()).toHaveLength(0); // pattern without recipe: no rule (P5)
      await writeFile(root, '.meow/recipes/Append.ipynb', appendRecipe);
      await runner!.waitUntilIdle();
      expect(
        byPattern('One')
          .map(j => j.trigger.path)
          .sort()
      ).toEqual(['start/a.txt', 'start/b.txt']);
      expect(byPattern('One').every(j => j.trigger.retroactive)).toBe(true);
      expect(await fs.readFile(path.join(root, 'first/a.txt'), 'utf8')).toBe('A\nx\n');
    });

    it('does not run a file again when meow restarts with the same rules', async () => {
      root = await makeWorkgroup({
        'start/a.txt': 'A\n',
        '.meow/recipes/Append.ipynb': appendRecipe,
        '.meow/patterns/One.yaml': patternYaml('Append', 'start/*', '{VGRID}/first/{FILENAME}')
      });
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      expect(jobs()).toHaveLength(1);
      await runner!.stop();
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      expect(jobs()).toHaveLength(1);
    });

    it('keeps a job a person cancelled cancelled across a restart; only a rerun runs it again; sequence numbers continue', async () => {
      root = await makeWorkgroup({
        'in/a': 'a',
        'in/b': 'b',
        '.meow/recipes/Slow.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/patterns/Slow.yaml': 'recipe: Slow\ntrigger:\n  path: "in/*"\ninput: infile\n'
      });
      const gate = { open: () => undefined as void };
      const opened = new Promise<void>(r => (gate.open = r));
      await startRunner({ Slow: (_p, io) => Promise.race([opened, sleep(30000, io.signal)]) });
      await until(() => jobs().length === 2 && jobs().some(j => j.status === 'running'), 10000, 'two jobs');
      const queued = jobs().find(j => j.status === 'queued')!;
      await runner!.cancel(queued.id);
      gate.open();
      await runner!.waitUntilIdle();
      expect(
        jobs()
          .map(j => j.status)
          .sort()
      ).toEqual(['cancelled', 'done']);
      const seq = Math.max(...jobs().map(j => Number(j.id.split('-')[3])));
      await runner!.stop();
      await startRunner({ Slow: () => undefined });
      await runner!.waitUntilIdle();
      // Not re-run by the restart's retroactive matching or scan.
      expect(jobs()).toHaveLength(2);
      expect(runner!.store.get(queued.id)!.status).toBe('cancelled');
      // An explicit rerun is the only way to run it again.
      const rerun = await runner!.rerun(queued.id);
      await runner!.waitUntilIdle();
      expect(runner!.store.get(rerun.id)!.status).toBe('done');
      // Sequence numbers continue across restarts (short ids never repeat).
      expect(Number(rerun.id.split('-')[3])).toBe(seq + 1);
    });
  });

  describe('M11 when a rule is deleted, its unfinished jobs are cancelled', () => {
    it('cancels the running and the queued jobs of a deleted pattern', async () => {
      root = await makeWorkgroup({
        'in/1': '1',
        'in/2': '2',
        'in/3': '3',
        '.meow/recipes/Slow.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/patterns/Slow.yaml': 'recipe: Slow\ntrigger:\n  path: "in/*"\ninput: infile\n'
      });
      await startRunner({ Slow: (_p, io) => sleep(30000, io.signal) });
      await until(() => jobs().some(j => j.status === 'running'), 10000, 'a running job');
      await fs.rm(path.join(root, '.meow/patterns/Slow.yaml'));
      await until(() => jobs().length === 3 && jobs().every(j => j.status === 'cancelled'), 10000, 'all cancelled');
      expect(jobs().every(j => /rule .* was removed/.test(j.error!.message))).toBe(true);
    });
  });

  describe('chains and provenance', () => {
    it('runs the foundational chain and links each child to the job that wrote its trigger', async () => {
      root = await makeWorkgroup({
        'start/Alpha.txt': 'Alpha\n',
        '.meow/recipes/Append.ipynb': appendRecipe,
        '.meow/patterns/One.yaml': patternYaml('Append', 'start/*', '{VGRID}/first/{FILENAME}', 'one'),
        '.meow/patterns/Two.yaml': patternYaml('Append', 'first/*', '{VGRID}/second/{FILENAME}', 'two')
      });
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      const [one] = byPattern('One');
      const [two] = byPattern('Two');
      expect(one.status).toBe('done');
      expect(one.filesWritten).toEqual(['first/Alpha.txt']);
      expect(two.parent).toBe(one.id);
      expect(two.trigger.path).toBe('first/Alpha.txt');
      expect(await fs.readFile(path.join(root, 'second/Alpha.txt'), 'utf8')).toBe('Alpha\none\ntwo\n');
    });
  });

  describe('the trigger file changes before the job runs (thesis §26.2.1)', () => {
    it('coalescing: the newer event supersedes the queued stale job, which never runs', async () => {
      root = await makeWorkgroup({
        '.meow/recipes/Slow.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/recipes/Copy.ipynb': appendRecipe,
        '.meow/patterns/Block.yaml': 'recipe: Slow\ntrigger:\n  path: "block/*"\ninput: infile\n',
        '.meow/patterns/Copy.yaml': patternYaml('Copy', 'in/*', '{VGRID}/out/{FILENAME}')
      });
      let release!: () => void;
      const gate = new Promise<void>(r => (release = r));
      await startRunner({ Slow: () => gate, Copy: copyLine });
      await writeFile(root, 'block/x', 'x');
      await until(() => jobs().some(j => j.status === 'running'), 10000, 'blocking job');
      await writeFile(root, 'in/data.txt', 'old\n');
      await until(() => byPattern('Copy').length === 1, 10000, 'first copy job');
      await writeFile(root, 'in/data.txt', 'new\n');
      await until(() => byPattern('Copy').length === 2, 10000, 'second copy job');
      // The only worker is still held, so only superseding can end the stale job.
      // (Released before, a loaded machine let the worker's own check skip it first.)
      await until(() => byPattern('Copy')[0].status === 'skipped', 10000, 'stale job superseded');
      release();
      await runner!.waitUntilIdle();
      const [first, second] = byPattern('Copy');
      expect(first.status).toBe('skipped');
      expect(first.error!.message).toMatch(
        new RegExp(`superseded by job ${second.id} for a newer version of in/data.txt`)
      );
      expect(first.started).toBeUndefined();
      expect(second.status).toBe('done');
      expect(await fs.readFile(path.join(root, 'out/data.txt'), 'utf8')).toBe('new\nx\n');
    });
  });

  describe('runtime edits of definitions', () => {
    it('R5 editing a recipe re-runs its step on existing files', async () => {
      root = await makeWorkgroup({
        'start/a.txt': 'A\n',
        '.meow/recipes/Append.ipynb': appendRecipe,
        '.meow/patterns/One.yaml': patternYaml('Append', 'start/*', '{VGRID}/first/{FILENAME}')
      });
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      expect(jobs()).toHaveLength(1);
      await writeFile(
        root,
        '.meow/recipes/Append.ipynb',
        recipeNotebook({ infile: "''", extra: "''", outfile: "''" }, '# edited\n')
      );
      await runner!.waitUntilIdle();
      expect(jobs()).toHaveLength(2);
      expect(jobs()[1].trigger.path).toBe('start/a.txt');
      expect(jobs()[1].rule).not.toBe(jobs()[0].rule);
    });

    it('a job that writes a pattern file makes that pattern live (self-modifying)', async () => {
      root = await makeWorkgroup({
        'data/one.txt': 'one',
        'confs/upper.conf': 'go',
        '.meow/recipes/Make.ipynb': recipeNotebook({ infile: "''" }),
        '.meow/recipes/Upper.ipynb': recipeNotebook({ infile: "''", outfile: "''" }),
        '.meow/patterns/Confs.yaml': 'recipe: Make\ntrigger:\n  path: "confs/*.conf"\ninput: infile\n'
      });
      await startRunner({
        Make: (_p, io) =>
          io.write(
            '.meow/patterns/Data.yaml',
            'recipe: Upper\ntrigger:\n  path: "data/*.txt"\ninput: infile\noutputs:\n  outfile: "{VGRID}/processed/{FILENAME}"\n'
          ),
        Upper: async (p, io) => io.write(p.outfile, (await fs.readFile(p.infile, 'utf8')).toUpperCase())
      });
      await runner!.waitUntilIdle();
      expect(byPattern('Data').map(j => j.status)).toEqual(['done']);
      expect(await fs.readFile(path.join(root, 'processed/one.txt'), 'utf8')).toBe('ONE');
    });

    it('reports an invalid pattern file by file and field and keeps running', async () => {
      root = await makeWorkgroup({
        'start/a.txt': 'A\n',
        '.meow/recipes/Append.ipynb': appendRecipe,
        '.meow/patterns/Bad.yaml': 'recipe: Append\ntrigger:\n  path: 42\n',
        '.meow/patterns/One.yaml': patternYaml('Append', 'start/*', '{VGRID}/first/{FILENAME}')
      });
      await startRunner({ Append: copyLine });
      await runner!.waitUntilIdle();
      const problem = runner!.stateMonitor.problems.get('.meow/patterns/Bad.yaml');
      expect(problem).toMatch(/trigger\.path/);
      expect(log.text('error')).toMatch(/\.meow\/patterns\/Bad\.yaml/);
      expect(byPattern('One').map(j => j.status)).toEqual(['done']);
      // Fixing the file makes the pattern live without a restart.
      await writeFile(root, '.meow/patterns/Bad.yaml', patternYaml('Append', 'start/*', '{VGRID}/fixed/{FILENAME}'));
      await runner!.waitUntilIdle();
      expect(runner!.stateMonitor.problems.has('.meow/patterns/Bad.yaml')).toBe(false);
      expect(byPattern('Bad').map(j => j.status)).toEqual(['done']);
    });
  });

  describe('sweeps', () => {
    it('creates one job per sweep value with the value as a parameter', async () => {
      root = await makeWorkgroup({
        'in/a.txt': 'A',
        '.meow/recipes/Add.ipynb': recipeNotebook({ infile: "''", extra: '0' }),
        '.meow/patterns/Range.yaml':
          'recipe: Add\ntrigger:\n  path: "in/*"\ninput: infile\nsweep:\n  extra: {start: 1, stop: 3, step: 1}\n'
      });
      await startRunner({ Add: () => undefined });
      await runner!.waitUntilIdle();
      expect(
        jobs()
          .map(j => j.parameters.extra)
          .sort()
      ).toEqual([1, 2, 3]);
    });
  });
});
