/**
 * The one place where jobs are created (M9). Every trigger — a file event,
 * retroactive matching, and later timers, network messages, manual runs and
 * reruns — goes through `JobFactory.create`, so ids, parameters, sweeps,
 * idempotency keys and the job folder are made the same way for all of them.
 */
import { createHash, Hash, randomBytes } from 'crypto';
import { substituteKeywords } from '../../core/keywords';
import { makeJobId } from '../../core/jobs';
import { parameteriseNotebook } from '../../core/parameterise';
import { canonical } from '../../core/pattern';
import { sweepParameters } from '../../core/sweep';
import type { IJob, IJobTrigger, IRule, ParameterValue } from '../../core/types';
import { toAbsolute } from '../fsutil';
import type { JobStore } from './jobStore';
import { typedParameterTexts } from './jobYaml';

export class JobFactory {
  constructor(options: JobFactory.IOptions) {
    this._root = options.root;
    this._store = options.store;
    this._now = options.now ?? Date.now;
  }

  /**
   * Create the jobs one rule match stands for: one per sweep combination
   * (cartesian product), each with its own folder, id and parameters. A
   * combination whose idempotency key was already handled makes no job
   * (counted in `duplicates`), unless this is an explicit rerun.
   */
  async create(rule: IRule, trigger: IJobTrigger, extra: JobFactory.IExtra = {}): Promise<JobFactory.IResult> {
    const pattern = rule.pattern;
    let duplicates = 0;
    // Ids and records are made synchronously, so ids follow call order even
    // when several rules create jobs at once, and a key is taken before any
    // other event can look for it.
    const made: { job: IJob; notebooks: () => JobStore.INotebooks }[] = [];
    for (const combination of sweepParameters(pattern.sweep)) {
      const key = JobFactory.key(rule.contentKey, trigger, combination);
      if (!extra.rerunOf && this.handled(key)) {
        duplicates++;
        continue;
      }
      if (extra.max !== undefined && made.length >= extra.max) {
        break; // the rest waits for a resume (runaway limits)
      }
      const created = this._now();
      const id = makeJobId(created, this._store.nextSeq(), randomSuffix());
      const context = { root: this._root, path: trigger.path, jobId: id };
      const parameters: Record<string, ParameterValue> = {
        ...substituteKeywords(pattern.parameters, context),
        ...substituteKeywords(pattern.outputs, context),
        ...combination
      };
      if (pattern.input) {
        // The recipe gets the absolute path, valid whatever its cwd.
        parameters[pattern.input] = toAbsolute(this._root, trigger.path);
      }
      const job: IJob = {
        id,
        pattern: pattern.name,
        recipe: rule.recipe.name,
        rule: rule.id,
        ruleKey: rule.contentKey,
        status: 'queued',
        trigger,
        parameters,
        filesWritten: [],
        created: new Date(created).toISOString(),
        key,
        attempt: 1,
        depth: extra.depth ?? 1
      };
      const typed = typedParameterTexts(parameters);
      if (typed) {
        job.typedParameters = typed; // the journal and the API are JSON: `1.0`, `{1: 1}` need this
      }
      if (extra.parent) {
        job.parent = extra.parent;
      }
      if (extra.rerunOf) {
        job.rerunOf = extra.rerunOf;
      }
      // Parameterised when its folder is written, off the path from event to job.
      made.push({ job, notebooks: () => JobFactory.notebooks(rule, parameters) });
    }
    if (made.length) {
      await this._store.create(made);
    }
    return { jobs: made.map(({ job }) => this._store.get(job.id)!), duplicates };
  }

  /**
   * Whether a key was handled: a job with it is queued, running, done or
   * failed, or was cancelled by a person. Jobs cancelled because their rule
   * went away (M11) or skipped because their file changed do not count, so
   * the file runs when the rule comes back.
   */
  handled(key: string): boolean {
    return this._store
      .byKey(key)
      .some(j => j.status !== 'skipped' && !(j.status === 'cancelled' && j.cancelledBy === 'rule'));
  }

  /** How many jobs `create` would make for this rule and trigger now (keys not yet handled). */
  fresh(rule: IRule, trigger: IJobTrigger): number {
    let n = 0;
    for (const combination of sweepParameters(rule.pattern.sweep)) {
      if (!this.handled(JobFactory.key(rule.contentKey, trigger, combination))) {
        n++;
      }
    }
    return n;
  }

  private readonly _root: string;
  private readonly _store: JobStore;
  private readonly _now: () => number;
}

/**
 * Four hex digits for a job id, from a pool of random bytes: a call to
 * randomBytes per job cost more than the rest of making its id.
 */
function randomSuffix(): string {
  if (suffixAt + 2 > suffixPool.length) {
    suffixPool = randomBytes(1024);
    suffixAt = 0;
  }
  suffixAt += 2;
  return suffixPool.toString('hex', suffixAt - 2, suffixAt);
}
let suffixPool = Buffer.alloc(0);
let suffixAt = 0;

/** Hash states fed with a rule key, by rule key (see JobFactory.key). */
const keyPrefixes = new Map<string, Hash>();

export namespace JobFactory {
  export interface IOptions {
    /** Absolute workgroup root. */
    root: string;
    store: JobStore;
    now?: () => number;
  }

  export interface IExtra {
    /** The job whose output triggered this one. */
    parent?: string;
    /** For an explicit rerun: the job repeated (skips the idempotency check). */
    rerunOf?: string;
    /** Provenance chain length of the new jobs. */
    depth?: number;
    /** Make at most this many jobs (the rest of the sweep waits). */
    max?: number;
  }

  export interface IResult {
    jobs: IJob[];
    /** Combinations whose key was already handled. */
    duplicates: number;
  }

  /**
   * The idempotency key: rule content, trigger path, what identifies the
   * trigger's content (its hash; for a deletion, the event itself) and the
   * sweep values.
   */
  export function key(ruleKey: string, trigger: IJobTrigger, combination: Record<string, unknown>): string {
    let content = trigger.hash ?? `${trigger.kind}@${trigger.time}`;
    if (trigger.firing) {
      content += `\n${trigger.firing}`; // a person ran it by hand: not "already handled"
    }
    // sha256 of `ruleKey \n path \n content \n values`, the long rule key
    // hashed once per rule (a restart checks every existing file's key).
    let prefix = keyPrefixes.get(ruleKey);
    if (!prefix) {
      if (keyPrefixes.size >= 1000) {
        keyPrefixes.clear();
      }
      prefix = createHash('sha256').update(ruleKey + '\n');
      keyPrefixes.set(ruleKey, prefix);
    }
    return prefix
      .copy()
      .update([trigger.path, content, canonical(combination)].join('\n'))
      .digest('hex')
      .slice(0, 32);
  }

  /** The recipe snapshot and the parameterised notebook of a job. */
  export function notebooks(rule: IRule, parameters: Record<string, ParameterValue>): JobStore.INotebooks {
    const { notebook } = parameteriseNotebook(rule.recipe.notebook, parameters);
    return { recipe: rule.recipe.notebook, notebook };
  }
}
