/**
 * The API server on a real runner with a scripted conductor (no Jupyter):
 * the secret on every route, definitions round trips, job queries and
 * actions, settings, and the websocket of live changes.
 */
import { promises as fs } from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Signal } from '@lumino/signaling';
import WebSocket from 'ws';
import type { IServiceEvent } from '../../../../src/core/api';
import { makeRoutes } from '../../../../src/service/api/routes';
import { ApiServer } from '../../../../src/service/api/server';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import { ScriptedConductor, Script, sleep } from '../../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';

const SECRET = 'unit-test-secret';

const copyLine: Script = async (p, io) => {
  const text = await fs.readFile(p.infile, 'utf8');
  await io.write(p.outfile, text + p.extra + '\n');
};
const slow: Script = async (_p, io) => sleep(60_000, io.signal);

const patternText = (recipe: string, glob: string, out: string) =>
  `recipe: ${recipe}\ntrigger:\n  path: "${glob}"\ninput: infile\nparameters:\n  extra: "x"\noutputs:\n  outfile: "${out}"\n`;

/** Every route with a method, for the authentication sweep. */
const ROUTES: [string, string][] = [
  ['GET', '/api/status'],
  ['GET', '/api/patterns'],
  ['GET', '/api/patterns/One'],
  ['PUT', '/api/patterns/One'],
  ['DELETE', '/api/patterns/One'],
  ['POST', '/api/patterns/One/check'],
  ['POST', '/api/patterns/One/resume'],
  ['POST', '/api/patterns/One/run'],
  ['GET', '/api/patterns/One/waiting'],
  ['GET', '/api/paused'],
  ['GET', '/api/recipes'],
  ['GET', '/api/recipes/Append'],
  ['PUT', '/api/recipes/Append'],
  ['DELETE', '/api/recipes/Append'],
  ['GET', '/api/rules'],
  ['GET', '/api/jobs'],
  ['GET', '/api/jobs/x'],
  ['POST', '/api/jobs/x/cancel'],
  ['POST', '/api/jobs/x/rerun'],
  ['GET', '/api/provenance'],
  ['GET', '/api/settings'],
  ['PUT', '/api/settings'],
  ['GET', '/api/events']
];

describe('ApiServer', () => {
  let root: string;
  let runner: MeowRunner;
  let api: ApiServer;
  let base: string;

  const call = async (method: string, route: string, body?: unknown, secret: string | null = SECRET) => {
    const res = await fetch(base + route.slice(1), {
      method,
      headers: { ...(secret !== null ? { 'X-Meow-Secret': secret } : {}), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeEach(async () => {
    root = await makeWorkgroup({
      'start/a.txt': 'A\n',
      'start/b.txt': 'B\n',
      '.meow/recipes/Append.ipynb': recipeNotebook({ infile: "''", extra: "''", outfile: "''" }),
      '.meow/recipes/Slow.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/One.yaml': patternText('Append', 'start/*', '{VGRID}/first/{FILENAME}')
    });
    runner = new MeowRunner({
      root,
      settleMs: 30,
      conductor: new ScriptedConductor({ Append: copyLine, Slow: slow }),
      log: new RecordingLogger()
    });
    api = new ApiServer({ runner, secret: SECRET, version: 'test', statusIntervalMs: 0 });
    base = (await api.listen({ port: 0 })).toString();
    await runner.start();
    api.markReady();
    await runner.waitUntilIdle();
  });

  afterEach(async () => {
    await api.close();
    await runner.stop();
    await removeWorkgroup(root);
  });

  it('refuses every route without the secret or with a wrong one', async () => {
    for (const [method, route] of ROUTES) {
      for (const secret of [null, 'wrong', SECRET + 'x']) {
        const res = await call(method, route, method === 'PUT' ? {} : undefined, secret);
        expect([method, route, res.status]).toEqual([method, route, 401]);
        expect(res.body.error).toMatch(/secret/);
      }
    }
    const ws = new WebSocket(base.replace('http', 'ws') + 'api/events');
    const code = await new Promise(resolve => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
    expect(code).toBe(401);
    // Nothing was changed by the refused requests.
    expect(runner.workflow.patterns.has('One')).toBe(true);
  });

  it('reports status, 404s and 405s as JSON naming the problem', async () => {
    const status = await call('GET', '/api/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ state: 'running', apiVersion: 1, workgroup: root, counts: { done: 2 } });
    expect((await call('GET', '/api/nothing')).status).toBe(404);
    const wrong = await call('PATCH', '/api/jobs');
    expect(wrong.status).toBe(405);
    expect(wrong.body.issues[0].fix).toMatch(/GET/);
    const bad = await fetch(base + 'api/settings', {
      method: 'PUT',
      headers: { 'X-Meow-Secret': SECRET },
      body: '{oops'
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).issues[0].field).toBe('(body)');
  });

  /** A raw request (any method, path and body; Node's fetch would normalise them). */
  const raw = (method: string, target: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>((resolve, reject) => {
      const url = new URL(base);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path: target,
          // Node sends a GET/DELETE body without a length unless told (as a proxy would).
          headers: {
            'X-Meow-Secret': SECRET,
            ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
            ...headers
          }
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined });
          });
        }
      );
      req.on('error', reject);
      req.end(body);
    });

  it('answers client mistakes with 4xx JSON naming field and fix, reading every body first', async () => {
    const cases: [string, string, string | undefined, Record<string, string>, number][] = [
      ['GET', '/api/status', '{"x":1}', {}, 400],
      ['DELETE', '/api/patterns/One', 'garbage', {}, 400],
      ['POST', '/api/jobs/x/cancel', '{}', {}, 400],
      ['PATCH', '/api/jobs', undefined, {}, 405],
      ['PATCH', '/api/settings', '{"workers":2}', { 'Content-Type': 'application/json' }, 405],
      ['HEAD', '/api/status', undefined, {}, 405],
      ['PROPFIND', '/api/status', undefined, {}, 501],
      ['PUT', '/api/settings', 'workers=2', { 'Content-Type': 'application/x-www-form-urlencoded' }, 415],
      ['PUT', '/api/settings', '\xff\xfe', { 'Content-Type': 'application/json' }, 400],
      ['PUT', '/api/settings', '['.repeat(10000) + ']'.repeat(10000), {}, 400],
      ['PUT', '/api/settings', '"just a string"', {}, 400],
      ['PUT', '/api/patterns/One', '[]', {}, 400],
      ['GET', '/api/patterns/..', undefined, {}, 400],
      ['GET', '/api/patterns/%2e%2e', undefined, {}, 400],
      ['DELETE', '/api/recipes/..%2F..%2Fetc', undefined, {}, 400],
      ['PUT', '/api/patterns/%2Ftmp%2Fx', '{"text":"recipe: Append\n"}', {}, 400],
      ['GET', '/api/jobs/..%2F..%2Fpatterns%2FOne', undefined, {}, 400],
      ['POST', '/api/jobs/.hidden/rerun', undefined, {}, 400],
      ['GET', '/api/jobs/a%00b', undefined, {}, 400],
      ['GET', '/api/patterns/%E0%A4%A', undefined, {}, 400],
      ['GET', '/api/patterns/' + 'x'.repeat(5000), undefined, {}, 414],
      ['GET', '/api/../api/status', undefined, {}, 404],
      ['GET', '/api/status?x=%zz', undefined, {}, 400]
    ];
    for (const [method, target, body, headers, status] of cases) {
      const res = await raw(method, target, body, headers);
      expect([method, target.slice(0, 60), res.status]).toEqual([method, target.slice(0, 60), status]);
      if (method !== 'HEAD') {
        expect(res.body.error).toEqual(expect.any(String));
        expect(res.body.issues?.[0]).toMatchObject({
          field: expect.any(String),
          message: expect.any(String),
          fix: expect.any(String)
        });
      }
      if (status === 405 || status === 501) {
        expect(res.headers.allow).toMatch(/GET|PUT|POST/);
      }
    }
    const options = await raw('OPTIONS', '/api/settings');
    expect([options.status, options.headers.allow]).toEqual([204, 'GET, PUT']);
    // Invalid UTF-8 as bytes.
    const latin1 = await raw('PUT', '/api/settings', Buffer.from([0x7b, 0xff, 0x7d]), {
      'Content-Type': 'application/json'
    });
    expect(latin1.body.error).toMatch(/UTF-8/);
    // Nothing was changed.
    expect(runner.workflow.patterns.has('One')).toBe(true);
    expect(runner.workflow.recipes.has('Append')).toBe(true);
  });

  it('reads a refused body to its end: the answer arrives and the connection stays usable', async () => {
    const url = new URL(base);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (headers: Record<string, string>, body: Buffer) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        headers = { ...headers, 'Content-Length': String(body.length) };
        const req = http.request(
          { host: url.hostname, port: url.port, method: 'GET', path: '/api/status', agent, headers },
          res => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, socket: req.socket }));
          }
        );
        req.on('error', reject);
        req.end(body);
      });
    const big = Buffer.alloc(8 * 1024 * 1024, 'x');
    const refused = await send({ 'Content-Type': 'application/json' }, big); // no secret: 401
    const bodyOnGet = await send({ 'X-Meow-Secret': SECRET }, big); // body on GET: 400
    const fine = await send({ 'X-Meow-Secret': SECRET }, Buffer.alloc(0));
    expect([refused.status, bodyOnGet.status, fine.status]).toEqual([401, 400, 200]);
    expect(fine.socket).toBe(refused.socket); // the same keep-alive connection
    agent.destroy();
  });

  it('lists paused patterns and resumes them through runner.limits, pushing paused events', async () => {
    expect((await call('GET', '/api/paused')).body).toEqual({ paused: [] });
    expect((await call('POST', '/api/patterns/One/resume')).body).toEqual({ resumed: false });
    expect((await call('POST', '/api/patterns/Nope/resume')).status).toBe(404);
    expect((await call('POST', '/api/patterns/..%2Fx/resume')).status).toBe(400);
    // A stand-in for the runner's RuleLimits.
    const rule = {
      pattern: 'One',
      limit: 'max_rate',
      reason: '61 jobs in the last minute; max_rate is 60',
      since: new Date().toISOString()
    };
    let paused = [rule];
    const changed = new Signal<unknown, unknown>({});
    const limits = {
      changed,
      paused: () => paused,
      resume: async (p: string) => {
        const was = paused.some(r => r.pattern === p);
        paused = paused.filter(r => r.pattern !== p);
        changed.emit({ pattern: p });
        return was;
      }
    };
    // Shadow the runner's own limits for this test, and put them back after.
    const own = Object.getOwnPropertyDescriptor(runner, 'limits');
    Object.defineProperty(runner, 'limits', { value: limits, configurable: true, writable: true });
    const second = new ApiServer({ runner, secret: SECRET, version: 'test', statusIntervalMs: 0 });
    const secondBase = await second.listen({ port: 0 });
    second.markReady();
    try {
      const events: IServiceEvent[] = [];
      const ws = new WebSocket(secondBase.replace('http', 'ws') + 'api/events', {
        headers: { 'X-Meow-Secret': SECRET }
      });
      ws.on('message', d => events.push(JSON.parse(d.toString())));
      await new Promise(resolve => ws.on('open', resolve));
      const get = await fetch(secondBase + 'api/paused', { headers: { 'X-Meow-Secret': SECRET } });
      expect(await get.json()).toEqual({ paused: [rule] });
      const resume = await fetch(secondBase + 'api/patterns/One/resume', {
        method: 'POST',
        headers: { 'X-Meow-Secret': SECRET }
      });
      expect([resume.status, await resume.json()]).toEqual([200, { resumed: true }]);
      await until(() => events.some(e => e.type === 'paused'), 5000, 'a paused event');
      expect(events.find(e => e.type === 'paused')).toEqual({ type: 'paused', paused: [] });
      ws.close();
    } finally {
      await second.close();
      delete (runner as any).limits;
      if (own) {
        Object.defineProperty(runner, 'limits', own);
      }
    }
  });

  it('writes a pattern validated by the core, and refuses an invalid one naming the field', async () => {
    const invalid = await call('PUT', '/api/patterns/Two', {
      text: 'recipe: Append\ntrigger:\n  path: ""\n  events: [exploded]\n'
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues.map((i: any) => i.field)).toEqual(
      expect.arrayContaining(['trigger.path', 'trigger.events[0]'])
    );
    expect(invalid.body.issues.every((i: any) => i.fix)).toBe(true);
    await expect(fs.access(path.join(root, '.meow/patterns/Two.yaml'))).rejects.toThrow();

    const badName = await call('PUT', '/api/patterns/..%2Fescape', { text: 'recipe: Append\n' });
    expect(badName.status).toBe(400);
    expect(badName.body.issues[0].field).toBe('name');

    const created = await call('PUT', '/api/patterns/Two', {
      text: patternText('Append', 'first/*', '{VGRID}/second/{FILENAME}')
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Two', file: '.meow/patterns/Two.yaml', active: true });
    expect(runner.workflow.rulesForPattern('Two')).toHaveLength(1);
    await runner.waitUntilIdle();
    // M10: the new rule ran on the files already in first/.
    expect(await fs.readFile(path.join(root, 'second/a.txt'), 'utf8')).toBe('A\nx\nx\n');
    const list = await call('GET', '/api/patterns');
    expect(list.body.patterns.map((p: any) => p.name)).toEqual(['One', 'Two']);
    expect((await call('GET', '/api/rules')).body.rules.map((r: any) => r.pattern).sort()).toEqual(['One', 'Two']);

    // A file with problems (written by hand) is listed with its problem.
    await writeFile(root, '.meow/patterns/Broken.yaml', 'recipe: [\n');
    await until(() => runner.stateMonitor.problems.size > 0, 5000, 'the problem to be noticed');
    const broken = (await call('GET', '/api/patterns/Broken')).body;
    expect(broken.active).toBe(false);
    expect(broken.problem).toMatch(/YAML/);

    // Values YAML keeps exactly (big integers, 1.0) survive the JSON answer.
    const exact = await call('PUT', '/api/patterns/Exact', {
      text: 'recipe: Append\ntrigger:\n  path: "none/*"\nparameters:\n  big: 123456789012345678901234567890\n  f: 1.0\n'
    });
    expect(exact.status).toBe(201);
    expect(exact.body.pattern.parameters.f).toBe(1);
    expect(exact.body.pattern.parameters.big).toBeGreaterThan(1e29);

    expect((await call('DELETE', '/api/patterns/Two')).status).toBe(204);
    expect(runner.workflow.patterns.has('Two')).toBe(false);
    expect((await call('DELETE', '/api/patterns/Two')).status).toBe(404);
  });

  it('runs a pattern by hand on a workgroup file, an upload or nothing, and lists files waiting for approval', async () => {
    // A file pattern needs a file.
    const none = await call('POST', '/api/patterns/One/run');
    expect(none.status).toBe(409);
    expect(none.body.issues[0].fix).toMatch(/give a workgroup path/);
    const onFile = await call('POST', '/api/patterns/One/run', { path: 'start/a.txt' });
    expect(onFile.status).toBe(201);
    expect(onFile.body.jobs[0].trigger).toMatchObject({ kind: 'manual', path: 'start/a.txt' });
    const upload = await fetch(base + 'api/patterns/One/run?filename=up.txt', {
      method: 'POST',
      headers: { 'X-Meow-Secret': SECRET, 'Content-Type': 'application/octet-stream' },
      body: 'uploaded\n'
    });
    expect(upload.status).toBe(201);
    const uploaded = (await upload.json()) as { path: string };
    expect(uploaded.path).toMatch(/^\.meow\/incoming\/manual\/One\/.*\.txt$/);
    await runner.waitUntilIdle();
    expect(await fs.readFile(path.join(root, 'first', path.basename(uploaded.path)), 'utf8')).toBe('uploaded\nx\n');
    expect((await call('POST', '/api/patterns/One/run', { path: '../x' })).status).toBe(400);
    expect((await call('POST', '/api/patterns/One/run', { path: 'start/nope.txt' })).status).toBe(404);
    expect((await call('POST', '/api/patterns/One/run', { file: 'x' })).status).toBe(400);
    expect((await call('POST', '/api/patterns/Nope/run', { path: 'start/a.txt' })).status).toBe(404);
    // Human in the loop: files wait until approved.
    await writeFile(
      root,
      '.meow/patterns/Check.yaml',
      'recipe: Append\ntrigger:\n  manual: true\n  path: "review/*"\ninput: infile\nparameters:\n  extra: ok\noutputs:\n  outfile: "{VGRID}/approved/{FILENAME}"\n'
    );
    await writeFile(root, 'review/r1.txt', 'R1\n');
    await until(
      async () => (await call('GET', '/api/patterns/Check/waiting')).body?.files?.length === 1,
      5000,
      'the waiting file'
    );
    expect((await call('GET', '/api/patterns/Check/waiting')).body.files[0]).toMatchObject({
      path: 'review/r1.txt',
      size: 3
    });
    expect((await call('POST', '/api/patterns/Check/run', { path: 'review/r1.txt' })).status).toBe(201);
    await runner.waitUntilIdle();
    expect(await fs.readFile(path.join(root, 'approved/r1.txt'), 'utf8')).toBe('R1\nok\n');
    expect((await call('GET', '/api/patterns/Check/waiting')).body.files).toEqual([]);
  });

  it('registers recipes, refusing to replace one without overwrite', async () => {
    const nb = JSON.parse(recipeNotebook({ infile: "''", extra: "''", outfile: "''" }));
    const conflict = await call('PUT', '/api/recipes/Append', { notebook: nb });
    expect(conflict.status).toBe(409);
    expect(conflict.body.issues[0]).toMatchObject({ field: 'overwrite' });
    const replaced = await call('PUT', '/api/recipes/Append', {
      notebook: nb,
      source: 'nb/append.ipynb',
      overwrite: true
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'Append', source: 'nb/append.ipynb', patterns: ['One'] });
    expect(replaced.body.variables).toEqual(['infile', 'extra', 'outfile']);
    const fresh = await call('PUT', '/api/recipes/Other', { notebook: nb });
    expect(fresh.status).toBe(201);
    const detail = await call('GET', '/api/recipes/Other');
    expect(detail.body.notebook.cells).toHaveLength(1);
    const invalid = await call('PUT', '/api/recipes/Empty', { notebook: { cells: [] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues[0].field).toBe('notebook.cells');
    expect((await call('DELETE', '/api/recipes/Other')).status).toBe(204);
    expect((await call('GET', '/api/recipes/Other')).status).toBe(404);
  });

  it('lists, filters and pages jobs, with details and provenance', async () => {
    await call('PUT', '/api/patterns/Two', { text: patternText('Append', 'first/*', '{VGRID}/second/{FILENAME}') });
    await runner.waitUntilIdle();
    const all = (await call('GET', '/api/jobs')).body;
    expect(all.total).toBe(4);
    expect(all.jobs.map((j: any) => j.id)).toEqual([...all.jobs.map((j: any) => j.id)].sort().reverse());
    const page = (await call('GET', '/api/jobs?pattern=Two&limit=1&offset=1')).body;
    expect(page).toMatchObject({ total: 2, offset: 1, limit: 1 });
    expect(page.jobs[0].pattern).toBe('Two');
    expect((await call('GET', '/api/jobs?text=first/a')).body.total).toBe(1);
    const bad = await call('GET', '/api/jobs?status=exploded&limit=5000');
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: any) => i.field).sort()).toEqual(['limit', 'status']);

    const one = all.jobs.find((j: any) => j.pattern === 'One' && j.trigger.path === 'start/a.txt');
    const detail = (await call('GET', `/api/jobs/${one.id}`)).body;
    expect(detail.children).toHaveLength(1);
    expect(detail.folder).toBe(`.meow/jobs/${one.id}`);
    expect(detail.result).toBe(`.meow/jobs/${one.id}/result.ipynb`);
    expect((await call('GET', '/api/jobs/nope')).status).toBe(404);

    const graph = (await call('GET', '/api/provenance?path=start/a.txt')).body;
    expect(graph.jobs).toHaveLength(1);
    const full = (await call('GET', '/api/provenance')).body;
    expect(full.edges).toContainEqual({ from: one.id, to: detail.children[0], path: 'first/a.txt' });
    expect((await call('GET', '/api/provenance?before=soon')).status).toBe(400);
  });

  it('cancels a running job and reruns a finished one through the job factory', async () => {
    await call('PUT', '/api/patterns/Wait', {
      text: 'recipe: Slow\ntrigger:\n  path: "slow/*"\ninput: infile\n'
    });
    await writeFile(root, 'slow/x.txt', 'x');
    await until(() => runner.store.list().some(j => j.pattern === 'Wait' && j.status === 'running'), 5000, 'slow job');
    const slowJob = runner.store.list().find(j => j.pattern === 'Wait')!;
    const cancelled = await call('POST', `/api/jobs/${slowJob.id}/cancel`);
    expect(cancelled.status).toBe(200);
    await until(() => runner.store.get(slowJob.id)!.status === 'cancelled', 5000, 'cancellation');
    const again = await call('POST', `/api/jobs/${slowJob.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/cancelled/);

    const done = runner.store.list().find(j => j.pattern === 'One' && j.status === 'done')!;
    const rerun = await call('POST', `/api/jobs/${done.id}/rerun`);
    expect(rerun.status).toBe(201);
    expect(rerun.body.job).toMatchObject({ rerunOf: done.id, pattern: 'One', recipe: 'Append', status: 'queued' });
    expect(rerun.body.job.trigger).toMatchObject({ kind: 'rerun', path: done.trigger.path });
    expect(rerun.body.job.parameters).toEqual(done.parameters);
    await runner.waitUntilIdle();
    expect(runner.store.get(rerun.body.job.id)!.status).toBe('done');

    // The rule is gone: a clear 409.
    await call('DELETE', '/api/patterns/One');
    const gone = await call('POST', `/api/jobs/${done.id}/rerun`);
    expect(gone.status).toBe(409);
    expect(gone.body.error).toMatch(/no longer exists/);
    const queuedNotFinished = await call('POST', '/api/jobs/nope/rerun');
    expect(queuedNotFinished.status).toBe(404);
  });

  it('reads and writes settings, applying workers and timeout live', async () => {
    const initial = (await call('GET', '/api/settings')).body;
    expect(initial).toMatchObject({ settings: { workers: 1, settleMs: 30 }, restartRequired: [] });
    const bad = await call('PUT', '/api/settings', { workers: 0, timeoutSeconds: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: any) => i.field).sort()).toEqual(['timeoutSeconds', 'workers']);
    const put = await call('PUT', '/api/settings', { workers: 3, settleMs: 200, timeoutSeconds: 60 });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      settings: { workers: 3, settleMs: 200, timeoutSeconds: 60 },
      restartRequired: ['settleMs']
    });
    expect(runner.settings).toMatchObject({ workers: 3, timeoutMs: 60000 });
    const saved = await fs.readFile(path.join(root, '.meow/settings.yaml'), 'utf8');
    expect(saved).toMatch(/workers: 3/);
    expect(saved).toMatch(/settleMs: 200/);
  });

  it('pushes job and definition changes on the websocket', async () => {
    const ws = new WebSocket(base.replace('http', 'ws') + 'api/events', { headers: { 'X-Meow-Secret': SECRET } });
    const events: IServiceEvent[] = [];
    ws.on('message', data => events.push(JSON.parse(data.toString())));
    await new Promise(resolve => ws.on('open', resolve));
    await until(() => events.length > 0, 5000, 'the first status');
    expect(events[0].type).toBe('status');
    await writeFile(root, 'start/c.txt', 'C\n');
    await until(
      () => events.some(e => e.type === 'job' && e.job.trigger.path === 'start/c.txt' && e.job.status === 'done'),
      5000,
      'job events'
    );
    const statuses = events.filter(e => e.type === 'job').map(e => (e as any).job.status);
    expect(statuses).toEqual(expect.arrayContaining(['queued', 'running', 'done']));
    await writeFile(root, '.meow/patterns/Three.yaml', patternText('Append', 'x/*', 'y/{FILENAME}'));
    await until(() => events.some(e => e.type === 'definitions'), 5000, 'a definitions event');
    ws.close();
  });
});

describe('ApiServer.ROUTES', () => {
  it('lists exactly the routes the server answers', () => {
    const routes = makeRoutes({ definitions: {} } as any);
    const implemented = routes.flatMap(r => Object.keys(r.methods).map(m => `${m} ${r.template}`));
    expect([...implemented, 'GET /api/events'].sort()).toEqual(ApiServer.ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });
});
