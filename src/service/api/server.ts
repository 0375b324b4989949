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
import { promises as fs } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { WebSocket, WebSocketServer } from 'ws';
import type { IServiceEvent, IServiceSettings, IStatus } from '../../core/api';
import { API_VERSION, SECRET_HEADER } from '../../core/api';
import { jsonReplacer } from '../../core/pyvalue';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import { MeowRunner } from '../runner';
import { SettingsFile } from '../settings';
import { Definitions } from './definitions';
import { ApiError } from './errors';
import { JobIndex } from './jobIndex';
import { IRouteContext, IRunnerLimits, makeRoutes, runnerLimits } from './routes';
import {
  escapeText,
  IBody,
  IRoute,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  matchRoute,
  Method,
  methodHandler,
  parseJsonBody,
  readBody,
  refuseBody,
  sendJson
} from './transport';

/** A websocket client this far behind is disconnected (it reconnects and re-fetches). */
const MAX_WS_BUFFER = 32 * 1024 * 1024;

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
    this._routes = makeRoutes(this._routeContext());
    // Headers as large as Jupyter's proxy lets through reach the router (and get a JSON 414).
    this._http = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => void this._handle(req, res));
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
    this._runner.stateMonitor.applied.connect(this._onDefinitionsApplied, this);
    this._limits = runnerLimits(this._runner);
    this._limits?.changed.connect(this._onPaused, this);
    if (this._statusIntervalMs > 0) {
      this._statusTimer = setInterval(
        () => this._broadcast({ type: 'status', status: this.status() }),
        this._statusIntervalMs
      );
      this._statusTimer.unref?.();
    }
    this._broadcast({ type: 'status', status: this.status() });
  }

  /** Stop accepting requests and close every websocket. */
  async close(): Promise<void> {
    this._state = 'stopping';
    this._runner.jobChanged.disconnect(this._onJob, this);
    this._limits?.changed.disconnect(this._onPaused, this);
    clearInterval(this._statusTimer);
    this._runner.stateMonitor.applied.disconnect(this._onDefinitionsApplied, this);
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

  private _routeContext(): IRouteContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    return {
      runner: this._runner,
      definitions: this._definitions,
      settingsFile: this._settingsFile,
      log: this._log,
      index: () => this._index!,
      status: () => this.status(),
      get saved() {
        return server._saved;
      },
      set saved(value: IServiceSettings) {
        server._saved = value;
      },
      broadcast: event => this._broadcast(event)
    };
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
    const method = (req.method ?? 'GET').toUpperCase();
    let body: IBody | undefined;
    try {
      // Decide everything that needs no body first, so a refused body is
      // only drained, never kept; then read it to its end in every case.
      let refusal: unknown;
      let route: IRoute | undefined;
      let params: string[] = [];
      let query = new URLSearchParams();
      try {
        if (!this._authorised(req)) {
          throw new ApiError(401, 'missing or wrong service secret', [
            {
              field: `(header ${SECRET_HEADER})`,
              message: 'is missing or wrong',
              fix: 'reach the service through Jupyter at <jupyter base URL>/meow/ (it adds the secret), or send the secret meow serve was started with'
            }
          ]);
        }
        ({ route, params, query } = matchRoute(this._routes, req.url ?? '/'));
        if (method !== 'OPTIONS') {
          methodHandler(route, method, res);
        }
      } catch (err) {
        refusal = err;
      }
      const takesBody = !refusal && !!route?.bodies?.includes(method as Method);
      body = await readBody(req, takesBody ? MAX_BODY_BYTES : 0);
      if (body.aborted) {
        return; // the client is gone: nobody to answer
      }
      if (body.mustClose) {
        res.setHeader('Connection', 'close');
      }
      if (refusal) {
        throw refusal;
      }
      if (method === 'OPTIONS') {
        res.setHeader('Allow', Object.keys(route!.methods).join(', '));
        this._send(res, 204, undefined);
        return;
      }
      const { handler } = methodHandler(route!, method, res);
      if (!takesBody) {
        refuseBody(body, method, route!.template);
      }
      if (this._state === 'starting' && route!.template !== '/api/status') {
        throw new ApiError(503, 'meow is starting (loading definitions and jobs); try again in a moment');
      }
      if (this._state === 'stopping') {
        throw new ApiError(503, 'meow is stopping');
      }
      const read = body;
      const result = await handler({
        method: method as Method,
        params,
        query,
        body: async () => parseJsonBody(read, req.headers['content-type']),
        raw: () => read,
        contentType: req.headers['content-type']
      });
      this._send(res, result.status ?? 200, result.body);
    } catch (err) {
      if (err instanceof ApiError) {
        this._send(res, err.status, err.body);
      } else {
        this._log.error(`API ${method} ${escapeText(req.url ?? '')}: ${(err as Error).stack ?? err}`);
        this._send(res, 500, { error: `internal error: ${(err as Error).message}` });
      }
    } finally {
      this._log.debug(
        `API ${escapeText(method)} ${escapeText((req.url ?? '').slice(0, 300))} → ${res.statusCode} (${Date.now() - started} ms)`
      );
    }
  }

  private _send(res: http.ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body, jsonReplacer);
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

  private _onPaused(): void {
    this._broadcast({ type: 'paused', paused: this._limits?.paused() ?? [] });
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

  /**
   * Definition files changed (by anyone) and the workflow reflects them:
   * one `definitions` event per applied batch, sent before a PUT or DELETE
   * that caused it answers.
   */
  private _onDefinitionsApplied(): void {
    this._broadcast({ type: 'definitions' });
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
  private _limits?: IRunnerLimits;
}

export namespace ApiServer {
  /** Every route and method (the websocket is `GET /api/events`), as in schema/openapi.yaml. */
  export const ROUTES: readonly [string, string][] = [
    ['GET', '/api/status'],
    ['GET', '/api/patterns'],
    ['GET', '/api/patterns/{name}'],
    ['PUT', '/api/patterns/{name}'],
    ['DELETE', '/api/patterns/{name}'],
    ['POST', '/api/patterns/{name}/check'],
    ['POST', '/api/patterns/{name}/resume'],
    ['POST', '/api/patterns/{name}/run'],
    ['GET', '/api/patterns/{name}/waiting'],
    ['GET', '/api/paused'],
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
