import {
  compareStrings,
  compileJobFilter,
  descendingStrings,
  insertSorted,
  jobComparator,
  jobSortValue,
  removeSorted
} from '../../../src/core/jobFilter';
import { JobIndex } from '../../../src/service/api/jobIndex';
import type { IJob } from '../../../src/core/types';

function job(n: number, over: Partial<IJob> = {}): IJob {
  const created = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    id: `20260101-000000-000-${String(n).padStart(6, '0')}-ab12`,
    pattern: `P${n % 3}`,
    recipe: `R${n % 2}`,
    rule: 'rule',
    ruleKey: 'k',
    status: 'done',
    trigger: { kind: 'created', path: `in/file${n}.txt`, time: created, hash: 'h' },
    parameters: {},
    filesWritten: [],
    created,
    ...over
  };
}

describe('compileJobFilter', () => {
  const jobs = [
    job(1, { status: 'failed', error: { message: 'ZeroDivisionError' } }),
    job(2, { status: 'running', executor: 'slurm', external: { id: '4242' } as any }),
    job(3, { trigger: { kind: 'network', path: '', time: '', source: '10.0.0.7:9000' } as any }),
    job(4, { created: 'not a date' })
  ];
  const ids = (f: Parameters<typeof compileJobFilter>[0], classify?: Parameters<typeof compileJobFilter>[1]) =>
    jobs.filter(compileJobFilter(f, classify)).map(j => Number(j.id.split('-')[3]));

  it('keeps everything without a filter', () => {
    expect(ids({})).toEqual([1, 2, 3, 4]);
  });

  it('filters by status, pattern and recipe', () => {
    expect(ids({ status: ['failed', 'running'] })).toEqual([1, 2]);
    expect(ids({ pattern: 'P1' })).toEqual([1, 4]);
    expect(ids({ recipe: 'R0', pattern: 'P2' })).toEqual([2]);
  });

  it('filters by time (inclusive); an unreadable time fails a time filter', () => {
    expect(ids({ after: jobs[1].created })).toEqual([2, 3]);
    expect(ids({ before: Date.parse(jobs[1].created) })).toEqual([1, 2]);
  });

  it('searches id, path, source, error and the external id, case-insensitively and trimmed', () => {
    expect(ids({ text: '  zerodivision ' })).toEqual([1]);
    expect(ids({ text: 'FILE4' })).toEqual([4]);
    expect(ids({ text: '10.0.0.7' })).toEqual([3]);
    expect(ids({ text: '4242' })).toEqual([2]);
    expect(ids({ text: '000003-ab12' })).toEqual([3]);
  });

  it('names triggers and executors by the recorded values unless told otherwise', () => {
    expect(ids({ executor: 'local' })).toEqual([1, 3, 4]);
    expect(ids({ trigger: 'network' })).toEqual([3]);
    expect(ids({ trigger: 'file' }, { trigger: j => (j.trigger.kind === 'network' ? 'network' : 'file') })).toEqual([
      1, 2, 4
    ]);
  });
});

describe('sorted insert', () => {
  it('keeps an array sorted, appending or prepending without a search, and refuses duplicates', () => {
    const arr: string[] = [];
    for (const s of ['c', 'd', 'a', 'b', 'e', 'b']) {
      insertSorted(arr, s, compareStrings);
    }
    expect(arr).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(insertSorted(arr, 'c', compareStrings)).toBe(false);
    expect(removeSorted(arr, 'c', compareStrings)).toBe(true);
    expect(removeSorted(arr, 'c', compareStrings)).toBe(false);
    expect(arr).toEqual(['a', 'b', 'd', 'e']);
    const desc: string[] = [];
    for (const s of ['b', 'c', 'a', 'd']) {
      insertSorted(desc, s, descendingStrings);
    }
    expect(desc).toEqual(['d', 'c', 'b', 'a']);
  });

  it('matches a full sort on random input', () => {
    const arr: number[] = [];
    const all: number[] = [];
    let x = 7;
    for (let i = 0; i < 500; i++) {
      x = (x * 7919 + 13) % 10007;
      all.push(x);
      insertSorted(arr, x, (a, b) => a - b);
    }
    expect(arr).toEqual([...new Set(all)].sort((a, b) => a - b));
  });
});

describe('job sort orders', () => {
  it('orders by a column with ties broken by id', () => {
    const jobs = [job(3, { pattern: 'B' }), job(1, { pattern: 'B' }), job(2, { pattern: 'A' })];
    expect([...jobs].sort(jobComparator('pattern')).map(j => j.id.split('-')[3])).toEqual([
      '000002',
      '000001',
      '000003'
    ]);
    expect([...jobs].sort(jobComparator('id')).map(j => j.id.split('-')[3])).toEqual(['000001', '000002', '000003']);
  });

  it('sorts statuses in lifecycle order and running durations after finished ones, steadily', () => {
    expect(jobSortValue(job(1, { status: 'queued' }), 'status')).toBeLessThan(
      jobSortValue(job(1, { status: 'failed' }), 'status') as number
    );
    const finished = job(1, { started: '2026-01-01T00:00:00Z', finished: '2026-01-01T01:00:00Z' });
    const early = job(2, { status: 'running', started: '2026-01-01T00:00:00Z' });
    const late = job(3, { status: 'running', started: '2026-01-01T02:00:00Z' });
    const order = [late, finished, early].sort(jobComparator('duration'));
    expect(order).toEqual([finished, late, early]);
    expect(jobSortValue(job(4), 'duration')).toBe(-1);
  });
});

describe('JobIndex uses the shared filter', () => {
  it('pages newest first and filters as the Lab does', () => {
    const index = new JobIndex([job(2), job(1, { status: 'failed', error: { message: 'boom' } })]);
    index.update(job(3, { status: 'running' }));
    index.update(job(0));
    expect(index.query({}).jobs.map(j => j.id.split('-')[3])).toEqual(['000003', '000002', '000001', '000000']);
    expect(index.query({ text: 'BOOM' }).jobs.map(j => j.status)).toEqual(['failed']);
    expect(index.query({ status: ['running', 'failed'], limit: 1, offset: 1 })).toMatchObject({
      total: 2,
      jobs: [{ status: 'failed' }]
    });
    expect(index.counts()).toMatchObject({ done: 2, failed: 1, running: 1 });
  });
});
