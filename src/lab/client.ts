/**
 * The one typed client of the meow service API (`src/core/api.ts`).
 *
 * REST calls go through `ServerConnection.makeRequest`, so Jupyter's own
 * authentication (token, XSRF cookie) is applied; the service is reached via
 * jupyter-server-proxy at `<base_url>/meow/api/...`. Live changes arrive on
 * the websocket `<ws_url>/meow/api/events`, which reconnects with
 * exponential backoff.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type {
  IApiError,
  IJobActionResult,
  IJobDetail,
  IJobPage,
  IJobQuery,
  IPatternCheck,
  IPatternInfo,
  IPausedResult,
  IRecipeInfo,
  IRecipeWrite,
  IResumeResult,
  IRuleInfo,
  IRunRequest,
  IRunResult,
  IServiceEvent,
  IServiceSettings,
  ISettingsResult,
  IStatus,
  IWaitingFiles
} from '../core/api';
import type { IJob, INotebook, IPausedRule } from '../core/types';
import type { IProvenanceFilter, IProvenanceGraph } from '../core/provenance';

/** Path segments of the service API under the Jupyter base URL. */
export const API_PATH = ['meow', 'api'];

/** State of the events websocket. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

/**
 * An error answered by the service: HTTP status, the service's message and,
 * for rejected definitions, the validation issues.
 */
export class MeowApiError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message: string,
    readonly issues: IApiError['issues'] = []
  ) {
    super(response, message);
    this.name = 'MeowApiError';
  }

  /** The HTTP status code. */
  get status(): number {
    return this.response.status;
  }

  /** Build the error from a failed response, reading its `IApiError` body. */
  static async fromResponse(response: Response, what: string): Promise<MeowApiError> {
    let body: Partial<IApiError> | undefined;
    let text = '';
    try {
      text = await response.text();
      body = text ? (JSON.parse(text) as IApiError) : undefined;
    } catch {
      body = undefined;
    }
    let message: string;
    if (body && typeof body.error === 'string') {
      message = body.error;
    } else if (response.status === 404 && !text.trim().startsWith('{')) {
      message = 'the meow service is not reachable (is jupyterlab-meow installed and the service running?)';
    } else if (response.status === 403 || response.status === 401) {
      message = 'not authorised by the Jupyter server (log in again)';
    } else if (response.status === 502 || response.status === 503) {
      message = 'the meow service is not running or still starting';
    } else {
      message = text.trim().slice(0, 300) || response.statusText || 'unknown error';
    }
    const issues = Array.isArray(body?.issues) ? body!.issues : [];
    return new MeowApiError(response, `${what} failed (HTTP ${response.status}): ${message}`, issues);
  }
}

/** Serialise query values; arrays become comma-separated lists. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) {
    return '';
  }
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    let v = query[key];
    if (v === undefined || v === null || v === '') {
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        continue;
      }
      v = v.join(',');
    } else if (v instanceof Date) {
      v = v.toISOString();
    }
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The typed client. */
export class MeowClient implements IDisposable {
  constructor(options: MeowClient.IOptions) {
    this.serverSettings = options.serverSettings;
    this._minDelay = options.reconnect?.minDelay ?? 500;
    this._maxDelay = options.reconnect?.maxDelay ?? 30000;
  }

  /** Jupyter server settings used for every request. */
  readonly serverSettings: ServerConnection.ISettings;

  /** `<base_url>/meow/api`. */
  get apiUrl(): string {
    return URLExt.join(this.serverSettings.baseUrl, ...API_PATH);
  }

  /** `<ws_url>/meow/api/events` (plus the token when Jupyter appends it). */
  get eventsUrl(): string {
    let url = URLExt.join(this.serverSettings.wsUrl, ...API_PATH, 'events');
    const token = this.serverSettings.token;
    if (this.serverSettings.appendToken && token) {
      url += `?token=${encodeURIComponent(token)}`;
    }
    return url;
  }

  /** A message of the events websocket. */
  get eventReceived(): ISignal<this, IServiceEvent> {
    return this._eventReceived;
  }

  /** The websocket connected, dropped or is retrying. */
  get connectionChanged(): ISignal<this, ConnectionState> {
    return this._connectionChanged;
  }

  get connectionState(): ConnectionState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  // ---------------------------------------------------------------- REST

  /**
   * Call `<api>/<...path>` and return the parsed JSON body (undefined for
   * 204). Failed responses throw `MeowApiError`; an unreachable server
   * throws `ServerConnection.NetworkError`.
   */
  async request<T>(path: string[], init: RequestInit = {}, query?: Record<string, unknown>): Promise<T> {
    const url = URLExt.join(this.apiUrl, ...path.map(encodeURIComponent)) + queryString(query);
    const method = init.method ?? 'GET';
    // `no-cache` (always revalidate) instead of Jupyter's default `no-store`,
    // which appends a cache-busting `?<time>` to the query string.
    init = { cache: 'no-cache', ...init };
    if (init.body !== undefined && !(init.headers as any)?.['Content-Type']) {
      init = { ...init, headers: { ...(init.headers as any), 'Content-Type': 'application/json' } };
    }
    const response = await ServerConnection.makeRequest(url, init, this.serverSettings);
    if (!response.ok) {
      throw await MeowApiError.fromResponse(response, `${method} ${['', ...path].join('/')}`);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    if (!text) {
      return undefined as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MeowApiError(
        response,
        `${method} ${['', ...path].join('/')}: the service answered with something that is not JSON`
      );
    }
  }

  getStatus(): Promise<IStatus> {
    return this.request<IStatus>(['status']);
  }

  async listPatterns(): Promise<IPatternInfo[]> {
    return listOf<IPatternInfo>(await this.request(['patterns']), 'patterns');
  }

  getPattern(name: string): Promise<IPatternInfo> {
    return this.request<IPatternInfo>(['patterns', name]);
  }

  /** Create or replace `patterns/<name>.yaml` with `text`. */
  savePattern(name: string, text: string): Promise<IPatternInfo> {
    return this.request<IPatternInfo>(['patterns', name], { method: 'PUT', body: JSON.stringify({ text }) });
  }

  /**
   * Validate `text` as pattern `name` and learn what saving it would do
   * (`effect`: jobs re-run, jobs cancelled); nothing is written.
   */
  checkPattern(name: string, text: string): Promise<IPatternCheck> {
    return this.request<IPatternCheck>(['patterns', name, 'check'], { method: 'POST', body: JSON.stringify({ text }) });
  }

  deletePattern(name: string): Promise<void> {
    return this.request<void>(['patterns', name], { method: 'DELETE' });
  }

  async listRecipes(): Promise<IRecipeInfo[]> {
    return listOf<IRecipeInfo>(await this.request(['recipes']), 'recipes');
  }

  /**
   * Register a notebook as recipe `name`. Without `overwrite`, an existing
   * recipe makes the service answer 409 (a `MeowApiError` with status 409).
   */
  saveRecipe(
    name: string,
    notebook: INotebook | unknown,
    options: { source?: string; overwrite?: boolean } = {}
  ): Promise<IRecipeInfo> {
    const body: IRecipeWrite = { notebook, ...options };
    return this.request<IRecipeInfo>(['recipes', name], { method: 'PUT', body: JSON.stringify(body) });
  }

  deleteRecipe(name: string): Promise<void> {
    return this.request<void>(['recipes', name], { method: 'DELETE' });
  }

  async listRules(): Promise<IRuleInfo[]> {
    return listOf<IRuleInfo>(await this.request(['rules']), 'rules');
  }

  listJobs(query: IJobQuery = {}): Promise<IJobPage> {
    return this.request<IJobPage>(['jobs'], {}, query as Record<string, unknown>);
  }

  getJob(id: string): Promise<IJobDetail> {
    return this.request<IJobDetail>(['jobs', id]);
  }

  /** Cancel a queued or running job; resolves with the job as it is now. */
  async cancelJob(id: string): Promise<IJob> {
    return jobOf(await this.request<IJobActionResult>(['jobs', id, 'cancel'], { method: 'POST' }));
  }

  /** Run a finished job again; resolves with the new job. */
  async rerunJob(id: string): Promise<IJob> {
    return jobOf(await this.request<IJobActionResult>(['jobs', id, 'rerun'], { method: 'POST' }));
  }

  /** Rules a runaway limit paused (`GET /paused`). */
  async paused(): Promise<IPausedRule[]> {
    return listOf<IPausedRule>(await this.request<IPausedResult>(['paused']), 'paused');
  }

  /**
   * Resume a paused pattern; its files are processed again. False when it
   * was not paused.
   */
  async resume(pattern: string): Promise<boolean> {
    const body = await this.request<IResumeResult | undefined>(['patterns', pattern, 'resume'], { method: 'POST' });
    return body?.resumed === true;
  }

  /**
   * Fire pattern `name` by hand ("Run now" / "Approve"): on an existing
   * workgroup file (`{path}`), on an uploaded file (`{file, filename}`, sent
   * as the raw body; `filename` keeps its extension), or with nothing (`{}`).
   * Resolves with the jobs made and their trigger path.
   */
  runPattern(name: string, input: MeowClient.RunInput = {}): Promise<IRunResult> {
    const path = ['patterns', name, 'run'];
    if ('file' in input && input.file) {
      // Any Content-Type but JSON means "the body is the file": a .json
      // upload must not be read as a `{path}` request.
      const type = input.file.type && !/json/i.test(input.file.type) ? input.file.type : 'application/octet-stream';
      const filename = input.filename ?? (input.file as File).name;
      return this.request<IRunResult>(
        path,
        { method: 'POST', body: input.file, headers: { 'Content-Type': type } },
        filename ? { filename } : undefined
      );
    }
    if ('path' in input && input.path !== undefined) {
      const body: IRunRequest = { path: input.path };
      return this.request<IRunResult>(path, { method: 'POST', body: JSON.stringify(body) });
    }
    // No body (Jupyter labels the request JSON; the service reads an empty
    // body as "nothing").
    return this.request<IRunResult>(path, { method: 'POST' });
  }

  /**
   * Files waiting for a person's approval: for a manual pattern with a path
   * glob, the matching files no job of the pattern has taken yet.
   */
  async waitingFiles(name: string): Promise<IWaitingFiles> {
    const body = await this.request<IWaitingFiles | undefined>(['patterns', name, 'waiting']);
    return {
      pattern: body?.pattern ?? name,
      files: Array.isArray(body?.files) ? body!.files : [],
      truncated: body?.truncated === true
    };
  }

  getProvenance(filter: IProvenanceFilter = {}): Promise<IProvenanceGraph> {
    return this.request<IProvenanceGraph>(['provenance'], {}, filter as Record<string, unknown>);
  }

  getSettings(): Promise<ISettingsResult> {
    return this.request<ISettingsResult>(['settings']);
  }

  /** Change some service settings (saved to `.meow/settings.yaml`). */
  saveSettings(settings: Partial<IServiceSettings>): Promise<ISettingsResult> {
    return this.request<ISettingsResult>(['settings'], { method: 'PUT', body: JSON.stringify(settings) });
  }

  // ----------------------------------------------------------- websocket

  /** Open the events websocket (idempotent); it reconnects until disposed. */
  connect(): void {
    if (this._disposed || this._socket) {
      return;
    }
    this._clearTimer();
    this._setState('connecting');
    let socket: WebSocket;
    try {
      socket = new this.serverSettings.WebSocket(this.eventsUrl);
    } catch (err) {
      console.warn('meow: cannot open the events websocket', err);
      this._scheduleReconnect();
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      this._attempts = 0;
      this._setState('connected');
    };
    socket.onmessage = (msg: MessageEvent) => {
      let event: IServiceEvent;
      try {
        event = JSON.parse(typeof msg.data === 'string' ? msg.data : String(msg.data));
      } catch {
        console.warn('meow: ignoring a websocket message that is not JSON');
        return;
      }
      if (event && typeof event === 'object' && typeof (event as any).type === 'string') {
        this._eventReceived.emit(event);
      }
    };
    socket.onclose = () => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      this._setState('disconnected');
      this._scheduleReconnect();
    };
    socket.onerror = () => {
      // `close` follows and schedules the reconnect.
    };
  }

  /** Delay before the next reconnect attempt (exponential, capped). */
  nextDelay(): number {
    return Math.min(this._maxDelay, this._minDelay * 2 ** this._attempts);
  }

  /** Close the websocket now and reconnect at once (e.g. after the service restarted). */
  reconnect(): void {
    this._attempts = 0;
    this._closeSocket();
    this.connect();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    this._closeSocket();
    Signal.clearData(this);
  }

  private _scheduleReconnect(): void {
    if (this._disposed || this._timer !== null) {
      return;
    }
    const delay = this.nextDelay();
    this._attempts++;
    this._timer = setTimeout(() => {
      this._timer = null;
      this.connect();
    }, delay);
  }

  private _closeSocket(): void {
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close();
      } catch {
        // already closed
      }
      this._setState('disconnected');
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _setState(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._connectionChanged.emit(state);
    }
  }

  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _attempts = 0;
  private _minDelay: number;
  private _maxDelay: number;
  private _state: ConnectionState = 'disconnected';
  private _disposed = false;
  private _eventReceived = new Signal<this, IServiceEvent>(this);
  private _connectionChanged = new Signal<this, ConnectionState>(this);
}

/** Job actions answer `{job}` (IJobActionResult). */
function jobOf(body: IJobActionResult | IJob): IJob {
  return (body as IJobActionResult).job ?? (body as IJob);
}

/** Lists come as a JSON array or wrapped as `{<key>: [...]}`. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) {
    return body as T[];
  }
  const inner = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}

export namespace MeowClient {
  /** What `runPattern` runs on: a workgroup file, an upload, or nothing. */
  export type RunInput = { path: string } | { file: Blob; filename?: string } | Record<string, never>;

  export interface IOptions {
    /** Jupyter server settings (base URL, token, fetch, WebSocket). */
    serverSettings: ServerConnection.ISettings;
    /** Websocket reconnect backoff, in ms (default 500 doubling to 30000). */
    reconnect?: { minDelay?: number; maxDelay?: number };
  }
}
