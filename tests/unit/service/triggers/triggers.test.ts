/**
 * Timer, absence and manual triggers through the real runner (file watching,
 * scheduler, job store) with a scripted conductor: every firing becomes a
 * job whose recipe reads its triggering file, incoming files go when their
 * jobs end, missed timer firings follow the pattern's policy, a silence
 * fires once, and a person runs patterns through the runner and the CLI.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { triggerPattern } from '../../../../src/service/cliTrigger';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import { ManualTrigger } from '../../../../src/service/triggers/manual';
import { Script, ScriptedConductor } from '../../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';

jest.setTimeout(30000);

/** The recipe copies its triggering file into out/ (so the test can read what it saw). */
const copyTrigger: Script = async (p, io) => {
  const text = await fs.readFile(p.infile, 'utf8');
  await io.write(`out/${path.basename(p.infile)}`, text);
};

const RECIPE = recipeNotebook({ infile: "''" });

describe('non-file triggers', () => {
  let root: string;
  let runner: MeowRunner | undefined;
  let log: RecordingLogger;

  async function start(patterns: Record<string, string>, extra: Record<string, string> = {}) {
    root = await makeWorkgroup({
      '.meow/recipes/Copy.ipynb': RECIPE,
      ...Object.fromEntries(Object.entries(patterns).map(([n, y]) => [`.meow/patterns/${n}.yaml`, y])),
      ...extra
    });
    return restart();
  }

  async function restart() {
    log = new RecordingLogger();
    runner = new MeowRunner({ root, settleMs: 30, conductor: new ScriptedConductor({ Copy: copyTrigger }), log });
    await runner.start();
    return runner;
  }

  const jobs = (pattern?: string) => runner!.store.list().filter(j => !pattern || j.pattern === pattern);
  const done = (pattern?: string) => jobs(pattern).filter(j => j.status === 'done');
  const incomingFiles = async (kind: string, channel: string) =>
    fs.readdir(path.join(root, '.meow/incoming', kind, channel)).catch(() => [] as string[]);
  const readOut = (job: { trigger: { path: string } }) =>
    fs.readFile(path.join(root, 'out', path.basename(job.trigger.path)), 'utf8');

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await removeWorkgroup(root);
  });

  describe('timer', () => {
    it('fires every interval; each job reads a file recording its firing time, deleted after the job', async () => {
      await start({ Tick: 'recipe: Copy\ntrigger:\n  every: 1s\ninput: infile\n' });
      await until(() => done('Tick').length >= 2, 8000, 'two timer jobs');
      const [first, second] = done('Tick').sort((a, b) => a.trigger.time.localeCompare(b.trigger.time));
      expect(first.trigger.kind).toBe('schedule');
      expect(first.trigger.source).toBe('every 1s');
      expect(first.trigger.path).toMatch(/^\.meow\/incoming\/schedule\/Tick\/\d{8}T\d{9}Z\.yaml$/);
      expect(await readOut(first)).toContain(`scheduled: ${first.trigger.time}`);
      expect(Date.parse(second.trigger.time) - Date.parse(first.trigger.time)).toBe(1000);
      await runner!.stop();
      await runner!.triggers.incoming.settled();
      const left = await incomingFiles('schedule', 'Tick');
      // Only a firing whose job had not ended at the stop may remain.
      const unfinished = jobs('Tick')
        .filter(j => j.status !== 'done')
        .map(j => path.basename(j.trigger.path));
      expect(left.filter(n => !unfinished.includes(n))).toEqual([]);
    });

    const downtime = (missed: string) => {
      const hour = 3600_000;
      const now = Date.now();
      const anchor = now - 5 * hour + 60_000; // firings at anchor + k h: 4 fell in the downtime
      const state = { Hourly: { spec: 'every 1h', anchor, last: anchor } };
      return {
        anchor,
        latest: anchor + 4 * hour,
        pattern: { Hourly: `recipe: Copy\ntrigger:\n  every: 1h\n  missed: ${missed}\ninput: infile\n` },
        files: { '.meow/triggers/timers.json': JSON.stringify(state) }
      };
    };

    it('runs once for the latest firing missed while meow was down (missed: once)', async () => {
      const d = downtime('once');
      await start(d.pattern, d.files);
      await until(() => done('Hourly').length === 1, 8000, 'the catch-up job');
      await runner!.waitUntilIdle();
      expect(jobs('Hourly')).toHaveLength(1);
      expect(jobs('Hourly')[0].trigger.time).toBe(new Date(d.latest).toISOString());
      expect(log.text('info')).toMatch(/4 firing\(s\) of pattern Hourly \(every 1h\) were missed/);
      // A restart does not run the caught-up firing again.
      await runner!.stop();
      await restart();
      await runner!.waitUntilIdle();
      expect(jobs('Hourly')).toHaveLength(1);
    });

    it('skips missed firings with missed: skip, saying so', async () => {
      const d = downtime('skip');
      await start(d.pattern, d.files);
      await runner!.waitUntilIdle();
      expect(jobs('Hourly')).toHaveLength(0);
      expect(log.text('info')).toMatch(/were missed while meow was not running; skipped \(missed: skip\)/);
    });
  });

  describe('absence ("nothing happened")', () => {
    it('fires once per silence, and again only after files resumed and went silent again', async () => {
      await start({ Quiet: 'recipe: Copy\ntrigger:\n  absent: {path: "in/*", for: 1s}\ninput: infile\n' });
      await until(() => done('Quiet').length === 1, 8000, 'the first silence');
      await new Promise(r => setTimeout(r, 2000)); // still silent: no second firing
      expect(jobs('Quiet')).toHaveLength(1);
      expect(jobs('Quiet')[0].trigger.kind).toBe('absent');
      expect(await readOut(jobs('Quiet')[0])).toContain('path: "in/*"');
      await writeFile(root, 'in/a.dat', 'data');
      await until(() => done('Quiet').length === 2, 8000, 'the second silence');
      const second = done('Quiet').sort((a, b) => a.created.localeCompare(b.created))[1];
      expect(await readOut(second)).toContain('last_file: "in/a.dat"');
      await new Promise(r => setTimeout(r, 1500));
      expect(jobs('Quiet')).toHaveLength(2);
    });

    it('does not fire again after a restart for a silence that already fired', async () => {
      await start({ Quiet: 'recipe: Copy\ntrigger:\n  absent: {path: "in/*", for: 1s}\ninput: infile\n' });
      await until(() => done('Quiet').length === 1, 8000, 'the silence');
      await runner!.stop();
      await restart();
      await new Promise(r => setTimeout(r, 2000));
      expect(jobs('Quiet')).toHaveLength(1);
    });
  });

  describe('manual (a person runs a pattern)', () => {
    it('runs on nothing, on an upload and on a workgroup file; uploads go when their jobs end', async () => {
      await start({ Hand: 'recipe: Copy\ntrigger:\n  manual: true\ninput: infile\n' }, { 'data/x.csv': 'a,b\n1,2\n' });
      const empty = await runner!.runPattern('Hand', { by: 'alice' });
      expect(empty.jobs).toHaveLength(1);
      expect(empty.jobs[0].trigger).toMatchObject({ kind: 'manual', source: 'alice' });
      const upload = await runner!.runPattern('Hand', {
        upload: { bytes: Buffer.from('uploaded!'), filename: 'u.txt' }
      });
      expect(upload.path).toMatch(/^\.meow\/incoming\/manual\/Hand\/.*\.txt$/);
      const onFile = await runner!.runPattern('Hand', { path: 'data/x.csv' });
      const again = await runner!.runPattern('Hand', { path: 'data/x.csv' });
      expect(again.jobs).toHaveLength(1); // a person asking twice runs twice
      await runner!.waitUntilIdle();
      expect(done('Hand')).toHaveLength(4);
      expect(await readOut(upload.jobs[0])).toBe('uploaded!');
      expect(await readOut(onFile.jobs[0])).toBe('a,b\n1,2\n');
      expect(await readOut(empty.jobs[0])).toContain('requested_by: "alice"');
      await runner!.triggers.incoming.settled();
      expect(await incomingFiles('manual', 'Hand')).toEqual([]);
      expect(await fs.readFile(path.join(root, 'data/x.csv'), 'utf8')).toBe('a,b\n1,2\n'); // workgroup files stay
    });

    it('refuses runs it cannot do, with the reason and the fix', async () => {
      await start({ Files: 'recipe: Copy\ntrigger:\n  path: "in/*"\ninput: infile\n' });
      const refused = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: ManualTrigger.RunError) => e
        );
      const noPath = await refused(runner!.runPattern('Files'));
      expect(noPath).toMatchObject({
        code: 'conflict',
        message: expect.stringContaining('runs on files matching in/*')
      });
      expect(await refused(runner!.runPattern('Nope'))).toMatchObject({ code: 'not-found' });
      expect(await refused(runner!.runPattern('Files', { path: '../etc/passwd' }))).toMatchObject({ code: 'invalid' });
      expect(await refused(runner!.runPattern('Files', { path: 'in/missing' }))).toMatchObject({ code: 'not-found' });
      expect(await refused(runner!.runPattern('Files', { path: '.meow/patterns/Files.yaml' }))).toMatchObject({
        code: 'invalid'
      });
    });

    it('lists files waiting for approval and runs the approved one (human in the loop)', async () => {
      await start({ Approve: 'recipe: Copy\ntrigger:\n  manual: true\n  path: "review/*.png"\ninput: infile\n' });
      await writeFile(root, 'review/a.png', 'A');
      await writeFile(root, 'review/b.png', 'B');
      await writeFile(root, 'review/notes.txt', 'n');
      await runner!.waitUntilIdle();
      expect(jobs('Approve')).toHaveLength(0); // files alone never run it
      expect((await runner!.waitingFiles('Approve')).files.map(f => f.path).sort()).toEqual([
        'review/a.png',
        'review/b.png'
      ]);
      await runner!.runPattern('Approve', { path: 'review/b.png', by: 'bob' });
      await runner!.waitUntilIdle();
      expect(done('Approve').map(j => j.trigger.path)).toEqual(['review/b.png']);
      expect((await runner!.waitingFiles('Approve')).files.map(f => f.path)).toEqual(['review/a.png']);
      await expect(runner!.runPattern('Approve', { path: 'review/notes.txt' })).rejects.toThrow(
        /does not match review\/\*\.png/
      );
    });

    it('meow trigger runs a pattern through a running service, and a request waits for a stopped one', async () => {
      await start({ Hand: 'recipe: Copy\ntrigger:\n  manual: true\ninput: infile\n' }, { 'data/y.txt': 'why' });
      const out: string[] = [];
      const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(`ERR ${t}`) };
      const payload = path.join(root, '..', `payload-${path.basename(root)}.txt`);
      await fs.writeFile(payload, 'from outside');
      try {
        expect(await triggerPattern(root, 'Hand', payload, { stateDir: '.meow', wait: 15 }, io)).toBe(0);
        expect(out.join('')).toMatch(
          /^job \S+ (queued|running|done): Hand → Copy for \.meow\/incoming\/manual\/Hand\/.*\.txt/
        );
        expect(
          await triggerPattern(root, 'Hand', path.join(root, 'data/y.txt'), { stateDir: '.meow', wait: 15 }, io)
        ).toBe(0);
        expect(out.join('')).toContain('for data/y.txt');
        expect(await triggerPattern(root, 'Nope', undefined, { stateDir: '.meow', wait: 1 }, io)).toBe(1);
        expect(out.join('')).toMatch(/ERR error: no pattern Nope in .*; patterns there: Hand/);
        await runner!.waitUntilIdle();
        expect(done('Hand').map(j => j.trigger.path)).toContain('data/y.txt');

        // Stopped: the request waits and runs at the next start.
        await runner!.stop();
        out.length = 0;
        expect(await triggerPattern(root, 'Hand', undefined, { stateDir: '.meow', wait: 15 }, io)).toBe(0);
        expect(out.join('')).toMatch(/meow is not running .* so it runs when meow starts/);
        const before = jobs('Hand').length;
        await restart();
        await until(() => jobs('Hand').length === before + 1, 5000, 'the waiting request to run');
      } finally {
        await fs.rm(payload, { force: true });
      }
    });

    it('an upload received before a crash, with no job yet, runs at the next start', async () => {
      await start({ Hand: 'recipe: Copy\ntrigger:\n  manual: true\ninput: infile\n' });
      await runner!.stop();
      await writeFile(root, '.meow/incoming/manual/Hand/20260101T000000000Z-000001-abcdef.txt', 'kept');
      await writeFile(root, '.meow/incoming/manual/Hand/20260101T000000001Z-000002-abcdef.txt.part', 'half');
      await restart();
      await until(() => done('Hand').length === 1, 5000, 'the kept upload to run');
      expect(await readOut(done('Hand')[0])).toBe('kept');
      expect(log.text('warn')).toMatch(/incomplete payload .* was discarded/);
    });
  });
});
