/**
 * Fuzzing the API through the real Jupyter proxy: a `jupyter server` from
 * .venv with the extension, on a small workgroup, gets FUZZ_REQUESTS random
 * requests (methods, paths from the route templates filled with hostile
 * values, query strings, headers, bodies, aborted requests), 16 at a time.
 *
 * Client mistakes must be 4xx: no 5xx at all except 502/503/504 with a JSON
 * reason. Afterwards the service is the same process and answers, nothing
 * outside the workgroup changed (a sentinel folder next to it), and inside
 * it nothing changed outside `.meow/`.
 *
 * Reproduce a failure with MEOW_FUZZ_SEED=<seed printed> (and
 * MEOW_FUZZ_REQUESTS=<n> for a shorter run).
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { promises as fs, readFileSync, readdirSync } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { findFreePort } from '../../../src/service/jupyter/server';
import { recipeNotebook, until } from '../../helpers/workgroup';

const REPO = path.resolve(__dirname, '../../..');
const JUPYTER = path.join(REPO, '.venv', 'bin', 'jupyter');
const SEED = Number(process.env.MEOW_FUZZ_SEED ?? 20261129);
const FUZZ_REQUESTS = Number(process.env.MEOW_FUZZ_REQUESTS ?? 10000);
const CONCURRENCY = 16;

/** mulberry32: small, seeded, good enough to pick test inputs. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => {
    const b = Buffer.alloc(Math.ceil(n / 4) * 4);
    for (let i = 0; i < b.length; i += 4) {
      b.writeUInt32LE(Math.floor(next() * 4294967296), i);
    }
    return b.subarray(0, n);
  };
  return { next, int, pick, chance, bytes };
}
type Rng = ReturnType<typeof rng>;

/** Routes of schema/openapi.yaml (and a few near misses), `{}` = a parameter. */
const TEMPLATES = [
  'api/status',
  'api/patterns',
  'api/patterns/{}',
  'api/patterns/{}/resume',
  'api/paused',
  'api/recipes',
  'api/recipes/{}',
  'api/rules',
  'api/jobs',
  'api/jobs/{}',
  'api/jobs/{}/cancel',
  'api/jobs/{}/rerun',
  'api/provenance',
  'api/settings',
  'api/events',
  'api/{}',
  '{}',
  'api/patterns/{}/{}',
  'api/jobs/{}/{}',
  ''
];
const METHODS = [
  'GET',
  'GET',
  'GET',
  'PUT',
  'PUT',
  'POST',
  'POST',
  'DELETE',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'PROPFIND',
  'BREW'
];

/** Path parameters: valid names, traversal, encodings, control characters, unicode, long. */
function hostileValue(r: Rng, jobId: string): string {
  const values = [
    'P',
    'Noop',
    'Other',
    jobId,
    jobId,
    'x',
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F%2E%2E',
    '..%2F..%2Fsentinel%2Fkeep.txt',
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '..%5C..%5Csentinel',
    '%2Ftmp%2Fmeow-fuzz-abs',
    '%2F',
    '%00',
    'P%00.yaml',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AE%C0%AE',
    '%FF%FE',
    '.meow',
    '.hidden',
    '~',
    '%0A%0D',
    '%1B%5B2J',
    '%7F',
    encodeURIComponent('ü名🙂'),
    encodeURIComponent('\u202e\u2028'),
    'a'.repeat(r.pick([199, 200, 201, 300, 5000])),
    'x'.repeat(r.pick([10000, 70000])),
    'P.yaml',
    'Noop.ipynb',
    '*',
    "P'%22%3B",
    '%3F',
    '%23',
    '%25',
    '..%252F..%252F'
  ];
  return r.pick(values);
}

function makePath(r: Rng, jobId: string): string {
  if (r.chance(0.03)) {
    // Outside the proxy prefix entirely, or the bare prefix.
    return r.pick([
      '/meow',
      '/meow/',
      '/meow//api//status',
      '/meow/api/status/',
      '/meow/./api/status',
      '/meow/%2e%2e/api/contents'
    ]);
  }
  const template = r.pick(TEMPLATES);
  return '/meow/' + template.replace(/\{\}/g, () => hostileValue(r, jobId));
}

function makeQuery(r: Rng, token: string): string {
  if (r.chance(0.6)) {
    return '';
  }
  const parts = [
    'limit=5',
    'limit=-1',
    'limit=1e99',
    'offset=abc',
    'status=done',
    'status=%00',
    'status=queued&status=exploded',
    'pattern=P',
    'path=..%2F..%2Fsentinel',
    'before=soon',
    'after=2026-01-01T00:00:00Z',
    'text=' + 'q'.repeat(r.pick([1, 100, 3000])),
    '%zz=1',
    'a',
    '=',
    '&&&',
    `token=${token}`,
    'token=wrong',
    '_=123',
    '12345',
    encodeURIComponent('名') + '=' + encodeURIComponent('🙂')
  ];
  const n = 1 + r.int(3);
  return '?' + Array.from({ length: n }, () => r.pick(parts)).join('&');
}

const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'garbage/;;;',
  'application/merge-patch+json'
];

function deep(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

function makeBody(r: Rng, index: number): Buffer | undefined {
  // A few bodies over the service's 64 MiB limit, at fixed positions (memory and time).
  if (index % 4000 === 1234) {
    return Buffer.alloc(65 * 1024 * 1024, 'x');
  }
  const roll = r.next();
  if (roll < 0.35) {
    return undefined;
  }
  if (roll < 0.42) {
    return Buffer.alloc(0);
  }
  if (roll < 0.5) {
    return r.bytes(1 + r.int(2000));
  }
  if (roll < 0.52) {
    // Large: a random block repeated (drawing megabytes byte by byte is slow).
    const block = r.bytes(64 * 1024);
    return Buffer.concat(Array.from({ length: 4 + r.int(32) }, () => block));
  }
  const shapes = [
    '{}',
    '[]',
    'null',
    '1',
    '"text"',
    'true',
    '{"text": 123}',
    '{"text": ["recipe: Noop"]}',
    '{"text": "recipe: Noop\\ntrigger:\\n  path: \\"zz/*\\"\\ninput: infile\\n"}',
    '{"text": "recipe: Missing\\ntrigger:\\n  path: \\"../../sentinel/*\\"\\n"}',
    '{"text": "a: &a [*a, *a]\\n"}',
    '{"text": "' + 'x'.repeat(100000) + '"}',
    '{"notebook": {}}',
    '{"notebook": {"cells": "no"}, "overwrite": "yes"}',
    '{"notebook": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, "source": "../../sentinel/x.ipynb"}',
    '{"notebook": null, "overwrite": true}',
    '{"workers": "many"}',
    '{"workers": -1}',
    '{"workers": 1e309}',
    '{"timeoutSeconds": 0}',
    '{"settleMs": {"$gt": 1}}',
    '{"__proto__": {"polluted": true}, "workers": 1}',
    '{"constructor": {"prototype": {"x": 1}}}',
    '{"text": "\\u0000\\u001b[2J"}',
    '{"text": "\\ud800"}',
    '{',
    '{"a": 1,}',
    '\ufeff{}',
    deep(r.pick([50, 300, 5000])),
    '{"a":' + deep(1000) + '}'
  ];
  return Buffer.from(r.pick(shapes), 'utf8');
}

interface IOutcome {
  status: number | 'aborted' | 'error';
  detail?: string;
}

describe('API fuzz through the Jupyter proxy', () => {
  const token = randomBytes(16).toString('hex');
  let parent: string;
  let root: string;
  let sentinel: string;
  let jupyter: ChildProcess;
  let log = '';
  let port: number;
  let servicePid: number | undefined;

  const request = (
    method: string,
    target: string,
    opts: { body?: Buffer; headers?: Record<string, string>; abort?: 'early' | 'mid'; chunked?: boolean } = {}
  ) =>
    new Promise<IOutcome & { body?: string; headers?: http.IncomingHttpHeaders }>(resolve => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.body !== undefined && !opts.chunked) {
        headers['Content-Length'] = String(opts.body.length);
      }
      if (opts.chunked) {
        headers['Transfer-Encoding'] = 'chunked';
      }
      let req: http.ClientRequest;
      try {
        req = http.request(
          { host: '127.0.0.1', port, method, path: target, headers, agent: false, timeout: 120000 },
          res => {
            const chunks: Buffer[] = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers })
            );
            res.on('error', err => resolve({ status: 'error', detail: `response: ${err.message}` }));
          }
        );
      } catch (err) {
        // Node refuses to send it (e.g. a character not allowed in a path): not a server outcome.
        resolve({ status: 'error', detail: `client: ${(err as Error).message}` });
        return;
      }
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', err => resolve(opts.abort ? { status: 'aborted' } : { status: 'error', detail: err.message }));
      if (opts.abort === 'early') {
        req.flushHeaders();
        setTimeout(() => req.destroy(), 5);
        return;
      }
      if (opts.abort === 'mid' && opts.body && opts.body.length > 1) {
        req.write(opts.body.subarray(0, opts.body.length >> 1));
        setTimeout(() => req.destroy(), 5);
        return;
      }
      req.end(opts.body);
    });

  const status = async () => {
    const res = await request('GET', '/meow/api/status', { headers: { Authorization: `token ${token}` } });
    return res.status === 200 ? JSON.parse(res.body!) : undefined;
  };

  /** Every file and folder under dir (except skip), with what a change would alter. */
  const snapshot = async (dir: string, skip?: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    const walk = async (d: string) => {
      for (const entry of await fs.readdir(d, { withFileTypes: true })) {
        const abs = path.join(d, entry.name);
        if (skip && abs === skip) {
          continue;
        }
        const st = await fs.lstat(abs);
        out[path.relative(dir, abs)] = `${st.mode}:${st.size}:${st.mtimeMs}:${st.ino}`;
        if (entry.isDirectory()) {
          await walk(abs);
        }
      }
    };
    await walk(dir);
    return out;
  };

  const serviceProcess = () => {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) {
        continue;
      }
      try {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
        if (cmd.includes('meow.js serve') && cmd.includes(root)) {
          return Number(entry);
        }
      } catch {
        /* gone */
      }
    }
    return undefined;
  };

  beforeAll(async () => {
    parent = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-fuzz-'));
    root = path.join(parent, 'wg');
    sentinel = path.join(parent, 'sentinel');
    await fs.mkdir(sentinel, { recursive: true });
    await fs.writeFile(path.join(sentinel, 'keep.txt'), 'must not change\n');
    await fs.writeFile(path.join(sentinel, 'x.ipynb'), '{}\n');
    await fs.mkdir(path.join(root, '.meow', 'patterns'), { recursive: true });
    await fs.mkdir(path.join(root, '.meow', 'recipes'), { recursive: true });
    await fs.mkdir(path.join(root, 'in'), { recursive: true });
    await fs.mkdir(path.join(root, 'data'), { recursive: true });
    await fs.writeFile(path.join(root, 'in', 'a.txt'), 'a\n');
    await fs.writeFile(path.join(root, 'data', 'notes.txt'), 'data\n');
    await fs.writeFile(path.join(root, '.meow', 'recipes', 'Noop.ipynb'), recipeNotebook({ infile: "''" }, 'x = 1\n'));
    await fs.writeFile(
      path.join(root, '.meow', 'patterns', 'P.yaml'),
      'recipe: Noop\ntrigger:\n  path: "in/*.txt"\ninput: infile\n'
    );
    port = await findFreePort();
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
    await until(async () => (await status())?.state === 'running', 90000, `the service to run; log:\n${log}`);
    await until(async () => (await status())?.counts.done === 1, 90000, 'the one job to finish');
    servicePid = serviceProcess();
    expect(servicePid).toBeDefined();
  });

  afterAll(async () => {
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
    await until(() => serviceProcess() === undefined, 20000, 'the service to exit');
    await fs.rm(parent, { recursive: true, force: true });
  });

  it(`answers ${FUZZ_REQUESTS} hostile requests without a 5xx, stays up, and writes only under .meow/`, async () => {
    const jobs = JSON.parse(
      (await request('GET', '/meow/api/jobs', { headers: { Authorization: `token ${token}` } })).body!
    ).jobs as { id: string }[];
    const jobId = jobs[0].id;
    const outsideBefore = await snapshot(sentinel);
    const insideBefore = await snapshot(root, path.join(root, '.meow'));

    // Request i is drawn from its own generator, so it depends on the seed
    // and i only (not on timing), and is made only when it is sent.
    const plan = (i: number) => {
      const r = rng((SEED * 1000003 + i) >>> 0);
      const method = r.pick(METHODS);
      const target = makePath(r, jobId) + makeQuery(r, token);
      const headers: Record<string, string> = {};
      if (!r.chance(0.05)) {
        headers.Authorization = r.chance(0.02) ? 'token wrong' : `token ${token}`;
      }
      const type = r.pick(CONTENT_TYPES);
      if (type) {
        headers['Content-Type'] = type;
      }
      if (r.chance(0.05)) {
        headers.Accept = 'text/event-stream';
      }
      if (r.chance(0.03)) {
        headers['X-Meow-Secret'] = 'spoofed';
      }
      if (r.chance(0.02)) {
        headers['Content-Encoding'] = 'gzip';
      }
      if (r.chance(0.02)) {
        headers['X-Junk'] = 'y'.repeat(r.int(20000));
      }
      const body = makeBody(r, i);
      const abort = r.chance(0.03) ? r.pick(['early', 'mid'] as const) : undefined;
      const chunked = body !== undefined && r.chance(0.1);
      return { method, target, headers, body, abort, chunked };
    };

    const histogram = new Map<string, number>();
    const failures: string[] = [];
    const explained5xx: string[] = [];
    const notJson: string[] = [];
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < FUZZ_REQUESTS) {
        const i = next++;
        const p = plan(i);
        const res = await request(p.method, p.target, p);
        const key = String(res.status);
        histogram.set(key, (histogram.get(key) ?? 0) + 1);
        const where = `#${i} ${p.method} ${p.target.slice(0, 120)} body=${p.body?.length ?? 'none'} abort=${p.abort ?? 'no'}`;
        if (res.status === 'error') {
          // Tornado closes the connection on a request head over its 64 KiB
          // limit, before any handler runs: Jupyter's behaviour, not a 5xx.
          const head =
            p.target.length + Object.entries(p.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
          if (head > 60 * 1024) {
            histogram.set('closed (head > 64 KiB)', (histogram.get('closed (head > 64 KiB)') ?? 0) + 1);
            histogram.set(key, histogram.get(key)! - 1);
            continue;
          }
          if (!res.detail?.startsWith('client:')) {
            failures.push(`${where}: ${res.detail}`);
          }
          continue;
        }
        if (res.status === 'aborted') {
          continue;
        }
        let parsed: any;
        try {
          parsed = res.body ? JSON.parse(res.body) : undefined;
        } catch {
          parsed = undefined;
        }
        if (res.status >= 500) {
          const reason = typeof parsed?.error === 'string' ? parsed.error : undefined;
          if ([502, 503, 504].includes(res.status) && reason) {
            explained5xx.push(`${where}: ${res.status} ${reason.slice(0, 200)}`);
          } else {
            failures.push(`${where}: ${res.status} ${res.body?.slice(0, 300)}`);
          }
        } else if (
          res.status >= 400 &&
          p.method !== 'HEAD' &&
          p.target.startsWith('/meow/') &&
          typeof parsed?.error !== 'string'
        ) {
          // (Paths outside /meow/ get Jupyter's own pages.)
          notJson.push(`${where}: ${res.status} ${res.headers?.['content-type']} ${res.body?.slice(0, 100)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;

    const sorted = [...histogram].sort(([a], [b]) => a.localeCompare(b));
    console.log(
      `API fuzz: seed ${SEED}, ${FUZZ_REQUESTS} requests in ${seconds.toFixed(1)} s (concurrency ${CONCURRENCY})\n` +
        sorted.map(([k, n]) => `  ${k.padEnd(8)} ${String(n).padStart(6)}`).join('\n') +
        (explained5xx.length ? `\nexplained 5xx:\n  ${explained5xx.slice(0, 20).join('\n  ')}` : '')
    );

    // No unexplained 5xx and no broken exchange; every error body is JSON.
    if (failures.length) {
      console.log(`${failures.length} failures; Jupyter's log ends:\n${log.slice(-6000)}`);
    }
    expect(failures.slice(0, 30)).toEqual([]);
    expect(notJson.slice(0, 30)).toEqual([]);
    // 502/503/504 would mean the service went away or hung: none are expected.
    expect(explained5xx.slice(0, 30)).toEqual([]);
    // The same service process still answers.
    const after = await status();
    expect(after?.state).toBe('running');
    expect(serviceProcess()).toBe(servicePid);
    expect(log).not.toMatch(/restarting it/);
    // Nothing changed outside the workgroup, nor in it outside .meow/.
    expect(await snapshot(sentinel)).toEqual(outsideBefore);
    expect(await snapshot(root, path.join(root, '.meow'))).toEqual(insideBefore);
    await expect(fs.access('/tmp/meow-fuzz-abs')).rejects.toThrow();
    // About 2.5 minutes on 2 busy cores; the limit leaves room for a slower machine.
  }, 360000);
});
