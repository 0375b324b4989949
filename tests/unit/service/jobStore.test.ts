import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import type { IJob } from '../../../src/core/types';
import { JobStore } from '../../../src/service/jobs/jobStore';
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
    await store.create(job('j1'), { recipe: nb, notebook: nb });
    const files = (await fs.readdir(path.join(dir, 'j1'))).sort();
    expect(files).toEqual(['job.ipynb', 'job.yaml', 'recipe.ipynb']);
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    expect(record).toMatchObject({ id: 'j1', status: 'queued', trigger: { path: 'in/a', hash: 'h' } });
  });

  it('never changes a final status', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.create(job('j1'), { recipe: nb, notebook: nb });
    await store.update('j1', { status: 'running' });
    await store.update('j1', { status: 'done' });
    await expect(store.update('j1', { status: 'failed' })).rejects.toThrow(/cannot change from done to failed/);
    await expect(store.update('j1', { error: { message: 'x' } })).rejects.toThrow(/is done/);
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    expect(record.status).toBe('done');
  });

  it('reloads jobs and reports an unreadable record without touching it', async () => {
    const store = new JobStore({ jobsDir: dir });
    await store.create(job('j1'), { recipe: nb, notebook: nb });
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
    await store.create(job('j1'), { recipe: nb, notebook: nb });
    await store.update('j1', { status: 'running' });
    await Promise.all([1, 2, 3, 4, 5].map(done => store.update('j1', { progress: { done, total: 5 } })));
    const record = YAML.parse(await fs.readFile(path.join(dir, 'j1', 'job.yaml'), 'utf8'));
    expect(record.progress).toEqual({ done: 5, total: 5 });
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
