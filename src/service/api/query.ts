/**
 * Parsing and validation of API requests: query strings and JSON bodies.
 * Every problem becomes an issue naming the parameter (or body field) and
 * the fix; nothing here throws for bad input.
 */
import type { IJobQuery, IPatternWrite, IProvenanceFilter, IRecipeWrite } from '../../core/api';
import { DEFAULT_JOB_LIMIT, MAX_JOB_LIMIT } from '../../core/api';
import { JOB_STATUSES } from '../../core/jobs';
import type { JobStatus } from '../../core/types';
import type { IValidationIssue } from '../../core/validation';

/** Query parameters every route ignores (auth tokens, cache busting). */
const IGNORED_PARAMS = new Set(['token', '_']);

export interface IParsed<T> {
  value?: T;
  issues: IValidationIssue[];
}

function unknownParams(params: URLSearchParams, allowed: readonly string[]): IValidationIssue[] {
  const issues: IValidationIssue[] = [];
  for (const key of new Set(params.keys())) {
    // A bare number is the cache-buster Jupyter's request helper appends.
    const cacheBuster = /^\d+$/.test(key) && params.get(key) === '';
    if (!allowed.includes(key) && !IGNORED_PARAMS.has(key) && !cacheBuster) {
      issues.push({
        field: key,
        message: 'is not a parameter of this route',
        fix: allowed.length
          ? `remove it; parameters are ${allowed.join(', ')}`
          : 'remove it; this route takes no parameters'
      });
    }
  }
  return issues;
}

/** The one value of a parameter; repeating a single-valued one is an issue. */
function single(params: URLSearchParams, key: string, issues: IValidationIssue[]): string | undefined {
  const all = params.getAll(key);
  if (all.length > 1) {
    issues.push({ field: key, message: `is given ${all.length} times`, fix: `give ${key} once` });
  }
  return all.length ? all[0] : undefined;
}

function time(params: URLSearchParams, key: string, issues: IValidationIssue[]): string | undefined {
  const raw = single(params, key, issues);
  if (raw === undefined || raw === '') {
    return undefined;
  }
  const t = Date.parse(raw);
  if (Number.isNaN(t)) {
    issues.push({
      field: key,
      message: `is not a date/time (got "${raw}")`,
      fix: `use ISO 8601, e.g. ${key}=2026-11-22T10:00:00Z`
    });
    return undefined;
  }
  return new Date(t).toISOString();
}

function integer(
  params: URLSearchParams,
  key: string,
  min: number,
  max: number,
  issues: IValidationIssue[]
): number | undefined {
  const raw = single(params, key, issues);
  if (raw === undefined || raw === '') {
    return undefined;
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    issues.push({
      field: key,
      message: `must be a whole number from ${min} to ${max} (got "${raw}")`,
      fix: `e.g. ${key}=${min}`
    });
    return undefined;
  }
  return n;
}

function text(params: URLSearchParams, key: string, issues: IValidationIssue[]): string | undefined {
  const raw = single(params, key, issues);
  return raw === undefined || raw === '' ? undefined : raw;
}

export const JOB_QUERY_PARAMS = ['status', 'pattern', 'recipe', 'after', 'before', 'text', 'offset', 'limit'] as const;

/**
 * GET /api/jobs query: `status` (comma-separated and/or repeated),
 * `pattern`, `recipe`, `after`, `before` (ISO times, inclusive), `text`,
 * `offset` (default 0), `limit` (default 100, at most 1000).
 */
export function parseJobQuery(params: URLSearchParams): IParsed<IJobQuery> {
  const issues = unknownParams(params, JOB_QUERY_PARAMS);
  const q: IJobQuery = {};
  const statuses = params
    .getAll('status')
    .flatMap(s => s.split(','))
    .map(s => s.trim())
    .filter(Boolean);
  for (const s of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(s)) {
      issues.push({
        field: 'status',
        message: `"${s}" is not a job status`,
        fix: `use one or more of ${JOB_STATUSES.join(', ')}, e.g. status=failed,cancelled`
      });
    }
  }
  if (statuses.length) {
    q.status = [...new Set(statuses)] as JobStatus[];
  }
  const pattern = text(params, 'pattern', issues);
  const recipe = text(params, 'recipe', issues);
  const search = text(params, 'text', issues);
  const after = time(params, 'after', issues);
  const before = time(params, 'before', issues);
  if (after && before && Date.parse(after) > Date.parse(before)) {
    issues.push({
      field: 'after',
      message: `(${after}) is later than before (${before}), so no job can match`,
      fix: 'swap the two times'
    });
  }
  q.offset = integer(params, 'offset', 0, Number.MAX_SAFE_INTEGER, issues) ?? 0;
  q.limit = integer(params, 'limit', 1, MAX_JOB_LIMIT, issues) ?? DEFAULT_JOB_LIMIT;
  Object.assign(
    q,
    Object.fromEntries(
      Object.entries({ pattern, recipe, text: search, after, before }).filter(([, v]) => v !== undefined)
    )
  );
  return issues.length ? { issues } : { value: q, issues };
}

export const PROVENANCE_PARAMS = ['job', 'path', 'pattern', 'recipe', 'before', 'after'] as const;

/** GET /api/provenance query: the report's six filters. */
export function parseProvenanceFilter(params: URLSearchParams): IParsed<IProvenanceFilter> {
  const issues = unknownParams(params, PROVENANCE_PARAMS);
  const filter: IProvenanceFilter = {};
  for (const key of ['job', 'path', 'pattern', 'recipe'] as const) {
    const v = text(params, key, issues);
    if (v !== undefined) {
      filter[key] = v;
    }
  }
  for (const key of ['before', 'after'] as const) {
    const v = time(params, key, issues);
    if (v !== undefined) {
      filter[key] = v;
    }
  }
  return issues.length ? { issues } : { value: filter, issues };
}

/** A route that takes no query parameters. */
export function parseNoParams(params: URLSearchParams): IValidationIssue[] {
  return unknownParams(params, []);
}

function bodyIssue(message: string, fix: string, field = '(body)'): IValidationIssue {
  return { field, message, fix };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PUT /api/patterns/{name} body: `{ "text": "<YAML of the pattern file>" }`. */
export function parsePatternWrite(body: unknown): IParsed<IPatternWrite> {
  if (!isObject(body)) {
    return { issues: [bodyIssue('must be a JSON object', 'send {"text": "<the pattern file as YAML>"}')] };
  }
  const issues: IValidationIssue[] = [];
  for (const key of Object.keys(body)) {
    if (key !== 'text') {
      issues.push(bodyIssue('is not a field of a pattern write', 'send only "text"', key));
    }
  }
  if (typeof body.text !== 'string') {
    issues.push(
      bodyIssue(
        'must be the YAML text of the pattern file',
        'e.g. "recipe: append\\ntrigger:\\n  path: start/*\\n"',
        'text'
      )
    );
  }
  return issues.length ? { issues } : { value: { text: body.text as string }, issues };
}

/** PUT /api/recipes/{name} body: `{ notebook, source?, overwrite? }`. */
export function parseRecipeWrite(body: unknown): IParsed<IRecipeWrite> {
  if (!isObject(body)) {
    return {
      issues: [bodyIssue('must be a JSON object', 'send {"notebook": {...nbformat 4...}, "source": "path.ipynb"}')]
    };
  }
  const issues: IValidationIssue[] = [];
  for (const key of Object.keys(body)) {
    if (!['notebook', 'source', 'overwrite'].includes(key)) {
      issues.push(bodyIssue('is not a field of a recipe write', 'send only notebook, source and overwrite', key));
    }
  }
  if (!isObject(body.notebook)) {
    issues.push(
      bodyIssue(
        'must be the notebook JSON (nbformat 4)',
        'send the content of the .ipynb file as an object',
        'notebook'
      )
    );
  }
  if (body.source !== undefined && typeof body.source !== 'string') {
    issues.push(
      bodyIssue('must be a string', 'send the workgroup-relative path of the notebook, or leave it out', 'source')
    );
  }
  if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean') {
    issues.push(
      bodyIssue('must be true or false', 'send "overwrite": true to replace an existing recipe', 'overwrite')
    );
  }
  if (issues.length) {
    return { issues };
  }
  const value: IRecipeWrite = { notebook: body.notebook };
  if (body.source !== undefined) {
    value.source = body.source as string;
  }
  if (body.overwrite !== undefined) {
    value.overwrite = body.overwrite as boolean;
  }
  return { value, issues };
}
