/**
 * Manual triggers: a person runs a pattern — the thesis's human-in-the-loop
 * step. `trigger: {manual: true}` patterns run only this way; any pattern can
 * also be "run now". Three ways in, one path to the scheduler:
 *
 *  - the HTTP API (`POST /api/patterns/{name}/run`, behind Jupyter's login),
 *    used by the Run / Approve buttons of the Workflow panel;
 *  - `meow trigger WORKGROUP PATTERN [FILE]`, which drops a request into
 *    `.meow/requests/<pattern>/` (works whether or not meow is running: the
 *    request waits for it);
 *  - `runner.runPattern` for code.
 *
 * A run is on a workgroup file (approving it), on an uploaded file (stored
 * under `.meow/incoming/manual/<pattern>/`, deleted when its jobs end), or
 * on nothing (a small file recording who ran it and when).
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IRunResult, IWaitingFiles } from '../../core/api';
import { triggerGlobBase, triggerMatcher } from '../../core/glob';
import type { IJob, IRule } from '../../core/types';
import { toAbsolute, writeFileAtomic } from '../fsutil';
import type { ITrigger, ITriggerContext } from './trigger';

/** How often `.meow/requests/` is looked at for requests from `meow trigger`. */
export const REQUEST_POLL_MS = 500;
/** Suffix of a request file (the last thing `meow trigger` writes). */
export const REQUEST_SUFFIX = '.request.json';
/** Most waiting files listed for approval. */
const MAX_WAITING = 1000;

/** What `meow trigger` writes into `.meow/requests/<pattern>/<id>.request.json`. */
export interface IRunRequestFile {
  /** Unique id of the request; the job's `trigger.firing` for path runs. */
  id: string;
  /** Workgroup-relative file to run on. */
  path?: string;
  /** A payload next to the request (its file name in the same folder). */
  file?: string;
  /** Who asked. */
  by?: string;
}

export class ManualTrigger implements ITrigger {
  constructor(options: ManualTrigger.IOptions) {
    this._c = options.context;
    this._ruleOf = options.ruleOf;
    this._taken = options.takenPaths;
    this.requestsDir = path.join(this._c.root, this._c.stateDir, 'requests');
  }

  readonly kinds = ['manual'] as const;
  /** Where `meow trigger` leaves requests. */
  readonly requestsDir: string;

  /**
   * The manual rules changed. Uploads received before a crash that got no
   * job are run now; requests start being read.
   */
  async update(rules: IRule[]): Promise<void> {
    for (const rule of rules) {
      await this.resumed(rule);
    }
    if (!this._poll && !this._stopped) {
      this._poll = setInterval(() => void this._readRequests(), REQUEST_POLL_MS);
      void this._readRequests();
    }
  }

  /** Uploads of this pattern that have no job yet (a crash, a pause) are run. */
  async resumed(rule: IRule): Promise<void> {
    for (const rel of await this._c.incoming.list('manual', rule.pattern.name)) {
      if (!this._c.incoming.hasJobs(rel)) {
        await this._fire(rule, {
          kind: 'manual',
          path: rel,
          time: this._c.now(),
          source: 'a run received before meow stopped'
        });
      }
    }
  }

  /**
   * Run a pattern by hand.
   * @throws ManualTrigger.RunError with what is wrong and the fix.
   */
  async run(rule: IRule, request: ManualTrigger.IRequest): Promise<IRunResult> {
    const by = request.by ?? 'a person';
    const time = this._c.now();
    if (request.path !== undefined) {
      const rel = await this._checkPath(rule, request.path);
      const firing = request.id ?? `${new Date(time).toISOString()}-${randomBytes(3).toString('hex')}`;
      const jobs = await this._fire(rule, { kind: 'manual', path: rel, time, source: by, firing });
      return { jobs, path: rel };
    }
    let rel: string;
    if (request.upload) {
      const { abs, rel: reserved } = await this._c.incoming.reserve(
        'manual',
        rule.pattern.name,
        path.extname(request.upload.filename ?? ''),
        time
      );
      await writeFileAtomic(abs, request.upload.bytes);
      rel = reserved;
    } else {
      if (rule.pattern.trigger.kind === 'file') {
        throw new ManualTrigger.RunError(
          'conflict',
          `pattern ${rule.pattern.name} runs on files matching ${rule.pattern.trigger.path}; a run needs one`,
          'give a workgroup path (e.g. {"path": "start/data.csv"}) or upload a file'
        );
      }
      const iso = new Date(time).toISOString();
      rel = await this._c.incoming.write(
        'manual',
        rule.pattern.name,
        `${iso.replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}.yaml`,
        `# Pattern ${rule.pattern.name} was run by hand; this file is deleted when its jobs end.\n` +
          `pattern: ${JSON.stringify(rule.pattern.name)}\nrequested_by: ${JSON.stringify(by)}\nrequested_at: ${iso}\n`
      );
    }
    const jobs = await this._fire(rule, { kind: 'manual', path: rel, time, source: by });
    return { jobs, path: rel };
  }

  /** Files matching a manual pattern's `path` that no job of it has taken: they wait for approval. */
  async waiting(rule: IRule): Promise<IWaitingFiles> {
    const t = rule.pattern.trigger;
    const result: IWaitingFiles = { pattern: rule.pattern.name, files: [], truncated: false };
    if (t.kind !== 'manual' || t.path === undefined) {
      return result;
    }
    const glob = { ...t, path: t.path };
    const matcher = triggerMatcher(glob);
    const taken = this._taken(rule.pattern.name);
    for await (const rel of this._c.walk(triggerGlobBase(glob))) {
      if (!matcher(rel) || taken.has(rel)) {
        continue;
      }
      const st = await fs.stat(toAbsolute(this._c.root, rel)).catch(() => undefined);
      if (st) {
        result.files.push({ path: rel, modified: st.mtime.toISOString(), size: st.size });
      }
    }
    result.files.sort((a, b) => a.modified.localeCompare(b.modified) || a.path.localeCompare(b.path));
    if (result.files.length > MAX_WAITING) {
      result.files = result.files.slice(0, MAX_WAITING);
      result.truncated = true;
    }
    return result;
  }

  async stop(): Promise<void> {
    this._stopped = true;
    clearInterval(this._poll);
    this._poll = undefined;
    await this._reading;
  }

  private async _fire(rule: IRule, firing: Parameters<ITriggerContext['fire']>[1]): Promise<IJob[]> {
    this._c.incoming.pin(firing.path);
    try {
      return await this._c.fire([rule], firing);
    } finally {
      this._c.incoming.unpin(firing.path);
    }
  }

  /** A workgroup file a person may run the pattern on. */
  private async _checkPath(rule: IRule, raw: string): Promise<string> {
    const rel = path.posix.normalize(raw.replace(/\\/g, '/')).replace(/^\.\//, '');
    if (!raw || path.posix.isAbsolute(rel) || rel === '..' || rel.startsWith('../')) {
      throw new ManualTrigger.RunError(
        'invalid',
        `"${raw}" is not a path inside the workgroup`,
        'give a path relative to the workgroup root, e.g. review/x.png'
      );
    }
    if (rel === this._c.stateDir || rel.startsWith(`${this._c.stateDir}/`)) {
      throw new ManualTrigger.RunError(
        'invalid',
        `"${raw}" is inside meow's state folder ${this._c.stateDir}`,
        'run on a data file of the workgroup, or upload the file'
      );
    }
    const t = rule.pattern.trigger;
    if (t.kind === 'manual' && t.path !== undefined && !triggerMatcher({ ...t, path: t.path })(rel)) {
      throw new ManualTrigger.RunError(
        'invalid',
        `${rel} does not match ${t.path}, the files pattern ${rule.pattern.name} approves`,
        `approve one of the files waiting for it (GET /api/patterns/${rule.pattern.name}/waiting)`
      );
    }
    const st = await fs.stat(toAbsolute(this._c.root, rel)).catch(() => undefined);
    if (!st || !st.isFile()) {
      throw new ManualTrigger.RunError(
        'not-found',
        st ? `${rel} is not a regular file` : `${rel} does not exist in the workgroup`,
        'give the path of an existing file, relative to the workgroup root'
      );
    }
    return rel;
  }

  /** Requests left by `meow trigger` (in any order of arrival; each once). */
  private _readRequests(): Promise<void> {
    if (this._busy) {
      return this._reading;
    }
    this._busy = true;
    this._reading = this._readAll().finally(() => (this._busy = false));
    return this._reading;
  }

  private async _readAll(): Promise<void> {
    const patterns = await fs.readdir(this.requestsDir).catch(() => [] as string[]);
    for (const pattern of patterns) {
      const dir = path.join(this.requestsDir, pattern);
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter(n => n.endsWith(REQUEST_SUFFIX)).sort()) {
        if (this._stopped) {
          return;
        }
        await this._request(pattern, dir, name);
      }
    }
  }

  private async _request(pattern: string, dir: string, name: string): Promise<void> {
    const file = path.join(dir, name);
    const shown = `${this._c.stateDir}/requests/${pattern}/${name}`;
    const rule = this._ruleOf(pattern);
    if (!rule) {
      if (!this._told.has(file)) {
        this._told.add(file);
        this._c.log.warn(
          `${shown}: pattern ${pattern} is not loaded (deleted, or its definition has an error); the request waits for it`
        );
      }
      return;
    }
    let request: IRunRequestFile;
    try {
      request = JSON.parse(await fs.readFile(file, 'utf8')) as IRunRequestFile;
      if (!request || typeof request.id !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(request.id)) {
        throw new Error('it has no valid "id"');
      }
    } catch (err) {
      this._c.log.error(
        `${shown} is not a valid run request (${(err as Error).message}); deleted — run meow trigger again`
      );
      await fs.rm(file, { force: true });
      return;
    }
    try {
      if (request.file !== undefined) {
        const ext = path.extname(request.file);
        const target = `${request.id}${ext}`;
        const from = path.join(dir, path.basename(request.file));
        const moved = await fs.stat(from).then(
          () => true,
          () => false
        );
        const rel = moved
          ? await this._c.incoming.adopt('manual', pattern, target, from)
          : `${this._c.incoming.prefix}manual/${pattern}/${target}`; // moved before a crash
        await fs.rm(file, { force: true });
        if (!this._c.incoming.hasJobs(rel)) {
          await this._fire(rule, {
            kind: 'manual',
            path: rel,
            time: this._c.now(),
            source: request.by ?? 'meow trigger'
          });
        }
      } else {
        await this.run(rule, { path: request.path, id: request.id, by: request.by ?? 'meow trigger' });
        await fs.rm(file, { force: true });
      }
      this._c.log.info(`${shown}: run of pattern ${pattern} requested by ${request.by ?? 'meow trigger'} done`);
    } catch (err) {
      const fix = err instanceof ManualTrigger.RunError ? ` — ${err.fix}` : '';
      this._c.log.error(
        `${shown}: could not run pattern ${pattern}: ${(err as Error).message}${fix}; the request was deleted`
      );
      await fs.rm(file, { force: true });
    }
  }

  private readonly _c: ITriggerContext;
  private readonly _ruleOf: (pattern: string) => IRule | undefined;
  private readonly _taken: (pattern: string) => Set<string>;
  private readonly _told = new Set<string>();
  private _poll: ReturnType<typeof setInterval> | undefined;
  private _reading: Promise<void> = Promise.resolve();
  private _busy = false;
  private _stopped = false;
}

export namespace ManualTrigger {
  export interface IOptions {
    context: ITriggerContext;
    /** The live rule of a pattern (any trigger kind: every pattern can be run now). */
    ruleOf: (pattern: string) => IRule | undefined;
    /** Trigger paths the pattern's jobs already took (not waiting any more). */
    takenPaths: (pattern: string) => Set<string>;
  }

  export interface IRequest {
    /** Run on this workgroup file. */
    path?: string;
    /** Run on this uploaded content (kept under `.meow/incoming/manual/`). */
    upload?: { bytes: Uint8Array; filename?: string };
    /** Who asked (shown as the job's trigger source). */
    by?: string;
    /** A unique id for the firing (from `meow trigger`), else one is made. */
    id?: string;
  }

  /** Why a run was refused, and the fix. */
  export class RunError extends Error {
    constructor(
      readonly code: 'invalid' | 'not-found' | 'conflict',
      message: string,
      readonly fix: string
    ) {
      super(message);
      this.name = 'RunError';
    }
  }
}
