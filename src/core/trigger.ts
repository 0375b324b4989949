/**
 * The `trigger` of a native pattern (P3): exactly one kind of event filter
 * and that kind's options, read, validated and written back.
 *
 * ```yaml
 * trigger: {path: "start/*", events: [created, modified]}          # file
 * trigger: {path: "deep/*", glob: fnmatch}                         # file, mig_meow's globs
 * trigger: {port: 9000, host: "0.0.0.0", secret: "s3cret",          # network
 *           tls: {cert: certs/server.pem, key: certs/server.key},
 *           max_bytes: 100MB, max_connections: 64}
 * trigger: {schedule: "0 6 * * MON-FRI", timezone: "Europe/Copenhagen", missed: skip}  # timer
 * trigger: {every: 30s, missed: once}                               # timer
 * trigger: {manual: true, path: "review/*"}                         # manual (path optional)
 * trigger: {absent: {path: "in/*", for: 10m}}                       # absence
 * ```
 *
 * `path` alone is a file trigger; next to `manual: true` it names the files
 * that wait for approval. Options left out take the defaults in `types.ts`
 * and are not written back, so parse → write → parse is the identity.
 */
import { GLOB_SYNTAXES, validateGlob } from './glob';
import { PyFloat, clipText, isPlainObject } from './pyvalue';
import { MIN_INTERVAL_MS, formatDuration, parseDuration, scheduleText, validateCron, validateTimezone } from './timers';
import {
  DEFAULT_FILE_EVENTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_NETWORK_HOST,
  FILE_EVENT_KINDS,
  FileEventKind,
  GlobSyntax,
  INetworkTrigger,
  MissedFiringPolicy,
  Trigger
} from './types';
import { IValidationIssue, closest, issue } from './validation';
import { formatSize, parseSize, show, toNumber, typeName } from './valueText';

/** Every field a native `trigger` may have. */
export const TRIGGER_KEYS = [
  'path',
  'events',
  'glob',
  'port',
  'host',
  'secret',
  'tls',
  'max_bytes',
  'max_connections',
  'schedule',
  'timezone',
  'missed',
  'every',
  'manual',
  'absent'
] as const;

/** The fields that choose the kind; `path` next to `manual` is manual's option. */
const KIND_KEYS = ['path', 'port', 'schedule', 'every', 'manual', 'absent'] as const;
type KindKey = (typeof KIND_KEYS)[number];

/** The fields each kind allows. */
const KIND_FIELDS: Record<KindKey, readonly string[]> = {
  path: ['path', 'events', 'glob'],
  port: ['port', 'host', 'secret', 'tls', 'max_bytes', 'max_connections'],
  schedule: ['schedule', 'timezone', 'missed'],
  every: ['every', 'missed'],
  manual: ['manual', 'path'],
  absent: ['absent']
};

/** Where a field belongs, for "only applies to …" when it is used elsewhere. */
const NETWORK_ONLY = 'network triggers ("port")';
const FIELD_OWNER = new Map<string, string>([
  ['events', 'file triggers ("path")'],
  ['glob', 'file triggers ("path")'],
  ['host', NETWORK_ONLY],
  ['secret', NETWORK_ONLY],
  ['tls', NETWORK_ONLY],
  ['max_bytes', NETWORK_ONLY],
  ['max_connections', NETWORK_ONLY],
  ['timezone', 'cron schedules ("schedule")'],
  ['missed', 'timers ("schedule" or "every")']
]);

/** Most simultaneous connections a listener may allow. */
export const MAX_CONNECTIONS_LIMIT = 10000;

const KINDS_EXAMPLE =
  'path: "start/*", port: 9000, schedule: "*/10 * * * *", every: 30s, manual: true, absent: {path: "in/*", for: 10m}';

/** A trigger, or the reasons there is none. */
export interface ITriggerParseResult {
  trigger?: Trigger;
  issues: IValidationIssue[];
}

/** Read and check a native `trigger` mapping; every problem is reported. */
export function parseTrigger(v: unknown): ITriggerParseResult {
  const issues: IValidationIssue[] = [];
  const add = (field: string, message: string, fix: string) => issues.push(issue(field, message, fix));
  if (!isPlainObject(v)) {
    add('trigger', `must be a mapping (got ${typeName(v)})`, 'write e.g. trigger: {path: "start/*"}');
    return { issues };
  }
  for (const key of Object.keys(v)) {
    if (!(TRIGGER_KEYS as readonly string[]).includes(key)) {
      const guess = closest(key, TRIGGER_KEYS);
      add(
        `trigger.${key}`,
        'is not a trigger field',
        `${guess ? `did you mean "${guess}"? Otherwise remove` : 'remove'} it; allowed fields are: ${TRIGGER_KEYS.join(', ')}`
      );
    }
  }
  let kinds: KindKey[] = KIND_KEYS.filter(k => v[k] !== undefined);
  if (kinds.includes('manual')) {
    kinds = kinds.filter(k => k !== 'path');
  }
  if (kinds.length !== 1) {
    const fix =
      kinds.includes('path') && kinds.includes('absent')
        ? 'put the glob inside "absent": absent: {path: "in/*", for: 10m}'
        : `give exactly one of: ${KINDS_EXAMPLE}`;
    add(
      'trigger',
      kinds.length === 0
        ? 'has no event filter'
        : `has ${kinds.length} event filters (${kinds.join(', ')}); exactly one is allowed`,
      fix
    );
    return { issues };
  }
  const kind = kinds[0];
  for (const key of Object.keys(v)) {
    const owner = FIELD_OWNER.get(key);
    if (owner && !KIND_FIELDS[kind].includes(key)) {
      const why = key === 'timezone' && kind === 'every' ? '; an "every" interval has no time zone' : '';
      add(`trigger.${key}`, `only applies to ${owner}${why}`, `remove "${key}"`);
    }
  }
  const reader = new TriggerReader(v, add);
  const trigger = reader[kind]();
  return issues.length === 0 ? { trigger, issues } : { issues };
}

type Add = (field: string, message: string, fix: string) => void;

/** One method per kind; each reports through `add` and returns its draft. */
class TriggerReader {
  constructor(
    private readonly v: Record<string, unknown>,
    private readonly add: Add
  ) {}

  path(): Trigger {
    const syntax = this._syntax(this.v.glob);
    this._glob('trigger.path', this.v.path, syntax);
    const t: Trigger = { kind: 'file', path: this.v.path as string, events: this._events(this.v.events) ?? [] };
    // Only fnmatch is kept: native is the default, and leaving it out keeps
    // the digest (the rules' content keys) of every native pattern as it was.
    if (syntax === 'fnmatch') {
      t.glob = syntax;
    }
    return t;
  }

  port(): Trigger {
    const v = this.v;
    const port = toNumber(v.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || v.port instanceof PyFloat) {
      this.add('trigger.port', `must be a whole number from 1 to 65535 (got ${show(v.port)})`, 'e.g. port: 9000');
    }
    const t: INetworkTrigger = {
      kind: 'network',
      port,
      host: v.host === undefined ? DEFAULT_NETWORK_HOST : this._host(v.host),
      maxBytes: v.max_bytes === undefined ? DEFAULT_MAX_PAYLOAD_BYTES : this._maxBytes(v.max_bytes),
      maxConnections:
        v.max_connections === undefined ? DEFAULT_MAX_CONNECTIONS : this._maxConnections(v.max_connections)
    };
    if (v.secret !== undefined) {
      t.secret = this._secret(v.secret);
    }
    if (v.tls !== undefined) {
      t.tls = this._tls(v.tls);
    }
    return t;
  }

  schedule(): Trigger {
    this._issues(validateCron('trigger.schedule', this.v.schedule));
    const t: Trigger = { kind: 'schedule', cron: String(this.v.schedule).trim(), missed: this._missed() };
    if (this.v.timezone !== undefined) {
      this._issues(validateTimezone('trigger.timezone', this.v.timezone));
      t.timezone = this.v.timezone as string;
    }
    return t;
  }

  every(): Trigger {
    return {
      kind: 'schedule',
      everyMs: this._interval('trigger.every', this.v.every, 'every: 30s'),
      missed: this._missed()
    };
  }

  manual(): Trigger {
    if (this.v.manual !== true) {
      this.add(
        'trigger.manual',
        `must be true (got ${show(this.v.manual)})`,
        'write manual: true, or use another trigger'
      );
    }
    if (this.v.path === undefined) {
      return { kind: 'manual' };
    }
    this._glob('trigger.path', this.v.path);
    return { kind: 'manual', path: this.v.path as string };
  }

  absent(): Trigger {
    const a = this.v.absent;
    const example = 'absent: {path: "in/*", for: 10m}';
    if (!isPlainObject(a)) {
      this.add(
        'trigger.absent',
        `must be a mapping with "path" and "for" (got ${typeName(a)})`,
        `write e.g. ${example}`
      );
      return { kind: 'absent', path: '', forMs: 0 };
    }
    for (const key of Object.keys(a)) {
      if (key !== 'path' && key !== 'for') {
        this.add(
          `trigger.absent.${key}`,
          'is not a field of "absent"',
          `remove it; "absent" has exactly: path, for (e.g. ${example})`
        );
      }
    }
    if (a.path === undefined) {
      this.add(
        'trigger.absent.path',
        'is missing',
        `give the glob of files expected to keep arriving, e.g. ${example}`
      );
    } else {
      this._glob('trigger.absent.path', a.path);
    }
    let forMs = 0;
    if (a.for === undefined) {
      this.add('trigger.absent.for', 'is missing', `say how long a silence fires, e.g. ${example}`);
    } else {
      forMs = this._interval('trigger.absent.for', a.for, 'for: 10m');
    }
    return { kind: 'absent', path: a.path as string, forMs };
  }

  private _issues(found: IValidationIssue[]): void {
    for (const i of found) {
      this.add(i.field, i.message, i.fix);
    }
  }

  private _glob(field: string, v: unknown, syntax: GlobSyntax = 'native'): void {
    this._issues(validateGlob(field, v, syntax));
  }

  private _syntax(v: unknown): GlobSyntax {
    if (v === undefined || v === null || v === 'native') {
      return 'native';
    }
    if (v === 'fnmatch') {
      return 'fnmatch';
    }
    this.add(
      'trigger.glob',
      `must be "native" or "fnmatch" (got ${show(v)})`,
      `write glob: fnmatch to match as mig_meow does (* also matches "/" and dot files), or remove it (native, the default; one of ${GLOB_SYNTAXES.join(', ')})`
    );
    return 'native';
  }

  private _interval(field: string, v: unknown, example: string): number {
    const ms = parseDuration(v);
    if (ms === undefined) {
      this.add(field, `must be an interval like 30s, 5m, 2h, 1d or 1h30m (got ${show(v)})`, `e.g. ${example}`);
      return NaN;
    }
    if (ms < MIN_INTERVAL_MS) {
      this.add(
        field,
        `is ${ms} ms, shorter than the minimum of ${MIN_INTERVAL_MS / 1000}s`,
        `use ${example.split(':')[0]}: 1s or longer`
      );
    }
    return ms;
  }

  private _missed(): MissedFiringPolicy {
    const m = this.v.missed;
    if (m === undefined || m === 'once' || m === 'skip') {
      return (m as MissedFiringPolicy | undefined) ?? 'once';
    }
    this.add(
      'trigger.missed',
      `must be "once" or "skip" (got ${show(m)})`,
      'write missed: once (run once at start if firings were missed while meow was not running; the default) or missed: skip'
    );
    return 'once';
  }

  private _events(v: unknown): FileEventKind[] | undefined {
    if (v === undefined || v === null) {
      return [...DEFAULT_FILE_EVENTS];
    }
    const list = typeof v === 'string' ? [v] : v;
    const fix = `use a list of: ${FILE_EVENT_KINDS.join(', ')}, e.g. events: [created, modified]`;
    if (!Array.isArray(list) || list.length === 0) {
      this.add('trigger.events', `must be a non-empty list (got ${show(v)})`, fix);
      return undefined;
    }
    let ok = true;
    list.forEach((e, i) => {
      if (!(FILE_EVENT_KINDS as readonly unknown[]).includes(e)) {
        this.add(`trigger.events[${i}]`, `is not an event kind (got ${show(e)})`, fix);
        ok = false;
      }
    });
    // Canonical order, no duplicates: the same filter has the same digest.
    return ok ? FILE_EVENT_KINDS.filter(k => list.includes(k)) : undefined;
  }

  private _host(v: unknown): string {
    const fix =
      'write an IP address or host name, e.g. host: "0.0.0.0" (every interface) or host: "127.0.0.1" (this machine only, the default)';
    if (typeof v !== 'string' || v === '') {
      this.add('trigger.host', `must be an IP address or host name (got ${show(v)})`, fix);
    } else if (/\s/.test(v)) {
      this.add('trigger.host', `must not contain spaces (got "${clipText(v)}")`, fix);
    } else if (/^[^:]+:\d+$/.test(v)) {
      this.add(
        'trigger.host',
        `contains a port (got "${clipText(v)}")`,
        `give the port in "port": host: "${clipText(v.split(':')[0])}", port: ${clipText(v.split(':')[1])}`
      );
    } else if (/^\[.*\]$/.test(v)) {
      this.add(
        'trigger.host',
        `must not be in brackets (got "${clipText(v)}")`,
        `write host: "${clipText(v.slice(1, -1))}"`
      );
    } else if (/[/\\@[\]]/.test(v)) {
      this.add('trigger.host', `is not an IP address or host name (got "${clipText(v)}")`, fix);
    }
    return v as string;
  }

  private _secret(v: unknown): string | undefined {
    const fix = 'write the text every connection sends as its first line, in quotes, e.g. secret: "a-long-random-text"';
    if (typeof v !== 'string') {
      this.add('trigger.secret', `must be text (got ${typeName(v)})`, fix);
    } else if (v === '') {
      this.add('trigger.secret', 'is empty', `${fix}, or remove "secret" to accept every connection`);
    } else if (/[\r\n]/.test(v)) {
      // It is compared with a connection's first line, which cannot hold one.
      this.add('trigger.secret', 'must be a single line', fix);
    } else if (v !== v.trim()) {
      this.add('trigger.secret', 'has leading or trailing spaces', `remove them: secret: "${clipText(v.trim())}"`);
    }
    return v as string;
  }

  private _tls(v: unknown): { cert: string; key: string } | undefined {
    const example = 'tls: {cert: certs/server.pem, key: certs/server.key}';
    if (!isPlainObject(v)) {
      this.add('trigger.tls', `must be a mapping with "cert" and "key" (got ${typeName(v)})`, `write e.g. ${example}`);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (key !== 'cert' && key !== 'key') {
        this.add(
          `trigger.tls.${key}`,
          'is not a TLS field',
          `remove it; "tls" has exactly: cert, key (e.g. ${example})`
        );
      }
    }
    for (const key of ['cert', 'key'] as const) {
      const what = key === 'cert' ? 'PEM certificate' : 'PEM private key';
      if (v[key] === undefined) {
        this.add(`trigger.tls.${key}`, 'is missing', `give the path of the ${what}, e.g. ${example}`);
      } else if (typeof v[key] !== 'string' || (v[key] as string).trim() === '') {
        this.add(`trigger.tls.${key}`, `must be the path of the ${what} (got ${show(v[key])})`, `e.g. ${example}`);
      }
    }
    return { cert: v.cert as string, key: v.key as string };
  }

  private _maxBytes(v: unknown): number {
    const n = parseSize(v);
    if (n === undefined) {
      this.add(
        'trigger.max_bytes',
        `must be a size like 500KB, 100MB, 2GB or 1.5GiB, or a whole number of bytes (got ${show(v)})`,
        `e.g. max_bytes: 100MB (the default is ${formatSize(DEFAULT_MAX_PAYLOAD_BYTES)})`
      );
      return NaN;
    }
    return n;
  }

  private _maxConnections(v: unknown): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_CONNECTIONS_LIMIT) {
      this.add(
        'trigger.max_connections',
        `must be a whole number from 1 to ${MAX_CONNECTIONS_LIMIT} (got ${show(v)})`,
        `e.g. max_connections: ${DEFAULT_MAX_CONNECTIONS} (the default)`
      );
      return NaN;
    }
    return v;
  }
}

// ---------------------------------------------------------------------------
// Writing, comparing, describing

/** A trigger as written in a native pattern file: defaults left out. */
export function triggerToObject(t: Trigger): Record<string, unknown> {
  switch (t.kind) {
    case 'file':
      return t.glob === 'fnmatch'
        ? { path: t.path, glob: t.glob, events: [...t.events] }
        : { path: t.path, events: [...t.events] };
    case 'network': {
      const out: Record<string, unknown> = { port: t.port };
      if (t.host !== DEFAULT_NETWORK_HOST) {
        out.host = t.host;
      }
      if (t.secret !== undefined) {
        out.secret = t.secret;
      }
      if (t.tls !== undefined) {
        out.tls = { cert: t.tls.cert, key: t.tls.key };
      }
      if (t.maxBytes !== DEFAULT_MAX_PAYLOAD_BYTES) {
        out.max_bytes = formatSize(t.maxBytes);
      }
      if (t.maxConnections !== DEFAULT_MAX_CONNECTIONS) {
        out.max_connections = t.maxConnections;
      }
      return out;
    }
    case 'schedule': {
      const out: Record<string, unknown> =
        t.everyMs !== undefined ? { every: formatDuration(t.everyMs) } : { schedule: t.cron };
      if (t.timezone !== undefined) {
        out.timezone = t.timezone;
      }
      if (t.missed !== 'once') {
        out.missed = t.missed;
      }
      return out;
    }
    case 'manual':
      return t.path !== undefined ? { manual: true, path: t.path } : { manual: true };
    case 'absent':
      return { absent: { path: t.path, for: formatDuration(t.forMs) } };
  }
}

/**
 * The trigger as it enters a pattern's digest: everything, except that a
 * network secret is replaced by a fingerprint. The digest is a rule's
 * content key, which every job.yaml and the rules API carry; a changed
 * secret must still change it.
 */
export function triggerDigestValue(t: Trigger): Trigger | Record<string, unknown> {
  return t.kind === 'network' && t.secret !== undefined ? { ...t, secret: `fingerprint:${fingerprint(t.secret)}` } : t;
}

/**
 * A 53-bit fingerprint (cyrb53) of a text. Not cryptographic, like any fast
 * hash of a short secret it can be brute-forced; it only keeps the secret
 * itself out of files and API answers.
 */
function fingerprint(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}

/** A listener setting, by its pattern field name. */
export type ListenerField = 'host' | 'tls' | 'secret' | 'max_bytes' | 'max_connections';

/** What a port listens with; every pattern on the port must agree on it. */
export type IListenerSettings = Pick<INetworkTrigger, 'host' | 'secret' | 'tls' | 'maxBytes' | 'maxConnections'>;

/** Which listener settings differ (patterns on one port share one listener). */
export function listenerDifferences(a: IListenerSettings, b: IListenerSettings): ListenerField[] {
  const diff: ListenerField[] = [];
  if (a.host !== b.host) {
    diff.push('host');
  }
  if (a.tls?.cert !== b.tls?.cert || a.tls?.key !== b.tls?.key) {
    diff.push('tls');
  }
  if (a.secret !== b.secret) {
    diff.push('secret');
  }
  if (a.maxBytes !== b.maxBytes) {
    diff.push('max_bytes');
  }
  if (a.maxConnections !== b.maxConnections) {
    diff.push('max_connections');
  }
  return diff;
}

/** One difference in words, `mine vs theirs`; never a secret itself. */
export function describeListenerDifference(
  field: ListenerField,
  mine: IListenerSettings,
  theirs: IListenerSettings
): string {
  const tlsText = (s: IListenerSettings) => (s.tls ? `cert ${s.tls.cert}, key ${s.tls.key}` : 'none');
  const secretText = (s: IListenerSettings) => (s.secret === undefined ? 'none' : 'set');
  switch (field) {
    case 'host':
      return `host (${mine.host} vs ${theirs.host})`;
    case 'tls':
      return `tls (${tlsText(mine)} vs ${tlsText(theirs)})`;
    case 'secret':
      return `secret (${secretText(mine)} vs ${secretText(theirs)}${mine.secret !== undefined && theirs.secret !== undefined ? ', different' : ''})`;
    case 'max_bytes':
      return `max_bytes (${formatSize(mine.maxBytes)} vs ${formatSize(theirs.maxBytes)})`;
    case 'max_connections':
      return `max_connections (${mine.maxConnections} vs ${theirs.maxConnections})`;
  }
}

/** Every difference in words, or `undefined` when the settings agree. */
export function listenerMismatch(a: IListenerSettings, b: IListenerSettings): string | undefined {
  const diff = listenerDifferences(a, b);
  return diff.length ? diff.map(f => describeListenerDifference(f, a, b)).join(', ') : undefined;
}

/** A trigger in a few words, for lists and logs (never shows a secret). */
export function triggerSummary(t: Trigger): string {
  switch (t.kind) {
    case 'file':
      return `files ${t.path}${t.glob === 'fnmatch' ? ' as fnmatch' : ''} (${t.events.join(', ')})`;
    case 'network':
      return `${t.tls ? 'TLS' : 'TCP'} port ${t.port} on ${t.host}${t.secret !== undefined ? ' with a secret' : ''}`;
    case 'schedule':
      return scheduleText(t);
    case 'manual':
      return t.path !== undefined ? `manual approval of ${t.path}` : 'manual';
    case 'absent':
      return `nothing matching ${t.path} for ${formatDuration(t.forMs)}`;
  }
}
