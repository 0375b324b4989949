/**
 * Patterns and recipes for the API: listing the definition files of the
 * state folder with their state, and writing or deleting them. Writes go to
 * disk atomically; the state monitor picks them up exactly as it does edits
 * made by a person or by a running job, and a write returns once the
 * state monitor's `applied` signal says the workflow reflects it (or says
 * why not: the file's problem), or fails with a 503 after a bounded wait.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IPatternCheck, IPatternInfo, IRecipeDetail, IRecipeInfo, IRuleInfo } from '../../core/api';
import { recipeVariableWarnings } from '../../core/patternWarnings';
import { parsePattern, patternDigest } from '../../core/pattern';
import { parseRecipeNotebook, parseRecipeYaml, recipeVariables, validateNotebook } from '../../core/recipe';
import type { INotebook, IPattern, IRecipe } from '../../core/types';
import { formatIssues, IValidationIssue, validateName } from '../../core/validation';
import { readIfExists, sha256, toRelative, writeFileAtomic } from '../fsutil';
import type { StateMonitor } from '../monitors/stateMonitor';
import type { MeowRunner } from '../runner';
import { ApiError } from './errors';

type Kind = 'pattern' | 'recipe';

const EXTENSIONS: Record<Kind, string[]> = {
  pattern: ['.yaml', '.yml'],
  recipe: ['.ipynb', '.yaml', '.yml']
};

/** How long a write waits for the state monitor to apply it (default). */
const APPLY_TIMEOUT_MS = 5000;

export class Definitions {
  constructor(
    private readonly _runner: MeowRunner,
    private readonly _applyTimeoutMs = APPLY_TIMEOUT_MS
  ) {}

  folder(kind: Kind): string {
    return path.join(this._runner.root, this._runner.stateDir, kind === 'pattern' ? 'patterns' : 'recipes');
  }

  // -------------------------------------------------------------------------
  // Patterns

  async listPatterns(): Promise<IPatternInfo[]> {
    const out: IPatternInfo[] = [];
    for (const { name, file } of await this._files('pattern')) {
      const info = await this._patternInfo(name, file);
      if (info) {
        out.push(info);
      }
    }
    return out;
  }

  async getPattern(name: string): Promise<IPatternInfo> {
    checkName('pattern', name);
    const files = (await this._files('pattern')).filter(f => f.name === name);
    for (const { file } of files) {
      const info = await this._patternInfo(name, file);
      if (info) {
        return info;
      }
    }
    throw ApiError.notFound(`no pattern "${name}"`, 'list patterns with GET /api/patterns');
  }

  /** Validate with the core's parsePattern, then write `<name>.yaml`. */
  async putPattern(name: string, text: string): Promise<{ info: IPatternInfo; created: boolean }> {
    checkName('pattern', name);
    this._checkSize(Buffer.byteLength(text, 'utf8'), 'text');
    const { pattern, issues } = parsePattern(name, text);
    if (!pattern || issues.length) {
      throw ApiError.invalid(`pattern "${name}" is not valid`, issues);
    }
    const others = (await this._files('pattern')).filter(f => f.name === name);
    const target = path.join(this.folder('pattern'), `${name}.yaml`);
    const digest = patternDigest(pattern);
    await this._write(
      `pattern "${name}"`,
      target,
      others,
      () => {
        const current = this._runner.workflow.patterns.get(name);
        return !!current && patternDigest(current) === digest;
      },
      async () => {
        await fs.mkdir(this.folder('pattern'), { recursive: true });
        await writeFileAtomic(target, text.endsWith('\n') ? text : text + '\n');
      }
    );
    const info = await this._patternInfo(name, this._rel(target));
    return { info: info!, created: others.length === 0 };
  }

  /**
   * Validate a pattern's text as a PUT would and say what saving it would
   * do to jobs (`MeowRunner.previewPatternSave`); nothing is written.
   */
  async checkPattern(name: string, text: string): Promise<IPatternCheck> {
    checkName('pattern', name);
    this._checkSize(Buffer.byteLength(text, 'utf8'), 'text');
    const { pattern, issues, warnings } = parsePattern(name, text);
    if (!pattern || issues.length) {
      return { name, valid: false, issues, warnings: [] };
    }
    return {
      name,
      valid: true,
      issues: [],
      warnings: this._warnings(pattern, warnings),
      effect: await this._runner.previewPatternSave(pattern)
    };
  }

  async deletePattern(name: string): Promise<void> {
    checkName('pattern', name);
    const files = (await this._files('pattern')).filter(f => f.name === name);
    if (!files.length) {
      throw ApiError.notFound(`no pattern "${name}"`, 'list patterns with GET /api/patterns');
    }
    await this._write(`pattern "${name}"`, undefined, files, () => !this._runner.workflow.patterns.has(name));
  }

  // -------------------------------------------------------------------------
  // Recipes

  async listRecipes(): Promise<IRecipeInfo[]> {
    const out: IRecipeInfo[] = [];
    for (const { name, file } of await this._files('recipe')) {
      const detail = await this._recipeDetail(name, file);
      if (detail) {
        delete detail.notebook;
        out.push(detail);
      }
    }
    return out;
  }

  async getRecipe(name: string): Promise<IRecipeDetail> {
    checkName('recipe', name);
    for (const { file } of (await this._files('recipe')).filter(f => f.name === name)) {
      const detail = await this._recipeDetail(name, file);
      if (detail) {
        return detail;
      }
    }
    throw ApiError.notFound(`no recipe "${name}"`, 'list recipes with GET /api/recipes');
  }

  /**
   * Register a notebook as `<name>.ipynb` (a frozen copy, R5). An existing
   * recipe of that name is replaced only with `overwrite: true`.
   */
  async putRecipe(
    name: string,
    notebook: unknown,
    options: { source?: string; overwrite?: boolean } = {}
  ): Promise<{ info: IRecipeInfo; created: boolean }> {
    checkName('recipe', name);
    const issues: IValidationIssue[] = [];
    const nb = validateNotebook(notebook, 'notebook.', issues);
    if (!nb || issues.length) {
      throw ApiError.invalid(`the notebook for recipe "${name}" cannot be a recipe`, issues);
    }
    const others = (await this._files('recipe')).filter(f => f.name === name);
    if (others.length && !options.overwrite) {
      throw ApiError.conflict(
        `recipe "${name}" already exists (${others.map(o => o.file).join(', ')})`,
        'send "overwrite": true to replace it (its rules are re-created and re-run on existing files), or choose another name',
        'overwrite'
      );
    }
    const stored: INotebook = JSON.parse(JSON.stringify(nb));
    if (options.source !== undefined) {
      stored.metadata = { ...stored.metadata, meow: { ...(stored.metadata.meow ?? {}), source: options.source } };
    }
    const text = JSON.stringify(stored, null, 1) + '\n';
    this._checkSize(Buffer.byteLength(text, 'utf8'), 'notebook'); // the state monitor would refuse it
    const target = path.join(this.folder('recipe'), `${name}.ipynb`);
    const digest = sha256(text);
    await this._write(
      `recipe "${name}"`,
      target,
      others,
      () => this._runner.workflow.recipes.get(name)?.digest === digest,
      async () => {
        await fs.mkdir(this.folder('recipe'), { recursive: true });
        await writeFileAtomic(target, text);
      }
    );
    const detail = (await this._recipeDetail(name, this._rel(target)))!;
    delete detail.notebook;
    return { info: detail, created: others.length === 0 };
  }

  async deleteRecipe(name: string): Promise<void> {
    checkName('recipe', name);
    const files = (await this._files('recipe')).filter(f => f.name === name);
    if (!files.length) {
      throw ApiError.notFound(`no recipe "${name}"`, 'list recipes with GET /api/recipes');
    }
    await this._write(`recipe "${name}"`, undefined, files, () => !this._runner.workflow.recipes.has(name));
  }

  // -------------------------------------------------------------------------
  // Rules

  rules(): IRuleInfo[] {
    return [...this._runner.workflow.rules.values()].map(r => ({
      id: r.id,
      pattern: r.pattern.name,
      recipe: r.recipe.name,
      contentKey: r.contentKey
    }));
  }

  // -------------------------------------------------------------------------

  /**
   * Definitions past the size cap are refused (413) before parsing: parsing
   * runs on the service's main thread here.
   */
  private _checkSize(bytes: number, field: string): void {
    const cap = this._runner.stateMonitor.maxDefinitionBytes;
    if (bytes > cap) {
      throw new ApiError(413, `the definition is ${bytes} bytes, more than the limit of ${cap} bytes`, [
        {
          field,
          message: `is larger than ${cap} bytes`,
          fix: 'make it smaller (definitions are small YAML or notebook files), or start meow with a larger --max-definition-bytes'
        }
      ]);
    }
  }

  /** A definition file's text, or undefined when it is gone or past the size cap (its problem says so). */
  private async _readCapped(file: string): Promise<string | undefined> {
    const abs = path.join(this._runner.root, file);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st || !st.isFile() || st.size > this._runner.stateMonitor.maxDefinitionBytes) {
      return undefined;
    }
    return readIfExists(abs);
  }

  private async _patternInfo(name: string, file: string): Promise<IPatternInfo | undefined> {
    const text = await this._readCapped(file);
    if (text === undefined) {
      const problem = this._runner.stateMonitor.problems.get(file);
      return problem ? { name, file, text: '', active: false, problem } : undefined;
    }
    const { pattern, issues, warnings } = parsePattern(name, text);
    const info: IPatternInfo = {
      name,
      file,
      text,
      active: this._runner.workflow.rulesForPattern(name).length > 0
    };
    if (pattern && !issues.length) {
      info.pattern = pattern;
      const all = this._warnings(pattern, warnings);
      if (all.length) {
        info.warnings = all;
      }
    }
    const problem =
      this._runner.stateMonitor.problems.get(file) ??
      (issues.length ? formatIssues('pattern', name, issues) : undefined);
    if (problem) {
      info.problem = problem;
    }
    return info;
  }

  private async _recipeDetail(name: string, file: string): Promise<IRecipeDetail | undefined> {
    const text = await this._readCapped(file);
    if (text === undefined) {
      return undefined;
    }
    const digest = sha256(text);
    const parsed = file.endsWith('.ipynb')
      ? parseRecipeNotebook(name, text, digest)
      : parseRecipeYaml(name, text, digest);
    const patterns = [...this._runner.workflow.patterns.values()].filter(p => p.recipe === name).map(p => p.name);
    const detail: IRecipeDetail = { name, file, variables: [], patterns };
    const recipe: IRecipe | undefined = parsed.issues.length ? undefined : parsed.recipe;
    if (recipe) {
      detail.digest = recipe.digest;
      detail.variables = recipeVariables(recipe.notebook);
      const source = recipe.source ?? recipe.notebook.metadata?.meow?.source;
      if (typeof source === 'string') {
        detail.source = source;
      }
      detail.notebook = recipe.notebook;
    }
    const problem =
      this._runner.stateMonitor.problems.get(file) ??
      (parsed.issues.length ? formatIssues('recipe', name, parsed.issues) : undefined);
    if (problem) {
      detail.problem = problem;
    }
    return detail;
  }

  /** A valid pattern's warnings, and those about its recipe's variables when the recipe is loaded. */
  private _warnings(pattern: IPattern, warnings: IValidationIssue[]): IValidationIssue[] {
    const recipe = this._runner.workflow.recipes.get(pattern.recipe);
    return recipe ? [...warnings, ...recipeVariableWarnings(pattern, recipeVariables(recipe.notebook))] : warnings;
  }

  /** Definition files of a kind, sorted by name. */
  private async _files(kind: Kind): Promise<{ name: string; file: string; abs: string }[]> {
    const dir = this.folder(kind);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return [];
    }
    const out: { name: string; file: string; abs: string }[] = [];
    for (const base of names.sort()) {
      const ext = path.extname(base);
      if (base.startsWith('.') || !EXTENSIONS[kind].includes(ext)) {
        continue;
      }
      const abs = path.join(dir, base);
      out.push({ name: base.slice(0, -ext.length), file: this._rel(abs), abs });
    }
    return out;
  }

  private _rel(abs: string): string {
    return toRelative(this._runner.root, abs);
  }

  /**
   * Write `target` (with `write`), remove the other files of its name, and
   * resolve once the state monitor has applied one of those files and
   * `reflected` holds, or has applied them all and found a problem in the
   * target (the answer shows it). Listening starts before the first write,
   * so no batch is missed.
   */
  private async _write(
    what: string,
    target: string | undefined,
    others: { abs: string }[],
    reflected: () => boolean,
    write?: () => Promise<void>
  ): Promise<void> {
    const files = new Set([target, ...others.map(o => o.abs)].filter((f): f is string => !!f).map(f => this._rel(f)));
    const targetRel = target ? this._rel(target) : undefined;
    const seen = new Set<string>();
    const applied = whenApplied(this._runner.stateMonitor, this._applyTimeoutMs, batch => {
      batch.files.filter(f => files.has(f)).forEach(f => seen.add(f));
      if (!seen.size) {
        return false;
      }
      const refused =
        seen.size === files.size && targetRel !== undefined && this._runner.stateMonitor.problems.has(targetRel);
      return reflected() || refused;
    });
    try {
      await write?.();
      for (const other of others) {
        if (other.abs !== target) {
          await fs.rm(other.abs, { force: true });
        }
      }
    } catch (err) {
      applied.cancel();
      throw err;
    }
    if (!(await applied.promise)) {
      throw new ApiError(
        503,
        `${what}: ${[...files].join(', ')} changed on disk, but the service did not apply the change within ` +
          `${this._applyTimeoutMs / 1000} s (it may be busy, or the folder is not being watched); ` +
          'list the definitions again in a moment to see whether it took effect'
      );
    }
  }
}

/**
 * Resolves true at the first `applied` batch for which `done` holds, false
 * after `timeoutMs`; `cancel` stops listening.
 */
function whenApplied(
  monitor: StateMonitor,
  timeoutMs: number,
  done: (batch: StateMonitor.IApplied) => boolean
): { promise: Promise<boolean>; cancel(): void } {
  let finish: (ok: boolean) => void = () => undefined;
  const promise = new Promise<boolean>(resolve => (finish = resolve));
  const slot = (_: StateMonitor, batch: StateMonitor.IApplied) => {
    if (done(batch)) {
      stop(true);
    }
  };
  const timer = setTimeout(() => stop(false), timeoutMs);
  const stop = (ok: boolean) => {
    clearTimeout(timer);
    monitor.applied.disconnect(slot);
    finish(ok);
  };
  monitor.applied.connect(slot);
  return { promise, cancel: () => stop(false) };
}

function checkName(kind: Kind, name: string): void {
  const issues = validateName(kind, name);
  if (issues.length) {
    throw ApiError.invalid(`"${name}" is not a valid ${kind} name`, issues);
  }
}

// Moved to the core (the form and `meow validate` use it too); re-exported for existing importers.
export { recipeVariables };
