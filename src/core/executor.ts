/**
 * Where jobs run and what they ask for (issue 8, thesis §29.1): the
 * `executor:` and `resources:` fields of a pattern, the same keys in a
 * recipe notebook's `metadata.meow`, and the executor part of the service
 * settings. Pure: the pattern form and the service use the same checks.
 */
import { formatDuration, parseDuration } from './timers';
import { clipText, isPlainObject } from './pyvalue';
import type { ExecutorKind, IPattern, IRecipe, IResources } from './types';
import { EXECUTOR_KINDS } from './types';
import { IValidationIssue, closest, issue } from './validation';
import { formatSize, parseSize, show, toNumber } from './valueText';

/** Top-level pattern keys for the executor, allowed in both formats. */
export const EXECUTOR_KEYS = ['executor', 'resources'] as const;

/** Keys of `resources:` as written in a file. */
export const RESOURCE_KEYS = ['cpus', 'memory', 'gpus', 'time', 'partition', 'extra_args'] as const;

const MAX_COUNT = 100_000;

/** The executor named by `v`, or an issue at `field`. */
export function parseExecutor(field: string, v: unknown, issues: IValidationIssue[]): ExecutorKind | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v === 'string' && (EXECUTOR_KINDS as readonly string[]).includes(v)) {
    return v as ExecutorKind;
  }
  const guess = typeof v === 'string' ? closest(v, EXECUTOR_KINDS) : undefined;
  issues.push(
    issue(
      field,
      `must be one of ${EXECUTOR_KINDS.join(', ')} (got ${show(v)})`,
      `${guess ? `did you mean "${guess}"? ` : ''}write e.g. "${field}: slurm", or remove it to run on this machine's kernels`
    )
  );
  return undefined;
}

/** `resources:` read from a file; issues name `field.key`. */
export function parseResources(field: string, v: unknown, issues: IValidationIssue[]): IResources | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  if (!isPlainObject(v)) {
    issues.push(issue(field, `must be a mapping (got ${show(v)})`, `e.g. ${field}: {cpus: 4, memory: 8GB, time: 2h}`));
    return undefined;
  }
  const out: IResources = {};
  for (const [key, value] of Object.entries(v)) {
    const at = `${field}.${key}`;
    if (value === undefined || value === null) {
      continue;
    }
    switch (key) {
      case 'cpus':
      case 'gpus': {
        const n = toNumber(value);
        if (typeof value !== 'number' || !Number.isSafeInteger(n) || n < (key === 'cpus' ? 1 : 0) || n > MAX_COUNT) {
          issues.push(
            issue(
              at,
              `must be a whole number ${key === 'cpus' ? '≥ 1' : '≥ 0'} (got ${show(value)})`,
              `e.g. ${key}: ${key === 'cpus' ? 4 : 1}`
            )
          );
        } else {
          out[key] = n;
        }
        break;
      }
      case 'memory': {
        const bytes = parseSize(value);
        if (bytes === undefined) {
          issues.push(issue(at, `must be a size like 500MB, 8GB or 16GiB (got ${show(value)})`, 'e.g. memory: 8GB'));
        } else {
          out.memoryBytes = bytes;
        }
        break;
      }
      case 'time': {
        const ms = parseDuration(value);
        if (ms === undefined) {
          issues.push(issue(at, `must be a duration like 30m, 2h or 1d (got ${show(value)})`, 'e.g. time: 2h'));
        } else {
          out.timeLimitMs = ms;
        }
        break;
      }
      case 'partition':
        if (typeof value !== 'string' || !/^[A-Za-z0-9_.,-]+$/.test(value)) {
          issues.push(
            issue(
              at,
              `must be a partition name (letters, digits, "_", "-", "."; got ${show(value)})`,
              'e.g. partition: gpu'
            )
          );
        } else {
          out.partition = value;
        }
        break;
      case 'extra_args': {
        const list = typeof value === 'string' ? [value] : value;
        if (!Array.isArray(list) || list.some(a => typeof a !== 'string' || !a.startsWith('-') || /[\r\n]/.test(a))) {
          issues.push(
            issue(
              at,
              `must be a list of scheduler options, each starting with "-" and on one line (got ${show(value)})`,
              'e.g. extra_args: ["--qos=high"]'
            )
          );
        } else {
          out.extraArgs = list as string[];
        }
        break;
      }
      default: {
        const guess = closest(key, RESOURCE_KEYS);
        issues.push(
          issue(
            at,
            'is not a resource',
            `${guess ? `did you mean "${guess}"? Otherwise remove it` : 'remove it'}; resources are: ${RESOURCE_KEYS.join(', ')}`
          )
        );
      }
    }
  }
  return out;
}

/**
 * Issues and values of `executor:` and `resources:` in a pattern object (or
 * any mapping holding them; issues name `<prefix>executor`, `<prefix>resources.x`).
 */
export function readExecutorFields(
  obj: Record<string, unknown>,
  prefix = ''
): {
  fields: Pick<IPattern, 'executor' | 'resources'>;
  issues: IValidationIssue[];
} {
  const issues: IValidationIssue[] = [];
  const fields: Pick<IPattern, 'executor' | 'resources'> = {};
  const executor = parseExecutor(`${prefix}executor`, obj.executor, issues);
  const resources = parseResources(`${prefix}resources`, obj.resources, issues);
  if (executor) {
    fields.executor = executor;
  }
  if (resources && Object.keys(resources).length > 0) {
    fields.resources = resources;
  }
  return { fields, issues };
}

/** `resources` as written in a file (the inverse of `parseResources`). */
export function resourcesToObject(r: IResources): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.cpus !== undefined) {
    out.cpus = r.cpus;
  }
  if (r.memoryBytes !== undefined) {
    out.memory = formatSize(r.memoryBytes);
  }
  if (r.gpus !== undefined) {
    out.gpus = r.gpus;
  }
  if (r.timeLimitMs !== undefined) {
    out.time = formatDuration(r.timeLimitMs);
  }
  if (r.partition !== undefined) {
    out.partition = r.partition;
  }
  if (r.extraArgs?.length) {
    out.extra_args = [...r.extraArgs];
  }
  return out;
}

/** `executor` and `resources` of a pattern as written in a file, when set. */
export function executorFieldsToObject(p: Pick<IPattern, 'executor' | 'resources'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.executor) {
    out.executor = p.executor;
  }
  if (p.resources && Object.keys(p.resources).length > 0) {
    out.resources = resourcesToObject(p.resources);
  }
  return out;
}

/** A short text of resources for tables: `4 CPUs, 8GB, 1 GPU, 2h, partition gpu`. */
export function describeResources(r: IResources | undefined): string {
  if (!r) {
    return '';
  }
  const parts: string[] = [];
  if (r.cpus !== undefined) {
    parts.push(`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`);
  }
  if (r.memoryBytes !== undefined) {
    parts.push(formatSize(r.memoryBytes));
  }
  if (r.gpus !== undefined) {
    parts.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
  }
  if (r.timeLimitMs !== undefined) {
    parts.push(formatDuration(r.timeLimitMs));
  }
  if (r.partition) {
    parts.push(`partition ${r.partition}`);
  }
  if (r.extraArgs?.length) {
    parts.push(r.extraArgs.join(' '));
  }
  return parts.join(', ');
}

/**
 * `executor` and `resources` from a recipe notebook's `metadata.meow`, so a
 * recipe that always needs a GPU says so once. Issues name
 * `metadata.meow.<key>`.
 */
export function readRecipeExecution(metadata: unknown): {
  fields: Pick<IRecipe, 'executor' | 'resources'>;
  issues: IValidationIssue[];
} {
  const meow = isPlainObject(metadata) ? metadata.meow : undefined;
  return isPlainObject(meow) ? readExecutorFields(meow, 'metadata.meow.') : { fields: {}, issues: [] };
}

/**
 * Where a job of this pattern and recipe runs and what it asks for: the
 * pattern's choice over the recipe's over the service default; resources
 * merged key by key, the pattern's winning.
 */
export function effectiveExecution(
  pattern: Pick<IPattern, 'executor' | 'resources'>,
  recipe: Pick<IRecipe, 'executor' | 'resources'> | undefined,
  defaultExecutor: ExecutorKind
): { executor: ExecutorKind; resources?: IResources } {
  const executor = pattern.executor ?? recipe?.executor ?? defaultExecutor;
  const merged: IResources = { ...(recipe?.resources ?? {}), ...(pattern.resources ?? {}) };
  return Object.keys(merged).length > 0 ? { executor, resources: merged } : { executor };
}

/** Executor part of `.meow/settings.yaml`. */
export interface IExecutorSettings {
  /** Default executor of patterns and recipes that name none. */
  executor?: ExecutorKind;
  slurm?: ISlurmSettings;
  jupyter?: IRemoteJupyterSettings;
}

export interface ISlurmSettings {
  /** Partition for jobs whose resources name none. */
  partition?: string;
  /** Extra `sbatch` options for every job, e.g. `--account=lab`. */
  sbatchArgs?: string[];
  /** Most meow jobs in Slurm at once (pending or running; default 200). */
  maxJobs?: number;
  /** Most `sbatch` calls per second (default 20). */
  submitPerSecond?: number;
  /** How often Slurm is asked for the state of meow's jobs (default 2 s). */
  pollMs?: number;
}

export interface IRemoteJupyterSettings {
  /** Base URL of a Jupyter Server or Enterprise Gateway. */
  url?: string;
  /** Its token; better given as MEOW_JUPYTER_TOKEN than written here. */
  token?: string;
  /** Jobs run there at once (default: the service's workers). */
  workers?: number;
}

export const DEFAULT_SLURM_MAX_JOBS = 200;
export const DEFAULT_SLURM_SUBMIT_PER_SECOND = 20;
export const DEFAULT_SLURM_POLL_MS = 2000;

/** Keys of settings.yaml read here (the others are `validateServiceSettings`'). */
export const EXECUTOR_SETTINGS_KEYS = ['executor', 'slurm', 'jupyter'] as const;

/** Check the executor part of a settings object; other keys are ignored. */
export function validateExecutorSettings(value: unknown): { settings: IExecutorSettings; issues: IValidationIssue[] } {
  const issues: IValidationIssue[] = [];
  const settings: IExecutorSettings = {};
  if (!isPlainObject(value)) {
    return { settings, issues };
  }
  const executor = parseExecutor('executor', value.executor, issues);
  if (executor) {
    settings.executor = executor;
  }
  const slurm = section(
    value,
    'slurm',
    ['partition', 'sbatch_args', 'max_jobs', 'submit_per_second', 'poll_seconds'],
    issues
  );
  if (slurm) {
    const s: ISlurmSettings = {};
    if (slurm.partition !== undefined) {
      const r = parseResources('slurm', { partition: slurm.partition }, issues);
      s.partition = r?.partition;
    }
    if (slurm.sbatch_args !== undefined) {
      const r = parseResources('slurm', { extra_args: slurm.sbatch_args }, issues);
      s.sbatchArgs = r?.extraArgs;
    }
    s.maxJobs = count('slurm.max_jobs', slurm.max_jobs, 1, 100_000, issues);
    s.submitPerSecond = count('slurm.submit_per_second', slurm.submit_per_second, 1, 1000, issues);
    const poll = slurm.poll_seconds === undefined ? undefined : toNumber(slurm.poll_seconds);
    if (poll !== undefined && !(poll >= 0.2 && poll <= 600)) {
      issues.push(
        issue(
          'slurm.poll_seconds',
          `must be a number from 0.2 to 600 (got ${show(slurm.poll_seconds)})`,
          'e.g. poll_seconds: 2'
        )
      );
    } else if (poll !== undefined) {
      s.pollMs = Math.round(poll * 1000);
    }
    settings.slurm = dropUndefined(s);
  }
  const jupyter = section(value, 'jupyter', ['url', 'token', 'workers'], issues);
  if (jupyter) {
    const j: IRemoteJupyterSettings = {};
    if (jupyter.url !== undefined) {
      if (typeof jupyter.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(jupyter.url)) {
        issues.push(
          issue(
            'jupyter.url',
            `must be an http(s) URL (got ${show(jupyter.url)})`,
            'e.g. url: http://gateway.example.org:8888/'
          )
        );
      } else {
        j.url = jupyter.url;
      }
    }
    if (jupyter.token !== undefined) {
      if (typeof jupyter.token !== 'string') {
        issues.push(
          issue(
            'jupyter.token',
            `must be text (got ${show(jupyter.token)})`,
            'quote the token, or set MEOW_JUPYTER_TOKEN instead'
          )
        );
      } else {
        j.token = jupyter.token;
      }
    }
    j.workers = count('jupyter.workers', jupyter.workers, 1, 1000, issues);
    settings.jupyter = dropUndefined(j);
  }
  return { settings, issues };
}

/** The executor part of settings as written in settings.yaml. */
export function executorSettingsToObject(s: IExecutorSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.executor) {
    out.executor = s.executor;
  }
  if (s.slurm && Object.keys(s.slurm).length > 0) {
    out.slurm = dropUndefined({
      partition: s.slurm.partition,
      sbatch_args: s.slurm.sbatchArgs,
      max_jobs: s.slurm.maxJobs,
      submit_per_second: s.slurm.submitPerSecond,
      poll_seconds: s.slurm.pollMs === undefined ? undefined : s.slurm.pollMs / 1000
    });
  }
  if (s.jupyter && Object.keys(s.jupyter).length > 0) {
    out.jupyter = dropUndefined({ url: s.jupyter.url, token: s.jupyter.token, workers: s.jupyter.workers });
  }
  return out;
}

function section(
  value: Record<string, unknown>,
  key: string,
  keys: string[],
  issues: IValidationIssue[]
): Record<string, unknown> | undefined {
  const v = value[key];
  if (v === undefined || v === null) {
    return undefined;
  }
  if (!isPlainObject(v)) {
    issues.push(
      issue(
        key,
        `must be a mapping (got ${show(v)})`,
        `write "${key}:" followed by indented settings (${keys.join(', ')})`
      )
    );
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) {
      const guess = closest(k, keys);
      issues.push(
        issue(
          `${key}.${k}`,
          `is not a ${key} setting`,
          `${guess ? `did you mean "${guess}"? Otherwise remove it` : 'remove it'}; ${key} settings are: ${keys.join(', ')}`
        )
      );
    }
  }
  return v;
}

function count(field: string, v: unknown, min: number, max: number, issues: IValidationIssue[]): number | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    issues.push(
      issue(
        field,
        `must be a whole number from ${min} to ${max} (got ${clipText(show(v), 40)})`,
        `e.g. ${field.split('.').pop()}: ${min}`
      )
    );
    return undefined;
  }
  return v;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
