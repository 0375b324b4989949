/**
 * Patterns (P1–P4): reading, validating and writing `patterns/<name>.yaml`.
 *
 * Two formats are accepted (spec §3), told apart by their keys:
 *
 * - native: `recipe`, `trigger` (one kind: file, network, timer, manual or
 *   absence; see `trigger.ts`), `input`, `parameters`, `outputs`, `sweep`
 *   (`{start, stop, step}`);
 * - thesis (mig_meow): `input_file`, `input_paths`, `output`,
 *   `parameterize_over` (`{start, stop, increment}`), `recipes`, `variables`.
 *   Files written by mig_meow load unchanged and behave unchanged: their
 *   glob matches with Python's fnmatch, as in mig_meow (`glob: 'fnmatch'`
 *   on the trigger), and `input_file` is required, as there.
 *
 * Both may carry `name`, which must then equal the file stem.
 */

import { EXECUTOR_KEYS, executorFieldsToObject, readExecutorFields } from './executor';
import { isGlob, validateGlob } from './glob';
import { keywordIssues } from './keywords';
import { limitIssues, LIMIT_KEYS, readLimits } from './patternLimits';
import { patternWarnings } from './patternWarnings';
import {
  PyFloat,
  clipText,
  isPlainObject,
  parseYaml,
  pyFloatRepr,
  stringifyYamlValues,
  toPythonLiteral
} from './pyvalue';
import { MAX_SWEEP_VALUES, sweepCombinationCount, sweepRangeOf, sweepRangeToObject, validateSweep } from './sweep';
import { parseTrigger, triggerDigestValue, triggerToObject } from './trigger';
import { DEFAULT_FILE_EVENTS, IPattern, ISweepRange, ParameterValue, Trigger } from './types';
import { FILE_FIELD, IValidationIssue, closest, issue, validateIdentifier, validateName } from './validation';
import { typeName } from './valueText';

// Moved to timers.ts and trigger.ts; re-exported for existing importers.
export { formatDuration, MIN_INTERVAL_MS, parseDuration, validateCron, validateTimezone } from './timers';
export { TRIGGER_KEYS, parseTrigger, triggerSummary, triggerToObject } from './trigger';
export { formatSize, parseSize } from './valueText';

/**
 * The result of reading a pattern: a pattern, or the reasons there is none.
 * `warnings` never stop a pattern from loading (e.g. an output outside the
 * workgroup) but are shown with the file and field.
 */
export interface IPatternParseResult {
  pattern?: IPattern;
  issues: IValidationIssue[];
  warnings: IValidationIssue[];
}

/** Top-level keys of the native format. */
export const NATIVE_KEYS = ['recipe', 'trigger', 'input', 'parameters', 'outputs', 'sweep'] as const;

/** Top-level keys of the thesis (mig_meow) format. */
export const THESIS_KEYS = [
  'input_file',
  'input_paths',
  'output',
  'parameterize_over',
  'recipes',
  'variables'
] as const;

/** Read a pattern file's YAML text. */
export function parsePattern(name: string, text: string): IPatternParseResult {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0) {
    const issues = validateName('pattern', name);
    for (const p of problems) {
      const where = p.line !== undefined ? ` at line ${p.line}, column ${p.column}` : '';
      issues.push(
        issue(
          FILE_FIELD,
          `is not valid YAML${where}: ${p.message}`,
          'correct the YAML at that position (indentation, quotes, brackets)'
        )
      );
    }
    return { issues, warnings: [] };
  }
  return validatePatternObject(name, value);
}

/**
 * Validate an already-parsed pattern (e.g. from the UI form) and build the
 * `IPattern`. All issues are reported, not just the first.
 */
export function validatePatternObject(name: string, obj: unknown): IPatternParseResult {
  const issues = validateName('pattern', name);
  if (obj === null || obj === undefined) {
    issues.push(
      issue(
        FILE_FIELD,
        'is empty',
        `write at least "recipe:" and "trigger:", e.g. recipe: append / trigger: {path: "start/*"}`
      )
    );
    return { issues, warnings: [] };
  }
  if (!isPlainObject(obj)) {
    issues.push(
      issue(
        FILE_FIELD,
        `must be a mapping of fields (got ${typeName(obj)})`,
        `write "key: value" lines, e.g. "recipe: append"`
      )
    );
    return { issues, warnings: [] };
  }
  const keys = Object.keys(obj);
  const native = keys.filter(k => (NATIVE_KEYS as readonly string[]).includes(k));
  const thesis = keys.filter(k => (THESIS_KEYS as readonly string[]).includes(k));
  if (native.length > 0 && thesis.length > 0) {
    issues.push(
      issue(
        FILE_FIELD,
        `mixes native fields (${native.join(', ')}) with thesis fields (${thesis.join(', ')})`,
        `use one format: native (${NATIVE_KEYS.join(', ')}) or thesis (${THESIS_KEYS.join(', ')})`
      )
    );
    return { issues, warnings: [] };
  }
  const format = thesis.length > 0 ? 'thesis' : 'native';
  // Runaway limits, retries, executor and resources are accepted in both
  // formats: mig_meow never wrote them, so thesis files still load unchanged.
  const allowed: readonly string[] = [
    ...(format === 'thesis' ? THESIS_KEYS : NATIVE_KEYS),
    ...LIMIT_KEYS,
    ...EXECUTOR_KEYS
  ];
  for (const key of keys) {
    if (key !== 'name' && !allowed.includes(key)) {
      const guess = closest(key, allowed);
      const hint = guess ? `did you mean "${guess}"? Otherwise remove it` : 'remove it';
      issues.push(
        issue(
          key,
          `is not a ${format === 'thesis' ? 'thesis-format ' : ''}pattern field`,
          `${hint}; allowed fields are: ${allowed.join(', ')}`
        )
      );
    }
  }
  if ('name' in obj && obj.name !== name) {
    issues.push(
      issue(
        'name',
        `is ${clipText(JSON.stringify(obj.name) ?? String(obj.name), 80)} but the file is named "${name}"`,
        `remove "name" (the file name is the pattern name) or rename the file`
      )
    );
  }
  const reader = new Reader(issues);
  const draft = format === 'native' ? reader.native(obj) : reader.thesis(obj);
  reader.checkVariables(draft);
  // Keywords are expanded in parameters and outputs only (jobFactory).
  issues.push(
    ...keywordIssues(draft.parameters, draft.parametersField),
    ...keywordIssues(draft.outputs, draft.outputsField)
  );
  issues.push(...limitIssues(obj));
  const execution = readExecutorFields(obj);
  issues.push(...execution.issues);
  if (issues.length > 0 || !draft.recipe || !draft.trigger) {
    return { issues, warnings: [] };
  }
  const pattern: IPattern = {
    name,
    recipe: draft.recipe,
    trigger: draft.trigger,
    parameters: draft.parameters,
    outputs: draft.outputs,
    sweep: draft.sweep,
    format
  };
  if (draft.input !== undefined) {
    pattern.input = draft.input;
  }
  Object.assign(pattern, readLimits(obj), execution.fields);
  const warnings = patternWarnings(pattern, {
    parameters: draft.parametersField,
    outputs: draft.outputsField
  });
  return { pattern, issues, warnings };
}

/** What a pattern says, before we know it is valid. */
interface IDraft {
  recipe?: string;
  trigger?: Trigger;
  input?: string;
  inputField: string;
  parameters: Record<string, ParameterValue>;
  parametersField: string;
  outputs: Record<string, ParameterValue>;
  outputsField: string;
  sweep: Record<string, ISweepRange>;
  sweepField: string;
}

/** Field-by-field reading; pushes issues as it goes. */
class Reader {
  constructor(private readonly issues: IValidationIssue[]) {}

  native(obj: Record<string, unknown>): IDraft {
    const draft = this._draft('input', 'parameters', 'outputs', 'sweep');
    if (obj.recipe === undefined || obj.recipe === null) {
      this._add('recipe', 'is missing', 'name the recipe this pattern runs, e.g. "recipe: append"');
    } else if (this._name('recipe', obj.recipe)) {
      draft.recipe = obj.recipe as string;
    }
    if (obj.trigger === undefined || obj.trigger === null) {
      this._add('trigger', 'is missing', 'say when the recipe runs, e.g. trigger: {path: "start/*"}');
    } else {
      const { trigger, issues } = parseTrigger(obj.trigger);
      this.issues.push(...issues);
      draft.trigger = trigger;
    }
    draft.input = this._input('input', obj.input);
    draft.parameters = this._variables('parameters', obj.parameters);
    draft.outputs = this._variables('outputs', obj.outputs);
    draft.sweep = this._sweeps('sweep', obj.sweep, 'step');
    return draft;
  }

  thesis(obj: Record<string, unknown>): IDraft {
    const draft = this._draft('input_file', 'variables', 'output', 'parameterize_over');
    const recipe = this._single('recipes', obj.recipes, 'recipe name', 'Append');
    if (recipe !== undefined && this._name('recipes[0]', recipe)) {
      draft.recipe = recipe;
    }
    const glob = this._single('input_paths', obj.input_paths, 'glob', 'start/*');
    if (glob !== undefined) {
      // mig_meow matched input_paths with Python's fnmatch: so does meow.
      const globIssues = validateGlob('input_paths[0]', glob, 'fnmatch');
      this.issues.push(...globIssues);
      if (globIssues.length === 0) {
        draft.trigger = { kind: 'file', path: glob, events: [...DEFAULT_FILE_EVENTS], glob: 'fnmatch' };
      }
    }
    if (obj.input_file === undefined || obj.input_file === null) {
      // mig_meow and meow_base refuse such a pattern too.
      this._add(
        'input_file',
        "is missing, so the jobs would never receive the triggering file's path (mig_meow and meow_base refuse it too)",
        'add "input_file: infile", naming the recipe variable that receives the path of the file that triggered the job'
      );
    }
    draft.input = this._input('input_file', obj.input_file);
    draft.parameters = this._variables('variables', obj.variables);
    draft.outputs = this._variables('output', obj.output);
    draft.sweep = this._sweeps('parameterize_over', obj.parameterize_over, 'increment');
    return draft;
  }

  /** No variable may be defined twice; the sweep must stay bounded. */
  checkVariables(draft: IDraft): void {
    const seen = new Map<string, string>();
    const define = (varName: string, field: string) => {
      const first = seen.get(varName);
      if (first !== undefined) {
        this._add(field, `defines variable "${varName}" again (already set by "${first}")`, 'keep only one of them');
      } else {
        seen.set(varName, field);
      }
    };
    if (draft.input !== undefined) {
      define(draft.input, draft.inputField);
    }
    for (const [section, field] of [
      [draft.parameters, draft.parametersField],
      [draft.outputs, draft.outputsField],
      [draft.sweep, draft.sweepField]
    ] as const) {
      for (const key of Object.keys(section)) {
        define(key, `${field}.${key}`);
      }
    }
    const combos = sweepCombinationCount(draft.sweep);
    if (Object.keys(draft.sweep).length > 1 && combos > MAX_SWEEP_VALUES) {
      this._add(
        draft.sweepField,
        `makes ${combos} jobs per event, more than the limit of ${MAX_SWEEP_VALUES}`,
        'sweep fewer variables or use larger steps'
      );
    }
  }

  private _draft(inputField: string, parametersField: string, outputsField: string, sweepField: string): IDraft {
    return { inputField, parameters: {}, parametersField, outputs: {}, outputsField, sweep: {}, sweepField };
  }

  private _add(field: string, message: string, fix: string): void {
    this.issues.push(issue(field, message, fix));
  }

  private _name(field: string, v: unknown): boolean {
    const found = validateName('recipe', v, field);
    this.issues.push(...found);
    return found.length === 0;
  }

  /** A list with exactly one string (thesis `recipes`, `input_paths`). */
  private _single(field: string, v: unknown, what: string, example: string): string | undefined {
    if (v === undefined || v === null) {
      this._add(field, 'is missing', `give a list with one ${what}, e.g. ${field}: [${example}]`);
      return undefined;
    }
    if (!Array.isArray(v) || v.length === 0) {
      this._add(field, `must be a list with one ${what} (got ${typeName(v)})`, `write ${field}: [${example}]`);
      return undefined;
    }
    if (v.length > 1) {
      const fix =
        what === 'glob'
          ? `keep one glob; to match several places use braces, e.g. "{${v.join(',')}}", or one pattern per glob`
          : 'keep one recipe; write one pattern per recipe';
      this._add(field, `has ${v.length} entries but only one ${what} is used`, fix);
      return undefined;
    }
    if (typeof v[0] !== 'string') {
      this._add(`${field}[0]`, `must be a ${what} string (got ${typeName(v[0])})`, `write ${field}: [${example}]`);
      return undefined;
    }
    return v[0];
  }

  private _input(field: string, v: unknown): string | undefined {
    if (v === undefined || v === null) {
      return undefined;
    }
    const found = validateIdentifier(field, v);
    this.issues.push(...found);
    return found.length === 0 ? (v as string) : undefined;
  }

  private _variables(field: string, v: unknown): Record<string, ParameterValue> {
    if (v === undefined || v === null) {
      return {};
    }
    if (!isPlainObject(v)) {
      this._add(
        field,
        `must be a mapping of variable names to values (got ${typeName(v)})`,
        `write e.g. ${field}: {extra: "some text"}`
      );
      return {};
    }
    const out: Record<string, ParameterValue> = {};
    for (const key of Object.keys(v)) {
      const found = validateIdentifier(`${field}.${key}`, key);
      try {
        // Fail now, in the file, rather than when a job is made.
        toPythonLiteral(v[key]);
      } catch (err) {
        found.push(
          issue(
            `${field}.${key}`,
            `cannot be passed to Python: ${(err as Error).message}`,
            'use strings, numbers, booleans, null, lists and mappings'
          )
        );
      }
      this.issues.push(...found);
      if (found.length === 0) {
        out[key] = v[key];
      }
    }
    return out;
  }

  private _sweeps(field: string, v: unknown, stepKey: string): Record<string, ISweepRange> {
    if (v === undefined || v === null) {
      return {};
    }
    const example = `${field}: {factor: {start: 1, stop: 3, ${stepKey}: 1}}`;
    if (!isPlainObject(v)) {
      this._add(field, `must be a mapping of variable names to ranges (got ${typeName(v)})`, `write e.g. ${example}`);
      return {};
    }
    const out: Record<string, ISweepRange> = {};
    const allowed = ['start', 'stop', stepKey];
    for (const key of Object.keys(v)) {
      const at = `${field}.${key}`;
      const found = validateIdentifier(at, key);
      const range = v[key];
      if (!isPlainObject(range)) {
        found.push(
          issue(
            at,
            `must be a range {start, stop, ${stepKey}} (got ${typeName(range)})`,
            `write e.g. ${key}: {start: 1, stop: 3, ${stepKey}: 1}`
          )
        );
        this.issues.push(...found);
        continue;
      }
      for (const k of Object.keys(range)) {
        if (!allowed.includes(k)) {
          found.push(
            issue(`${at}.${k}`, 'is not a sweep field', `remove it; a range has exactly: ${allowed.join(', ')}`)
          );
        }
      }
      // Keeps whether the range is written with floats (`0.0`): every value then is one.
      const r = sweepRangeOf(range.start, range.stop, range[stepKey]);
      for (const k of allowed) {
        if (range[k] === undefined) {
          found.push(issue(`${at}.${k}`, 'is missing', `give a number, e.g. ${k}: 1`));
        }
      }
      if (found.length === 0) {
        found.push(...validateSweep(key, r, { field: at, stepKey }));
      }
      this.issues.push(...found);
      if (found.length === 0) {
        out[key] = r;
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Writing

/**
 * A pattern as a plain object in the given file format (native by default).
 * A thesis pattern written natively keeps its fnmatch glob (`glob: fnmatch`
 * in its trigger), so it matches the same files.
 * @throws Error when the thesis format cannot say what the pattern does.
 */
export function patternToObject(p: IPattern, format: 'native' | 'thesis' = 'native'): Record<string, unknown> {
  if (format === 'thesis') {
    const t = p.trigger;
    if (t.kind !== 'file' || t.events.join() !== DEFAULT_FILE_EVENTS.join()) {
      throw new Error(
        `pattern "${p.name}": the thesis format can only express file triggers on ${DEFAULT_FILE_EVENTS.join(' and ')} events; write it in the native format`
      );
    }
    // A thesis glob is read as fnmatch: a native glob with wildcards would
    // match other files there (a literal path means the same in both).
    if (t.glob !== 'fnmatch' && (isGlob(t.path) || isGlob(t.path, 'fnmatch'))) {
      throw new Error(
        `pattern "${p.name}": the thesis format matches globs as mig_meow did (fnmatch), so "${t.path}" would match other files; write it in the native format`
      );
    }
    if (p.input === undefined) {
      throw new Error(`pattern "${p.name}": the thesis format requires input_file; write it in the native format`);
    }
    const sweep: Record<string, unknown> = {};
    for (const [k, r] of Object.entries(p.sweep)) {
      sweep[k] = sweepRangeToObject(r, 'increment');
    }
    const out: Record<string, unknown> = { input_file: p.input };
    out.input_paths = [t.path];
    out.output = p.outputs;
    out.parameterize_over = sweep;
    out.recipes = [p.recipe];
    out.variables = p.parameters;
    return Object.assign(out, limitsToObject(p), executorFieldsToObject(p));
  }
  const out: Record<string, unknown> = { recipe: p.recipe, trigger: triggerToObject(p.trigger) };
  if (p.input !== undefined) {
    out.input = p.input;
  }
  if (Object.keys(p.parameters).length) {
    out.parameters = p.parameters;
  }
  if (Object.keys(p.outputs).length) {
    out.outputs = p.outputs;
  }
  if (Object.keys(p.sweep).length) {
    const sweep: Record<string, unknown> = {};
    for (const [k, r] of Object.entries(p.sweep)) {
      sweep[k] = sweepRangeToObject(r);
    }
    out.sweep = sweep;
  }
  return Object.assign(out, limitsToObject(p), executorFieldsToObject(p));
}

/** `max_jobs`, `max_rate`, `max_depth`, `retries` as written in a file, when set. */
function limitsToObject(p: IPattern): Record<string, number> {
  const out: Record<string, number> = {};
  if (p.limits?.maxJobs !== undefined) {
    out.max_jobs = p.limits.maxJobs;
  }
  if (p.limits?.maxRate !== undefined) {
    out.max_rate = p.limits.maxRate;
  }
  if (p.limits?.maxDepth !== undefined) {
    out.max_depth = p.limits.maxDepth;
  }
  if (p.retries !== undefined) {
    out.retries = p.retries;
  }
  return out;
}

/**
 * The pattern file text, native format unless asked otherwise. Reading it
 * back with `parsePattern` gives the same pattern (with that `format`).
 */
export function patternToYaml(p: IPattern, format: 'native' | 'thesis' = 'native'): string {
  return stringifyYamlValues(patternToObject(p, format));
}

/**
 * A canonical, stable text of everything that decides what a pattern does
 * (name, recipe, trigger, variables, sweep; not the file format): sorted
 * keys, `1.0` kept apart from `1`. Equal digests mean equal behaviour.
 *
 * Limits, retries, executor and resources are left out on purpose: the rule's content key is
 * built from this digest, and raising `max_jobs` must not re-run every
 * file the rule already handled. `patternLimitsDigest` covers them.
 */
export function patternDigest(p: IPattern): string {
  return canonical({
    name: p.name,
    recipe: p.recipe,
    trigger: triggerDigestValue(p.trigger),
    input: p.input ?? null,
    parameters: p.parameters,
    outputs: p.outputs,
    sweep: p.sweep
  });
}

/**
 * Canonical text of what a pattern says about running its jobs, not what
 * they do: limits, retries, executor and resources (see `patternDigest`).
 * A change updates the live rule; files already handled are not re-run.
 */
export function patternLimitsDigest(p: IPattern): string {
  return canonical({
    limits: p.limits ?? null,
    retries: p.retries ?? null,
    executor: p.executor ?? null,
    resources: p.resources ?? null
  });
}

/** Sorted-keys JSON, extended for the values YAML can hold. */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) {
    return 'null';
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
  }
  if (v instanceof PyFloat) {
    return Number.isFinite(v.value) ? pyFloatRepr(v.value) : String(v.value);
  }
  if (v instanceof Date) {
    return JSON.stringify(v.toISOString());
  }
  if (Array.isArray(v)) {
    return '[' + v.map(canonical).join(',') + ']';
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter(k => o[k] !== undefined)
      .sort();
    return '{' + keys.map(k => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(String(v));
}
