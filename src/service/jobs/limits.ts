/**
 * Runaway protection (thesis §29.2): per-pattern `max_jobs`, `max_rate` and
 * `max_depth`. A tripped limit pauses the rule; this class only decides and
 * persists. It never drops an event: whoever calls `admit` keeps (or later
 * rescans) what was refused, and idempotency keys stop duplicates on resume.
 *
 * A pause is a file, `<state>/paused/<pattern>.yaml`, so it survives restarts
 * and a person can see it; deleting the file (by hand or `meow resume`)
 * resumes the rule, also while the service runs.
 */
import { FSWatcher, promises as fs, watch } from 'fs';
import * as path from 'path';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import * as YAML from 'yaml';
import { DEFAULT_MAX_DEPTH, IPattern, IPatternLimits, IPausedRule, LimitKind } from '../../core/types';
import { validateName } from '../../core/validation';
import { readIfExists, writeFileAtomic } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';

/** The sliding window of `max_rate` (a rate is jobs per minute). */
export const RATE_WINDOW_MS = 60_000;

const LIMIT_KINDS: readonly LimitKind[] = ['max_jobs', 'max_rate', 'max_depth'];

/** Folder of the pause files inside the workgroup. */
export function pausedFolder(root: string, stateDir = '.meow'): string {
  return path.join(path.resolve(root), stateDir, 'paused');
}

/**
 * The pause file of `pattern`, or an error message when the name could
 * never be a pattern (so no path outside the folder is ever formed).
 */
export function pausedFile(root: string, stateDir: string, pattern: string): string {
  const issues = validateName('pattern', pattern);
  if (issues.length) {
    throw new Error(`"${pattern}" is not a pattern name: ${issues[0].message}`);
  }
  return path.join(pausedFolder(root, stateDir), `${pattern}.yaml`);
}

/** The limits in force for `pattern`: its own, else the defaults. */
export function effectiveLimits(pattern: IPattern): Required<IPatternLimits> {
  const l = pattern.limits ?? {};
  return {
    maxJobs: l.maxJobs ?? 0,
    maxRate: l.maxRate ?? 0,
    maxDepth: l.maxDepth ?? DEFAULT_MAX_DEPTH
  };
}

/** Text of a pause file: the record, with a header saying how to undo it. */
export function formatPausedFile(rule: IPausedRule, root: string): string {
  const header =
    `# meow paused pattern "${rule.pattern}": ${rule.reason}\n` +
    '# Its events are kept and processed when it resumes. To resume: the Resume\n' +
    `# button in the Workflow panel, \`meow resume ${root} ${rule.pattern}\`, or delete this file.\n`;
  const body: Record<string, unknown> = {
    pattern: rule.pattern,
    limit: rule.limit,
    reason: rule.reason,
    since: rule.since
  };
  if (rule.path !== undefined) {
    body.path = rule.path;
  }
  return header + YAML.stringify(body);
}

/**
 * Read a pause file. Its existence is what pauses the rule, so a file that
 * cannot be understood still pauses it (a person meant something by it);
 * `problem` says what was wrong.
 */
export function parsePausedFile(pattern: string, text: string, mtime?: Date): { rule: IPausedRule; problem?: string } {
  let value: any;
  let problem: string | undefined;
  try {
    value = YAML.parse(text);
  } catch (err) {
    problem = `not YAML (${(err as Error).message.split('\n')[0]})`;
  }
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  const limit: LimitKind = LIMIT_KINDS.includes(obj.limit) ? obj.limit : 'max_jobs';
  if (!problem && !LIMIT_KINDS.includes(obj.limit)) {
    problem = `"limit" must be one of ${LIMIT_KINDS.join(', ')}`;
  }
  const since =
    typeof obj.since === 'string' && !Number.isNaN(Date.parse(obj.since))
      ? obj.since
      : (mtime ?? new Date()).toISOString();
  const reason = typeof obj.reason === 'string' && obj.reason ? obj.reason : 'paused by its file in the paused folder';
  const rule: IPausedRule = { pattern, limit, reason, since };
  if (typeof obj.path === 'string') {
    rule.path = obj.path;
  }
  return { rule, problem };
}

/** Pause records in `folder` (missing folder: none), sorted by pattern. */
export async function readPausedFolder(folder: string, log: ILogger = silentLogger): Promise<IPausedRule[]> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw err;
  }
  const rules: IPausedRule[] = [];
  for (const name of names.sort()) {
    const pattern = patternOfFile(name);
    if (!pattern) {
      continue;
    }
    const file = path.join(folder, name);
    const text = await readIfExists(file);
    if (text === undefined) {
      continue;
    }
    const stat = await fs.stat(file).catch(() => undefined);
    const { rule, problem } = parsePausedFile(pattern, text, stat?.mtime);
    if (problem) {
      log.warn(`${file}: ${problem}; pattern "${pattern}" stays paused until the file is deleted`);
    }
    rules.push(rule);
  }
  return rules;
}

/** `<pattern>.yaml` → pattern; temp files, hidden files and others → undefined. */
function patternOfFile(name: string): string | undefined {
  if (!name.endsWith('.yaml') || name.startsWith('.')) {
    return undefined;
  }
  const stem = name.slice(0, -'.yaml'.length);
  return validateName('pattern', stem).length ? undefined : stem;
}

export class RuleLimits implements IDisposable {
  constructor(options: RuleLimits.IOptions) {
    this._root = path.resolve(options.root);
    this._stateDir = options.stateDir ?? '.meow';
    this._log = options.log ?? silentLogger;
    this._now = options.now ?? Date.now;
  }

  /** A rule was paused (`paused` set) or resumed (`paused` unset). */
  get changed(): ISignal<this, RuleLimits.IChange> {
    return this._changed;
  }

  /** Absolute folder of the pause files. */
  get folder(): string {
    return pausedFolder(this._root, this._stateDir);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Read the pauses on disk, then follow the folder for deletions (and additions). */
  async load(): Promise<void> {
    await fs.mkdir(this.folder, { recursive: true });
    for (const rule of await readPausedFolder(this.folder, this._log)) {
      this._paused.set(rule.pattern, rule);
      this._persisted.set(rule.pattern, rule);
      this._log.warn(
        `pattern "${rule.pattern}" is still paused (${rule.limit}: ${rule.reason}); ${this._resumeHint(rule.pattern)}`
      );
    }
    if (this._disposed) {
      return;
    }
    // fs.watch, not chokidar: chokidar reports no unlink for a file it had
    // not finished adding, and `meow resume` may delete one at once.
    const watcher = watch(this.folder, { persistent: false });
    this._watcher = watcher;
    watcher.on('change', (_event, name) => {
      const file = typeof name === 'string' ? name : name?.toString();
      // No name: the OS does not say which file; look at every known one.
      const patterns = file ? [patternOfFile(file)] : [...this._paused.keys()];
      for (const pattern of patterns) {
        if (pattern) {
          void this._serial(pattern, () => this._sync(pattern));
        }
      }
    });
    watcher.on('error', err =>
      this._log.error(
        `paused rules: watching ${this.folder} failed (${err.message}); a deleted pause file now takes effect only when meow restarts`
      )
    );
  }

  /**
   * May `pattern` create one more job, whose provenance chain would be
   * `depth` jobs long (1 = no parent job)? Yes counts the job. No pauses the
   * rule (once: later calls return the same pause quietly).
   */
  admit(pattern: IPattern, depth: number, triggerPath?: string): RuleLimits.Admission {
    const name = pattern.name;
    const existing = this._paused.get(name);
    if (existing) {
      return { ok: false, paused: existing };
    }
    const limits = effectiveLimits(pattern);
    const now = this._now();
    const counter = this._counter(name);
    // Times are in order: drop the expired ones from the front. Only kept
    // when a rate limit is set, so a burst of 100,000 events costs nothing.
    const times = counter.times;
    let expired = 0;
    while (expired < times.length && times[expired] <= now - RATE_WINDOW_MS) {
      expired++;
    }
    if (expired) {
      times.splice(0, expired);
    }
    const recent = times;
    let tripped: { limit: LimitKind; reason: string } | undefined;
    if (limits.maxDepth > 0 && depth > limits.maxDepth) {
      tripped = {
        limit: 'max_depth',
        reason: `its next job would end a provenance chain of ${depth} jobs; max_depth is ${limits.maxDepth}`
      };
    } else if (limits.maxJobs > 0 && counter.total >= limits.maxJobs) {
      tripped = {
        limit: 'max_jobs',
        reason: `it has created ${counter.total} jobs since it started or was resumed; max_jobs is ${limits.maxJobs}`
      };
    } else if (limits.maxRate > 0 && recent.length >= limits.maxRate) {
      tripped = {
        limit: 'max_rate',
        reason: `its next job would be job ${recent.length + 1} in the last minute; max_rate is ${limits.maxRate} per minute`
      };
    }
    if (!tripped) {
      counter.total++;
      if (limits.maxRate > 0) {
        counter.times.push(now);
      }
      return { ok: true };
    }
    const rule: IPausedRule = {
      pattern: name,
      limit: tripped.limit,
      reason: tripped.reason,
      since: new Date(now).toISOString()
    };
    if (triggerPath !== undefined) {
      rule.path = triggerPath;
    }
    this._paused.set(name, rule);
    const file = this._file(name);
    this._log.warn(
      `pattern "${name}" paused: ${tripped.limit} exceeded — ${tripped.reason}` +
        (triggerPath !== undefined ? ` (trigger ${JSON.stringify(triggerPath)})` : '') +
        `. Nothing is dropped: its events are processed when it resumes. ${this._resumeHint(name)}`
    );
    const text = formatPausedFile(rule, this._root);
    this._ownText.set(name, text);
    void this._serial(name, async () => {
      // Resumed before the write got its turn: writing now would re-pause it.
      if (this._paused.get(name) !== rule) {
        return;
      }
      try {
        await writeFileAtomic(file, text);
        this._persisted.set(name, rule);
      } catch (err) {
        this._log.error(
          `pattern "${name}" is paused, but ${file} could not be written (${(err as Error).message}); ` +
            'the pause is lost if meow restarts'
        );
      }
    });
    this._changed.emit({ pattern: name, paused: rule });
    return { ok: false, paused: rule };
  }

  isPaused(pattern: string): boolean {
    return this._paused.has(pattern);
  }

  /** Paused rules, sorted by pattern. */
  paused(): IPausedRule[] {
    return [...this._paused.values()].sort((a, b) => a.pattern.localeCompare(b.pattern));
  }

  /**
   * Resume `pattern`: delete its pause file and start its counts afresh.
   * False when it was not paused (nothing in memory, no file).
   */
  async resume(pattern: string): Promise<boolean> {
    const file = this._file(pattern);
    return this._serial(pattern, async () => {
      let removed = true;
      try {
        await fs.unlink(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw err;
        }
        removed = false;
      }
      const was = this._paused.has(pattern);
      this._resumed(pattern, 'resumed');
      return was || removed;
    });
  }

  /** The rule was (re)created: its counts start again. A pause stays (it is the person's to lift). */
  reset(pattern: string): void {
    this._counters.delete(pattern);
  }

  /** Resolves when every pending pause-file write or delete is done. */
  async settled(): Promise<void> {
    while (this._queues.size) {
      await Promise.all([...this._queues.values()]);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._watcher?.close();
    this._watcher = undefined;
    Signal.clearData(this);
  }

  /** Make memory match the file of `pattern` after the watcher saw it change. */
  private async _sync(pattern: string): Promise<void> {
    const file = this._file(pattern);
    const text = await readIfExists(file).catch(() => undefined);
    if (text === undefined) {
      // Only a deleted file resumes: not a stale unlink seen before the
      // file of a newer pause was written.
      const current = this._paused.get(pattern);
      if (current && this._persisted.get(pattern) === current) {
        this._resumed(pattern, `resumed (${file} was deleted)`);
      }
      return;
    }
    // Our own write echoing back, or a stale echo of it after a resume.
    if (text === this._ownText.get(pattern)) {
      return;
    }
    const { rule, problem } = parsePausedFile(pattern, text);
    if (problem) {
      this._log.warn(`${file}: ${problem}; pattern "${pattern}" stays paused until the file is deleted`);
    }
    const current = this._paused.get(pattern);
    if (current && JSON.stringify(current) === JSON.stringify(rule)) {
      return;
    }
    this._ownText.set(pattern, text);
    this._paused.set(pattern, rule);
    this._persisted.set(pattern, rule);
    this._log.warn(`pattern "${pattern}" paused by ${file} (${rule.reason}); ${this._resumeHint(pattern)}`);
    this._changed.emit({ pattern, paused: rule });
  }

  private _resumed(pattern: string, how: string): void {
    this._counters.delete(pattern);
    this._persisted.delete(pattern);
    if (this._paused.delete(pattern)) {
      this._log.info(`pattern "${pattern}" ${how}; its files are processed again`);
      this._changed.emit({ pattern });
    }
  }

  private _resumeHint(pattern: string): string {
    const rel = path.relative(this._root, this._file(pattern));
    return `To resume: the Resume button in the Workflow panel, \`meow resume ${this._root} ${pattern}\`, or delete ${rel}.`;
  }

  private _file(pattern: string): string {
    return pausedFile(this._root, this._stateDir, pattern);
  }

  private _counter(pattern: string): { total: number; times: number[] } {
    let c = this._counters.get(pattern);
    if (!c) {
      c = { total: 0, times: [] };
      this._counters.set(pattern, c);
    }
    return c;
  }

  /**
   * Run file work of one pattern in order: a write, a resume and a watcher
   * echo never interleave, so a late write cannot re-pause a resumed rule.
   */
  private _serial<T>(pattern: string, work: () => Promise<T>): Promise<T> {
    const before = this._queues.get(pattern) ?? Promise.resolve();
    const result = before.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined
    );
    this._queues.set(pattern, tail);
    void tail.then(() => {
      if (this._queues.get(pattern) === tail) {
        this._queues.delete(pattern);
      }
    });
    return result;
  }

  private readonly _root: string;
  private readonly _stateDir: string;
  private readonly _log: ILogger;
  private readonly _now: () => number;
  private readonly _paused = new Map<string, IPausedRule>();
  private readonly _counters = new Map<string, { total: number; times: number[] }>();
  /** Last text this instance wrote (or adopted) per pattern, to ignore its echo. */
  private readonly _ownText = new Map<string, string>();
  /** The pause whose file is on disk, per pattern. */
  private readonly _persisted = new Map<string, IPausedRule>();
  private readonly _queues = new Map<string, Promise<void>>();
  private _watcher?: FSWatcher;
  private _disposed = false;
  private readonly _changed = new Signal<this, RuleLimits.IChange>(this);
}

export namespace RuleLimits {
  export interface IOptions {
    /** The workgroup folder. */
    root: string;
    /** State folder relative to the root (default `.meow`). */
    stateDir?: string;
    log?: ILogger;
    /** Clock in ms (tests inject one to move the rate window). */
    now?: () => number;
  }

  export interface IChange {
    pattern: string;
    /** Set when the rule was paused; unset when it resumed. */
    paused?: IPausedRule;
  }

  export type Admission = { ok: true } | { ok: false; paused: IPausedRule };
}
