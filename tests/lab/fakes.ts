/**
 * Test doubles for the lab tests: a recorded `fetch` answering from a route
 * table, and a fake WebSocket the test drives by hand.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { MeowClient } from '../../src/lab/client';
import { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel } from '../../src/lab/models';
import { DEFAULT_SETTINGS, IMeow } from '../../src/lab/tokens';
import type { IJob, JobStatus } from '../../src/core/types';

export interface IRecordedRequest {
  url: string;
  method: string;
  body?: any;
  headers: Record<string, string>;
}

export type Route = (req: IRecordedRequest) => { status?: number; body?: unknown; text?: string } | undefined;

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static reset(): void {
    FakeWebSocket.instances = [];
  }
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }
  onopen: ((ev: any) => void) | null = null;
  onmessage: ((ev: any) => void) | null = null;
  onclose: ((ev: any) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  closed = false;
  close(): void {
    this.closed = true;
  }
  send(): void {
    /* not used */
  }
  /** Test side: the server accepted. */
  open(): void {
    this.onopen?.({});
  }
  /** Test side: the server sent `data`. */
  receive(data: unknown): void {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
  /** Test side: the connection dropped. */
  drop(): void {
    this.closed = true;
    this.onclose?.({ code: 1006 });
  }
}

/** Server settings whose fetch answers from `route` and records every request. */
export function fakeSettings(route: Route, extra: Partial<ServerConnection.ISettings> = {}) {
  const requests: IRecordedRequest[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input as any, init);
    const text = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text();
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    // JSON bodies are parsed; anything else (an upload) is kept as text.
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const rec: IRecordedRequest = { url: req.url, method: req.method, headers, body };
    requests.push(rec);
    const answer = route(rec) ?? { status: 404, body: { error: `no route for ${rec.method} ${rec.url}` } };
    const status = answer.status ?? 200;
    const bodyText = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    return new Response(status === 204 ? null : bodyText, {
      status,
      headers: { 'Content-Type': 'application/json' }
    });
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: 'secret',
    appendToken: true,
    fetch: fetchFn as any,
    WebSocket: FakeWebSocket as any,
    ...extra
  });
  return { serverSettings, requests };
}

/** A job with sortable id `2026-..._<n>`. */
export function makeJob(n: number, over: Partial<IJob> = {}): IJob {
  const t = new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + n * 1000);
  const id = `${t.toISOString().replace(/[-:.]/g, '').slice(0, 15)}_${String(n).padStart(6, '0')}`;
  return {
    id,
    pattern: over.pattern ?? `P${n % 3}`,
    recipe: over.recipe ?? `R${n % 2}`,
    rule: 'rule1',
    ruleKey: 'k',
    status: (over.status ?? 'done') as JobStatus,
    trigger: { kind: 'created', path: `start/file${n}.txt`, time: t.toISOString(), hash: 'abc' },
    parameters: {},
    filesWritten: [],
    created: t.toISOString(),
    ...over
  };
}

/**
 * An `IMeow` over these jobs whose client answers with `route` (default: 404
 * for everything); `parts` replaces any of its members, given that client
 * (for models that talk to it).
 */
export function fakeMeow(
  jobs: IJob[] = [],
  route: Route = () => ({ status: 404, body: { error: 'no' } }),
  parts: (client: MeowClient) => Partial<IMeow> = () => ({})
): IMeow {
  const { serverSettings } = fakeSettings(route);
  const client = new MeowClient({ serverSettings });
  const model = new JobsModel();
  model.reset(jobs);
  return {
    client,
    jobs: model,
    workflow: new WorkflowModel(),
    status: new StatusModel(),
    paused: new PausedModel(),
    manual: new ManualModel(),
    settings: { ...DEFAULT_SETTINGS },
    settingsChanged: new Signal<IMeow, any>({} as IMeow),
    contentsPath: p => p,
    ...parts(client)
  };
}
