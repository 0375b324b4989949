/**
 * The API server on a real runner with a scripted conductor (no Jupyter):
 * the secret on every route, definitions round trips, job queries and
 * actions, settings, and the websocket of live changes.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import type { IServiceEvent } from '../../../../src/core/api';
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
    const bad = await fetch(base + 'api/settings', { method: 'PUT', headers: { 'X-Meow-Secret': SECRET }, body: '{oops' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).issues[0].field).toBe('(body)');
  });

  it('writes a pattern validated by the core, and refuses an invalid one naming the field', async () => {
    const invalid = await call('PUT', '/api/patterns/Two', { text: 'recipe: Append\ntrigger:\n  path: ""\n  events: [exploded]\n' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues.map((i: any) => i.field)).toEqual(expect.arrayContaining(['trigger.path', 'trigger.events[0]']));
    expect(invalid.body.issues.every((i: any) => i.fix)).toBe(true);
    await expect(fs.access(path.join(root, '.meow/patterns/Two.yaml'))).rejects.toThrow();

    const badName = await call('PUT', '/api/patterns/..%2Fescape', { text: 'recipe: Append\n' });
    expect(badName.status).toBe(400);
    expect(badName.body.issues[0].field).toBe('name');

    const created = await call('PUT', '/api/patterns/Two', { text: patternText('Append', 'first/*', '{VGRID}/second/{FILENAME}') });
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

  it('registers recipes, refusing to replace one without overwrite', async () => {
    const nb = JSON.parse(recipeNotebook({ infile: "''", extra: "''", outfile: "''" }));
    const conflict = await call('PUT', '/api/recipes/Append', { notebook: nb });
    expect(conflict.status).toBe(409);
    expect(conflict.body.issues[0]).toMatchObject({ field: 'overwrite' });
    const replaced = await call('PUT', '/api/recipes/Append', { notebook: nb, source: 'nb/append.ipynb', overwrite: true });
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
    expect(put.body).toEqual({ settings: { workers: 3, settleMs: 200, timeoutSeconds: 60 }, restartRequired: ['settleMs'] });
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
    const routes = (ApiServer as any).prototype._makeRoutes.call({ _definitions: {} }) as { template: string; methods: object }[];
    const implemented = routes.flatMap(r => Object.keys(r.methods).map(m => `${m} ${r.template}`));
    expect([...implemented, 'GET /api/events'].sort()).toEqual(ApiServer.ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });
});
