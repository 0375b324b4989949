/**
 * The pattern form's logic, without any DOM: form state ↔ pattern, and live
 * validation by the core's `validatePatternObject` (the very code the
 * service runs on the file), with issues mapped back to form fields.
 */
import type { IRecipeInfo } from '../core/api';
import { resourcesToObject } from '../core/executor';
import { patternToYaml, validatePatternObject } from '../core/pattern';
import { recipeVariableWarnings } from '../core/patternWarnings';
import {
  DEFAULT_FILE_EVENTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_NETWORK_HOST,
  EXECUTOR_KINDS,
  ExecutorKind,
  FileEventKind,
  IPattern,
  MissedFiringPolicy
} from '../core/types';
import { FILE_FIELD, IValidationIssue, issue } from '../core/validation';
import { formatDuration } from '../core/timers';
import { formatSize } from '../core/pattern';
import type { GlobSyntax } from '../core/glob';
import { formFieldOf, formMessage } from './patternFormErrors';
import { joinArgs, parseValueText, splitArgs, valueToText } from './patternFormText';

// The form's helpers live in two files of their own; importers keep one name.
export { FIELD_HELP, joinArgs, parseValueText, splitArgs, valueToText } from './patternFormText';
export { RESOURCE_FIELDS, formFieldOf, visibleErrors } from './patternFormErrors';
export type { ResourceField } from './patternFormErrors';

/**
 * The trigger kinds of the form: file events (`path`), a network port, a
 * timer as a cron `schedule` or a fixed interval (`every`), `manual` (a
 * person runs it or approves waiting files) and `absent` (nothing arrived).
 */
export type TriggerChoice = 'path' | 'port' | 'schedule' | 'every' | 'manual' | 'absent';

/** The choices in the order the form offers them, with their labels. */
export const TRIGGER_CHOICES: readonly { value: TriggerChoice; label: string }[] = [
  { value: 'path', label: 'File event (glob)' },
  { value: 'port', label: 'Network port' },
  { value: 'schedule', label: 'Timer: cron schedule' },
  { value: 'every', label: 'Timer: fixed interval' },
  { value: 'manual', label: 'Manual (a person runs or approves)' },
  { value: 'absent', label: 'Absence (nothing arrived for a while)' }
];

/** The executor choices: `''` leaves `executor:` out (the recipe's, else the service's default). */
export const EXECUTOR_CHOICES: readonly { value: '' | ExecutorKind; label: string }[] = [
  { value: '', label: 'service default' },
  ...EXECUTOR_KINDS.map(k => ({
    value: k,
    label:
      k === 'local' ? "local (this machine's kernels)" : k === 'slurm' ? 'slurm (cluster)' : 'jupyter (remote server)'
  }))
];

/** A variable row: name and its value as YAML text (`3`, `"text"`, `[1, 2]`). */
export interface IVariableRow {
  name: string;
  value: string;
}

/** A sweep row: numbers as text, so half-typed input is kept. */
export interface ISweepRow {
  name: string;
  start: string;
  stop: string;
  step: string;
}

/** Everything the form edits. */
export interface IPatternForm {
  name: string;
  recipe: string;
  trigger: TriggerChoice;
  /** The glob of a file trigger, a manual trigger's approval folder, an absence trigger. */
  path: string;
  events: FileEventKind[];
  port: string;
  /** Network: listen address (empty = the default, 127.0.0.1). */
  host: string;
  /** Network: shared secret (empty = none). */
  secret: string;
  /** Network: TLS certificate and key files (both empty = plain TCP). */
  tlsCert: string;
  tlsKey: string;
  /** Network: largest message, e.g. `100MB` (empty = the default). */
  maxBytes: string;
  /** Network: most connections at once (empty = the default). */
  maxConnections: string;
  schedule: string;
  /** Cron: IANA time zone (empty = the machine's). */
  timezone: string;
  every: string;
  /** Timers: firings missed while meow was down. */
  missed: MissedFiringPolicy;
  /** Absence: how long nothing must arrive, e.g. `10m`. */
  absentFor: string;
  input: string;
  parameters: IVariableRow[];
  outputs: IVariableRow[];
  sweep: ISweepRow[];
  /** Where its jobs run; `''` = not set (the recipe's, else the service's default). */
  executor: '' | ExecutorKind;
  /** Resources asked for, as typed (empty = not asked): `4`, `8GB`, `1`, `2h`, `gpu`. */
  cpus: string;
  memory: string;
  gpus: string;
  time: string;
  partition: string;
  /** Extra scheduler options separated by spaces; quote one that contains a space. */
  extraArgs: string;
  /** File format to write; thesis falls back to native when it cannot express the pattern. */
  format: 'native' | 'thesis';
  /** How the file glob matches; the thesis format always uses `fnmatch` (as mig_meow). */
  glob: GlobSyntax;
}

export function emptyForm(): IPatternForm {
  return {
    name: '',
    recipe: '',
    trigger: 'path',
    path: '',
    events: [...DEFAULT_FILE_EVENTS],
    port: '',
    host: '',
    secret: '',
    tlsCert: '',
    tlsKey: '',
    maxBytes: '',
    maxConnections: '',
    schedule: '',
    timezone: '',
    every: '',
    missed: 'once',
    absentFor: '',
    input: '',
    parameters: [],
    outputs: [],
    sweep: [],
    executor: '',
    cpus: '',
    memory: '',
    gpus: '',
    time: '',
    partition: '',
    extraArgs: '',
    format: 'native',
    glob: 'native'
  };
}

/** The form showing an existing pattern. */
export function formFromPattern(p: IPattern): IPatternForm {
  const f = emptyForm();
  f.name = p.name;
  f.recipe = p.recipe;
  f.format = p.format;
  const t = p.trigger;
  switch (t.kind) {
    case 'file':
      f.trigger = 'path';
      f.path = t.path;
      f.events = [...t.events];
      f.glob = t.glob ?? 'native';
      break;
    case 'network':
      f.trigger = 'port';
      f.port = String(t.port);
      // Defaults stay empty (the placeholder shows them).
      f.host = t.host && t.host !== DEFAULT_NETWORK_HOST ? t.host : '';
      f.secret = t.secret ?? '';
      f.tlsCert = t.tls?.cert ?? '';
      f.tlsKey = t.tls?.key ?? '';
      f.maxBytes = t.maxBytes !== undefined && t.maxBytes !== DEFAULT_MAX_PAYLOAD_BYTES ? formatSize(t.maxBytes) : '';
      f.maxConnections =
        t.maxConnections !== undefined && t.maxConnections !== DEFAULT_MAX_CONNECTIONS ? String(t.maxConnections) : '';
      break;
    case 'schedule':
      if (t.everyMs !== undefined) {
        f.trigger = 'every';
        f.every = formatDuration(t.everyMs);
      } else {
        f.trigger = 'schedule';
        f.schedule = t.cron ?? '';
        f.timezone = t.timezone ?? '';
      }
      f.missed = t.missed ?? 'once';
      break;
    case 'manual':
      f.trigger = 'manual';
      f.path = t.path ?? '';
      break;
    case 'absent':
      f.trigger = 'absent';
      f.path = t.path;
      f.absentFor = formatDuration(t.forMs);
      break;
  }
  f.input = p.input ?? '';
  f.parameters = Object.entries(p.parameters).map(([name, v]) => ({ name, value: valueToText(v) }));
  f.outputs = Object.entries(p.outputs).map(([name, v]) => ({ name, value: valueToText(v) }));
  f.sweep = Object.entries(p.sweep).map(([name, r]) => ({
    name,
    start: String(r.start),
    stop: String(r.stop),
    step: String(r.step)
  }));
  f.executor = p.executor ?? '';
  // The texts the file has (the core writes them), e.g. 8GB and 2h.
  const r = p.resources ? resourcesToObject(p.resources) : {};
  f.cpus = r.cpus !== undefined ? String(r.cpus) : '';
  f.memory = r.memory !== undefined ? String(r.memory) : '';
  f.gpus = r.gpus !== undefined ? String(r.gpus) : '';
  f.time = r.time !== undefined ? String(r.time) : '';
  f.partition = r.partition !== undefined ? String(r.partition) : '';
  f.extraArgs = Array.isArray(r.extra_args) ? joinArgs(r.extra_args as string[]) : '';
  return f;
}

/** The result of validating the form. */
export interface IFormValidation {
  /** The pattern, when valid. */
  pattern?: IPattern;
  /** The plain object handed to the core. */
  object: Record<string, unknown>;
  /** Errors (the pattern cannot be saved). */
  issues: IValidationIssue[];
  /** Messages per form field (`formFieldOf`), errors first. */
  byField: Record<string, string[]>;
  /** Non-blocking remarks (recipe missing, variable not in the recipe, ...). */
  warnings: string[];
  /** The file text to save, when valid. */
  yaml?: string;
}

/** The `trigger` mapping of the chosen kind, as a file would spell it. */
function triggerObject(form: IPatternForm): Record<string, unknown> {
  const trigger: Record<string, unknown> = {};
  switch (form.trigger) {
    case 'path':
      trigger.path = form.path;
      trigger.events = [...form.events];
      // A thesis file's glob is fnmatch (as mig_meow); a native one keeps
      // the option, so a thesis pattern saved as native matches the same files.
      if (form.glob === 'fnmatch' || form.format === 'thesis') {
        trigger.glob = 'fnmatch';
      }
      break;
    case 'port': {
      const v = parseValueText(form.port);
      trigger.port = form.port.trim() === '' ? '' : v.value;
      if (form.host.trim()) {
        trigger.host = form.host.trim();
      }
      if (form.secret !== '') {
        // Kept as typed: the connection's first line must equal it exactly.
        trigger.secret = form.secret;
      }
      if (form.tlsCert.trim() || form.tlsKey.trim()) {
        // One without the other is the core's to report, on its field.
        const tls: Record<string, string> = {};
        if (form.tlsCert.trim()) {
          tls.cert = form.tlsCert.trim();
        }
        if (form.tlsKey.trim()) {
          tls.key = form.tlsKey.trim();
        }
        trigger.tls = tls;
      }
      if (form.maxBytes.trim()) {
        trigger.max_bytes = parseValueText(form.maxBytes).value;
      }
      if (form.maxConnections.trim()) {
        trigger.max_connections = parseValueText(form.maxConnections).value;
      }
      break;
    }
    case 'schedule':
      trigger.schedule = form.schedule;
      if (form.timezone.trim()) {
        trigger.timezone = form.timezone.trim();
      }
      trigger.missed = form.missed;
      break;
    case 'every':
      trigger.every = form.every.trim();
      trigger.missed = form.missed;
      break;
    case 'manual':
      trigger.manual = true;
      if (form.path.trim()) {
        trigger.path = form.path.trim();
      }
      break;
    case 'absent': {
      // Empty fields are left out, so the core says "is missing" with an example.
      const absent: Record<string, unknown> = {};
      if (form.path.trim() !== '') {
        absent.path = form.path;
      }
      if (form.absentFor.trim() !== '') {
        absent.for = form.absentFor.trim();
      }
      trigger.absent = absent;
      break;
    }
  }
  return trigger;
}

/** Build the object the core validates; row-level problems become issues. */
export function formToObject(form: IPatternForm): { object: Record<string, unknown>; issues: IValidationIssue[] } {
  const issues: IValidationIssue[] = [];
  const obj: Record<string, unknown> = {};
  obj.recipe = form.recipe.trim() === '' ? undefined : form.recipe.trim();
  obj.trigger = triggerObject(form);
  if (form.input.trim() !== '') {
    obj.input = form.input.trim();
  }
  const rows = (section: 'parameters' | 'outputs', list: IVariableRow[]) => {
    const out: Record<string, unknown> = {};
    for (const row of list) {
      const name = row.name.trim();
      if (name === '' && row.value.trim() === '') {
        continue;
      }
      if (name === '') {
        issues.push(
          issue(section, `has a value (${row.value}) without a variable name`, 'name the variable or remove the row')
        );
        continue;
      }
      if (name in out) {
        issues.push(issue(`${section}.${name}`, 'is defined twice', 'remove one of the rows'));
        continue;
      }
      const v = parseValueText(row.value);
      if (v.issues.length) {
        issues.push(
          issue(
            `${section}.${name}`,
            `is not a valid YAML value: ${v.issues[0]}`,
            'quote text with special characters, e.g. "a: b"'
          )
        );
        continue;
      }
      out[name] = v.value;
    }
    if (Object.keys(out).length) {
      obj[section] = out;
    }
  };
  rows('parameters', form.parameters);
  rows('outputs', form.outputs);
  const sweep: Record<string, unknown> = {};
  for (const row of form.sweep) {
    const name = row.name.trim();
    if (name === '' && !row.start.trim() && !row.stop.trim() && !row.step.trim()) {
      continue;
    }
    if (name === '') {
      issues.push(issue('sweep', 'has a range without a variable name', 'name the variable or remove the row'));
      continue;
    }
    if (name in sweep) {
      issues.push(issue(`sweep.${name}`, 'is defined twice', 'remove one of the rows'));
      continue;
    }
    const range: Record<string, unknown> = {};
    for (const k of ['start', 'stop', 'step'] as const) {
      const text = row[k].trim();
      if (text !== '') {
        range[k] = parseValueText(text).value;
      }
    }
    sweep[name] = range;
  }
  if (Object.keys(sweep).length) {
    obj.sweep = sweep;
  }
  if (form.executor) {
    obj.executor = form.executor;
  }
  // As a file would say them: numbers and sizes as YAML values (so `4` is
  // a number and `8GB` text), the partition as text, options as a list;
  // the core's parseResources judges them.
  const resources: Record<string, unknown> = {};
  for (const key of ['cpus', 'memory', 'gpus', 'time'] as const) {
    if (form[key].trim() !== '') {
      resources[key] = parseValueText(form[key]).value;
    }
  }
  if (form.partition.trim() !== '') {
    resources.partition = form.partition.trim();
  }
  const args = splitArgs(form.extraArgs);
  if (args.length) {
    resources.extra_args = args;
  }
  if (Object.keys(resources).length) {
    obj.resources = resources;
  }
  return { object: obj, issues };
}

/** A core warning as one line of the form's list: `outputs.outfle: names "outfle", …; did you mean "outfile"?`. */
function warningText(w: IValidationIssue): string {
  const where = w.field === '' || w.field === FILE_FIELD ? '' : `${w.field}: `;
  return `${where}${w.message}${w.fix ? `; ${w.fix}` : ''}`;
}

/**
 * Validate the form with the core. `recipes` (the service's list) adds
 * warnings for a missing recipe and for variables its notebook never assigns;
 * `existing` (pattern names) warns before replacing another pattern.
 */
export function validateForm(
  form: IPatternForm,
  options: { recipes?: readonly IRecipeInfo[]; existing?: readonly string[]; editing?: string } = {}
): IFormValidation {
  const { object, issues: rowIssues } = formToObject(form);
  const name = form.name.trim();
  const result = validatePatternObject(name, object);
  const issues = [...rowIssues, ...result.issues];
  const byField: Record<string, string[]> = {};
  for (const i of issues) {
    const key = formFieldOf(i.field);
    const where = key === 'form' || key === i.field ? '' : ` (${i.field})`;
    (byField[key] ??= []).push(formMessage(key, i, options.recipes) ?? `${i.message}${where}; ${i.fix}`);
  }
  const warnings: string[] = [];
  const out: IFormValidation = { object, issues, byField, warnings };
  if (options.recipes && form.recipe.trim()) {
    const recipe = options.recipes.find(r => r.name === form.recipe.trim());
    if (!recipe) {
      warnings.push(
        `Recipe "${form.recipe.trim()}" does not exist yet: the pattern is saved but does nothing until it is registered.`
      );
    } else {
      // The core's check (as the API and `meow validate` make it), on the
      // names typed so far, even while another field is still invalid.
      const names = (rows: { name: string }[]) =>
        Object.fromEntries(rows.map(r => [r.name.trim(), null]).filter(([n]) => n));
      const draft = {
        recipe: recipe.name,
        input: form.input.trim() || undefined,
        parameters: names(form.parameters),
        outputs: names(form.outputs),
        sweep: names(form.sweep),
        format: 'native' as const
      };
      warnings.push(...recipeVariableWarnings(draft, recipe.variables ?? []).map(warningText));
    }
  }
  if (options.existing && name && name !== options.editing && options.existing.includes(name)) {
    warnings.push(`A pattern named "${name}" already exists; saving replaces it.`);
  }
  if (rowIssues.length === 0 && result.pattern) {
    warnings.push(...result.warnings.map(warningText));
    out.pattern = result.pattern;
    let format = form.format;
    try {
      out.yaml = patternToYaml(result.pattern, format);
    } catch {
      format = 'native';
      out.yaml = patternToYaml(result.pattern, format);
      warnings.push('This pattern cannot be written in the thesis format; it will be saved in the native format.');
    }
  }
  return out;
}

/** Names a recipe's input variable usually has, best first. */
const INPUT_NAMES = [
  'infile',
  'input_file',
  'in_file',
  'inputfile',
  'input',
  'input_path',
  'inpath',
  'filename',
  'file_name',
  'file',
  'path'
];

/**
 * The recipe variable most likely to receive the triggering file's path:
 * a usual input name (`infile`, `input_file`, `input`, `filename`, ...),
 * else the first name that speaks of an input, a file or a path. Only the
 * names are known here (not the values), so nothing else is guessed.
 */
export function likelyInputVariable(variables: readonly string[]): string | undefined {
  const lower = variables.map(v => v.toLowerCase());
  for (const name of INPUT_NAMES) {
    const i = lower.indexOf(name);
    if (i >= 0) {
      return variables[i];
    }
  }
  const inputLike = /^in(put)?(_|$)|^in[A-Z]|file|path/i;
  const outputLike = /^out|output|result|dest/i;
  return variables.find(v => inputLike.test(v) && !outputLike.test(v));
}

/**
 * A new pattern's form: `initial` (e.g. the recipe of "+ Pattern") and,
 * when a recipe is given but no input, its likely input variable.
 */
export function newForm(initial: Partial<IPatternForm> = {}, recipes: readonly IRecipeInfo[] = []): IPatternForm {
  const form = { ...emptyForm(), ...initial };
  if (form.recipe && initial.input === undefined) {
    const recipe = recipes.find(r => r.name === form.recipe);
    form.input = likelyInputVariable(recipe?.variables ?? []) ?? '';
  }
  return form;
}
