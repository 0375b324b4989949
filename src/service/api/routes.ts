/**
 * The API's routes (`src/core/api.ts`, described in `schema/openapi.yaml`):
 * what each method of each path does. The transport (`transport.ts`) has
 * already matched the path, checked the method and read the body.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type {
  IJobDetail,
  IPausedResult,
  IResumeResult,
  IServiceEvent,
  IServiceSettings,
  ISettingsResult,
  IStatus
} from '../../core/api';
import { validateServiceSettings } from '../../core/api';
import { isFinalStatus } from '../../core/jobs';
import { provenanceGraph } from '../../core/provenance';
import type { RuleLimits } from '../jobs/limits';
import { ManualTrigger } from '../triggers/manual';
import type { ILogger } from '../log';
import { MeowRunner } from '../runner';
import type { SettingsFile } from '../settings';
import type { Definitions } from './definitions';
import { ApiError } from './errors';
import type { JobIndex } from './jobIndex';
import { parseJobQuery, parseNoParams, parsePatternWrite, parseProvenanceFilter, parseRecipeWrite } from './query';
import type { IRequest, IRoute } from './transport';
import { escapeText } from './transport';

/**
 * The runner's runaway limits (`runner.limits`, a RuleLimits), as the API
 * uses them. Only its type is imported, and the runner is asked for it at
 * run time, so the API builds and answers (nothing paused) without it.
 */
export type IRunnerLimits = Pick<RuleLimits, 'paused' | 'resume' | 'changed'>;

export function runnerLimits(runner: MeowRunner): IRunnerLimits | undefined {
  const limits = (runner as unknown as { limits?: Partial<IRunnerLimits> }).limits;
  return limits && typeof limits.paused === 'function' && typeof limits.resume === 'function'
    ? (limits as IRunnerLimits)
    : undefined;
}

/** What the routes need from the server. */
export interface IRouteContext {
  readonly runner: MeowRunner;
  readonly definitions: Definitions;
  readonly settingsFile: SettingsFile;
  readonly log: ILogger;
  /** The job index (exists once the server is ready; routes other than status wait for that). */
  index(): JobIndex;
  status(): IStatus;
  /** Settings as saved in settings.yaml. */
  saved: IServiceSettings;
  broadcast(event: IServiceEvent): void;
}

/** Every route of the API. */
export function makeRoutes(ctx: IRouteContext): IRoute[] {
  const name = '([^/]+)';
  const route = (
    template: string,
    pattern: string,
    methods: IRoute['methods'],
    bodies: IRoute['bodies'] = []
  ): IRoute => ({
    template,
    pattern: new RegExp(`^${pattern}$`),
    methods,
    bodies
  });
  const noParams = (req: IRequest) => {
    const issues = parseNoParams(req.query);
    if (issues.length) {
      throw ApiError.invalid('unknown query parameter', issues);
    }
  };
  const defs = ctx.definitions;
  const runner = ctx.runner;
  return [
    route('/api/status', '/api/status', {
      GET: req => (noParams(req), { body: ctx.status() })
    }),
    route('/api/patterns', '/api/patterns', {
      GET: async req => (noParams(req), { body: { patterns: await defs.listPatterns() } })
    }),
    route(
      '/api/patterns/{name}',
      `/api/patterns/${name}`,
      {
        GET: async req => (noParams(req), { body: await defs.getPattern(req.params[0]) }),
        PUT: async req => {
          noParams(req);
          const parsed = parsePatternWrite(await req.body());
          if (!parsed.value) {
            throw ApiError.invalid('the request body is not a pattern write', parsed.issues);
          }
          const { info, created } = await defs.putPattern(req.params[0], parsed.value.text);
          return { status: created ? 201 : 200, body: info };
        },
        DELETE: async req => {
          noParams(req);
          await defs.deletePattern(req.params[0]);
          return { status: 204, body: undefined };
        }
      },
      ['PUT']
    ),
    route(
      '/api/patterns/{name}/check',
      `/api/patterns/${name}/check`,
      {
        POST: async req => {
          noParams(req);
          const parsed = parsePatternWrite(await req.body());
          if (!parsed.value) {
            throw ApiError.invalid('the request body is not a pattern write', parsed.issues);
          }
          return { body: await defs.checkPattern(req.params[0], parsed.value.text) };
        }
      },
      ['POST']
    ),
    route('/api/patterns/{name}/resume', `/api/patterns/${name}/resume`, {
      POST: async req => {
        noParams(req);
        // 400 for a bad name, 404 for no such pattern.
        await defs.getPattern(req.params[0]);
        const limits = runnerLimits(runner);
        const result: IResumeResult = { resumed: limits ? await limits.resume(req.params[0]) : false };
        return { body: result };
      }
    }),
    route(
      '/api/patterns/{name}/run',
      `/api/patterns/${name}/run`,
      {
        POST: async req => {
          // 400 for a bad name, 404 for no such pattern file.
          await defs.getPattern(req.params[0]);
          const request = await runRequest(req);
          try {
            const result = await runner.runPattern(req.params[0], request);
            return { status: result.jobs.length ? 201 : 202, body: result };
          } catch (err) {
            throw runError(err);
          }
        }
      },
      ['POST']
    ),
    route('/api/patterns/{name}/waiting', `/api/patterns/${name}/waiting`, {
      GET: async req => {
        noParams(req);
        try {
          return { body: await runner.waitingFiles(req.params[0]) };
        } catch (err) {
          throw runError(err);
        }
      }
    }),
    route('/api/paused', '/api/paused', {
      GET: req => {
        noParams(req);
        const result: IPausedResult = { paused: runnerLimits(runner)?.paused() ?? [] };
        return { body: result };
      }
    }),
    route('/api/recipes', '/api/recipes', {
      GET: async req => (noParams(req), { body: { recipes: await defs.listRecipes() } })
    }),
    route(
      '/api/recipes/{name}',
      `/api/recipes/${name}`,
      {
        GET: async req => (noParams(req), { body: await defs.getRecipe(req.params[0]) }),
        PUT: async req => {
          noParams(req);
          const parsed = parseRecipeWrite(await req.body());
          if (!parsed.value) {
            throw ApiError.invalid('the request body is not a recipe write', parsed.issues);
          }
          const { notebook, source, overwrite } = parsed.value;
          const { info, created } = await defs.putRecipe(req.params[0], notebook, { source, overwrite });
          return { status: created ? 201 : 200, body: info };
        },
        DELETE: async req => {
          noParams(req);
          await defs.deleteRecipe(req.params[0]);
          return { status: 204, body: undefined };
        }
      },
      ['PUT']
    ),
    route('/api/rules', '/api/rules', {
      GET: req => (noParams(req), { body: { rules: defs.rules() } })
    }),
    route('/api/jobs', '/api/jobs', {
      GET: req => {
        const parsed = parseJobQuery(req.query);
        if (!parsed.value) {
          throw ApiError.invalid('bad job query', parsed.issues);
        }
        return { body: ctx.index().query(parsed.value) };
      }
    }),
    route('/api/jobs/{id}', `/api/jobs/${name}`, {
      GET: async req => {
        noParams(req);
        return { body: await jobDetail(ctx, req.params[0]) };
      }
    }),
    route('/api/jobs/{id}/cancel', `/api/jobs/${name}/cancel`, {
      POST: async req => {
        noParams(req);
        const job = findJob(ctx, req.params[0]);
        if (isFinalStatus(job.status)) {
          throw ApiError.conflict(
            `job ${job.id} is ${job.status}; only queued or running jobs can be cancelled`,
            'nothing to do; use rerun to run a finished job again'
          );
        }
        return { body: { job: await runner.cancel(job.id) } };
      }
    }),
    route('/api/jobs/{id}/rerun', `/api/jobs/${name}/rerun`, {
      POST: async req => {
        noParams(req);
        checkJobId(req.params[0]);
        try {
          return { status: 201, body: { job: await runner.rerun(req.params[0]) } };
        } catch (err) {
          if (err instanceof MeowRunner.ActionError) {
            throw err.code === 'not-found'
              ? ApiError.notFound(err.message, err.fix)
              : ApiError.conflict(err.message, err.fix);
          }
          throw err;
        }
      }
    }),
    route('/api/provenance', '/api/provenance', {
      GET: req => {
        const parsed = parseProvenanceFilter(req.query);
        if (!parsed.value) {
          throw ApiError.invalid('bad provenance filter', parsed.issues);
        }
        return { body: provenanceGraph(runner.store.list(), parsed.value) };
      }
    }),
    route(
      '/api/settings',
      '/api/settings',
      {
        GET: req => (noParams(req), { body: settingsResult(ctx) }),
        PUT: async req => {
          noParams(req);
          const { settings, issues } = validateServiceSettings(await req.body());
          if (issues.length) {
            throw ApiError.invalid('bad settings', issues);
          }
          const next: IServiceSettings = { ...settingsResult(ctx).settings, ...settings };
          await ctx.settingsFile.save(next);
          ctx.saved = next;
          runner.configure({ workers: next.workers, timeoutMs: next.timeoutSeconds * 1000 });
          ctx.log.info(
            `settings: ${next.workers} worker(s), settle ${next.settleMs} ms, timeout ${next.timeoutSeconds} s (${path.relative(runner.root, ctx.settingsFile.path)})`
          );
          ctx.broadcast({ type: 'status', status: ctx.status() });
          return { body: settingsResult(ctx) };
        }
      },
      ['PUT']
    )
  ];
}

function settingsResult(ctx: IRouteContext): ISettingsResult {
  const live = ctx.runner.settings;
  const settings: IServiceSettings = {
    workers: live.workers,
    settleMs: ctx.saved.settleMs,
    timeoutSeconds: live.timeoutMs / 1000
  };
  return { settings, restartRequired: ctx.saved.settleMs !== live.settleMs ? ['settleMs'] : [] };
}

const JOB_ID_CHARS = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * Job ids name folders of the state folder: refuse anything that is not a
 * plain file name (no "/", no leading ".", no control characters) before
 * it is looked up, even though lookups go through the job index.
 */
function checkJobId(id: string): void {
  if (!JOB_ID_CHARS.test(id) || id.length > 200) {
    const shown = escapeText(id.slice(0, 200));
    throw ApiError.invalid(`"${shown}" is not a job id`, [
      {
        field: '(path)',
        message: `job id "${shown}" has characters other than letters, digits, "_", "-" and "." or starts with "."`,
        fix: 'list jobs with GET /api/jobs and use one of their ids'
      }
    ]);
  }
}

function findJob(ctx: IRouteContext, id: string) {
  checkJobId(id);
  const job = ctx.index().get(id);
  if (!job) {
    throw ApiError.notFound(`no job ${id}`, 'list jobs with GET /api/jobs and use one of their ids');
  }
  return job;
}

async function jobDetail(ctx: IRouteContext, id: string): Promise<IJobDetail> {
  const job = findJob(ctx, id);
  const { root, store } = ctx.runner;
  const folder = path.relative(root, store.jobDir(id)).split(path.sep).join('/');
  const detail: IJobDetail = { job, children: ctx.index().children(id), folder };
  const result = store.filePath(id, 'result');
  if (
    await fs.access(result).then(
      () => true,
      () => false
    )
  ) {
    detail.result = path.relative(root, result).split(path.sep).join('/');
  }
  return detail;
}

/**
 * The body of POST /api/patterns/{name}/run: JSON `{path}` names a workgroup
 * file; any other Content-Type is an upload (`?filename=` keeps its name);
 * nothing runs on nothing.
 */
async function runRequest(req: IRequest): Promise<ManualTrigger.IRequest> {
  const type = (req.contentType ?? '').split(';')[0].trim().toLowerCase();
  const unknown = [...req.query.keys()].filter(k => k !== 'filename');
  if (unknown.length) {
    throw ApiError.invalid('unknown query parameter', [
      {
        field: `(query ${unknown[0]})`,
        message: 'is not a parameter of this route',
        fix: 'use only ?filename=NAME (for uploads)'
      }
    ]);
  }
  const raw = req.raw?.();
  if (type === 'application/json' || (type === '' && raw && raw.bytes.length && raw.bytes[0] === 0x7b)) {
    const body = (await req.body()) as { path?: unknown } | undefined;
    if (body === undefined) {
      return {};
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).some(k => k !== 'path')) {
      throw ApiError.invalid('the run request is not {"path": "..."}', [
        {
          field: '(body)',
          message: 'must be an object with only "path"',
          fix: 'send {"path": "start/data.csv"}, upload a file, or send nothing'
        }
      ]);
    }
    if (body.path !== undefined && (typeof body.path !== 'string' || !body.path)) {
      throw ApiError.invalid('"path" must be a non-empty string', [
        {
          field: 'path',
          message: 'is not a non-empty string',
          fix: 'give a workgroup-relative path, e.g. review/x.png'
        }
      ]);
    }
    return body.path === undefined ? {} : { path: body.path as string };
  }
  if (!raw || (!raw.bytes.length && !raw.tooLarge)) {
    return {};
  }
  if (raw.tooLarge) {
    throw new ApiError(413, 'the uploaded file is too large for the API', [
      {
        field: '(body)',
        message: 'is larger than the API accepts',
        fix: 'send large files over a network trigger (meow send) or copy them into the workgroup and run on the path'
      }
    ]);
  }
  const filename = req.query.get('filename') ?? undefined;
  return { upload: { bytes: raw.bytes, filename } };
}

/** A refused run as an API error (anything else is rethrown). */
function runError(err: unknown): unknown {
  if (err instanceof ManualTrigger.RunError) {
    if (err.code === 'not-found') {
      return ApiError.notFound(err.message, err.fix);
    }
    return err.code === 'conflict'
      ? ApiError.conflict(err.message, err.fix)
      : ApiError.invalid(err.message, [{ field: 'path', message: err.message, fix: err.fix }]);
  }
  return err;
}
