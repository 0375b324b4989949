/** The API's job index: newest first, filters, paging, counts, children — fast with 10,000 jobs. */
import { JobIndex } from '../../../../src/service/api/jobIndex';
import { makeJobId } from '../../../../src/core/jobs';
import type { IJob, JobStatus } from '../../../../src/core/types';

const T0 = Date.parse('2026-11-22T00:00:00Z');
const STATUSES: JobStatus[] = ['done', 'failed', 'queued', 'running', 'cancelled', 'skipped'];

function job(i: number, extra: Partial<IJob> = {}): IJob {
  const created = T0 + i * 1000;
  return {
    id: makeJobId(created, i + 1, 'ab12'),
    pattern: `P${i % 3}`,
    recipe: `R${i % 2}`,
    rule: 'r',
    ruleKey: 'k',
    status: STATUSES[i % STATUSES.length],
    trigger: { kind: 'created', path: `start/file${i}.txt`, time: new Date(created).toISOString() },
    parameters: {},
    filesWritten: [],
    created: new Date(created).toISOString(),
    ...extra
  };
}

describe('JobIndex', () => {
  it('lists newest first and pages', () => {
    const jobs = Array.from({ length: 25 }, (_, i) => job(i));
    const index = new JobIndex([...jobs].reverse());
    const page = index.query({ offset: 5, limit: 10 });
    expect(page.total).toBe(25);
    expect(page.jobs.map(j => j.id)).toEqual(
      jobs
        .slice(10, 20)
        .reverse()
        .map(j => j.id)
    );
    expect(index.query({ offset: 30, limit: 10 }).jobs).toEqual([]);
  });

  it('filters by status, pattern, recipe, time and text together', () => {
    const index = new JobIndex(Array.from({ length: 60 }, (_, i) => job(i)));
    const page = index.query({ status: ['done', 'failed'], pattern: 'P0', limit: 100 });
    expect(page.jobs.every(j => ['done', 'failed'].includes(j.status) && j.pattern === 'P0')).toBe(true);
    expect(page.total).toBe(page.jobs.length);
    const timed = index.query({
      after: new Date(T0 + 10_000).toISOString(),
      before: new Date(T0 + 19_000).toISOString(),
      limit: 100
    });
    expect(timed.total).toBe(10);
    expect(index.query({ text: 'FILE42.TXT' }).jobs.map(j => j.trigger.path)).toEqual(['start/file42.txt']);
    expect(index.query({ recipe: 'R1' }).total).toBe(30);
    const failing = new JobIndex([job(1, { status: 'failed', error: { message: 'ZeroDivisionError' } })]);
    expect(failing.query({ text: 'zerodivision' }).total).toBe(1);
  });

  it('follows updates: new jobs at the front, status counts, children', () => {
    const index = new JobIndex([job(1), job(2)]);
    const child = job(3, { parent: job(1).id, status: 'queued' });
    index.update(child);
    expect(index.query({}).jobs[0].id).toBe(child.id);
    expect(index.children(job(1).id)).toEqual([child.id]);
    const before = index.counts();
    index.update({ ...child, status: 'running' });
    expect(index.counts().running).toBe(before.running + 1);
    expect(index.counts().queued).toBe(before.queued - 1);
    expect(index.size).toBe(3);
    // An older id (e.g. loaded late) goes to its place, not the front.
    const old = job(0);
    index.update(old);
    expect(
      index
        .query({})
        .jobs.map(j => j.id)
        .at(-1)
    ).toBe(old.id);
  });

  it('answers a filtered page of 10,000 jobs in a few milliseconds', () => {
    const index = new JobIndex();
    for (let i = 0; i < 10_000; i++) {
      index.update(job(i));
    }
    const started = process.hrtime.bigint();
    for (let k = 0; k < 20; k++) {
      index.query({ status: ['failed'], text: 'file9', offset: 100, limit: 100 });
      index.query({ offset: 9_900, limit: 100 });
    }
    const perQueryMs = Number(process.hrtime.bigint() - started) / 1e6 / 40;
    expect(perQueryMs).toBeLessThan(20);
    expect(index.query({ offset: 9_900, limit: 100 }).jobs).toHaveLength(100);
  });
});
