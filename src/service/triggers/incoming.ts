/**
 * Files under `.meow/incoming/`: what network messages, manual uploads,
 * timer firings and silences become, so that they can be a job's trigger
 * path like any workgroup file (the network-events paper's design).
 *
 *   .meow/incoming/<kind>/<channel>/<time>-<seq>-<random><ext>
 *
 * `channel` is the port for network payloads and the pattern name for the
 * others. A file is deleted when every job it triggered has ended — not at
 * shutdown, as the paper's monitor did — and kept while it is still being
 * scheduled, or while a pattern it feeds is paused. A payload still being
 * received is a `.part` file, renamed into place only when complete, so a
 * crash never fires half a message.
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { FINAL_JOB_STATUSES } from '../../core/types';
import type { IJob } from '../../core/types';
import { writeFileAtomic } from '../fsutil';
import type { JobStore } from '../jobs/jobStore';
import type { ILogger } from '../log';

/** Trigger kinds that make incoming files. */
export type IncomingKind = 'network' | 'manual' | 'schedule' | 'absent';

export const INCOMING_KINDS: readonly IncomingKind[] = ['network', 'manual', 'schedule', 'absent'];

/** Suffix of a payload still being received. */
export const PART_SUFFIX = '.part';

export class IncomingFiles {
  constructor(options: IncomingFiles.IOptions) {
    this._root = options.root;
    this._store = options.store;
    this._log = options.log;
    this._keep = options.keep ?? (() => false);
    this.prefix = `${options.stateDir}/incoming/`;
    this.dir = path.join(options.root, options.stateDir, 'incoming');
    this._store.changed.connect((_, change) => this._onJob(change.job, change.previous));
  }

  /** Workgroup-relative prefix of every incoming file (`.meow/incoming/`). */
  readonly prefix: string;
  /** Absolute incoming folder. */
  readonly dir: string;

  /** Whether a workgroup-relative path is an incoming file. */
  isIncoming(rel: string): boolean {
    return rel.startsWith(this.prefix);
  }

  /** The kind and channel of an incoming file (undefined for other paths). */
  channelOf(rel: string): { kind: IncomingKind; channel: string } | undefined {
    if (!this.isIncoming(rel)) {
      return undefined;
    }
    const [kind, channel] = rel.slice(this.prefix.length).split('/');
    return (INCOMING_KINDS as readonly string[]).includes(kind) && channel
      ? { kind: kind as IncomingKind, channel }
      : undefined;
  }

  /**
   * A new, unique name in a channel, its folder made. `ext` (e.g. `.csv`)
   * is kept so recipes can tell file types apart.
   */
  async reserve(
    kind: IncomingKind,
    channel: string,
    ext = '',
    time = Date.now()
  ): Promise<{ rel: string; abs: string }> {
    const name = `${stamp(time)}-${String(++this._seq).padStart(6, '0')}-${randomBytes(3).toString('hex')}${safeExt(ext)}`;
    return this._place(kind, channel, name);
  }

  /**
   * Write a small file under a chosen name, durably and atomically. Timers
   * and silences name their files after what fired, so a firing recorded
   * twice (a crash in between) is the same file and makes no second job.
   */
  async write(kind: IncomingKind, channel: string, name: string, text: string): Promise<string> {
    const { rel, abs } = await this._place(kind, channel, name);
    await writeFileAtomic(abs, text);
    return rel;
  }

  /**
   * Move a file (e.g. a request's payload, on the same file system) into a
   * channel under a chosen name. Resolves to its workgroup-relative path.
   */
  async adopt(kind: IncomingKind, channel: string, name: string, from: string): Promise<string> {
    const { rel, abs } = await this._place(kind, channel, name);
    await fs.rename(from, abs);
    return rel;
  }

  /** Whether any job (finished or not) has this file as its trigger path. */
  hasJobs(rel: string): boolean {
    return this._open.has(rel);
  }

  /** Files of a channel, oldest first (complete ones only). */
  async list(kind: IncomingKind, channel: string): Promise<string[]> {
    const dir = path.join(this.dir, kind, channel);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    return names
      .filter(n => !n.endsWith(PART_SUFFIX) && !n.startsWith('.'))
      .sort()
      .map(n => `${this.prefix}${kind}/${channel}/${n}`);
  }

  /** Keep a file while its firing is being scheduled (counted: pins nest). */
  pin(rel: string): void {
    this._pins.set(rel, (this._pins.get(rel) ?? 0) + 1);
  }

  /** Release a pin; the file goes if its jobs have all ended. */
  unpin(rel: string): void {
    const n = (this._pins.get(rel) ?? 1) - 1;
    if (n > 0) {
      this._pins.set(rel, n);
      return;
    }
    this._pins.delete(rel);
    this._consider(rel);
  }

  /**
   * At start, after the job store is loaded: index which incoming files have
   * unfinished jobs, remove payloads cut off by a stop, and delete files
   * whose jobs have all ended. Files with no job at all are left for their
   * trigger to fire (it lists its channel when its rules arrive).
   */
  async start(): Promise<void> {
    for (const job of this._store.list()) {
      if (this.isIncoming(job.trigger.path)) {
        this._track(job);
      }
    }
    for (const kind of INCOMING_KINDS) {
      const kindDir = path.join(this.dir, kind);
      for (const channel of await fs.readdir(kindDir).catch(() => [] as string[])) {
        const dir = path.join(kindDir, channel);
        for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
          if (name.endsWith(PART_SUFFIX)) {
            await fs.rm(path.join(dir, name), { force: true });
            this._log.warn(
              `${this.prefix}${kind}/${channel}/${name}: an incomplete payload (its connection was cut when meow stopped) was discarded`
            );
          }
        }
      }
    }
    await this.sweep();
  }

  /** Delete every incoming file whose jobs have all ended (e.g. after a resume). */
  async sweep(): Promise<void> {
    for (const rel of this._ended) {
      this._consider(rel);
    }
    await this._settled();
  }

  /** Resolves once pending deletions are done (tests, shutdown). */
  async settled(): Promise<void> {
    await this._settled();
  }

  private async _place(kind: IncomingKind, channel: string, name: string): Promise<{ rel: string; abs: string }> {
    const safe = safeChannel(channel);
    const dir = path.join(this.dir, kind, safe);
    if (!this._made.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      this._made.add(dir);
    }
    return { rel: `${this.prefix}${kind}/${safe}/${name}`, abs: path.join(dir, name) };
  }

  private _onJob(job: IJob, previous: IJob | undefined): void {
    if (!this.isIncoming(job.trigger.path)) {
      return;
    }
    if (!previous || FINAL_JOB_STATUSES.includes(job.status) !== FINAL_JOB_STATUSES.includes(previous.status)) {
      this._track(job);
      this._consider(job.trigger.path);
    }
  }

  /** Record whether a job of an incoming file is unfinished. */
  private _track(job: IJob): void {
    const rel = job.trigger.path;
    let open = this._open.get(rel);
    if (!open) {
      open = new Set();
      this._open.set(rel, open);
    }
    if (FINAL_JOB_STATUSES.includes(job.status)) {
      open.delete(job.id);
    } else {
      open.add(job.id);
    }
    if (open.size) {
      this._ended.delete(rel);
    } else {
      this._ended.add(rel);
    }
  }

  /** Delete a file that had jobs, all ended, is not being scheduled and not kept. */
  private _consider(rel: string): void {
    if (!this._ended.has(rel) || this._pins.has(rel) || this._keep(rel)) {
      return;
    }
    this._ended.delete(rel);
    this._open.delete(rel);
    const work = fs
      .rm(path.join(this._root, rel), { force: true })
      .then(() => this._log.debug(`${rel}: every job it triggered has ended; deleted`))
      .catch(err => this._log.warn(`${rel}: could not be deleted after its jobs ended (${(err as Error).message})`));
    this._deleting.add(work);
    void work.finally(() => this._deleting.delete(work));
  }

  private async _settled(): Promise<void> {
    while (this._deleting.size) {
      await Promise.all([...this._deleting]);
    }
  }

  private readonly _root: string;
  private readonly _store: JobStore;
  private readonly _log: ILogger;
  private readonly _keep: (rel: string) => boolean;
  private _seq = 0;
  private readonly _made = new Set<string>();
  private readonly _pins = new Map<string, number>();
  /** Unfinished job ids per incoming file that has jobs. */
  private readonly _open = new Map<string, Set<string>>();
  /** Incoming files that had jobs, all of which have ended. */
  private readonly _ended = new Set<string>();
  private readonly _deleting = new Set<Promise<void>>();
}

export namespace IncomingFiles {
  export interface IOptions {
    /** Absolute workgroup root. */
    root: string;
    stateDir: string;
    store: JobStore;
    log: ILogger;
    /** True while a file must stay although its jobs ended (a pattern it feeds is paused). */
    keep?: (rel: string) => boolean;
  }
}

/** `20261129T160512345Z`: sorts by time, safe in any file system. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** A channel as one safe path segment. */
function safeChannel(channel: string): string {
  return channel.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || '_';
}

/** Keep a short, plain extension only (`.csv`, `.tar.gz` → `.gz`). */
function safeExt(ext: string): string {
  const m = /\.[A-Za-z0-9]{1,12}$/.exec(ext);
  return m ? m[0] : '';
}
