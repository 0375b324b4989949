/**
 * The pure registry of patterns, recipes and rules (spec §2).
 *
 * Rules are never written by users: the Workflow makes one for every
 * pattern whose recipe exists (P5, R3) and removes it when either goes
 * (P6, R4). A change is a delete plus a create (P7, R5), so every change
 * yields a new rule with a new id (M1); the returned `IRuleChanges` tell
 * the service which jobs to cancel (M11) and which rules to apply to the
 * files already present (M10).
 *
 * File events are matched through an index by glob base directory, not by
 * testing every rule (M7/M8 without the quadratic cost of thesis §17.4.2).
 */

import { GlobMatcher, triggerGlobBase, triggerMatcher } from './glob';
import { ancestors } from './paths';
import { patternDigest } from './pattern';
import type { FileEventKind, IFileEvent, IPattern, IRecipe, IRule, TriggerKind } from './types';

/** Rules made and removed by one change of the definitions. */
export interface IRuleChanges {
  created: IRule[];
  deleted: IRule[];
}

/** A file rule in the match index. */
interface IIndexed {
  rule: IRule;
  seq: number;
  base: string;
  events: ReadonlySet<FileEventKind>;
  matcher: GlobMatcher;
}

export class Workflow {
  constructor(options: Workflow.IOptions = {}) {
    this._onGlob = options.onGlobEvaluated;
  }

  /** Patterns by name (P1: names are unique). */
  get patterns(): ReadonlyMap<string, IPattern> {
    return this._patterns;
  }

  /** Recipes by name (R1: names are unique). */
  get recipes(): ReadonlyMap<string, IRecipe> {
    return this._recipes;
  }

  /** Current rules by id, in creation order. */
  get rules(): ReadonlyMap<string, IRule> {
    return this._rules;
  }

  /** How many globs `match` and `ruleMatchesPath` have evaluated. */
  get globEvaluations(): number {
    return this._globEvaluations;
  }

  /** The rules made from a pattern (zero or one). */
  rulesForPattern(name: string): IRule[] {
    const rule = this._byPattern.get(name);
    return rule ? [rule] : [];
  }

  /** The rules made from a recipe, in creation order. */
  rulesForRecipe(name: string): IRule[] {
    return [...(this._byRecipe.get(name)?.values() ?? [])];
  }

  /** Rules whose trigger is of one kind (e.g. `schedule`), in creation order. */
  rulesOfKind(kind: TriggerKind): IRule[] {
    return [...this._rules.values()].filter(r => r.pattern.trigger.kind === kind);
  }

  /** Network rules listening on a port. */
  rulesForPort(port: number): IRule[] {
    return this.rulesOfKind('network').filter(
      r => r.pattern.trigger.kind === 'network' && r.pattern.trigger.port === port
    );
  }

  /** Patterns that make no rule because their recipe does not exist. */
  patternsWithoutRecipe(): IPattern[] {
    return [...this._patterns.values()].filter(p => !this._recipes.has(p.recipe));
  }

  /**
   * Create or replace a pattern. Replacing deletes the old rule and, if
   * the recipe exists, creates a new one (P5, P7) — even when nothing
   * changed; compare `contentKey`s to see whether the work differs.
   */
  setPattern(p: IPattern): IRuleChanges {
    const deleted = this._deleteRules(this.rulesForPattern(p.name));
    const old = this._patterns.get(p.name);
    if (old) {
      this._users.get(old.recipe)?.delete(old.name);
    }
    this._patterns.set(p.name, p);
    this._usersOf(p.recipe).add(p.name);
    const created: IRule[] = [];
    const recipe = this._recipes.get(p.recipe);
    if (recipe) {
      created.push(this._createRule(p, recipe));
    }
    return { created, deleted };
  }

  /** Remove a pattern and its rule (P6). Unknown names change nothing. */
  deletePattern(name: string): IRuleChanges {
    const deleted = this._deleteRules(this.rulesForPattern(name));
    const old = this._patterns.get(name);
    if (old) {
      this._users.get(old.recipe)?.delete(name);
    }
    this._patterns.delete(name);
    return { created: [], deleted };
  }

  /**
   * Create or replace a recipe: rules of the old recipe are deleted (R5)
   * and one is created for every pattern naming it (R3).
   */
  setRecipe(r: IRecipe): IRuleChanges {
    const deleted = this._deleteRules(this.rulesForRecipe(r.name));
    this._recipes.set(r.name, r);
    const created: IRule[] = [];
    for (const name of this._usersOf(r.name)) {
      created.push(this._createRule(this._patterns.get(name)!, r));
    }
    return { created, deleted };
  }

  /** Remove a recipe and every rule made from it (R4). */
  deleteRecipe(name: string): IRuleChanges {
    const deleted = this._deleteRules(this.rulesForRecipe(name));
    this._recipes.delete(name);
    return { created: [], deleted };
  }

  /**
   * The file rules an event triggers (M7, M8): the event kind is one the
   * rule listens to and the path matches its glob. Rules come back in
   * creation order.
   *
   * Complexity: the index maps each rule's glob base directory to its rules,
   * so an event at depth d looks up d + 1 buckets (its ancestors and the
   * path itself) and evaluates only the globs there — rules rooted in other
   * directories cost nothing. Globs with an empty base (`*.txt`, `**`,
   * `{a,b}/*`) are in the root bucket and are tried for every event.
   */
  match(event: IFileEvent): IRule[] {
    const path = event.path;
    if (!path) {
      return [];
    }
    const hits: IIndexed[] = [];
    for (const key of [...ancestors(path), path]) {
      const bucket = this._index.get(key);
      if (!bucket) {
        continue;
      }
      for (const entry of bucket.values()) {
        if (entry.events.has(event.kind) && this._test(entry, path)) {
          hits.push(entry);
        }
      }
    }
    return hits.sort((a, b) => a.seq - b.seq).map(e => e.rule);
  }

  /**
   * Whether a file rule's glob matches a path, whatever the event kind
   * (retroactive matching, M10). False for other trigger kinds.
   */
  ruleMatchesPath(rule: IRule, relPath: string): boolean {
    const entry = this._indexed.get(rule.id);
    if (entry) {
      return this._test(entry, relPath);
    }
    const t = rule.pattern.trigger;
    if (t.kind !== 'file') {
      return false;
    }
    this._count(t.path);
    return triggerMatcher(t)(relPath);
  }

  private _test(entry: IIndexed, relPath: string): boolean {
    this._count((entry.rule.pattern.trigger as { path: string }).path);
    return entry.matcher(relPath);
  }

  private _count(glob: string): void {
    this._globEvaluations++;
    this._onGlob?.(glob);
  }

  private _createRule(pattern: IPattern, recipe: IRecipe): IRule {
    const seq = ++this._counter;
    const rule: IRule = {
      id: `${pattern.name}/${recipe.name}#${seq}`,
      pattern,
      recipe,
      contentKey: `${patternDigest(pattern)}|${recipe.digest}`
    };
    this._rules.set(rule.id, rule);
    this._byPattern.set(pattern.name, rule);
    let ofRecipe = this._byRecipe.get(recipe.name);
    if (!ofRecipe) {
      ofRecipe = new Map();
      this._byRecipe.set(recipe.name, ofRecipe);
    }
    ofRecipe.set(rule.id, rule);
    const t = pattern.trigger;
    if (t.kind === 'file') {
      const entry: IIndexed = {
        rule,
        seq,
        base: triggerGlobBase(t),
        events: new Set(t.events),
        matcher: triggerMatcher(t)
      };
      let bucket = this._index.get(entry.base);
      if (!bucket) {
        bucket = new Map();
        this._index.set(entry.base, bucket);
      }
      bucket.set(rule.id, entry);
      this._indexed.set(rule.id, entry);
    }
    return rule;
  }

  /** Patterns (by name) that name a recipe, in the order they were set. */
  private _usersOf(recipe: string): Set<string> {
    let users = this._users.get(recipe);
    if (!users) {
      users = new Set();
      this._users.set(recipe, users);
    }
    return users;
  }

  private _deleteRules(deleted: IRule[]): IRule[] {
    for (const rule of deleted) {
      this._rules.delete(rule.id);
      if (this._byPattern.get(rule.pattern.name) === rule) {
        this._byPattern.delete(rule.pattern.name);
      }
      const ofRecipe = this._byRecipe.get(rule.recipe.name);
      ofRecipe?.delete(rule.id);
      if (ofRecipe?.size === 0) {
        this._byRecipe.delete(rule.recipe.name);
      }
      const entry = this._indexed.get(rule.id);
      if (entry) {
        const bucket = this._index.get(entry.base)!;
        bucket.delete(rule.id);
        if (bucket.size === 0) {
          this._index.delete(entry.base);
        }
        this._indexed.delete(rule.id);
      }
    }
    return deleted;
  }

  private readonly _patterns = new Map<string, IPattern>();
  private readonly _recipes = new Map<string, IRecipe>();
  private readonly _rules = new Map<string, IRule>();
  private readonly _byPattern = new Map<string, IRule>();
  private readonly _byRecipe = new Map<string, Map<string, IRule>>();
  /** Recipe name → names of the patterns that use it (with or without a rule). */
  private readonly _users = new Map<string, Set<string>>();
  /** Glob base directory → file rules by id. */
  private readonly _index = new Map<string, Map<string, IIndexed>>();
  private readonly _indexed = new Map<string, IIndexed>();
  private readonly _onGlob?: (glob: string) => void;
  /** Never reset: rule ids stay unique for the object's lifetime (M1). */
  private _counter = 0;
  private _globEvaluations = 0;
}

export namespace Workflow {
  export interface IOptions {
    /** Called for every glob evaluated by matching (for tests and stats). */
    onGlobEvaluated?: (glob: string) => void;
  }
}
