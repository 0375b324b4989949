/**
 * Server settings for talking to a Jupyter Server from Node.
 *
 * `@jupyterlab/services` was written for the browser: in Node it must be
 * handed a WebSocket implementation (the `ws` package) and the fetch API
 * (Node's globals), and the token must be appended to websocket URLs.
 */
import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';

/** A Jupyter Server URL split into the base URL and a token found in it. */
export interface IParsedJupyterUrl {
  /** Base URL ending in `/`, without query string. */
  baseUrl: string;
  /** The `token` query parameter, when the URL carried one. */
  token?: string;
}

/**
 * Normalise a server URL as users paste it (`http://host:8888/lab?token=x`,
 * `http://host:8888`, `http://host/user/me/tree`): keep scheme, host and base
 * path, drop UI suffixes and the query, and pick up `?token=`.
 */
export function parseJupyterUrl(url: string): IParsedJupyterUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a valid Jupyter Server URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`a Jupyter Server URL must start with http:// or https://, got ${JSON.stringify(url)}`);
  }
  const token = parsed.searchParams.get('token') ?? undefined;
  let path = parsed.pathname;
  // Strip the UI part users copy from the browser's address bar, keeping a
  // JupyterHub prefix (`/user/<name>/`) intact.
  const hub = /^\/user\/[^/]+\//.exec(path);
  const prefix = hub ? hub[0] : '/';
  const rest = path.slice(prefix.length - 1);
  path = prefix.slice(0, -1) + rest.replace(/\/(lab|tree|notebooks|edit|doc)(\/.*)?$/, '/');
  if (!path.endsWith('/')) {
    path += '/';
  }
  return { baseUrl: `${parsed.protocol}//${parsed.host}${path}`, token: token || undefined };
}

/**
 * Build `ServerConnection.ISettings` for a server at `url` with `token`,
 * usable from Node (ws + global fetch). A token given in `url` is used when
 * `token` is empty.
 */
export function makeServerSettings(url: string, token?: string): ServerConnection.ISettings {
  const parsed = parseJupyterUrl(url);
  const baseUrl = parsed.baseUrl;
  const wsUrl = 'ws' + baseUrl.slice('http'.length);
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl,
    token: token || parsed.token || '',
    appendToken: true,
    // Node has no cookies and no same-origin notion; keep requests plain.
    init: { cache: 'no-store' },
    fetch: globalThis.fetch,
    Request: globalThis.Request,
    Headers: globalThis.Headers,
    WebSocket: WebSocket as any
  } as Partial<ServerConnection.ISettings>);
}
