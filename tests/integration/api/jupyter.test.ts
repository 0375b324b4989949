/**
 * The service inside a real `jupyter server` with the extension installed:
 * it starts with the server (no browser request needed), runs the
 * foundational example on that server's kernels, answers only through
 * Jupyter's authentication (every route, HTTP and websocket), refuses
 * direct requests without the secret, and cleans up every process.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { promises as fs, readFileSync } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import type { IJob } from '../../../src/core/types';
import { findFreePort } from '../../../src/service/jupyter/server';
import { recipeNotebook, until } from '../../helpers/workgroup';

const REPO = path.resolve(__dirname, '../../..');
const JUPYTER = path.join(REPO, '.venv', 'bin', 'jupyter');

/** Every route of schema/openapi.yaml with a method. */
const ROUTES: [string, string][] = [
  ['GET', 'api/status'],
  ['GET', 'api/patterns'],
  ['GET', 'api/patterns/Pattern_One'],
  ['PUT', 'api/patterns/Pattern_One'],
  ['DELETE', 'api/patterns/Pattern_One'],
  ['GET', 'api/recipes'],
  ['GET', 'api/recipes/Append'],
  ['PUT', 'api/recipes/Append'],
  ['DELETE', 'api/recipes/Append'],
  ['GET', 'api/rules'],
  ['GET', 'api/jobs'],
  ['GET', 'api/jobs/x'],
  ['POST', 'api/jobs/x/cancel'],
  ['POST', 'api/jobs/x/rerun'],
  ['GET', 'api/provenance'],
  ['GET', 'api/settings'],
  ['PUT', 'api/settings'],
  ['GET', 'api/events']
];

/** Command lines of all processes (to prove none is left). */
function processes(): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of require('fs').readdirSync('/proc') as string[]) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      out.push({ pid: Number(entry), cmd });
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('meow inside jupyter server', () => {
  const token = randomBytes(16).toString('hex');
  let root: string;
  let jupyter: ChildProcess;
  let log = '';
  let base: string;
  let socketPath: string;
  const kernelIds = new Set<string>();

  const auth = { Authorization: `token ${token}` };
  const call = async (method: string, route: string, body?: unknown, headers: Record<string, string> = auth) => {
    const res = await fetch(`${base}meow/${route}`, {
      method,
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual'
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  };
  const jobs = async (): Promise<IJob[]> => {
    const res = await call('GET', 'api/jobs?limit=1000');
    return res.status === 200 ? res.body.jobs : [];
  };
  const noteKernels = async () => {
    const res = await fetch(`${base}api/kernels`, { headers: auth });
    for (const k of (await res.json()) as { id: string }[]) {
      kernelIds.add(k.id);
    }
  };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-jupyter-'));
    await fs.cp(path.join(REPO, 'examples', 'foundational'), root, { recursive: true });
    await fs.rm(path.join(root, '.meow', 'jobs'), { recursive: true, force: true });
    const port = await findFreePort();
    base = `http://127.0.0.1:${port}/`;
    const args = [
      'server',
      '--no-browser',
      `--ServerApp.port=${port}`,
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${root}`,
      '--ServerApp.port_retries=0'
    ];
    if (process.getuid?.() === 0) {
      args.push('--allow-root');
    }
    jupyter = spawn(JUPYTER, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    jupyter.stdout!.on('data', d => (log += d.toString()));
    jupyter.stderr!.on('data', d => (log += d.toString()));
    // (a) The service comes up with the server: no request is made until it listens.
    await until(() => /meow API listening on unix:(\S+)/.test(log), 60000, `the service to listen; log:\n${log}`);
    socketPath = /meow API listening on unix:(\S+)/.exec(log)![1];
    // The API answers (state "starting") while definitions and jobs load.
    await until(
      async () => (await call('GET', 'api/status')).body?.state === 'running',
      60000,
      'the service to be running'
    );
  });

  afterAll(async () => {
    const node = processes().filter(p => p.cmd.includes('meow.js serve') && p.cmd.includes(root));
    if (jupyter && jupyter.exitCode === null) {
      jupyter.kill('SIGTERM');
      const exited = await new Promise<boolean>(resolve => {
        const t = setTimeout(() => resolve(false), 30000);
        jupyter.once('exit', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!exited) {
        jupyter.kill('SIGKILL');
      }
    }
    // No meow service, no kernel of this server, no jupyter of this test is left.
    await until(
      () =>
        !processes().some(
          p =>
            node.some(n => n.pid === p.pid) ||
            (p.cmd.includes('jupyter') && p.cmd.includes(token)) ||
            [...kernelIds].some(id => p.cmd.includes(id))
        ),
      20000,
      'every process to exit'
    );
    await fs.rm(root, { recursive: true, force: true });
  });

  it('(a) is up without any browser request, on this server, with the root dir as workgroup', async () => {
    const status = await call('GET', 'api/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ state: 'running', apiVersion: 1, workgroup: root });
    expect(log).toMatch(new RegExp(`--jupyter-url|using Jupyter server http://127\\.0\\.0\\.1:\\d+/`));
  });

  it('(b) runs the four foundational jobs on kernels of this Jupyter server', async () => {
    await until(
      async () => {
        const list = await jobs();
        return list.length === 4 && list.every(j => j.status === 'done');
      },
      90000,
      'four jobs done'
    );
    expect(await fs.readFile(path.join(root, 'second', 'Alpha.txt'), 'utf8')).toBe(
      'This is the starting state of Alpha\nThis line was added by Pattern_One\nThis line was added by Pattern_Two'
    );
    // A token in the query (as some clients send it) works too.
    const viaQuery = await call('GET', `api/jobs?token=${token}&status=done&limit=2`, undefined, {});
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.body).toMatchObject({ total: 4, limit: 2 });
    // The service's (pooled) kernel lives on this server: it shows in Lab's Running panel.
    await noteKernels();
    expect(kernelIds.size).toBeGreaterThan(0);
  });

  it('(c) refuses every route without Jupyter auth, and direct requests without the secret', async () => {
    for (const [method, route] of ROUTES) {
      for (const headers of [{}, { Authorization: 'token wrong' }] as Record<string, string>[]) {
        const res = await call(method, route, method === 'PUT' ? {} : undefined, headers);
        expect([method, route, res.status]).toEqual([method, route, 403]);
      }
      // Straight to the service's socket, bypassing Jupyter: no secret, no answer.
      for (const secret of [undefined, 'guess']) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(
            { socketPath, path: `/${route}`, method, headers: secret ? { 'X-Meow-Secret': secret } : {} },
            res => {
              res.resume();
              resolve(res.statusCode!);
            }
          );
          req.on('error', reject);
          req.end(method === 'PUT' ? '{}' : undefined);
        });
        expect([method, route, 'direct', status]).toEqual([method, route, 'direct', 401]);
      }
    }
    // The websocket too.
    for (const headers of [{}, { Authorization: 'token wrong' }]) {
      const ws = new WebSocket(`${base.replace('http', 'ws')}meow/api/events`, { headers });
      const code = await new Promise(resolve => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('open', () => resolve('open'));
        ws.on('error', () => undefined);
      });
      expect(code).toBe(403);
    }
    // The socket's folder is private to this user.
    expect((await fs.stat(path.dirname(socketPath))).mode & 0o077).toBe(0);
    // Nothing was changed by refused requests.
    const patterns = await call('GET', 'api/patterns');
    expect(patterns.status).toBe(200);
    expect(patterns.body.patterns.map((p: any) => p.name)).toEqual(['Pattern_One', 'Pattern_Two']);
  });

  it('(c) in a browser session: cookie login, XSRF on unsafe methods, same-origin websockets only', async () => {
    const cookies = new Map<string, string>();
    const remember = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
    };
    const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    remember(await fetch(`${base}login`, { redirect: 'manual' }));
    const xsrf = cookies.get('_xsrf')!;
    expect(xsrf).toBeTruthy();
    const login = await fetch(`${base}login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Cookie: cookieHeader(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `_xsrf=${encodeURIComponent(xsrf)}&password=${token}`
    });
    expect(login.status).toBe(302);
    remember(login);
    const session = { Cookie: cookieHeader() };
    expect((await call('GET', 'api/status', undefined, session)).status).toBe(200);
    // A cross-site form can post with the cookie but cannot know the XSRF token.
    expect((await call('POST', 'api/jobs/x/rerun', undefined, session)).status).toBe(403);
    expect((await call('PUT', 'api/settings', { workers: 1 }, session)).status).toBe(403);
    const withXsrf = await call('POST', 'api/jobs/x/rerun', undefined, { ...session, 'X-XSRFToken': xsrf });
    expect(withXsrf.status).toBe(404); // reached the service: no such job
    // Websockets: same origin yes, another origin no.
    const open = (origin: string) =>
      new Promise(resolve => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}meow/api/events`, {
          headers: { ...session, Origin: origin }
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('error', () => undefined);
      });
    expect(await open(base.replace(/\/$/, ''))).toBe('open');
    expect(await open('https://evil.example')).toBe(403);
  });

  it('(d) pushes job events on the websocket through the proxy', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}meow/api/events`, { headers: auth });
    const events: any[] = [];
    ws.on('message', data => events.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    await until(() => events.some(e => e.type === 'status'), 10000, 'a status event');
    await fs.writeFile(path.join(root, 'start', 'Charlie.txt'), 'This is the starting state of Charlie\n');
    await until(
      () => events.some(e => e.type === 'job' && e.job.trigger.path === 'first/Charlie.txt' && e.job.status === 'done'),
      60000,
      'the Charlie chain on the websocket'
    );
    const seen = events
      .filter(e => e.type === 'job' && e.job.trigger.path === 'start/Charlie.txt')
      .map(e => e.job.status);
    expect(seen).toEqual(expect.arrayContaining(['queued', 'running', 'done']));
    ws.close();
  });

  it('(e) refuses an invalid pattern with issues naming the field', async () => {
    const res = await call('PUT', 'api/patterns/Broken', {
      text: 'recipe: Append\ntrigger:\n  path: "start/*"\n  events: [exploded]\nsweep:\n  n: {start: 1, stop: 3, step: 0}\n'
    });
    expect(res.status).toBe(400);
    const fields = res.body.issues.map((i: any) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['trigger.events[0]']));
    expect(fields.some((f: string) => f.startsWith('sweep.n'))).toBe(true);
    expect(res.body.issues.every((i: any) => i.message && i.fix)).toBe(true);
    await expect(fs.access(path.join(root, '.meow/patterns/Broken.yaml'))).rejects.toThrow();
  });

  it('(f) cancels a running job and reruns a finished one', async () => {
    const slow = JSON.parse(recipeNotebook({ infile: "''" }, 'import time\ntime.sleep(120)\n'));
    expect((await call('PUT', 'api/recipes/Slow', { notebook: slow })).status).toBe(201);
    expect(
      (await call('PUT', 'api/patterns/Wait', { text: 'recipe: Slow\ntrigger:\n  path: "slow/*"\ninput: infile\n' }))
        .status
    ).toBe(201);
    await fs.mkdir(path.join(root, 'slow'), { recursive: true });
    await fs.writeFile(path.join(root, 'slow', 'x.txt'), 'x');
    let running: IJob | undefined;
    await until(
      async () => {
        running = (await jobs()).find(j => j.pattern === 'Wait' && j.status === 'running');
        return !!running;
      },
      60000,
      'the slow job to run'
    );
    await noteKernels();
    const cancel = await call('POST', `api/jobs/${running!.id}/cancel`);
    expect(cancel.status).toBe(200);
    await until(
      async () => (await call('GET', `api/jobs/${running!.id}`)).body.job.status === 'cancelled',
      30000,
      'cancelled'
    );
    expect((await call('POST', `api/jobs/${running!.id}/cancel`)).status).toBe(409);

    const done = (await jobs()).find(j => j.pattern === 'Pattern_One' && j.trigger.path === 'start/Alpha.txt')!;
    const rerun = await call('POST', `api/jobs/${done.id}/rerun`);
    expect(rerun.status).toBe(201);
    expect(rerun.body.job).toMatchObject({ rerunOf: done.id, pattern: 'Pattern_One', parameters: done.parameters });
    await until(
      async () => (await call('GET', `api/jobs/${rerun.body.job.id}`)).body.job.status === 'done',
      60000,
      'the rerun'
    );
    const running2 = await call('POST', `api/jobs/${rerun.body.job.id}/rerun`);
    expect(running2.status).toBe(201);
    const notFinished = await call('POST', `api/jobs/${running2.body.job.id}/rerun`);
    expect(notFinished.status).toBe(409);
  });
});
