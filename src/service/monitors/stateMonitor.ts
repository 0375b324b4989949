/**
 * The state monitor: keeps the Workflow (patterns, recipes, rules) equal to
 * the files in `<state>/patterns` and `<state>/recipes`. A file added,
 * edited or deleted there — by a person, the UI, or a running job — changes
 * the rules at once (P5–P7, R3–R5); the runner reacts to the rule changes
 * (M10 retroactive matching, M11 cancellation).
 *
 * A file that does not validate is reported (file, field, fix) and defines
 * nothing; the service keeps running. Files are checked with stat before
 * they are opened (a FIFO would block, a 50 MB file is refused by size) and
 * parsed in a worker thread, so no definition can stall the event loop.
 *
 * `applied` says when a batch of changed files has been applied: the API
 * answers writes and tells clients to re-fetch from it, with no watcher or
 * polling of its own.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { promises as fs } from 'fs';
import * as path from 'path';
import { patternDigest, patternLimitsDigest } from '../../core/pattern';
import { formatIssue, formatIssues, IValidationIssue } from '../../core/validation';
import type { IPattern, IRecipe } from '../../core/types';
import type { IRuleChanges, Workflow } from '../../core/workflow';
import { forEachLimit, toRelative } from '../fsutil';
import { DefinitionParser } from './definitionParser';
import { DEFAULT_MAX_DEFINITION_BYTES, formatBytes, readDefinitionFile } from './definitionFile';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
import { FolderWatcher } from './folderWatcher';
import { Settler } from './settle';
import { isIgnoredPath } from './fileMonitor';

type Kind = 'pattern' | 'recipe';

/** What one definition file currently says. */
interface IDefinition {
  kind: Kind;
  name: string;
  /** Workgroup-relative path of the file. */
  file: string;
  pattern?: IPattern;
  recipe?: IRecipe;
  issues: IValidationIssue[];
  warnings: IValidationIssue[];
}

export { DEFAULT_MAX_DEFINITION_BYTES, formatBytes };

/** Definition files a check pass stats at the same time. */
const VERIFY_STATS_AT_ONCE = 32;

const EXTENSIONS: Record<Kind, string[]> = {
  pattern: ['.yaml', '.yml'],
  recipe: ['.ipynb', '.yaml', '.yml']
};

export class StateMonitor {
  constructor(options: StateMonitor.IOptions) {
    this._root = path.resolve(options.root);
    this._stateDir = options.stateDir ?? '.meow';
    this._workflow = options.workflow;
    this._onChanges = options.onChanges;
    this._log = options.log ?? silentLogger;
    this._onLimits = options.onLimitsChanged;
    this._maxBytes = options.maxDefinitionBytes ?? DEFAULT_MAX_DEFINITION_BYTES;
    this._verifyMs = options.verifyIntervalMs ?? 1000;
    this._parser = new DefinitionParser({
      workerScript: options.parseWorkerScript,
      // Room for the parse tree of a file at the cap (about 100x its size).
      maxMemoryMb: Math.max(512, Math.ceil((this._maxBytes / (1024 * 1024)) * 200))
    });
    this._settler = new Settler({
      settleMs: options.settleMs ?? 50,
      emit: event => this._enqueue(event.path, event.from)
    });
    this._folders = new FolderWatcher({
      root: this._root,
      onEvent: (dir, _event, name) => this._onFolderEvent(dir, name),
      onError: (err, dir) =>
        this._log.error(
          `state monitor: cannot watch ${dir} (${err.message}); changes there are found by the check ` +
            `pass instead (every ${this._verifyMs} ms or more)`
        )
    });
  }

  /** A notification in a definitions folder: its entry is read again once it settles. */
  private _onFolderEvent(dir: string, name: string | undefined): void {
    if (this._stopped) {
      return;
    }
    if (name === undefined) {
      void this._verify(true).catch(() => undefined); // the system did not say which entry
      return;
    }
    const rel = `${dir}/${name}`;
    // The state folder itself is ignored by the data monitor; here only temporary files are.
    if (!isIgnoredPath(rel, '\0')) {
      this._settler.push({ kind: 'change', path: rel });
    }
  }

  /**
   * Emitted once the queue of changed definition files is empty again, with
   * the files applied since the last emission (the workflow, `problems` and
   * `warnings` reflect them by then).
   */
  get applied(): ISignal<this, StateMonitor.IApplied> {
    return this._applied;
  }

  /** Definition files larger than this are refused unread. */
  get maxDefinitionBytes(): number {
    return this._maxBytes;
  }

  /** Problems by workgroup-relative file: what is wrong and how to fix it. */
  get problems(): ReadonlyMap<string, string> {
    return this._problems;
  }

  /** Warnings by workgroup-relative file: loaded, but likely a mistake. */
  get warnings(): ReadonlyMap<string, string> {
    return this._warnings;
  }

  /** True when definitions are parsed in a worker thread. */
  get parsesInWorker(): boolean {
    return this._parser.inWorker;
  }

  /** Definition files seen but not yet applied. */
  get pending(): number {
    return this._settler.pending + (this._busy ? 1 : 0) + this._queue.length;
  }

  /** Absolute folder of a kind's definitions. */
  folder(kind: Kind): string {
    return path.join(this._root, this._stateDir, kind === 'pattern' ? 'patterns' : 'recipes');
  }

  /**
   * Load every definition, apply them as one change set, then watch.
   * Recipes are loaded before patterns so each rule is created once.
   */
  async start(): Promise<void> {
    this._stopped = false;
    for (const kind of ['recipe', 'pattern'] as Kind[]) {
      const dir = this.folder(kind);
      await fs.mkdir(dir, { recursive: true });
      const names = (await fs.readdir(dir)).sort();
      for (const file of names) {
        this._queue.push(toRelative(this._root, path.join(dir, file)));
      }
    }
    // The baseline before reading: a change from here on is read, or seen by the check.
    await this._verify(false);
    await this._drain();
    // One fs.watch per folder (FolderWatcher), not chokidar's watch per
    // file: with 100,000 pattern files chokidar took 100,000 of the
    // system's inotify watches and left the data folders blind (issue 9).
    // A notification only names the entry; _apply reads what is there now
    // (a new, changed, removed or dangling file alike), and the check pass
    // finds what a notification missed.
    this._folders.open();
    for (const kind of ['recipe', 'pattern'] as Kind[]) {
      this._folders.watch(toRelative(this._root, this.folder(kind)));
    }
    this._scheduleVerify();
  }

  /**
   * Stop watching. A check pass or a drain under way ends at its next step:
   * after a stop nothing is applied (the workgroup may be being removed, and
   * applying 100,000 pattern deletions one by one took minutes; issue 9).
   */
  async stop(): Promise<void> {
    this._stopped = true;
    clearTimeout(this._verifyTimer);
    this._verifyTimer = undefined;
    this._settler.clear();
    this._queue.length = 0;
    this._folders.close();
    await this._verifying;
    while (this._busy) {
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    await this._parser.close();
  }

  /** Resolves when every seen definition change has been applied. */
  async settled(): Promise<void> {
    while (this.pending > 0) {
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  /**
   * The safety net under the folder watches: a notification can be lost
   * (inotify's queue overflows; the watch limit is reached), and a quick
   * second rewrite must not go unseen. A pass over the two folders every `verifyIntervalMs` compares
   * each file's size, mtime and inode with the last pass and re-applies what
   * differs; applying an unchanged file changes nothing.
   */
  private async _verify(enqueue: boolean): Promise<void> {
    const now = new Map<string, string>();
    for (const kind of ['recipe', 'pattern'] as Kind[]) {
      const dir = this.folder(kind);
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      // Several at a time: one after the other, 100,000 pattern files took seconds per pass.
      await forEachLimit(names, VERIFY_STATS_AT_ONCE, async name => {
        const abs = path.join(dir, name);
        const st = await fs.lstat(abs).catch(() => undefined);
        if (st) {
          now.set(toRelative(this._root, abs), `${st.size}:${st.mtimeMs}:${st.ino}`);
        }
      });
    }
    if (this._stopped) {
      return;
    }
    if (enqueue) {
      const changed = [...now].filter(([rel, sig]) => this._signatures.get(rel) !== sig).map(([rel]) => rel);
      const gone = [...this._signatures.keys()].filter(rel => !now.has(rel));
      for (const rel of [...changed, ...gone]) {
        this._log.debug(`state monitor: ${rel} changed without an event; applying it`);
        this._enqueue(rel);
      }
    }
    this._signatures = now;
  }

  private _scheduleVerify(): void {
    if (this._verifyMs <= 0 || this._stopped) {
      return;
    }
    // A pass costs a stat per definition file: with very many, pass less
    // often (at least 10x the last pass's time apart), not continuously.
    const every = Math.max(this._verifyMs, 10 * this._lastVerifyMs);
    this._verifyTimer = setTimeout(() => {
      const started = Date.now();
      this._verifying = this._verify(true)
        .catch(err =>
          this._log.error(`state monitor: checking the definitions folders failed: ${(err as Error).message}`)
        )
        .finally(() => {
          this._verifying = undefined;
          this._lastVerifyMs = Date.now() - started;
          this._scheduleVerify();
        });
    }, every);
    this._verifyTimer.unref?.();
  }

  private _enqueue(rel: string, from?: string): void {
    if (this._stopped) {
      return;
    }
    if (from) {
      this._queue.push(from);
    }
    this._queue.push(rel);
    void this._drain();
  }

  /** Apply queued files one at a time, in order. */
  private async _drain(): Promise<void> {
    if (this._busy) {
      return;
    }
    this._busy = true;
    const files = new Set<string>();
    try {
      while (this._queue.length && !this._stopped) {
        const rel = this._queue.shift()!;
        files.add(rel);
        try {
          await this._apply(rel);
        } catch (err) {
          this._log.error(`state monitor: ${rel}: ${(err as Error).stack ?? err}`);
        }
      }
    } finally {
      this._busy = false;
    }
    if (files.size) {
      this._applied.emit({ files: [...files] });
    }
  }

  /** Re-read one definition file and bring the workflow in line with it. */
  private async _apply(rel: string): Promise<void> {
    const kind = this._kindOf(rel);
    const base = path.posix.basename(rel);
    if (!kind) {
      return;
    }
    const ext = path.posix.extname(base);
    if (!EXTENSIONS[kind].includes(ext)) {
      if (!base.startsWith('.') && !isIgnoredPath(base, '\0')) {
        this._log.warn(`${rel}: ignored; ${kind} files must end in ${EXTENSIONS[kind].join(' or ')}`);
      }
      return;
    }
    const name = base.slice(0, -ext.length);
    const read = await readDefinitionFile(this._root, rel, this._maxBytes);
    const key = `${kind}:${name}`;
    const defs = this._definitions.get(key) ?? new Map<string, IDefinition>();
    this._definitions.set(key, defs);
    if (read === undefined) {
      defs.delete(rel);
    } else if ('problem' in read) {
      defs.set(rel, { kind, name, file: rel, issues: [read.problem], warnings: [] });
    } else {
      const parsed = await this._parser.parse({ kind, name, ext, bytes: read.bytes });
      defs.set(rel, { kind, name, file: rel, ...parsed });
    }
    this._reconcile(kind, name, defs);
  }

  /**
   * Decide what a name means now. Exactly one valid file defines it; two
   * files for one name break uniqueness (P1, R1) and define nothing.
   */
  private _reconcile(kind: Kind, name: string, defs: Map<string, IDefinition>): void {
    for (const def of defs.values()) {
      this._problems.delete(def.file);
      this._warnings.delete(def.file);
    }
    let changes: IRuleChanges = { created: [], deleted: [] };
    const all = [...defs.values()];
    const valid = all.filter(d => d.issues.length === 0);
    for (const def of all) {
      if (def.issues.length) {
        this._report(def.file, formatIssues(kind, name, def.issues));
      }
    }
    if (all.length > 1) {
      const files = all.map(d => d.file).join(' and ');
      for (const def of all) {
        this._report(
          def.file,
          `${kind} "${name}" is defined twice (${files}); ${kind} names must be unique — remove or rename one`
        );
      }
    }
    if (all.length === 1 && valid.length === 1) {
      const def = valid[0];
      if (def.warnings.length) {
        const lines = def.warnings.map(w => `${formatIssue(kind, name, w)} (warning)`);
        this._warnings.set(def.file, lines.join('\n'));
        lines.forEach(line => this._log.warn(`${def.file}: ${line}`));
      }
      if (kind === 'pattern') {
        const current = this._workflow.patterns.get(name);
        if (!current || patternDigest(current) !== patternDigest(def.pattern!)) {
          changes = this._workflow.setPattern(def.pattern!);
          this._log.info(`pattern ${name} ${current ? 'updated' : 'added'} (${def.file})`);
          if (!this._workflow.recipes.has(def.pattern!.recipe)) {
            this._log.warn(
              `${def.file}: pattern "${name}": field "recipe" names "${def.pattern!.recipe}", which does not exist; ` +
                'no rule (and no job) until a recipe of that name is registered'
            );
          }
        } else if (patternLimitsDigest(current) !== patternLimitsDigest(def.pattern!)) {
          // Same rule, new limits or executor: keep the rule (and its content key, so
          // nothing re-runs) and change the limits it is checked against.
          this._updateLimits(current, def.pattern!);
          this._log.info(`pattern ${name} limits, retries or executor updated (${def.file})`);
          this._onLimits?.(current);
        }
      } else {
        const current = this._workflow.recipes.get(name);
        if (!current || current.digest !== def.recipe!.digest) {
          changes = this._workflow.setRecipe(def.recipe!);
          this._log.info(`recipe ${name} ${current ? 'updated' : 'added'} (${def.file})`);
        }
      }
    } else if (kind === 'pattern' && this._workflow.patterns.has(name)) {
      changes = this._workflow.deletePattern(name);
      this._log.info(`pattern ${name} removed`);
    } else if (kind === 'recipe' && this._workflow.recipes.has(name)) {
      changes = this._workflow.deleteRecipe(name);
      this._log.info(`recipe ${name} removed`);
    }
    if (changes.created.length || changes.deleted.length) {
      this._onChanges(changes);
    }
  }

  private _updateLimits(live: IPattern, from: IPattern): void {
    if (from.limits) {
      live.limits = { ...from.limits };
    } else {
      delete live.limits;
    }
    // Executor and resources are read when each job starts, so the change
    // applies to queued jobs too.
    for (const key of ['retries', 'executor', 'resources'] as const) {
      if (from[key] !== undefined) {
        (live as unknown as Record<string, unknown>)[key] = from[key];
      } else {
        delete live[key];
      }
    }
  }

  private _report(file: string, message: string): void {
    const previous = this._problems.get(file);
    const text = previous && !previous.includes(message) ? `${previous}\n${message}` : message;
    this._problems.set(file, text);
    this._log.error(`${file}: ${message}`);
  }

  private _kindOf(rel: string): Kind | undefined {
    const dir = path.posix.dirname(rel);
    if (dir === `${this._stateDir}/patterns`) {
      return 'pattern';
    }
    if (dir === `${this._stateDir}/recipes`) {
      return 'recipe';
    }
    return undefined;
  }

  private readonly _root: string;
  private readonly _stateDir: string;
  private readonly _workflow: Workflow;
  private readonly _onChanges: (changes: IRuleChanges) => void;
  private readonly _log: ILogger;
  private readonly _settler: Settler;
  private readonly _queue: string[] = [];
  private readonly _definitions = new Map<string, Map<string, IDefinition>>();
  private readonly _problems = new Map<string, string>();
  private readonly _warnings = new Map<string, string>();
  private readonly _onLimits?: (pattern: IPattern) => void;
  private readonly _maxBytes: number;
  private readonly _parser: DefinitionParser;
  private _busy = false;
  private _stopped = false;
  private readonly _folders: FolderWatcher;
  /** The check pass under way, and how long the last one took. */
  private _verifying: Promise<void> | undefined;
  private _lastVerifyMs = 0;
  private readonly _verifyMs: number;
  private _verifyTimer: ReturnType<typeof setTimeout> | undefined;
  private _signatures = new Map<string, string>();
  private readonly _applied = new Signal<this, StateMonitor.IApplied>(this);
}

export namespace StateMonitor {
  /** A batch of definition changes, applied. */
  export interface IApplied {
    /** Workgroup-relative files re-read (added, changed or deleted), in order. */
    readonly files: readonly string[];
  }

  export interface IOptions {
    root: string;
    stateDir?: string;
    workflow: Workflow;
    /** Called with the rule changes of every applied definition change. */
    onChanges: (changes: IRuleChanges) => void;
    /** Settle window for definition files in ms (default 50). */
    settleMs?: number;
    log?: ILogger;
    /** Larger definition files are refused unread (default 1 MB). */
    maxDefinitionBytes?: number;
    /**
     * Called when only a pattern's limits or retries changed: the live
     * pattern (the rule's) was updated in place and its rule kept.
     */
    onLimitsChanged?: (pattern: IPattern) => void;
    /** How often the folders are checked for changes the watcher missed, in ms (default 1000; 0 = never). */
    verifyIntervalMs?: number;
    /** See `DefinitionParser.IOptions.workerScript` (`null`: parse in-thread). */
    parseWorkerScript?: string | null;
  }
}
