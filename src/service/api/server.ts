/**
 * The service's HTTP API (`src/core/api.ts`, described in
 * `schema/openapi.yaml`) and its websocket of live changes, on Node's
 * `http` and the `ws` package.
 *
 * Every request, the websocket included, must carry the service secret in
 * the `X-Meow-Secret` header. Inside Jupyter only the authenticated proxy
 * (jupyterlab_meow's server extension) knows it, so the browser reaches the
 * service only through Jupyter's own authentication.
 */
import { timingSafeEqual } from 'crypto';
import { promises as fs, watch, FSWatcher } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { WebSocket, WebSocketServer } from 'ws';
import type {
  IJobDetail,
  IServiceEvent,
  IServiceSettings,
  ISettingsResult,
  IStatus
} from '../../core/api';
import { API_VERSION, SECRET_HEADER, validateServiceSettings } from '../../core/api';
import { isFinalStatus } from '../../core/jobs';
import { provenanceGraph } from '../../core/provenance';
import { jsonReplacer } from '../../core/pyvalue';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import { MeowRunner } from '../runner';
import { SettingsFile } from '../settings';
import { Definitions } from './definitions';
import { ApiError } from './errors';
import { JobIndex } from './jobIndex';
import {
  parseJobQuery,
  parseNoParams,
  parsePatternWrite,
  parseProvenanceFilter,
  parseRecipeWrite
} from './query';

/** Largest accepted request body (a notebook with outputs can be large). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** A websocket client this far behind is disconnected (it reconnects and re-fetches). */
const MAX_WS_BUFFER = 32 * 1024 * 1024;

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
interface IRequest {
  method: Method;
  params: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
}
interface IResponse {
  status?: number;
  body: unknown;
}
type Handler = (req: IRequest) => Promise<IResponse> | IResponse;
interface IRoute {
  pattern: RegExp;
  /** Template for error messages, e.g. `/api/jobs/{id}`. */
  template: string;
  methods: Partial<Record<Method, Handler>>;
}

export class ApiServer {
  constructor(options: ApiServer.IOptions) {
    if (!options.secret) {
      throw new Error('the API server needs a secret: every request must carry it');
    }
    this._secret = Buffer.from(options.secret, 'utf8');
    this._runner = options.runner;
    this._log = options.log ?? silentLogger;
    this._version = options.version;
    this._settingsFile = options.settingsFile ?? new SettingsFile(this._runner.root, this._runner.stateDir);
    this._statusIntervalMs = options.statusIntervalMs ?? 5000;
    this._definitions = new Definitions(this._runner);
    const s = this._runner.settings;
    this._saved = options.saved ?? { workers: s.workers, settleMs: s.settleMs, timeoutSeconds: s.timeoutMs / 1000 };
    this._routes = this._makeRoutes();
    this._http = http.createServer((req, res) => void this._handle(req, res));
    this._wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    this._http.on('upgrade', (req, socket, head) => this._upgrade(req, socket, head));
    this._runner.jobChanged.connect(this._onJob, this);
  }

  /** The service state reported by /api/status. */
  get state(): IStatus['state'] {
    return this._state;
  }

  /** The underlying Node server (e.g. to read its address). */
  get httpServer(): http.Server {
    return this._http;
  }

  /**
   * Listen on a Unix socket (`{ socket }`, made readable by its owner only)
   * or on a TCP port of a loopback address (`{ port, host }`).
   * Resolves with a description of the address.
   */
  async listen(target: { socket: string } | { port: number; host?: string }): Promise<string> {
    if ('socket' in target) {
      await fs.rm(target.socket, { force: true });
      await new Promise<void>((resolve, reject) => {
        this._http.once('error', reject);
        this._http.listen(target.socket, () => resolve());
      });
      await fs.chmod(target.socket, 0o600);
      return `unix:${target.socket}`;
    }
    const host = target.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this._http.once('error', reject);
      this._http.listen(target.port, host, () => resolve());
    });
    const address = this._http.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  }

  /** The runner has started: serve every route, start pushing events. */
  markReady(): void {
    this._index = new JobIndex(this._runner.store.list());
    this._state = 'running';
    this._watchDefinitions();
    if (this._statusIntervalMs > 0) {
      this._statusTimer = setInterval(() => this._broadcast({ type: 'status', status: this.status() }), this._statusIntervalMs);
      this._statusTimer.unref?.();
    }
    this._broadcast({ type: 'status', status: this.status() });
  }

  /** Stop accepting requests and close every websocket. */
  async close(): Promise<void> {
    this._state = 'stopping';
    this._runner.jobChanged.disconnect(this._onJob, this);
    clearInterval(this._statusTimer);
    clearTimeout(this._definitionsTimer);
    this._watchers.forEach(w => w.close());
    this._watchers = [];
    for (const client of this._wss.clients) {
      client.close(1001, 'meow is stopping');
    }
    this._wss.close();
    await new Promise<void>(resolve => {
      this._http.close(() => resolve());
      this._http.closeAllConnections?.();
    });
  }

  /** GET /api/status */
  status(): IStatus {
    const counts = this._index?.counts() ?? { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, skipped: 0 };
    const problems: Record<string, string> = {};
    for (const [file, problem] of this._runner.stateMonitor.problems) {
      problems[file] = problem;
    }
    const settings = this._runner.settings;
    return {
      state: this._state,
      version: this._version,
      apiVersion: API_VERSION,
      workgroup: this._runner.root,
      uptime: (Date.now() - this._started) / 1000,
      workers: settings.workers,
      counts,
      problems,
      settings: { ...this._saved, workers: settings.workers, timeoutSeconds: settings.timeoutMs / 1000 }
    };
  }

  // ---------------------------------------------------------------------------
  // Routes

  private _makeRoutes(): IRoute[] {
    const name = '([^/]+)';
    const route = (template: string, pattern: string, methods: IRoute['methods']): IRoute => ({
      template,
      pattern: new RegExp(`^${pattern}$`),
      methods
    });
    const noParams = (req: IRequest) => {
      const issues = parseNoParams(req.query);
      if (issues.length) {
        throw ApiError.invalid('unknown query parameter', issues);
      }
    };
    const defs = this._definitions;
    return [
      route('/api/status', '/api/status', {
        GET: req => (noParams(req), { body: this.status() })
      }),
      route('/api/patterns', '/api/patterns', {
        GET: async req => (noParams(req), { body: { patterns: await defs.listPatterns() } })
      }),
      route('/api/patterns/{name}', `/api/patterns/${name}`, {
        GET: async req => (noParams(req), { body: await defs.getPattern(req.params[0]) }),
        PUT: async req => {
          noParams(req);
          const parsed = parsePatternWrite(await req.body());
          if (!parsed.value) {
            throw ApiError.invalid('the request body is not a pattern write', parsed.issues);
          }
          const { info, created } = await defs.putPattern(req.params[0], parsed.value.text);
          this._definitionsChanged();
          return { status: created ? 201 : 200, body: info };
        },
        DELETE: async req => {
          noParams(req);
          await defs.deletePattern(req.params[0]);
          this._definitionsChanged();
          return { status: 204, body: undefined };
        }
      }),
      route('/api/recipes', '/api/recipes', {
        GET: async req => (noParams(req), { body: { recipes: await defs.listRecipes() } })
      }),
      route('/api/recipes/{name}', `/api/recipes/${name}`, {
        GET: async req => (noParams(req), { body: await defs.getRecipe(req.params[0]) }),
        PUT: async req => {
          noParams(req);
          const parsed = parseRecipeWrite(await req.body());
          if (!parsed.value) {
            throw ApiError.invalid('the request body is not a recipe write', parsed.issues);
          }
          const { notebook, source, overwrite } = parsed.value;
          const { info, created } = await defs.putRecipe(req.params[0], notebook, { source, overwrite });
          this._definitionsChanged();
          return { status: created ? 201 : 200, body: info };
        },
        DELETE: async req => {
          noParams(req);
          await defs.deleteRecipe(req.params[0]);
          this._definitionsChanged();
          return { status: 204, body: undefined };
        }
      }),
      route('/api/rules', '/api/rules', {
        GET: req => (noParams(req), { body: { rules: defs.rules() } })
      }),
      route('/api/jobs', '/api/jobs', {
        GET: req => {
          const parsed = parseJobQuery(req.query);
          if (!parsed.value) {
            throw ApiError.invalid('bad job query', parsed.issues);
          }
          return { body: this._index!.query(parsed.value) };
        }
      }),
      route('/api/jobs/{id}', `/api/jobs/${name}`, {
        GET: async req => {
          noParams(req);
          return { body: await this._jobDetail(req.params[0]) };
        }
      }),
      route('/api/jobs/{id}/cancel', `/api/jobs/${name}/cancel`, {
        POST: async req => {
          noParams(req);
          const job = this._job(req.params[0]);
          if (isFinalStatus(job.status)) {
            throw ApiError.conflict(
              `job ${job.id} is ${job.status}; only queued or running jobs can be cancelled`,
              'nothing to do; use rerun to run a finished job again'
            );
          }
          return { body: { job: await this._runner.cancel(job.id) } };
        }
      }),
      route('/api/jobs/{id}/rerun', `/api/jobs/${name}/rerun`, {
        POST: async req => {
          noParams(req);
          try {
            return { status: 201, body: { job: await this._runner.rerun(req.params[0]) } };
          } catch (err) {
            if (err instanceof MeowRunner.ActionError) {
              throw err.code === 'not-found'
                ? ApiError.notFound(err.message, err.fix)
                : ApiError.conflict(err.message, err.fix);
            }
            throw err;
          }
        }
      }),
      route('/api/provenance', '/api/provenance', {
        GET: req => {
          const parsed = parseProvenanceFilter(req.query);
          if (!parsed.value) {
            throw ApiError.invalid('bad provenance filter', parsed.issues);
          }
          return { body: provenanceGraph(this._runner.store.list(), parsed.value) };
        }
      }),
      route('/api/settings', '/api/settings', {
        GET: req => (noParams(req), { body: this._settingsResult() }),
        PUT: async req => {
          noParams(req);
          const { settings, issues } = validateServiceSettings(await req.body());
          if (issues.length) {
            throw ApiError.invalid('bad settings', issues);
          }
          const current = this._settingsResult().settings;
          const next: IServiceSettings = { ...current, ...settings };
          await this._settingsFile.save(next);
          this._saved = next;
          this._runner.configure({ workers: next.workers, timeoutMs: next.timeoutSeconds * 1000 });
          this._log.info(
            `settings: ${next.workers} worker(s), settle ${next.settleMs} ms, timeout ${next.timeoutSeconds} s (${path.relative(this._runner.root, this._settingsFile.path)})`
          );
          this._broadcast({ type: 'status', status: this.status() });
          return { body: this._settingsResult() };
        }
      })
    ];
  }

  private _settingsResult(): ISettingsResult {
    const live = this._runner.settings;
    const settings: IServiceSettings = {
      workers: live.workers,
      settleMs: this._saved.settleMs,
      timeoutSeconds: live.timeoutMs / 1000
    };
    return { settings, restartRequired: this._saved.settleMs !== live.settleMs ? ['settleMs'] : [] };
  }

  private _job(id: string) {
    const job = this._index!.get(id);
    if (!job) {
      throw ApiError.notFound(`no job ${id}`, 'list jobs with GET /api/jobs and use one of their ids');
    }
    return job;
  }

  private async _jobDetail(id: string): Promise<IJobDetail> {
    const job = this._job(id);
    const folder = path.relative(this._runner.root, this._runner.store.jobDir(id)).split(path.sep).join('/');
    const detail: IJobDetail = { job, children: this._index!.children(id), folder };
    const result = this._runner.store.filePath(id, 'result');
    if (await fs.access(result).then(() => true, () => false)) {
      detail.result = path.relative(this._runner.root, result).split(path.sep).join('/');
    }
    return detail;
  }

  // ---------------------------------------------------------------------------
  // HTTP

  private _authorised(req: http.IncomingMessage): boolean {
    const given = req.headers[SECRET_HEADER];
    if (typeof given !== 'string') {
      return false;
    }
    const buf = Buffer.from(given, 'utf8');
    return buf.length === this._secret.length && timingSafeEqual(buf, this._secret);
  }

  private async _handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    try {
      if (!this._authorised(req)) {
        // Drain nothing: refuse before reading a body.
        throw new ApiError(401, 'missing or wrong service secret', [
          {
            field: `(header ${SECRET_HEADER})`,
            message: 'is missing or wrong',
            fix: 'reach the service through Jupyter at <jupyter base URL>/meow/ (it adds the secret), or send the secret meow serve was started with'
          }
        ]);
      }
      const url = new URL(req.url ?? '/', 'http://meow.invalid');
      const { route, params } = this._match(url.pathname);
      if (!route) {
        throw new ApiError(404, `no route ${url.pathname}`, [
          { field: '(path)', message: `${url.pathname} is not an API route`, fix: 'see schema/openapi.yaml for the routes' }
        ]);
      }
      const method = (req.method ?? 'GET').toUpperCase() as Method;
      const handler = route.methods[method];
      if (!handler) {
        res.setHeader('Allow', Object.keys(route.methods).join(', '));
        throw new ApiError(405, `${method} is not allowed on ${route.template}`, [
          { field: '(method)', message: `${method} is not supported here`, fix: `use ${Object.keys(route.methods).join(' or ')}` }
        ]);
      }
      if (this._state === 'starting' && route.template !== '/api/status') {
        throw new ApiError(503, 'meow is starting (loading definitions and jobs); try again in a moment');
      }
      if (this._state === 'stopping') {
        throw new ApiError(503, 'meow is stopping');
      }
      const result = await handler({ method, params, query: url.searchParams, body: () => readJson(req) });
      this._send(res, result.status ?? 200, result.body);
    } catch (err) {
      if (err instanceof ApiError) {
        this._send(res, err.status, err.body);
      } else {
        this._log.error(`API ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
        this._send(res, 500, { error: `internal error: ${(err as Error).message}` });
      }
    } finally {
      this._log.debug(`API ${req.method} ${req.url} → ${res.statusCode} (${Date.now() - started} ms)`);
    }
  }

  private _match(pathname: string): { route?: IRoute; params: string[] } {
    const clean = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    for (const route of this._routes) {
      const m = route.pattern.exec(clean);
      if (m) {
        try {
          return { route, params: m.slice(1).map(decodeURIComponent) };
        } catch {
          throw new ApiError(400, 'malformed percent-encoding in the path', [
            { field: '(path)', message: 'has a malformed %-escape', fix: 'encode names with encodeURIComponent' }
          ]);
        }
      }
    }
    return { params: [] };
  }

  private _send(res: http.ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.statusCode = status;
    res.setHeader('Cache-Control', 'no-store');
    if (status === 204 || body === undefined) {
      res.end();
      return;
    }
    const text = JSON.stringify(body, jsonReplacer);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }

  // ---------------------------------------------------------------------------
  // Websocket /api/events

  private _upgrade(req: http.IncomingMessage, socket: import('stream').Duplex, head: Buffer): void {
    const refuse = (status: number, message: string) => {
      const body = JSON.stringify({ error: message });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
      );
    };
    if (!this._authorised(req)) {
      refuse(401, 'missing or wrong service secret');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://meow.invalid');
    if (url.pathname.replace(/\/$/, '') !== '/api/events') {
      refuse(404, `no websocket at ${url.pathname}; use /api/events`);
      return;
    }
    if (this._state === 'stopping') {
      refuse(503, 'meow is stopping');
      return;
    }
    this._wss.handleUpgrade(req, socket, head, ws => {
      ws.on('error', err => this._log.debug(`events websocket: ${err.message}`));
      ws.on('message', () => undefined); // the client has nothing to say
      this._send1(ws, { type: 'status', status: this.status() });
    });
  }

  private _onJob(_: unknown, change: { job: import('../../core/types').IJob }): void {
    this._index?.update(change.job);
    this._broadcast({ type: 'job', job: change.job });
  }

  private _broadcast(event: IServiceEvent): void {
    if (!this._wss.clients.size) {
      return;
    }
    const text = JSON.stringify(event, jsonReplacer);
    for (const ws of this._wss.clients) {
      this._send1(ws, text);
    }
  }

  private _send1(ws: WebSocket, event: IServiceEvent | string): void {
    if (ws.readyState !== WebSocket.OPEN) {
      return;
    }
    if (ws.bufferedAmount > MAX_WS_BUFFER) {
      ws.close(1013, 'too far behind; reconnect and re-fetch');
      return;
    }
    ws.send(typeof event === 'string' ? event : JSON.stringify(event, jsonReplacer));
  }

  /** Definition files changed (by anyone): tell clients to re-fetch, debounced. */
  private _definitionsChanged(): void {
    clearTimeout(this._definitionsTimer);
    this._definitionsTimer = setTimeout(() => this._broadcast({ type: 'definitions' }), 100);
  }

  private _watchDefinitions(): void {
    for (const kind of ['pattern', 'recipe'] as const) {
      try {
        const w = watch(this._definitions.folder(kind), () => this._definitionsChanged());
        w.on('error', () => undefined);
        this._watchers.push(w);
      } catch (err) {
        this._log.warn(`cannot watch ${this._definitions.folder(kind)}: ${(err as Error).message}`);
      }
    }
  }

  private readonly _secret: Buffer;
  private readonly _runner: MeowRunner;
  private readonly _log: ILogger;
  private readonly _version: string;
  private readonly _settingsFile: SettingsFile;
  private readonly _statusIntervalMs: number;
  private readonly _definitions: Definitions;
  private readonly _routes: IRoute[];
  private readonly _http: http.Server;
  private readonly _wss: WebSocketServer;
  private readonly _started = Date.now();
  private _saved: IServiceSettings;
  private _state: IStatus['state'] = 'starting';
  private _index?: JobIndex;
  private _statusTimer?: ReturnType<typeof setInterval>;
  private _definitionsTimer?: ReturnType<typeof setTimeout>;
  private _watchers: FSWatcher[] = [];
}

export namespace ApiServer {
  /** Every route and method (the websocket is `GET /api/events`), as in schema/openapi.yaml. */
  export const ROUTES: readonly [string, string][] = [
    ['GET', '/api/status'],
    ['GET', '/api/patterns'],
    ['GET', '/api/patterns/{name}'],
    ['PUT', '/api/patterns/{name}'],
    ['DELETE', '/api/patterns/{name}'],
    ['GET', '/api/recipes'],
    ['GET', '/api/recipes/{name}'],
    ['PUT', '/api/recipes/{name}'],
    ['DELETE', '/api/recipes/{name}'],
    ['GET', '/api/rules'],
    ['GET', '/api/jobs'],
    ['GET', '/api/jobs/{id}'],
    ['POST', '/api/jobs/{id}/cancel'],
    ['POST', '/api/jobs/{id}/rerun'],
    ['GET', '/api/provenance'],
    ['GET', '/api/settings'],
    ['PUT', '/api/settings'],
    ['GET', '/api/events']
  ];

  export interface IOptions {
    runner: MeowRunner;
    /** Required on every request in the `X-Meow-Secret` header. */
    secret: string;
    version: string;
    /** Where PUT /api/settings saves (default `<workgroup>/<state>/settings.yaml`). */
    settingsFile?: SettingsFile;
    /** Settings as saved in settings.yaml, when they differ from the runner's (e.g. settleMs until restart). */
    saved?: IServiceSettings;
    log?: ILogger;
    /** Period of `status` events on the websocket (default 5000 ms; 0 = off). */
    statusIntervalMs?: number;
  }
}

/** Read a JSON request body (at most MAX_BODY_BYTES). */
function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(
          new ApiError(413, 'request body too large', [
            { field: '(body)', message: `is larger than ${MAX_BODY_BYTES} bytes`, fix: 'clear large outputs from the notebook before registering it' }
          ])
        );
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new ApiError(400, 'the request body is not valid JSON', [
            { field: '(body)', message: `is not valid JSON: ${(err as Error).message}`, fix: 'send a JSON object with Content-Type: application/json' }
          ])
        );
      }
    });
  });
}
