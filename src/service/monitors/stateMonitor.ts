/**
 * The state monitor: keeps the Workflow (patterns, recipes, rules) equal to
 * the files in `<state>/patterns` and `<state>/recipes`. A file added,
 * edited or deleted there — by a person, the UI, or a running job — changes
 * the rules at once (P5–P7, R3–R5); the runner reacts to the rule changes
 * (M10 retroactive matching, M11 cancellation).
 *
 * A file that does not validate is reported (file, field, fix) and defines
 * nothing; the service keeps running.
 */
import * as chokidar from 'chokidar';
import { promises as fs } from 'fs';
import * as path from 'path';
import { parsePattern, patternDigest } from '../../core/pattern';
import { parseRecipeNotebook, parseRecipeYaml } from '../../core/recipe';
import { formatIssues, IValidationIssue } from '../../core/validation';
import type { IPattern, IRecipe } from '../../core/types';
import type { IRuleChanges, Workflow } from '../../core/workflow';
import { readIfExists, sha256, toRelative } from '../fsutil';
import type { ILogger } from '../log';
import { silentLogger } from '../log';
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
}

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
    this._settler = new Settler({
      settleMs: options.settleMs ?? 50,
      emit: event => this._enqueue(event.path, event.from)
    });
  }

  /** Problems by workgroup-relative file: what is wrong and how to fix it. */
  get problems(): ReadonlyMap<string, string> {
    return this._problems;
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
    for (const kind of ['recipe', 'pattern'] as Kind[]) {
      const dir = this.folder(kind);
      await fs.mkdir(dir, { recursive: true });
      const names = (await fs.readdir(dir)).sort();
      for (const file of names) {
        this._queue.push(toRelative(this._root, path.join(dir, file)));
      }
    }
    await this._drain();
    this._watcher = chokidar.watch(
      [this.folder('recipe'), this.folder('pattern')],
      {
        ignoreInitial: true,
        depth: 0,
        atomic: false,
        ignored: (file: string) => {
          const rel = toRelative(this._root, file);
          // The state folder itself is ignored by the data monitor; here only
          // temporary files are.
          return isIgnoredPath(rel, '\0') && !this._isFolder(file);
        }
      }
    );
    const push = (kind: 'add' | 'change' | 'unlink') => (file: string) =>
      this._settler.push({ kind, path: toRelative(this._root, file) });
    this._watcher.on('add', push('add'));
    this._watcher.on('change', push('change'));
    this._watcher.on('unlink', push('unlink'));
    this._watcher.on('error', err =>
      this._log.error(`state monitor: ${(err as Error).message ?? err}`)
    );
    await new Promise<void>(resolve => this._watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    this._settler.clear();
    await this._watcher?.close();
    this._watcher = undefined;
  }

  /** Resolves when every seen definition change has been applied. */
  async settled(): Promise<void> {
    while (this.pending > 0) {
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  private _isFolder(file: string): boolean {
    return file === this.folder('pattern') || file === this.folder('recipe');
  }

  private _enqueue(rel: string, from?: string): void {
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
    try {
      while (this._queue.length) {
        const rel = this._queue.shift()!;
        try {
          await this._apply(rel);
        } catch (err) {
          this._log.error(`state monitor: ${rel}: ${(err as Error).stack ?? err}`);
        }
      }
    } finally {
      this._busy = false;
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
        this._log.warn(
          `${rel}: ignored; ${kind} files must end in ${EXTENSIONS[kind].join(' or ')}`
        );
      }
      return;
    }
    const name = base.slice(0, -ext.length);
    const text = await readIfExists(path.join(this._root, rel));
    const key = `${kind}:${name}`;
    const defs = this._definitions.get(key) ?? new Map<string, IDefinition>();
    this._definitions.set(key, defs);
    if (text === undefined) {
      defs.delete(rel);
    } else {
      defs.set(rel, this._parse(kind, name, rel, ext, text));
    }
    this._reconcile(kind, name, defs);
  }

  private _parse(kind: Kind, name: string, rel: string, ext: string, text: string): IDefinition {
    if (kind === 'pattern') {
      const { pattern, issues } = parsePattern(name, text);
      return { kind, name, file: rel, pattern, issues };
    }
    const digest = sha256(text);
    const parsed =
      ext === '.ipynb'
        ? parseRecipeNotebook(name, text, digest)
        : parseRecipeYaml(name, text, digest);
    return { kind, name, file: rel, recipe: parsed.recipe, issues: parsed.issues };
  }

  /**
   * Decide what a name means now. Exactly one valid file defines it; two
   * files for one name break uniqueness (P1, R1) and define nothing.
   */
  private _reconcile(kind: Kind, name: string, defs: Map<string, IDefinition>): void {
    for (const def of defs.values()) {
      this._problems.delete(def.file);
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
      if (kind === 'pattern') {
        const current = this._workflow.patterns.get(name);
        if (!current || patternDigest(current) !== patternDigest(def.pattern!)) {
          changes = this._workflow.setPattern(def.pattern!);
          this._log.info(`pattern ${name} ${current ? 'updated' : 'added'} (${def.file})`);
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
  private _busy = false;
  private _watcher?: chokidar.FSWatcher;
}

export namespace StateMonitor {
  export interface IOptions {
    root: string;
    stateDir?: string;
    workflow: Workflow;
    /** Called with the rule changes of every applied definition change. */
    onChanges: (changes: IRuleChanges) => void;
    /** Settle window for definition files in ms (default 50). */
    settleMs?: number;
    log?: ILogger;
  }
}
