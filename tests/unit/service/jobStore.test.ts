import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import type { IJob } from '../../../src/core/types';
import { JOURNAL_FILE, JobStore } from '../../../src/service/jobs/jobStore';
import { Journal } from '../../../src/service/jobs/journal';
import { RecordingLogger } from '../../../src/service/log';
import { JobQueue } from '../../../src/service/jobs/queue';

const nb = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };

function job(id: string): IJob {
  return {
    id,
    pattern: 'P',
    recipe: 'R',
    rule: 'P/R#1',
    ruleKey: 'k',
    status: 'queued',
    trigger: { kind: 'created', path: 'in/a', hash: 'h', time: new Date().toISOString() },
    parameters: { x: 1 },
    filesWritten: [],
    created: new Date().toISOString()
  };
}

describe('JobStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-store-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('writes a folder per job with job.yaml, the recipe snapshot and the parameterised notebook', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job('j1'), notebooks: { recipe: nb, notebook: nb } }]);
    // The journal holds the job at once; its folder follows in the background.
    expect(store.get('j1')).toBeDefined();
    await store.folderWritten('j1');
    const files = (await fs.readdir(path.join(dir, 'j1'))).sort();
    expect(files).toEqual(['job.ipynb', 'job.yaml', 'recipe.ipynb']);
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    expect(record).toMatchObject({ id: 'j1', status: 'queued', trigger: { path: 'in/a', hash: 'h' } });
  });

  it('makes a notebook given as a function when the folder is written, and a failure there keeps the job', async () => {
    const log = new RecordingLogger();
    const store = new JobStore({ jobsDir: dir, log });
    await store.load();
    const made: string[] = [];
    const notebook = { ...nb, metadata: { made: true } };
    await store.create([
      {
        job: job('j1'),
        notebooks: () => {
          made.push('j1');
          return { recipe: nb, notebook };
        }
      },
      {
        job: job('j2'),
        notebooks: () => {
          throw new Error('cannot parameterise "x y"');
        }
      }
    ]);
    expect(store.get('j1')).toBeDefined();
    await store.folderWritten('j1');
    expect(made).toEqual(['j1']);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'j1', 'job.ipynb'), 'utf8')).metadata).toEqual({ made: true });
    // Recorded in the journal all the same; the folder is made again before it runs.
    await store.folderWritten('j2');
    expect(store.get('j2')?.status).toBe('queued');
    expect(log.text('warn')).toMatch(/job j2: could not write its folder \(cannot parameterise "x y"\)/);
    await store.close();
  });

  it('writes job.yaml a moment after a change, one write for quick changes, and at once on flush', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job('j1'), notebooks: { recipe: nb, notebook: nb } }]);
    await store.folderWritten('j1');
    const file = path.join(dir, 'j1', 'job.yaml');
    await store.update('j1', { status: 'running' });
    await store.update('j1', { status: 'done' });
    // The update resolved without waiting for the mirror: still the old text.
    expect(YAML.parse(await fs.readFile(file, 'utf8')).status).toBe('queued');
    expect(store.pendingFolders).toBeGreaterThan(0);
    await store.flush();
    expect(YAML.parse(await fs.readFile(file, 'utf8')).status).toBe('done');
    expect(store.pendingFolders).toBe(0);
    await store.update('j1', { filesWritten: ['out/a'] });
    await new Promise(r => setTimeout(r, 400)); // without flush: written after the delay
    expect(YAML.parse(await fs.readFile(file, 'utf8')).filesWritten).toEqual(['out/a']);
    await store.close();
  });

  it('lists unfinished jobs oldest first, following status changes and a reload', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create(['j3', 'j1', 'j2'].map(id => ({ job: job(id), notebooks: { recipe: nb, notebook: nb } })));
    expect(store.unfinished().map(j => j.id)).toEqual(['j1', 'j2', 'j3']);
    await store.update('j2', { status: 'running' });
    await store.update('j2', { status: 'done' });
    await store.update('j1', { status: 'running' });
    expect(store.unfinished().map(j => [j.id, j.status])).toEqual([
      ['j1', 'running'],
      ['j3', 'queued']
    ]);
    await store.close();
    const again = new JobStore({ jobsDir: dir });
    await again.load();
    expect(again.unfinished().map(j => j.id)).toEqual(['j1', 'j3']);
    await again.close();
  });

  it('never changes a final status', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job('j1'), notebooks: { recipe: nb, notebook: nb } }]);
    await store.update('j1', { status: 'running' });
    await store.update('j1', { status: 'done' });
    await expect(store.update('j1', { status: 'failed' })).rejects.toThrow(/cannot change from done to failed/);
    await expect(store.update('j1', { error: { message: 'x' } })).rejects.toThrow(/is done/);
    await store.flush(); // job.yaml follows the journal a moment later
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    expect(record.status).toBe('done');
  });

  it('imports job.yaml records of a workgroup from before the journal, and reports an unreadable one without touching it', async () => {
    await fs.mkdir(path.join(dir, 'j1'));
    await fs.writeFile(path.join(dir, 'j1', 'job.yaml'), JobStore.serialise(job('j1')));
    await fs.mkdir(path.join(dir, 'broken'));
    await fs.writeFile(path.join(dir, 'broken', 'job.yaml'), ': : not yaml [');
    const warnings: string[] = [];
    const again = new JobStore({
      jobsDir: dir,
      log: { debug: () => 0, info: () => 0, warn: m => warnings.push(m), error: () => 0 }
    });
    const jobs = await again.load();
    expect(jobs.map(j => j.id)).toEqual(['j1']);
    expect(warnings.join('\n')).toMatch(/broken[/\\]job\.yaml/);
    expect(await fs.readFile(path.join(dir, 'broken', 'job.yaml'), 'utf8')).toBe(': : not yaml [');
  });

  it('keeps the latest record when updates race', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job('j1'), notebooks: { recipe: nb, notebook: nb } }]);
    await store.update('j1', { status: 'running' });
    await Promise.all([1, 2, 3, 4, 5].map(done => store.update('j1', { progress: { done, total: 5 } })));
    await store.flush();
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    await store.close();
    expect(record.progress).toEqual({ done: 5, total: 5 });
  });

  it('replays the journal: the latest record of each job, sequence numbers continue', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    const id = '20261129-120000-000-000041-abcd';
    await store.create([{ job: { ...job(id), key: 'K' }, notebooks: { recipe: nb, notebook: nb } }]);
    await store.update(id, { status: 'running' });
    await store.update(id, { status: 'cancelled', cancelledBy: 'user' });
    await store.close();
    const again = new JobStore({ jobsDir: dir });
    const jobs = await again.load();
    expect(jobs.map(j => [j.id, j.status, j.cancelledBy])).toEqual([[id, 'cancelled', 'user']]);
    expect(again.byKey('K').map(j => j.id)).toEqual([id]);
    expect(again.nextSeq()).toBe(42);
    await again.close();
  });

  it("tidies a finished job's folder of a crash's temporary file a while after start, not during it", async () => {
    const id = '20261129-120000-000-000001-dddd';
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job(id), notebooks: { recipe: nb, notebook: nb } }]);
    await store.update(id, { status: 'running' });
    await store.update(id, { status: 'done' });
    await store.close();
    const temp = path.join(dir, id, '.job.yaml.123.4.tmp');
    await fs.writeFile(temp, 'x');
    const past = new Date(Date.now() - 60_000);
    await fs.utimes(temp, past, past);
    const again = new JobStore({ jobsDir: dir, tidyDelayMs: 300 });
    await again.load();
    expect(await fs.readdir(path.join(dir, id))).toContain('.job.yaml.123.4.tmp');
    const until = Date.now() + 5000;
    while ((await fs.readdir(path.join(dir, id))).includes('.job.yaml.123.4.tmp') && Date.now() < until) {
      await new Promise(r => setTimeout(r, 50));
    }
    expect(await fs.readdir(path.join(dir, id))).not.toContain('.job.yaml.123.4.tmp');
    await again.close();
  });

  it('survives a torn last line and removes what a crash left half made', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    await store.create([{ job: job('20261129-120000-000-000001-aaaa'), notebooks: { recipe: nb, notebook: nb } }]);
    await store.close();
    // kill -9 in the middle of a write, a temp file and a folder without a record
    await fs.appendFile(path.join(dir, JOURNAL_FILE), '{"id":"20261129-120000-000-000002-bbbb","sta');
    await fs.writeFile(path.join(dir, '20261129-120000-000-000001-aaaa', '.job.yaml.123.4.tmp'), 'x');
    await fs.mkdir(path.join(dir, '20261129-120000-000-000003-cccc'));
    const warnings: string[] = [];
    const again = new JobStore({
      jobsDir: dir,
      log: { debug: () => 0, info: () => 0, warn: m => warnings.push(m), error: () => 0 }
    });
    expect((await again.load()).map(j => j.id)).toEqual(['20261129-120000-000-000001-aaaa']);
    expect(warnings.join('\n')).toMatch(/1 unreadable line/);
    expect(await fs.readdir(dir)).toEqual(['20261129-120000-000-000001-aaaa', JOURNAL_FILE].sort());
    expect(await fs.readdir(path.join(dir, '20261129-120000-000-000001-aaaa'))).not.toContain('.job.yaml.123.4.tmp');
    await again.update('20261129-120000-000-000001-aaaa', { status: 'running' });
    await again.close();
    // the compacted journal has no torn line left, and a third start warns about nothing
    const third = new JobStore({
      jobsDir: dir,
      log: { debug: () => 0, info: () => 0, warn: m => warnings.push(`3: ${m}`), error: () => 0 }
    });
    expect((await third.load()).map(j => j.status)).toEqual(['running']);
    expect(warnings.filter(w => w.startsWith('3:'))).toEqual([]);
    await third.close();
  });
});

describe('JobStore journal compaction', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-compact-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('rewrites the journal with one line per job once it holds many more lines than jobs', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.load();
    const id = '20261129-120000-000-000001-aaaa';
    await store.create([{ job: job(id), notebooks: { recipe: nb, notebook: nb } }]);
    await store.update(id, { status: 'running' });
    await store.update(id, { status: 'done' });
    for (let i = 0; i < 10_050; i++) {
      await store.update(id, { filesWritten: [`out/${i}`] });
    }
    await store.close();
    const lines = (await fs.readFile(path.join(dir, JOURNAL_FILE), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(200);
    const again = new JobStore({ jobsDir: dir });
    expect((await again.load()).map(j => [j.status, j.filesWritten])).toEqual([['done', ['out/10049']]]);
    await again.close();
  });
});

describe('Journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-journal-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('group-commits many appends and replays them in order', async () => {
    const journal = new Journal<{ n: number }>({ file: path.join(dir, 'j.jsonl') });
    await journal.open();
    await Promise.all(Array.from({ length: 2000 }, (_, n) => journal.append({ n })));
    await journal.close();
    const again = new Journal<{ n: number }>({ file: path.join(dir, 'j.jsonl') });
    const { records, skipped } = await again.open();
    expect(skipped).toBe(0);
    expect(records.map(r => r.n)).toEqual(Array.from({ length: 2000 }, (_, n) => n));
    await again.close();
  });
});

describe('JobQueue', () => {
  it('is first in, first out, holds an id once, and supports removal', () => {
    const q = new JobQueue();
    ['a', 'b', 'a', 'c'].forEach(id => q.push(id));
    expect(q.size).toBe(3);
    expect(q.remove('b')).toBe(true);
    expect([q.shift(), q.shift(), q.shift()]).toEqual(['a', 'c', undefined]);
  });

  it('wakes a waiting worker when work arrives', async () => {
    const q = new JobQueue();
    const waiting = q.wait();
    q.push('x');
    await expect(waiting).resolves.toBeUndefined();
  });
});
