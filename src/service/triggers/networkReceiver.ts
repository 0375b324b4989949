/**
 * One connection to a network listener (network.ts): its payload streamed to
 * a `.part` file under `.meow/incoming/network/<port>/`, made durable and
 * renamed into place once the sender has finished, and the sender told
 * where it went — one reply line, `ok <bytes> <path>` or `error: <why>`.
 *
 * The payload is never held whole in memory: the socket is paused while
 * more than HIGH_WATER bytes wait to be written (the paper wrote 2 KiB
 * chunks from a thread per connection; here one event loop serves them all).
 */
import { createHash, Hash, timingSafeEqual } from 'crypto';
import { promises as fs } from 'fs';
import type { FileHandle } from 'fs/promises';
import type { Socket } from 'net';
import type { IncomingFiles } from './incoming';
import { PART_SUFFIX } from './incoming';

/** Longest secret line read before a connection is refused. */
export const MAX_SECRET_LINE = 1024;
/** Bytes waiting to be written before the socket is paused. */
const HIGH_WATER = 1 << 20;
/** How long a refused sender may go on sending (discarded) so it reads the reply, not a reset. */
export const DRAIN_MS = 2000;

/** Why a connection produced no file. */
export type RefusalKind = 'empty' | 'secret' | 'too-large' | 'idle' | 'aborted' | 'failed' | 'closed';

export type ReceiveOutcome =
  | {
      ok: true;
      rel: string;
      bytes: number;
      time: number;
      /** sha256 of the payload as hex, computed as it arrived (the scheduler need not read it back). */
      hash: string;
      /** Most payload bytes held in memory at once. */
      peakBuffered: number;
    }
  | { ok: false; kind: RefusalKind; message: string; bytes: number };

export class NetworkReceiver {
  constructor(options: NetworkReceiver.IOptions) {
    this._o = options;
    this._socket = options.socket;
    this._secret = options.secret === undefined ? undefined : digest(Buffer.from(options.secret, 'utf8'));
    this._head = this._secret ? Buffer.alloc(0) : undefined;
    this.done = new Promise(resolve => (this._resolve = resolve));
    const socket = this._socket;
    socket.setNoDelay(true);
    socket.setTimeout(options.idleMs);
    socket.on('timeout', () => this._onIdle());
    socket.on('data', chunk => this._onData(chunk as Buffer));
    socket.on('end', () => void this._onEnd());
    socket.on('error', err => this._onError(err));
    socket.on('close', () => this._onClose());
  }

  /** Settles once the payload is durable, or refused and cleaned up. */
  readonly done: Promise<ReceiveOutcome>;

  /** Bytes of payload received so far (secret line excluded). */
  get bytes(): number {
    return this._bytes;
  }

  /**
   * Give up on this connection (its listener closes, meow stops): the
   * sender is told why, the partial payload is discarded.
   */
  close(message: string): void {
    if (this._committing) {
      return; // the sender already sent everything; it finishes in a moment
    }
    void this._refuse('closed', message, { destroy: true });
  }

  private _onData(chunk: Buffer): void {
    if (this._refused || this._committing) {
      return; // draining after a refusal: discarded
    }
    if (this._head) {
      this._head = this._head.length ? Buffer.concat([this._head, chunk]) : chunk;
      const nl = this._head.indexOf(10);
      if (nl < 0) {
        if (this._head.length > MAX_SECRET_LINE) {
          void this._refuseSecret();
        }
        return;
      }
      let line = this._head.subarray(0, nl);
      if (line.length && line[line.length - 1] === 13) {
        line = line.subarray(0, line.length - 1); // a CRLF line (telnet, Windows)
      }
      if (nl > MAX_SECRET_LINE || !timingSafeEqual(digest(line), this._secret!)) {
        void this._refuseSecret();
        return;
      }
      chunk = this._head.subarray(nl + 1);
      this._head = undefined;
    }
    if (!chunk.length) {
      return;
    }
    this._bytes += chunk.length;
    if (this._bytes > this._o.maxBytes) {
      void this._refuse(
        'too-large',
        `payload larger than ${this._o.maxBytes} bytes (max_bytes of the pattern on port ${this._o.port}); nothing was kept`
      );
      return;
    }
    this._hash.update(chunk);
    this._queue.push(chunk);
    this._queued += chunk.length;
    this._peak = Math.max(this._peak, this._queued);
    if (this._queued >= HIGH_WATER && !this._paused) {
      this._paused = true;
      this._socket.pause();
    }
    this._pump();
  }

  /** The sender finished (half-close, or a full close: its FIN either way). */
  private async _onEnd(): Promise<void> {
    if (this._refused) {
      return; // drained: both sides have ended, so the socket closes
    }
    this._committing = true;
    this._socket.setTimeout(0);
    if (this._head) {
      if (this._head.length === 0) {
        this._settle(
          { ok: false, kind: 'empty', message: 'the connection sent nothing', bytes: 0 },
          'error: nothing was received; nothing was triggered'
        );
      } else {
        this._committing = false;
        await this._refuseSecret();
      }
      return;
    }
    try {
      await this._flush();
      if (this._refused) {
        return;
      }
      if (!this._file) {
        this._settle(
          { ok: false, kind: 'empty', message: 'the connection sent nothing', bytes: 0 },
          'error: nothing was received; nothing was triggered'
        );
        return;
      }
      const { rel, abs, handle } = this._file;
      await handle.sync();
      await handle.close();
      this._file.closed = true;
      await fs.rename(abs + PART_SUFFIX, abs);
      this._file.renamed = true;
      this._settle(
        {
          ok: true,
          rel,
          bytes: this._bytes,
          time: Date.now(),
          hash: this._hash.digest('hex'),
          peakBuffered: this._peak
        },
        `ok ${this._bytes} ${rel}`
      );
    } catch (err) {
      this._committing = false;
      await this._refuse('failed', `the payload could not be stored (${(err as Error).message})`);
    }
  }

  private _onIdle(): void {
    if (this._paused) {
      return; // we stopped reading (disk slow), not the sender
    }
    void this._refuse(
      'idle',
      `no data for ${Math.round(this._o.idleMs / 1000)} s; the connection was closed and nothing was kept (finish sending and half-close the connection)`
    );
  }

  private _onError(err: Error): void {
    if (this._committing || this._refused) {
      return; // e.g. the sender closed without reading our reply
    }
    void this._refuse('aborted', `the connection broke (${(err as NodeJS.ErrnoException).code ?? err.message})`, {
      destroy: true
    });
  }

  private _onClose(): void {
    clearTimeout(this._drainTimer);
    if (!this._committing && !this._refused) {
      void this._refuse('aborted', 'the connection was closed before the sender finished', { destroy: true });
    }
  }

  private _refuseSecret(): Promise<void> {
    return this._refuse(
      'secret',
      'wrong or missing secret: the first line must be the secret of the patterns on this port (meow send --secret, or $MEOW_SECRET)'
    );
  }

  /**
   * No file from this connection: reply why, discard what was written, and
   * let the sender finish sending (discarded) for a moment so that it reads
   * the reply rather than a connection reset.
   */
  private async _refuse(kind: RefusalKind, message: string, options: { destroy?: boolean } = {}): Promise<void> {
    if (this._refused || this._settled) {
      return;
    }
    this._refused = true;
    this._queue = [];
    this._queued = 0;
    const socket = this._socket;
    if (!socket.destroyed) {
      socket.setTimeout(0);
      if (options.destroy) {
        // Best effort: the reply is usually in the kernel before the close.
        socket.end(`error: ${message}\n`);
        socket.destroy();
      } else {
        socket.end(`error: ${message}\n`);
        socket.resume();
        this._drainTimer = setTimeout(() => socket.destroy(), DRAIN_MS);
        this._drainTimer.unref?.();
      }
    }
    await this._discard();
    this._settle({ ok: false, kind, message, bytes: this._bytes });
  }

  private _settle(outcome: ReceiveOutcome, reply?: string): void {
    if (this._settled) {
      return;
    }
    this._settled = true;
    if (reply !== undefined && !this._socket.destroyed) {
      this._socket.end(`${reply}\n`);
    }
    if (!outcome.ok && this._file) {
      this._o.incoming.unpin(this._file.rel);
    }
    this._resolve(outcome);
  }

  /** Remove the `.part` file of a refused payload. */
  private async _discard(): Promise<void> {
    while (this._pumping) {
      await this._pumping.catch(() => undefined);
    }
    const file = this._file;
    if (!file || file.renamed) {
      return;
    }
    if (!file.closed) {
      file.closed = true;
      await file.handle.close().catch(() => undefined);
    }
    await fs.rm(file.abs + PART_SUFFIX, { force: true }).catch(() => undefined);
  }

  private _pump(): void {
    if (!this._pumping) {
      this._pumping = this._write().finally(() => (this._pumping = undefined));
    }
  }

  /** Write what is queued, in batches, until the queue is empty. */
  private async _write(): Promise<void> {
    try {
      if (!this._file) {
        const { rel, abs } = await this._o.incoming.reserve('network', String(this._o.port));
        this._o.incoming.pin(rel);
        // 'wx': a name is never reused, and never overwrites.
        const handle = await fs.open(abs + PART_SUFFIX, 'wx');
        this._file = { rel, abs, handle, closed: false, renamed: false };
      }
      while (this._queue.length && !this._refused) {
        const batch = this._queue;
        this._queue = [];
        const n = batch.reduce((s, b) => s + b.length, 0);
        await writeAll(this._file.handle, batch);
        this._queued -= n;
        if (this._paused && this._queued < HIGH_WATER && !this._refused) {
          this._paused = false;
          this._socket.resume();
        }
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      void this._refuse(
        'failed',
        `the payload could not be stored (${(err as Error).message})` +
          (code === 'ENOSPC' ? ' — the disk is full' : ''),
        { destroy: true }
      );
    }
  }

  /** Resolves once everything received is written. */
  private async _flush(): Promise<void> {
    while (this._pumping || (this._queue.length && !this._refused)) {
      if (!this._pumping) {
        this._pump();
      }
      await this._pumping;
    }
  }

  private readonly _o: NetworkReceiver.IOptions;
  private readonly _socket: Socket;
  private readonly _secret: Buffer | undefined;
  /** The secret line being read (undefined once it matched, or without a secret). */
  private _head: Buffer | undefined;
  private _resolve!: (outcome: ReceiveOutcome) => void;
  private _file: { rel: string; abs: string; handle: FileHandle; closed: boolean; renamed: boolean } | undefined;
  private _queue: Buffer[] = [];
  private readonly _hash: Hash = createHash('sha256');
  private _queued = 0;
  private _peak = 0;
  private _bytes = 0;
  private _paused = false;
  private _pumping: Promise<void> | undefined;
  /** The sender finished; what it sent is being made durable. */
  private _committing = false;
  private _refused = false;
  private _settled = false;
  private _drainTimer: NodeJS.Timeout | undefined;
}

export namespace NetworkReceiver {
  export interface IOptions {
    socket: Socket;
    port: number;
    incoming: IncomingFiles;
    /** The secret the first line must match, if any. */
    secret?: string;
    maxBytes: number;
    /** No data for this long refuses the connection. */
    idleMs: number;
  }
}

/** Secrets are compared as digests: equal length, constant time. */
function digest(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** writev until every byte is written (a short write is rare, but legal). */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length) {
    const { bytesWritten } = await handle.writev(rest);
    let n = bytesWritten;
    const left: Buffer[] = [];
    for (const b of rest) {
      if (n >= b.length) {
        n -= b.length;
      } else {
        left.push(n ? b.subarray(n) : b);
        n = 0;
      }
    }
    rest = left;
  }
}
