/**
 * The meow service's HTTP and websocket API, as types shared by the service
 * (which implements it) and the JupyterLab client (which calls it). The
 * OpenAPI description in `schema/openapi.yaml` documents the same shapes.
 *
 * All routes live under the service's base URL, which the frontend reaches
 * through Jupyter's own authentication (jupyter-server-proxy at
 * `<jupyter base>/meow/`). Bodies are JSON; errors are `IApiError`.
 */
import type { IProvenanceFilter, IProvenanceGraph } from './provenance';
import type { IJob, INotebook, IPattern, IPausedRule, JobStatus } from './types';
import type { IValidationIssue } from './validation';

/** API version, bumped on incompatible changes. */
export const API_VERSION = 1;

/**
 * Every error response. `issues` name the offending field (a query
 * parameter, a body field, or a field of a definition) and how to fix it.
 */
export interface IApiError {
  error: string;
  issues?: IValidationIssue[];
}

/** Header the service requires on every request (added by the proxy only). */
export const SECRET_HEADER = 'x-meow-secret';

/** GET /api/status */
export interface IStatus {
  /** `starting` while definitions and jobs load; routes other than status answer 503. */
  state: 'starting' | 'running' | 'stopping';
  version: string;
  apiVersion: number;
  workgroup: string;
  /** Seconds since the service started. */
  uptime: number;
  workers: number;
  counts: Record<JobStatus, number>;
  /** Problems of definition files: workgroup-relative file → message. */
  problems: Record<string, string>;
  settings: IServiceSettings;
}

/** Service settings, stored in `<workgroup>/.meow/settings.yaml`. */
export interface IServiceSettings {
  workers: number;
  settleMs: number;
  /** Whole-job timeout in seconds (0 = none). */
  timeoutSeconds: number;
}

/** Accepted ranges of the service settings (inclusive). */
export const SETTINGS_LIMITS: Record<
  keyof IServiceSettings,
  { min: number; max: number; integer: boolean; help: string }
> = {
  workers: { min: 1, max: 64, integer: true, help: 'jobs run at the same time' },
  settleMs: { min: 0, max: 60000, integer: true, help: 'quiet time per file, in ms, before its event counts' },
  timeoutSeconds: {
    min: 0,
    max: 30 * 24 * 3600,
    integer: false,
    help: 'stop a job running longer than this many seconds (0 = no limit)'
  }
};

/**
 * Check a (partial) settings object, e.g. the body of PUT /api/settings or
 * the content of settings.yaml. Unknown keys and out-of-range values are
 * issues naming the field and the fix. Pure: the form and the service use it.
 */
export function validateServiceSettings(value: unknown): {
  settings: Partial<IServiceSettings>;
  issues: IValidationIssue[];
} {
  const issues: IValidationIssue[] = [];
  const settings: Partial<IServiceSettings> = {};
  if (value === null || value === undefined) {
    return { settings, issues };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({
      field: '(body)',
      message: 'must be a mapping of settings',
      fix: `send an object with some of ${Object.keys(SETTINGS_LIMITS).join(', ')}`
    });
    return { settings, issues };
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const limits = SETTINGS_LIMITS[key as keyof IServiceSettings];
    if (!limits) {
      issues.push({
        field: key,
        message: 'is not a service setting',
        fix: `remove it; settings are ${Object.keys(SETTINGS_LIMITS).join(', ')}`
      });
      continue;
    }
    const kind = limits.integer ? 'whole number' : 'number';
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      (limits.integer && !Number.isInteger(v)) ||
      v < limits.min ||
      v > limits.max
    ) {
      issues.push({
        field: key,
        message: `must be a ${kind} from ${limits.min} to ${limits.max} (${limits.help}); got ${JSON.stringify(v)}`,
        fix: `set ${key} to a ${kind} between ${limits.min} and ${limits.max}`
      });
      continue;
    }
    settings[key as keyof IServiceSettings] = v;
  }
  return { settings, issues };
}

/** PUT /api/settings response: the settings now in force. */
export interface ISettingsResult {
  settings: IServiceSettings;
  /** Settings saved but only used after the service restarts. */
  restartRequired: (keyof IServiceSettings)[];
}

/** A pattern as listed: the definition plus its state. */
export interface IPatternInfo {
  name: string;
  /** Workgroup-relative file it is defined in. */
  file: string;
  pattern?: IPattern;
  /** YAML text of the file (what the form edits). */
  text: string;
  /** True when its recipe exists, i.e. it has a rule. */
  active: boolean;
  problem?: string;
  /**
   * Non-blocking remarks on a valid pattern, each naming its field: outputs
   * outside the workgroup, keywords in the wrong case, variables its recipe
   * does not assign ("did you mean"), ...
   */
  warnings?: IValidationIssue[];
}

/**
 * What saving a pattern would do to jobs (`POST /api/patterns/{name}/check`):
 * `changes` when its work changes (a new rule); then `cancels` unfinished
 * jobs of the old rule are cancelled and `jobs` new jobs run on `files`
 * existing files (work already done with the same content is not repeated).
 */
export interface IPatternSaveEffect {
  changes: boolean;
  jobs: number;
  files: number;
  cancels: number;
  /** Only the first 100,000 matching files were counted. */
  truncated?: boolean;
}

/** `POST /api/patterns/{name}/check` response: validation and the save's effect, nothing written. */
export interface IPatternCheck {
  name: string;
  /** No issues: a PUT of the same text would be accepted. */
  valid: boolean;
  /** Errors (the same a PUT answers 400 with). */
  issues: IValidationIssue[];
  warnings: IValidationIssue[];
  /** What saving it would do, when valid. */
  effect?: IPatternSaveEffect;
}

/** A recipe as listed (the notebook itself is fetched separately). */
export interface IRecipeInfo {
  name: string;
  file: string;
  source?: string;
  digest?: string;
  /** Names of the variables its code assigns at top level. */
  variables: string[];
  /** Patterns naming this recipe. */
  patterns: string[];
  problem?: string;
}

/** GET /api/recipes/{name} response. */
export interface IRecipeDetail extends IRecipeInfo {
  notebook?: INotebook;
}

/** A rule as listed. */
export interface IRuleInfo {
  id: string;
  pattern: string;
  recipe: string;
  /** Identity of the rule's content (equal keys do the same work). */
  contentKey: string;
}

/** GET /api/rules response. */
export interface IRuleList {
  rules: IRuleInfo[];
}

/** GET /api/patterns response. */
export interface IPatternList {
  patterns: IPatternInfo[];
}

/** GET /api/recipes response. */
export interface IRecipeList {
  recipes: IRecipeInfo[];
}

/** Default and largest page size of GET /api/jobs. */
export const DEFAULT_JOB_LIMIT = 100;
export const MAX_JOB_LIMIT = 1000;

/** GET /api/jobs query. */
export interface IJobQuery {
  status?: JobStatus[];
  pattern?: string;
  recipe?: string;
  /** ISO times, inclusive. */
  after?: string;
  before?: string;
  /** Substring searched in id, pattern, recipe, trigger path and error. */
  text?: string;
  /** Paging: newest first. */
  offset?: number;
  limit?: number;
}

/** GET /api/jobs response. */
export interface IJobPage {
  jobs: IJob[];
  total: number;
  offset: number;
  limit: number;
}

/** GET /api/jobs/{id} response: the record plus its neighbours. */
export interface IJobDetail {
  job: IJob;
  children: string[];
  /** Workgroup-relative path of the job folder. */
  folder: string;
  /** Workgroup-relative path of result.ipynb, when it exists. */
  result?: string;
}

/** PUT /api/patterns/{name} body: the YAML text of the pattern file. */
export interface IPatternWrite {
  text: string;
}

/** POST /api/jobs/{id}/cancel and /rerun response (rerun: the new job). */
export interface IJobActionResult {
  job: IJob;
}

/** PUT /api/recipes/{name} body. */
export interface IRecipeWrite {
  /** The notebook JSON (nbformat 4). */
  notebook: unknown;
  /** Workgroup-relative path it was registered from. */
  source?: string;
  /** Refuse to replace an existing recipe unless true. */
  overwrite?: boolean;
}

/** GET /api/provenance query = IProvenanceFilter; response = IProvenanceGraph. */
export type { IProvenanceFilter, IProvenanceGraph };

/**
 * Messages on the websocket /api/events. On connection the service sends a
 * `status` first; then a `job` for every created or changed job, a
 * `definitions` whenever a pattern, recipe or rule may have changed
 * (re-fetch the lists), and a `status` periodically and on settings changes.
 */
export type IServiceEvent =
  { type: 'job'; job: IJob } | { type: 'definitions' } | { type: 'status'; status: IStatus } | IPausedEvent;

/** GET /api/paused response: the patterns a runaway limit has paused. */
export interface IPausedResult {
  paused: IPausedRule[];
}

/** POST /api/patterns/{name}/resume response; false when it was not paused. */
export interface IResumeResult {
  resumed: boolean;
}

/** Websocket event: the set of paused patterns changed (sent in full). */
export interface IPausedEvent {
  type: 'paused';
  paused: IPausedRule[];
}

/**
 * POST /api/patterns/{name}/run ("Run now" / "Approve"): fire a pattern by
 * hand. The body is one of
 *  - JSON `{"path": "review/x.png"}` (Content-Type application/json): a
 *    workgroup file becomes the trigger path (it must exist);
 *  - any other Content-Type: the body is uploaded, stored under
 *    `.meow/incoming/manual/` and becomes the trigger path; `?filename=`
 *    names it (its extension is kept);
 *  - empty: a small file recording who ran it and when is the trigger path.
 * Allowed for every pattern kind (a file pattern needs a path or an upload).
 */
export interface IRunRequest {
  /** Workgroup-relative path of an existing file. */
  path?: string;
}

/** POST /api/patterns/{name}/run response: the jobs made (one per sweep combination). */
export interface IRunResult {
  jobs: IJob[];
  /** Workgroup-relative trigger path the jobs got. */
  path: string;
  /** Why no job was made now, when `jobs` is empty (paused, queue full, made before). */
  note?: string;
}

/**
 * GET /api/patterns/{name}/waiting: for a manual pattern with a `path` glob,
 * the matching files that no job of the pattern has taken yet — what waits
 * for a person to approve (human-in-the-loop). Oldest first.
 */
export interface IWaitingFiles {
  pattern: string;
  files: { path: string; modified: string; size: number }[];
  /** True when there were more than the listed files (the list is capped). */
  truncated: boolean;
}
