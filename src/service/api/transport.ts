/**
 * The HTTP side of the API: reading (always) and checking request bodies,
 * matching a path to a route, refusing methods, and writing JSON answers.
 *
 * Every request body is read to its end (bounded) before the answer is
 * sent, refusals included: a proxy still writing a body to a service that
 * already answered and closed sees a broken pipe and turns a 4xx into a 5xx.
 * Every client mistake is an `ApiError` (4xx with field, message and fix);
 * only a bug in a handler becomes a 500.
 */
import * as http from 'http';
import { ApiError } from './errors';

/** Largest accepted request body (a notebook with outputs can be large). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * A too-large body is still read and discarded up to this many more bytes
 * so the answer (413) reaches the client; beyond, the connection is closed.
 */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
/** Longest accepted path (a name is at most 200 characters). */
export const MAX_PATH_LENGTH = 4096;
/**
 * Node's limit for request headers. Above tornado's 64 KiB so that anything
 * Jupyter's proxy accepts reaches the router and is refused as JSON (414)
 * instead of by Node's parser with a closed connection.
 */
export const MAX_HEADER_BYTES = 80 * 1024;
/** JSON nested deeper than this is refused: validating and copying it recurses. */
const MAX_JSON_DEPTH = 256;

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
/** Methods HTTP defines that the API may refuse with 405 (others get 501). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT']);

export interface IRequest {
  method: Method;
  params: string[];
  query: URLSearchParams;
  /** The parsed JSON body (undefined when empty); only for routes that take one. */
  body: () => Promise<unknown>;
  /** The body's bytes as sent, for routes that take uploads (Content-Type other than JSON). */
  raw?: () => IBody;
  /** The request's Content-Type header, if any. */
  contentType?: string;
}
export interface IResponse {
  status?: number;
  body: unknown;
}
export type Handler = (req: IRequest) => Promise<IResponse> | IResponse;
export interface IRoute {
  pattern: RegExp;
  /** Template for error messages, e.g. `/api/jobs/{id}`. */
  template: string;
  methods: Partial<Record<Method, Handler>>;
  /** Methods whose request carries a JSON body; any other must come without one. */
  bodies?: Method[];
}

/** A request body read to its end: the bytes, or how it went wrong. */
export interface IBody {
  bytes: Buffer;
  /** Larger than MAX_BODY_BYTES (bytes is then empty). */
  tooLarge: boolean;
  /** The body was larger still: the connection must close after the answer. */
  mustClose: boolean;
  /** The client went away while sending it. */
  aborted: boolean;
}

/** Read a request body to its end, keeping at most `limit` bytes. Never rejects. */
export function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES, drain = MAX_DRAIN_BYTES): Promise<IBody> {
  return new Promise(resolve => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (aborted: boolean, mustClose = false) => {
      if (done) {
        return;
      }
      done = true;
      req.removeListener('data', onData);
      const tooLarge = size > limit;
      resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge, mustClose, aborted });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0; // keep reading, stop keeping
        if (size > limit + drain) {
          req.pause();
          finish(false, true);
        }
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(false));
    req.once('error', () => finish(true));
    req.once('close', () => finish(!req.complete));
  });
}

/** Refuse a body of the wrong size, type or encoding; parse it. Undefined when empty. */
export function parseJsonBody(body: IBody, contentType: string | undefined): unknown {
  if (body.tooLarge) {
    throw new ApiError(413, 'request body too large', [
      {
        field: '(body)',
        message: `is larger than ${MAX_BODY_BYTES} bytes`,
        fix: 'clear large outputs from the notebook before registering it'
      }
    ]);
  }
  if (!body.bytes.length) {
    return undefined;
  }
  // No type and text/plain (what fetch() sends for a string body) are taken
  // as JSON; a type that says the body is something else is refused.
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/json' && type !== 'text/plain' && !type.endsWith('+json')) {
    throw new ApiError(415, `the request body must be JSON, not ${type.slice(0, 100)}`, [
      {
        field: '(header Content-Type)',
        message: `is ${type.slice(0, 100)}`,
        fix: 'send Content-Type: application/json'
      }
    ]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    throw ApiError.invalid('the request body is not UTF-8', [
      { field: '(body)', message: 'is not valid UTF-8', fix: 'send JSON encoded as UTF-8' }
    ]);
  }
  if (!text.trim()) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw ApiError.invalid('the request body is not valid JSON', [
      {
        field: '(body)',
        message: `is not valid JSON: ${(err as Error).message.slice(0, 200)}`,
        fix: 'send a JSON object with Content-Type: application/json'
      }
    ]);
  }
  if (jsonDepth(value) > MAX_JSON_DEPTH) {
    throw ApiError.invalid('the request body is nested too deeply', [
      { field: '(body)', message: `nests more than ${MAX_JSON_DEPTH} levels`, fix: 'flatten the data' }
    ]);
  }
  return value;
}

/** Nesting depth of a parsed JSON value, without recursion (it may be hostile). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v && typeof v === 'object') {
      max = Math.max(max, depth);
      if (max > MAX_JSON_DEPTH) {
        return max;
      }
      for (const child of Array.isArray(v) ? v : Object.values(v)) {
        stack.push([child, depth + 1]);
      }
    }
  }
  return max;
}

/** A body on a method that takes none is refused (never silently ignored). */
export function refuseBody(body: IBody, method: string, template: string): void {
  if (body.tooLarge || body.bytes.length) {
    throw new ApiError(400, `${method} ${template} takes no request body`, [
      {
        field: '(body)',
        message: `is not empty (${body.tooLarge ? 'very large' : `${body.bytes.length} bytes`})`,
        fix: 'send no body'
      }
    ]);
  }
}

/** The route a path names and its decoded parameters, or an ApiError. */
export function matchRoute(
  routes: readonly IRoute[],
  rawUrl: string
): { route: IRoute; params: string[]; query: URLSearchParams } {
  if (rawUrl.length > MAX_PATH_LENGTH) {
    throw new ApiError(414, 'the request URL is too long', [
      {
        field: '(path)',
        message: `is ${rawUrl.length} characters long`,
        fix: `keep URLs under ${MAX_PATH_LENGTH} characters`
      }
    ]);
  }
  // Split by hand rather than with URL(): it would resolve "..", "%2e%2e" and
  // "\\" segments into another route instead of refusing them as names.
  const q = rawUrl.indexOf('?');
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  // Match on the still encoded path, so an encoded "/" stays inside one parameter.
  const clean = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  for (const route of routes) {
    const m = route.pattern.exec(clean);
    if (!m) {
      continue;
    }
    let params: string[];
    try {
      params = m.slice(1).map(decodeURIComponent);
    } catch {
      throw ApiError.invalid('malformed percent-encoding in the path', [
        { field: '(path)', message: 'has a malformed %-escape', fix: 'encode names with encodeURIComponent' }
      ]);
    }
    return { route, params, query };
  }
  const shown = escapeText(pathname.slice(0, 200));
  throw new ApiError(404, `no route ${shown}`, [
    { field: '(path)', message: `${shown} is not an API route`, fix: 'see schema/openapi.yaml for the routes' }
  ]);
}

/** The handler for a method, or 405/501 (with `Allow`) for any other. */
export function methodHandler(
  route: IRoute,
  method: string,
  res: http.ServerResponse
): { method: Method; handler: Handler } {
  const allowed = Object.keys(route.methods);
  const handler = (route.methods as Record<string, Handler | undefined>)[method];
  if (handler && Object.prototype.hasOwnProperty.call(route.methods, method)) {
    return { method: method as Method, handler };
  }
  res.setHeader('Allow', allowed.join(', '));
  const shown = escapeText(method.slice(0, 20));
  if (!KNOWN_METHODS.has(method)) {
    throw new ApiError(501, `unknown method ${shown}`, [
      { field: '(method)', message: `${shown} is not an HTTP method meow knows`, fix: `use ${allowed.join(' or ')}` }
    ]);
  }
  throw new ApiError(405, `${shown} is not allowed on ${route.template}`, [
    { field: '(method)', message: `${shown} is not supported here`, fix: `use ${allowed.join(' or ')}` }
  ]);
}

/** Write a JSON answer (or none for 204/HEAD/undefined). */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  replacer?: (key: string, value: unknown) => unknown
): void {
  if (res.headersSent || res.writableEnded) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('Cache-Control', 'no-store');
  if (status === 204 || body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(body, replacer as (key: string, value: any) => any);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Control characters of client-supplied text made visible, for messages and logs. */
export function escapeText(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  );
}
