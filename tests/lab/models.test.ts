import { MeowClient } from '../../src/lab/client';
import { JobsModel, StatusModel, WorkflowModel } from '../../src/lab/models';
import type { IJob } from '../../src/core/types';
import { FakeWebSocket, fakeSettings, makeJob } from './fakes';
import { waitFor as waitUntil } from './waitFor';

async function waitFor(cond: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeout) {
      throw new Error('condition not met in time');
    }
    await new Promise(r => setTimeout(r, 5));
  }
}

describe('JobsModel', () => {
  it('orders rows newest first and counts by status', () => {
    const model = new JobsModel();
    model.reset([makeJob(2), makeJob(1, { status: 'failed' }), makeJob(3, { status: 'running' })]);
    expect(model.size).toBe(3);
    expect(model.slice(0, 10).map(j => j.id)).toEqual([makeJob(3).id, makeJob(2).id, makeJob(1).id]);
    expect(model.counts).toMatchObject({ done: 1, failed: 1, running: 1, queued: 0 });
    expect(model.indexOf(makeJob(1).id)).toBe(2);
    expect(model.at(3)).toBeUndefined();
  });

  it('updates a job in place and emits one change per batch', () => {
    const model = new JobsModel();
    const changes: any[] = [];
    model.changed.connect((_, c) => changes.push(c));
    model.upsert([makeJob(1, { status: 'queued' }), makeJob(2, { status: 'queued' })]);
    model.upsert(makeJob(1, { status: 'running' }));
    expect(changes).toEqual([
      { type: 'update', ids: [makeJob(1).id, makeJob(2).id] },
      { type: 'update', ids: [makeJob(1).id] }
    ]);
    expect(model.size).toBe(2);
    expect(model.get(makeJob(1).id)!.status).toBe('running');
    expect(model.counts).toMatchObject({ queued: 1, running: 1 });
  });

  it('filters by status, pattern, recipe, time and text', () => {
    const model = new JobsModel();
    const jobs = [
      makeJob(1, { status: 'failed', pattern: 'A', recipe: 'r1', error: { message: 'ZeroDivisionError' } }),
      makeJob(2, { status: 'done', pattern: 'A', recipe: 'r2' }),
      makeJob(3, { status: 'running', pattern: 'B', recipe: 'r1' })
    ];
    model.reset(jobs);
    const ids = () => model.slice(0, 100).map(j => j.id);
    model.setFilter({ status: ['failed', 'running'] });
    expect(ids()).toEqual([jobs[2].id, jobs[0].id]);
    model.setFilter({ pattern: 'A' });
    expect(ids()).toEqual([jobs[1].id, jobs[0].id]);
    model.setFilter({ recipe: 'r1', pattern: 'B' });
    expect(ids()).toEqual([jobs[2].id]);
    model.setFilter({ after: jobs[1].created });
    expect(ids()).toEqual([jobs[2].id, jobs[1].id]);
    model.setFilter({ before: jobs[1].created });
    expect(ids()).toEqual([jobs[1].id, jobs[0].id]);
    model.setFilter({ text: 'zerodivision' });
    expect(ids()).toEqual([jobs[0].id]);
    model.setFilter({ text: 'file3' });
    expect(ids()).toEqual([jobs[2].id]);
    model.setFilter({});
    expect(model.filteredSize).toBe(3);
  });

  it('keeps the filtered view current as jobs change status', () => {
    const model = new JobsModel();
    model.setFilter({ status: ['running'] });
    model.upsert(makeJob(1, { status: 'queued' }));
    expect(model.filteredSize).toBe(0);
    model.upsert(makeJob(1, { status: 'running' }));
    expect(model.filteredSize).toBe(1);
    model.upsert(makeJob(1, { status: 'done' }));
    expect(model.filteredSize).toBe(0);
  });

  it('with 10,000 jobs, an update tests only the changed job against the filter', () => {
    const model = new JobsModel();
    const jobs: IJob[] = [];
    for (let i = 0; i < 10000; i++) {
      jobs.push(makeJob(i, { status: i % 10 === 0 ? 'failed' : 'done' }));
    }
    model.reset(jobs);
    model.setFilter({ status: ['failed'] });
    expect(model.filteredSize).toBe(1000);
    const spy = jest.spyOn(model, 'matches');
    // A new job arriving over the websocket, then a status change of an old one.
    model.upsert(makeJob(10000, { status: 'failed' }));
    model.upsert(makeJob(5, { status: 'failed' }));
    expect(spy).toHaveBeenCalledTimes(2);
    expect(model.filteredSize).toBe(1002);
    expect(model.at(0)!.id).toBe(makeJob(10000).id);
    expect(model.indexOf(makeJob(5).id)).toBe(1000); // between job 10 and job 0
    // Reading one screen of rows touches only those rows.
    spy.mockClear();
    expect(model.slice(500, 530)).toHaveLength(30);
    expect(spy).not.toHaveBeenCalled();
  });

  it('tracks children and drops the oldest jobs beyond maxJobs', () => {
    const model = new JobsModel({ maxJobs: 3 });
    const a = makeJob(1);
    model.upsert([a, makeJob(2, { parent: a.id }), makeJob(3, { parent: a.id })]);
    expect(model.children(a.id)).toEqual([makeJob(2).id, makeJob(3).id]);
    model.upsert(makeJob(4));
    expect(model.size).toBe(3);
    expect(model.get(a.id)).toBeUndefined();
  });

  it('loads every page from the service and follows the websocket', async () => {
    FakeWebSocket.reset();
    const all = Array.from({ length: 5 }, (_, i) => makeJob(i));
    const { serverSettings, requests } = fakeSettings(req => {
      const u = new URL(req.url);
      const offset = Number(u.searchParams.get('offset'));
      const limit = Number(u.searchParams.get('limit'));
      return { body: { jobs: all.slice(offset, offset + limit), total: all.length, offset, limit } };
    });
    const client = new MeowClient({ serverSettings });
    const model = new JobsModel({ client, pageSize: 2 });
    await model.refresh();
    expect(requests.map(r => new URL(r.url).search)).toEqual([
      '?limit=2&offset=0',
      '?limit=2&offset=2',
      '?limit=2&offset=4'
    ]);
    expect(model.size).toBe(5);
    client.connect();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(9, { status: 'queued' }) });
    await waitFor(() => model.size === 6);
    expect(model.at(0)!.status).toBe('queued');
    client.dispose();
  });
});

describe('JobsModel batching of websocket events', () => {
  afterEach(() => jest.useRealTimers());

  function connected(batchInterval?: number) {
    FakeWebSocket.reset();
    const { serverSettings } = fakeSettings(() => undefined);
    const client = new MeowClient({ serverSettings });
    const model = new JobsModel({ client, batchInterval });
    const changes: any[] = [];
    model.changed.connect((_, c) => changes.push(c));
    client.connect();
    FakeWebSocket.last.open();
    return { client, model, changes, socket: FakeWebSocket.last };
  }

  it('applies 2,000 events as one change per batch interval', () => {
    jest.useFakeTimers();
    const { client, model, changes, socket } = connected(100);
    for (let i = 0; i < 1000; i++) {
      socket.receive({ type: 'job', job: makeJob(i, { status: 'queued' }) });
      socket.receive({ type: 'job', job: makeJob(i, { status: i % 10 ? 'done' : 'failed' }) });
    }
    expect(changes).toHaveLength(0);
    expect(model.size).toBe(0);
    jest.advanceTimersByTime(100);
    expect(changes).toHaveLength(1);
    expect(changes[0].type).toBe('update');
    expect(changes[0].ids).toHaveLength(1000);
    expect(model.counts).toMatchObject({ queued: 0, done: 900, failed: 100 });
    // The next events make the next batch.
    socket.receive({ type: 'job', job: makeJob(1000, { status: 'queued' }) });
    jest.advanceTimersByTime(99);
    expect(changes).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(changes).toHaveLength(2);
    expect(changes[1].ids).toEqual([makeJob(1000).id]);
    client.dispose();
  });

  it('applies each event at once with batchInterval 0, and flush() empties a batch early', () => {
    jest.useFakeTimers();
    const immediate = connected(0);
    immediate.socket.receive({ type: 'job', job: makeJob(1) });
    immediate.socket.receive({ type: 'job', job: makeJob(2) });
    expect(immediate.changes).toHaveLength(2);
    immediate.client.dispose();
    const batched = connected(100);
    batched.socket.receive({ type: 'job', job: makeJob(1) });
    batched.model.flush();
    expect(batched.model.size).toBe(1);
    jest.advanceTimersByTime(200);
    expect(batched.changes).toHaveLength(1);
    batched.client.dispose();
  });

  it('a late event in a batch does not bring a final job back to running', () => {
    jest.useFakeTimers();
    const { client, model, socket } = connected(100);
    socket.receive({ type: 'job', job: makeJob(1, { status: 'running' }) });
    model.upsert(makeJob(1, { status: 'cancelled' })); // Cancel's answer, before the batch
    jest.advanceTimersByTime(100);
    expect(model.get(makeJob(1).id)!.status).toBe('cancelled');
    client.dispose();
  });
});

describe('JobsModel sorting', () => {
  const rows = (model: JobsModel) => model.slice(0, 100).map(j => j.id);

  it('orders the filtered view by a column, both ways, and keeps indexOf in step', () => {
    const model = new JobsModel();
    const jobs = [
      makeJob(1, { pattern: 'b' }),
      makeJob(2, { pattern: 'a' }),
      makeJob(3, { pattern: 'c' }),
      makeJob(4, { pattern: 'a' })
    ];
    model.reset(jobs);
    expect(model.sort).toEqual({ key: 'id', direction: 'desc' });
    expect(rows(model)).toEqual([jobs[3].id, jobs[2].id, jobs[1].id, jobs[0].id]);
    model.setSort({ key: 'pattern', direction: 'asc' });
    expect(rows(model)).toEqual([jobs[1].id, jobs[3].id, jobs[0].id, jobs[2].id]);
    model.setSort({ key: 'pattern', direction: 'desc' });
    expect(rows(model)).toEqual([jobs[2].id, jobs[0].id, jobs[3].id, jobs[1].id]);
    for (const [i, id] of rows(model).entries()) {
      expect(model.indexOf(id)).toBe(i);
    }
  });

  it('moves an updated job to its new place and inserts new ones in order', () => {
    const model = new JobsModel();
    model.setSort({ key: 'status', direction: 'asc' });
    model.upsert([makeJob(1, { status: 'done' }), makeJob(2, { status: 'queued' }), makeJob(3, { status: 'failed' })]);
    const statuses = () => model.slice(0, 100).map(j => j.status);
    expect(statuses()).toEqual(['queued', 'done', 'failed']);
    model.upsert(makeJob(2, { status: 'running' }));
    model.upsert(makeJob(2, { status: 'cancelled' }));
    expect(statuses()).toEqual(['done', 'failed', 'cancelled']);
    model.upsert(makeJob(4, { status: 'running' }));
    expect(statuses()).toEqual(['running', 'done', 'failed', 'cancelled']);
    expect(model.indexOf(makeJob(2).id)).toBe(3);
    model.setFilter({ status: ['failed', 'cancelled', 'running'] });
    expect(statuses()).toEqual(['running', 'failed', 'cancelled']);
    model.upsert(makeJob(1, { status: 'failed' }));
    expect(model.slice(0, 100).map(j => j.id)).toEqual([makeJob(4).id, makeJob(1).id, makeJob(3).id, makeJob(2).id]);
  });

  it('drops the oldest beyond maxJobs from a sorted view', () => {
    const model = new JobsModel({ maxJobs: 2 });
    model.setSort({ key: 'pattern', direction: 'asc' });
    model.upsert([makeJob(1, { pattern: 'z' }), makeJob(2, { pattern: 'y' })]);
    model.upsert(makeJob(3, { pattern: 'x' }));
    expect(model.slice(0, 10).map(j => j.pattern)).toEqual(['x', 'y']);
    expect(model.indexOf(makeJob(1).id)).toBe(-1);
  });
});

describe('JobsModel refresh racing the websocket', () => {
  it('keeps jobs announced during a refresh, without regressing a status', async () => {
    FakeWebSocket.reset();
    const done = makeJob(1, { status: 'done' });
    let release!: () => void;
    const gate = new Promise<void>(r => (release = r));
    const { serverSettings } = fakeSettings(() => undefined);
    const fetchFn = serverSettings.fetch;
    const slow = {
      ...serverSettings,
      fetch: (async (...args: any[]) => {
        await gate;
        void fetchFn;
        return new Response(JSON.stringify({ jobs: [done], total: 1, offset: 0, limit: 1000 }), { status: 200 });
      }) as any
    };
    const client = new MeowClient({ serverSettings: slow });
    const model = new JobsModel({ client });
    client.connect();
    FakeWebSocket.last.open();
    const refreshing = model.refresh();
    // While the page loads: an old "running" event of job 1, and a new job 2.
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(1, { status: 'running' }) });
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(2, { status: 'queued' }) });
    release();
    await refreshing;
    expect(model.get(done.id)!.status).toBe('done');
    expect(model.get(makeJob(2).id)!.status).toBe('queued');
    expect(model.size).toBe(2);
    client.dispose();
  });
});

describe('WorkflowModel', () => {
  it('refreshes on a definitions event, coalescing bursts', async () => {
    jest.useFakeTimers();
    FakeWebSocket.reset();
    try {
      let n = 0;
      const { serverSettings, requests } = fakeSettings(req => {
        const path = new URL(req.url).pathname;
        if (path.endsWith('/patterns')) {
          n++;
          return { body: [{ name: `p${n}`, file: 'x', text: '', active: true }] };
        }
        if (path.endsWith('/recipes')) {
          return { body: [{ name: 'append', file: 'y', variables: ['infile'] }] };
        }
        return { body: [] };
      });
      const client = new MeowClient({ serverSettings });
      const model = new WorkflowModel({ client, debounce: 50 });
      let changed = 0;
      model.changed.connect(() => changed++);
      client.connect();
      FakeWebSocket.last.open();
      FakeWebSocket.last.receive({ type: 'definitions' });
      FakeWebSocket.last.receive({ type: 'definitions' });
      FakeWebSocket.last.receive({ type: 'definitions' });
      jest.advanceTimersByTime(50);
      jest.useRealTimers();
      await waitUntil(() => changed > 0, 'the debounced refresh');
      expect(requests).toHaveLength(3); // patterns, recipes, rules: once
      expect(changed).toBe(1);
      expect(model.patterns.map(p => p.name)).toEqual(['p1']);
      expect(model.hasRecipe('append')).toBe(true);
      expect(model.hasRecipe('other')).toBe(false);
      client.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('StatusModel', () => {
  it('is up after a status, down with the reason after a failed request', async () => {
    let up = true;
    const { serverSettings } = fakeSettings(() =>
      up ? { body: { version: '0.1.0', counts: { queued: 2, running: 1, failed: 3 } } } : { status: 503, text: '' }
    );
    const client = new MeowClient({ serverSettings });
    const model = new StatusModel({ client });
    await model.refresh();
    expect(model.up).toBe(true);
    expect(model.count('queued')).toBe(2);
    expect(model.count('failed')).toBe(3);
    up = false;
    await model.refresh();
    expect(model.up).toBe(false);
    expect(model.error).toMatch(/not running/);
  });

  it('takes status events from the websocket', () => {
    FakeWebSocket.reset();
    const { serverSettings } = fakeSettings(() => ({ body: { counts: {} } }));
    const client = new MeowClient({ serverSettings });
    const model = new StatusModel({ client });
    client.connect();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'status', status: { counts: { running: 4 } } });
    expect(model.count('running')).toBe(4);
    expect(model.up).toBe(true);
    model.dispose();
    client.dispose();
  });
});
