import { MeowApiError, MeowClient, queryString } from '../../src/lab/client';
import { FakeWebSocket, fakeSettings, makeJob } from './fakes';

describe('MeowClient', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('builds URLs under <base_url>/meow/api', async () => {
    const { serverSettings, requests } = fakeSettings(() => ({ body: { version: '1', counts: {} } }));
    const client = new MeowClient({ serverSettings });
    expect(client.apiUrl).toBe('http://localhost:8888/lab-base/meow/api');
    await client.getStatus();
    expect(requests[0].url).toBe('http://localhost:8888/lab-base/meow/api/status');
    expect(requests[0].method).toBe('GET');
    // Jupyter's auth is applied by ServerConnection.makeRequest.
    expect(requests[0].headers['authorization']).toBe('token secret');
  });

  it('encodes names and sends JSON bodies', async () => {
    const { serverSettings, requests } = fakeSettings(() => ({ body: {} }));
    const client = new MeowClient({ serverSettings });
    await client.savePattern('Pattern One', 'recipe: a\n');
    expect(requests[0].url).toBe('http://localhost:8888/lab-base/meow/api/patterns/Pattern%20One');
    expect(requests[0].method).toBe('PUT');
    expect(requests[0].body).toEqual({ text: 'recipe: a\n' });
    expect(requests[0].headers['content-type']).toBe('application/json');
    await client.saveRecipe('append', { cells: [] }, { source: 'a.ipynb', overwrite: true });
    expect(requests[1].url).toMatch(/\/meow\/api\/recipes\/append$/);
    expect(requests[1].body).toEqual({ notebook: { cells: [] }, source: 'a.ipynb', overwrite: true });
    await client.cancelJob('j1');
    await client.rerunJob('j1');
    expect(requests.slice(2).map(r => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /lab-base/meow/api/jobs/j1/cancel',
      'POST /lab-base/meow/api/jobs/j1/rerun'
    ]);
  });

  it('serialises job queries and provenance filters as query strings', async () => {
    const { serverSettings, requests } = fakeSettings(() => ({ body: { jobs: [], total: 0, offset: 0, limit: 50 } }));
    const client = new MeowClient({ serverSettings });
    await client.listJobs({ status: ['failed', 'running'], pattern: 'P 1', text: '', offset: 100, limit: 50 });
    const url = new URL(requests[0].url);
    expect(url.pathname).toBe('/lab-base/meow/api/jobs');
    expect(url.searchParams.get('status')).toBe('failed,running');
    expect(url.searchParams.get('pattern')).toBe('P 1');
    expect(url.searchParams.has('text')).toBe(false);
    expect(url.searchParams.get('offset')).toBe('100');
    expect(url.searchParams.get('limit')).toBe('50');
    await client.getProvenance({ path: 'first/*', after: '2026-01-01T00:00:00Z' });
    const p = new URL(requests[1].url);
    expect(p.pathname).toBe('/lab-base/meow/api/provenance');
    expect(p.searchParams.get('path')).toBe('first/*');
    expect(p.searchParams.get('after')).toBe('2026-01-01T00:00:00Z');
    expect(queryString({})).toBe('');
    expect(queryString({ b: 2, a: [1, 2] })).toBe('?a=1%2C2&b=2');
  });

  it('unwraps job actions ({job}) and settings results', async () => {
    const job = makeJob(1, { status: 'cancelled' });
    const { serverSettings, requests } = fakeSettings(req =>
      req.url.includes('/settings')
        ? { body: { settings: { workers: 2, settleMs: 100, timeoutSeconds: 0 }, restartRequired: ['settleMs'] } }
        : { body: { job } }
    );
    const client = new MeowClient({ serverSettings });
    expect(await client.cancelJob(job.id)).toEqual(job);
    expect(await client.rerunJob(job.id)).toEqual(job);
    const result = await client.saveSettings({ settleMs: 100 });
    expect(result.restartRequired).toEqual(['settleMs']);
    expect(requests[2].method).toBe('PUT');
    expect(requests[2].body).toEqual({ settleMs: 100 });
  });

  it('accepts lists as arrays or wrapped objects', async () => {
    const { serverSettings } = fakeSettings(req =>
      req.url.endsWith('/patterns') ? { body: [{ name: 'a' }] } : { body: { recipes: [{ name: 'r' }] } }
    );
    const client = new MeowClient({ serverSettings });
    expect((await client.listPatterns()).map(p => p.name)).toEqual(['a']);
    expect((await client.listRecipes()).map(p => p.name)).toEqual(['r']);
  });

  it('maps IApiError bodies to MeowApiError with status and issues', async () => {
    const { serverSettings } = fakeSettings(req =>
      req.url.includes('recipes')
        ? { status: 409, body: { error: 'recipe "append" exists' } }
        : {
            status: 400,
            body: {
              error: 'invalid pattern',
              issues: [{ field: 'trigger.path', message: 'is empty', fix: 'give a glob' }]
            }
          }
    );
    const client = new MeowClient({ serverSettings });
    const err = await client.saveRecipe('append', {}).catch(e => e);
    expect(err).toBeInstanceOf(MeowApiError);
    expect(err.status).toBe(409);
    expect(err.message).toBe('PUT /recipes/append failed (HTTP 409): recipe "append" exists');
    const err2 = await client.savePattern('p', 'x').catch(e => e);
    expect(err2.status).toBe(400);
    expect(err2.issues).toEqual([{ field: 'trigger.path', message: 'is empty', fix: 'give a glob' }]);
  });

  it('explains a missing service, auth failures and non-JSON errors', async () => {
    const answers: Record<string, { status: number; text: string }> = {
      status: { status: 404, text: '<html>Not Found</html>' },
      rules: { status: 403, text: '' },
      jobs: { status: 502, text: 'Bad gateway' },
      settings: { status: 500, text: 'boom' }
    };
    const { serverSettings } = fakeSettings(req => answers[new URL(req.url).pathname.split('/').pop()!]);
    const client = new MeowClient({ serverSettings });
    await expect(client.getStatus()).rejects.toThrow(/not reachable/);
    await expect(client.listRules()).rejects.toThrow(/not authorised/);
    await expect(client.listJobs()).rejects.toThrow(/not running/);
    await expect(client.getSettings()).rejects.toThrow('GET /settings failed (HTTP 500): boom');
  });

  it('connects the events websocket with the token and emits parsed events', () => {
    const { serverSettings } = fakeSettings(() => undefined);
    const client = new MeowClient({ serverSettings });
    const events: any[] = [];
    const states: string[] = [];
    client.eventReceived.connect((_, e) => events.push(e));
    client.connectionChanged.connect((_, s) => states.push(s));
    client.connect();
    client.connect(); // idempotent
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(FakeWebSocket.last.url).toBe('ws://localhost:8888/lab-base/meow/api/events?token=secret');
    FakeWebSocket.last.open();
    const job = makeJob(1);
    FakeWebSocket.last.receive({ type: 'job', job });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    FakeWebSocket.last.receive('not json');
    expect(warn).toHaveBeenCalledWith('meow: ignoring a websocket message that is not JSON');
    warn.mockRestore();
    FakeWebSocket.last.receive({ no: 'type' });
    FakeWebSocket.last.receive({ type: 'definitions' });
    expect(events).toEqual([{ type: 'job', job }, { type: 'definitions' }]);
    expect(states).toEqual(['connecting', 'connected']);
    client.dispose();
    expect(FakeWebSocket.last.closed).toBe(true);
  });

  it('reconnects with exponential backoff, reset after a successful open', () => {
    jest.useFakeTimers();
    try {
      const { serverSettings } = fakeSettings(() => undefined);
      const client = new MeowClient({ serverSettings, reconnect: { minDelay: 100, maxDelay: 1000 } });
      client.connect();
      FakeWebSocket.last.drop();
      expect(client.connectionState).toBe('disconnected');
      jest.advanceTimersByTime(99);
      expect(FakeWebSocket.instances).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(2); // after 100 ms
      FakeWebSocket.last.drop();
      jest.advanceTimersByTime(199);
      expect(FakeWebSocket.instances).toHaveLength(2);
      jest.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(3); // after 200 ms
      FakeWebSocket.last.drop();
      jest.advanceTimersByTime(400);
      expect(FakeWebSocket.instances).toHaveLength(4); // after 400 ms
      for (let i = 0; i < 5; i++) {
        FakeWebSocket.last.drop();
        jest.advanceTimersByTime(1000); // capped at maxDelay
      }
      expect(FakeWebSocket.instances).toHaveLength(9);
      FakeWebSocket.last.open();
      expect(client.connectionState).toBe('connected');
      FakeWebSocket.last.drop();
      jest.advanceTimersByTime(100); // back to minDelay
      expect(FakeWebSocket.instances).toHaveLength(10);
      client.dispose();
      FakeWebSocket.last.drop();
      jest.advanceTimersByTime(5000);
      expect(FakeWebSocket.instances).toHaveLength(10); // no reconnect once disposed
    } finally {
      jest.useRealTimers();
    }
  });
});
