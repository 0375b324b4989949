/**
 * The network trigger (`trigger: {port: N}`), after the network-events
 * paper: raw TCP (or TLS) payloads on a port become files under
 * `.meow/incoming/network/<port>/`, and each file is the trigger path of a
 * job of every pattern on that port — so any recipe written for file events
 * works unchanged.
 *
 * One listener per port, shared by every rule on it (all of them fire),
 * opened when the first rule on the port appears and closed when the last
 * goes. A port that cannot be opened is retried every few seconds: it may
 * free up, and the service never stops for it. Each connection is received
 * by a NetworkReceiver (networkReceiver.ts); connections are received in
 * parallel, up to `max_connections` per port.
 *
 * Protocol: the sender sends `[secret\n]payload`, then half-closes (or
 * closes); the listener replies one line, `ok <bytes> <path>` once the file
 * is durable, or `error: <why>`. `meow send` (cliSend.ts) speaks it; so
 * does any plain TCP client.
 */
import { promises as fs } from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NETWORK_HOST } from '../../core/types';
import type { INetworkTrigger, IRule, TriggerKind } from '../../core/types';
import { DRAIN_MS, NetworkReceiver, ReceiveOutcome } from './networkReceiver';
import type { IFiring, ITrigger, ITriggerContext } from './trigger';
import { describeListenerDifference, listenerDifferences } from '../../core/trigger';
import type { IListenerSettings } from '../../core/trigger';

/** How often a port that could not be opened is tried again. */
export const DEFAULT_RETRY_MS = 5000;
/** A connection that sends nothing for this long is refused. */
export const DEFAULT_IDLE_MS = 60_000;
/** Refused-as-busy connections are summed up in one log line per this period. */
const BUSY_LOG_MS = 5000;
/** Earlier payloads fired at once when a port's rules (re)appear. */
const BACKLOG_CONCURRENCY = 16;

/** What a port listens with (TLS paths made absolute); every rule on the port must agree on it. */
type ISettings = IListenerSettings;

/** One port's listener and the rules it fires. */
interface IListener {
  port: number;
  settings: ISettings;
  /** Pattern whose settings the listener uses (named in conflicts). */
  owner: string;
  /** The rules that agree with `settings`, by pattern name. */
  rules: IRule[];
  server?: net.Server;
  state: 'opening' | 'open' | 'failed' | 'closed';
  retry?: NodeJS.Timeout;
  /** Failed attempts to open since the last success; the last error. */
  failures: number;
  lastError?: string;
  receivers: Set<NetworkReceiver>;
  /** Every socket of this listener, refused ones too (destroyed on close). */
  sockets: Set<net.Socket>;
  busy: number;
  busyTimer?: NodeJS.Timeout;
}

export class NetworkTrigger implements ITrigger {
  constructor(options: NetworkTrigger.IOptions) {
    this._context = options.context;
    this._retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this._idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  readonly kinds: readonly TriggerKind[] = ['network'];

  /** Ports listened on now (tests, status). */
  get ports(): number[] {
    return [...this._listeners.values()].filter(l => l.state === 'open').map(l => l.port);
  }

  /** Resolves once every message received so far has been handed to the scheduler. */
  async settled(): Promise<void> {
    while (this._work.size) {
      await Promise.allSettled([...this._work]);
    }
  }

  update(rules: IRule[]): Promise<void> {
    return this._serial(() => this._update(rules));
  }

  async resumed(rule: IRule): Promise<void> {
    if (rule.pattern.trigger.kind !== 'network') {
      return;
    }
    const listener = this._listeners.get(rule.pattern.trigger.port);
    if (listener?.rules.some(r => r.id === rule.id)) {
      await this._fireBacklog(listener.port, [rule]);
    }
  }

  async stop(): Promise<void> {
    this._stopped = true;
    await this._queue;
    await Promise.all([...this._listeners.values()].map(l => this._close(l, 'meow is stopping')));
    this._listeners.clear();
    await this.settled();
  }

  /** Updates and retries run one at a time: both open and close listeners. */
  private _serial(task: () => Promise<void>): Promise<void> {
    const run = this._queue.then(() => (this._stopped ? undefined : task()));
    this._queue = run.catch(err => this._context.log.error(`network trigger: ${(err as Error).stack ?? err}`));
    return this._queue;
  }

  private async _update(rules: IRule[]): Promise<void> {
    const log = this._context.log;
    const byPort = new Map<number, IRule[]>();
    for (const rule of rules) {
      const t = rule.pattern.trigger;
      if (t.kind === 'network') {
        byPort.set(t.port, [...(byPort.get(t.port) ?? []), rule]);
      }
    }
    for (const [port, listener] of [...this._listeners]) {
      if (!byPort.has(port)) {
        this._listeners.delete(port);
        await this._close(listener, `no pattern listens on port ${port} any more`);
        log.info(`port ${port}: closed (its pattern(s) ${names(listener.rules)} were removed or changed port)`);
      }
    }
    const conflicts = new Map<string, string>();
    for (const [port, portRules] of byPort) {
      portRules.sort((a, b) => a.pattern.name.localeCompare(b.pattern.name));
      const wanted = new Map(portRules.map(r => [r.id, this._settingsOf(r.pattern.trigger as INetworkTrigger)]));
      let listener = this._listeners.get(port);
      // Keep what the listener has while any rule still wants it; otherwise
      // follow the setting most of the port's rules ask for.
      let ref: { settings: ISettings; owner: string };
      const keeper =
        listener && portRules.find(r => listenerDifferences(wanted.get(r.id)!, listener!.settings).length === 0);
      if (listener && keeper) {
        ref = { settings: listener.settings, owner: keeper.pattern.name };
      } else {
        const best = majority(portRules, r => settingsKey(wanted.get(r.id)!));
        ref = { settings: wanted.get(best.id)!, owner: best.pattern.name };
      }
      const agreeing: IRule[] = [];
      for (const rule of portRules) {
        const diff = listenerDifferences(wanted.get(rule.id)!, ref.settings);
        if (!diff.length) {
          agreeing.push(rule);
          continue;
        }
        const message =
          `pattern ${rule.pattern.name}: its trigger on port ${port} differs from pattern ${ref.owner}'s in ` +
          diff.map(d => describeListenerDifference(d, wanted.get(rule.id)!, ref.settings)).join(', ') +
          `. Every pattern on a port shares one listener, so make ${diff.map(d => d).join(', ')} the same in both ` +
          `(or give one of them another port); pattern ${rule.pattern.name} does not fire until then.`;
        conflicts.set(rule.id, message);
        if (this._conflicts.get(rule.id) !== message) {
          log.error(message);
        }
      }
      const owner = agreeing[0].pattern.name;
      if (!listener) {
        listener = this._newListener(port, ref.settings, owner, agreeing);
        this._listeners.set(port, listener);
        await this._open(listener);
      } else {
        const before = new Set(listener.rules.map(r => r.id));
        const namesBefore = new Set(listener.rules.map(r => r.pattern.name));
        const change = listenerDifferences(ref.settings, listener.settings);
        listener.owner = owner;
        listener.rules = agreeing;
        if (change.includes('host') || change.includes('tls')) {
          await this._close(
            listener,
            `the listener on port ${port} is re-opened with new settings (${change.join(', ')})`
          );
          log.info(`port ${port}: re-opening with the new ${change.join(', ')} of pattern(s) ${names(agreeing)}`);
          listener = this._newListener(port, ref.settings, owner, agreeing);
          this._listeners.set(port, listener);
          await this._open(listener);
        } else if (change.length) {
          // Limits and secret apply to new connections; no re-open needed.
          listener.settings = ref.settings;
          log.info(
            `port ${port}: new ${change.join(', ')} from pattern(s) ${names(agreeing)} (applies to new connections)`
          );
        }
        // An edited pattern is a new rule with the same name: not news.
        const fresh = agreeing.filter(r => !before.has(r.id));
        const added = fresh.filter(r => !namesBefore.has(r.pattern.name));
        const gone = [...namesBefore].filter(n => !agreeing.some(r => r.pattern.name === n));
        if (added.length && namesBefore.size) {
          log.info(`port ${port}: now also fires pattern(s) ${names(added)}`);
        }
        if (gone.length) {
          log.info(`port ${port}: no longer fires pattern(s) ${gone.join(', ')}`);
        }
        this._track(this._fireBacklog(port, fresh));
        continue;
      }
      this._track(this._fireBacklog(port, agreeing));
    }
    this._conflicts = conflicts;
  }

  private _newListener(port: number, settings: ISettings, owner: string, rules: IRule[]): IListener {
    return {
      port,
      settings,
      owner,
      rules,
      state: 'opening',
      failures: 0,
      receivers: new Set(),
      sockets: new Set(),
      busy: 0
    };
  }

  private _settingsOf(t: INetworkTrigger): ISettings {
    // Defaults also cover rules made by hand (tests) with fields left out.
    const settings: ISettings = {
      host: t.host || DEFAULT_NETWORK_HOST,
      maxBytes: t.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      maxConnections: t.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    };
    if (t.secret !== undefined) {
      settings.secret = t.secret;
    }
    if (t.tls) {
      settings.tls = {
        cert: path.resolve(this._context.root, t.tls.cert),
        key: path.resolve(this._context.root, t.tls.key)
      };
    }
    return settings;
  }

  /** Try to listen; on failure log why and the fix, and try again later. */
  private async _open(l: IListener): Promise<void> {
    const log = this._context.log;
    const { port, settings } = l;
    const where = `${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
    try {
      const server = await this._server(l);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // A deep backlog: a burst of senders must not wait for SYN retries.
        server.listen({ port, host: settings.host, backlog: 4096 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', err => log.error(`port ${port}: listener error (${err.message})`));
      if (l.state === 'closed' || this._stopped) {
        server.close();
        return;
      }
      l.server = server;
      l.state = 'open';
      log.info(
        `port ${port}: listening on ${where}` +
          (settings.tls ? ' (TLS)' : '') +
          (settings.secret !== undefined ? ', secret required' : '') +
          ` for pattern(s) ${names(l.rules)}` +
          (l.failures ? ` (after ${l.failures} failed attempt(s))` : '')
      );
      l.failures = 0;
      l.lastError = undefined;
    } catch (err) {
      if (l.state === 'closed') {
        return;
      }
      l.state = 'failed';
      l.failures++;
      const message =
        `port ${port}: cannot listen on ${where} for pattern(s) ${names(l.rules)}: ${openFailure(err, l)}; ` +
        `trying again every ${this._retryMs >= 1000 ? `${Math.round(this._retryMs / 1000)} s` : `${this._retryMs} ms`}`;
      if (message !== l.lastError) {
        log.error(message);
      } else {
        log.debug(message);
      }
      l.lastError = message;
      l.retry = setTimeout(() => {
        l.retry = undefined;
        void this._serial(async () => {
          if (this._listeners.get(port) === l && l.state === 'failed') {
            await this._open(l);
          }
        });
      }, this._retryMs);
      l.retry.unref?.();
    }
  }

  /** A TCP server, or a TLS one with the certificate read now. */
  private async _server(l: IListener): Promise<net.Server> {
    const onSocket = (socket: net.Socket) => this._accept(l, socket);
    if (!l.settings.tls) {
      return net.createServer({ allowHalfOpen: true }, onSocket);
    }
    // One after the other, so a missing certificate is named before its key.
    const cert = await fs.readFile(l.settings.tls.cert);
    const key = await fs.readFile(l.settings.tls.key);
    const server = tls.createServer({ cert, key, allowHalfOpen: true, handshakeTimeout: this._idleMs }, onSocket);
    // Handshakes still under way are closed with the listener too.
    server.on('connection', (raw: net.Socket) => {
      l.sockets.add(raw);
      raw.once('close', () => l.sockets.delete(raw));
    });
    server.on('tlsClientError', (err, socket) => {
      socket.destroy(); // not done for us (e.g. on a handshake timeout)
      this._context.log.warn(
        `port ${l.port}: a TLS connection from ${peerOf(socket)} failed (${err.message}); ` +
          'the sender must use TLS (meow send --tls) and trust the certificate'
      );
    });
    return server;
  }

  private _accept(l: IListener, socket: net.Socket): void {
    socket.on('error', () => undefined); // each use below reports its own
    if (l.state !== 'open' || this._stopped) {
      socket.destroy();
      return;
    }
    l.sockets.add(socket);
    socket.once('close', () => l.sockets.delete(socket));
    const peer = peerOf(socket);
    const { maxConnections, maxBytes, secret } = l.settings;
    if (l.receivers.size >= maxConnections) {
      socket.end(`error: busy: ${maxConnections} connections at once (max_connections), try again\n`);
      socket.resume(); // discard what it sends, so it reads the reply rather than a reset
      setTimeout(() => socket.destroy(), DRAIN_MS).unref?.();
      this._busy(l, peer);
      return;
    }
    const receiver = new NetworkReceiver({
      socket,
      port: l.port,
      incoming: this._context.incoming,
      secret,
      maxBytes,
      idleMs: this._idleMs
    });
    l.receivers.add(receiver);
    this._track(
      receiver.done.then(outcome => {
        l.receivers.delete(receiver);
        return this._received(l, peer, outcome);
      })
    );
  }

  /** Log refusals as busy: the first at once, then a count per period. */
  private _busy(l: IListener, peer: string): void {
    const log = this._context.log;
    if (!l.busyTimer) {
      log.warn(
        `port ${l.port}: refused a connection from ${peer}: busy, ${l.settings.maxConnections} connections at once ` +
          `(max_connections of pattern ${l.owner}; raise it, or send fewer at once)`
      );
      l.busyTimer = setTimeout(() => {
        l.busyTimer = undefined;
        if (l.busy) {
          log.warn(
            `port ${l.port}: refused ${l.busy} more connection(s) as busy in the last ${BUSY_LOG_MS / 1000} s (max_connections ${l.settings.maxConnections})`
          );
        }
        l.busy = 0;
      }, BUSY_LOG_MS);
      l.busyTimer.unref?.();
    } else {
      l.busy++;
    }
  }

  private async _received(l: IListener, peer: string, outcome: ReceiveOutcome): Promise<void> {
    const log = this._context.log;
    if (!outcome.ok) {
      const line = `port ${l.port}: connection from ${peer}: ${outcome.message}`;
      switch (outcome.kind) {
        case 'empty':
        case 'closed':
          log.debug(line);
          break;
        case 'failed':
          log.error(line);
          break;
        default:
          log.warn(
            line +
              (outcome.kind === 'aborted' && outcome.bytes ? ` after ${outcome.bytes} bytes; nothing was kept` : '')
          );
      }
      return;
    }
    const { rel, bytes } = outcome;
    const time = this._context.now();
    const incoming = this._context.incoming;
    try {
      // The port's rules now (a re-opened listener has the same port).
      const rules = this._listeners.get(l.port)?.rules ?? [];
      log.debug(
        `port ${l.port}: ${bytes} bytes from ${peer} → ${rel} for pattern(s) ${names(rules)} ` +
          `(at most ${Math.ceil(outcome.peakBuffered / 1024)} KiB of it in memory at once)`
      );
      if (!rules.length) {
        log.warn(
          `${rel}: received on port ${l.port} after its patterns went; it fires when a pattern on port ${l.port} returns`
        );
        return;
      }
      // The hash saves the scheduler reading the file back.
      const firing: IFiring = { kind: 'network', path: rel, time, source: peer, hash: outcome.hash };
      await this._context.fire(rules, firing);
    } catch (err) {
      log.error(
        `${rel}: its jobs could not be made (${(err as Error).message}); it is fired again when its patterns are next loaded`
      );
    } finally {
      incoming.unpin(rel);
    }
  }

  /**
   * Fire, for these rules, the payloads already in the port's folder: ones
   * received before a crash whose jobs may never have been made. Firing is
   * idempotent (the scheduler skips what a rule already handled).
   */
  private async _fireBacklog(port: number, rules: IRule[]): Promise<void> {
    if (!rules.length) {
      return;
    }
    const { incoming, log } = this._context;
    const files = await incoming.list('network', String(port));
    if (!files.length) {
      return;
    }
    log.debug(`port ${port}: ${files.length} payload(s) received earlier are handed to pattern(s) ${names(rules)}`);
    let next = 0;
    const worker = async () => {
      while (next < files.length && !this._stopped) {
        const rel = files[next++];
        incoming.pin(rel);
        try {
          const stat = await fs.stat(path.join(this._context.root, rel)).catch(() => undefined);
          if (stat) {
            await this._context.fire(rules, { kind: 'network', path: rel, time: stat.mtimeMs });
          }
        } catch (err) {
          log.error(`${rel}: its jobs could not be made (${(err as Error).message})`);
        } finally {
          incoming.unpin(rel);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BACKLOG_CONCURRENCY, files.length) }, worker));
  }

  /** Stop listening and cut the connections still being received. */
  private async _close(l: IListener, why: string): Promise<void> {
    l.state = 'closed';
    clearTimeout(l.retry);
    clearTimeout(l.busyTimer);
    const closed = l.server ? new Promise<void>(resolve => l.server!.close(() => resolve())) : Promise.resolve();
    const receivers = [...l.receivers];
    receivers.forEach(r => r.close(why));
    await Promise.all(receivers.map(r => r.done));
    // Refused senders still draining, and replies already written.
    l.sockets.forEach(socket => socket.destroy());
    await closed;
  }

  private _track(work: Promise<unknown>): void {
    const tracked = work.catch(err => this._context.log.error(`network trigger: ${(err as Error).stack ?? err}`));
    this._work.add(tracked);
    void tracked.finally(() => this._work.delete(tracked));
  }

  private readonly _context: ITriggerContext;
  private readonly _retryMs: number;
  private readonly _idleMs: number;
  private readonly _listeners = new Map<number, IListener>();
  /** Conflict messages already logged, by rule id (logged once, not per update). */
  private _conflicts = new Map<string, string>();
  private _queue: Promise<void> = Promise.resolve();
  private readonly _work = new Set<Promise<unknown>>();
  private _stopped = false;
}

export namespace NetworkTrigger {
  export interface IOptions {
    context: ITriggerContext;
    /** How often a port that could not be opened is tried again (default 5 s). */
    retryMs?: number;
    /** A connection silent this long is refused (default 60 s). */
    idleMs?: number;
  }
}

function settingsKey(s: ISettings): string {
  return JSON.stringify([s.host, s.tls?.cert, s.tls?.key, s.secret, s.maxBytes, s.maxConnections]);
}

/** The first of the items whose key most items share. */
function majority<T>(items: T[], key: (item: T) => string): T {
  const counts = new Map<string, number>();
  items.forEach(i => counts.set(key(i), (counts.get(key(i)) ?? 0) + 1));
  let best = items[0];
  for (const item of items) {
    if (counts.get(key(item))! > counts.get(key(best))!) {
      best = item;
    }
  }
  return best;
}

function names(rules: IRule[]): string {
  return [...new Set(rules.map(r => r.pattern.name))].join(', ') || '(none)';
}

function peerOf(socket: net.Socket): string {
  const address = socket.remoteAddress ?? '?';
  return `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort ?? '?'}`;
}

/** Why a port could not be opened, and the fix. */
function openFailure(err: unknown, l: IListener): string {
  const e = err as NodeJS.ErrnoException;
  const { host, tls: files } = l.settings;
  const file = e.path ?? '';
  switch (e.code) {
    case 'EADDRINUSE':
      return `another program (or another meow) already listens on port ${l.port}; stop it, or give pattern(s) ${names(l.rules)} another port`;
    case 'EACCES':
      return l.port < 1024
        ? `ports below 1024 need administrator rights; give pattern(s) ${names(l.rules)} a port of 1024 or more`
        : files && file
          ? `${file} cannot be read (permission denied); let meow read the certificate and key`
          : `permission denied (${e.message})`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its addresses`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} cannot be resolved; use an IP address`;
    case 'ENOENT':
    case 'EISDIR':
      return `the TLS ${file === files?.key ? 'key' : 'certificate'} file ${file} does not exist (relative paths are relative to the workgroup folder)`;
  }
  if (files && /PEM|certificate|key|asn1|x509|ssl|tls/i.test(e.message)) {
    return `the TLS certificate ${files.cert} or key ${files.key} is not usable (${e.message}); give a PEM certificate and its matching private key`;
  }
  return e.message;
}
