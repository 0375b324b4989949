/**
 * The one place where jobs are created (M9). Every trigger — a file event,
 * retroactive matching, and later timers, network messages, manual runs and
 * reruns — goes through `JobFactory.create`, so ids, parameters, sweeps and
 * the job folder are made the same way for all of them.
 */
import { randomBytes } from 'crypto';
import { substituteKeywords } from '../../core/keywords';
import { makeJobId } from '../../core/jobs';
import { parameteriseNotebook } from '../../core/parameterise';
import { sweepParameters } from '../../core/sweep';
import type { IJob, IJobTrigger, IRule, ParameterValue } from '../../core/types';
import { toAbsolute } from '../fsutil';
import type { JobStore } from './jobStore';

export class JobFactory {
  constructor(options: JobFactory.IOptions) {
    this._root = options.root;
    this._store = options.store;
    this._now = options.now ?? Date.now;
  }

  /**
   * Create the jobs one rule match stands for: one per sweep combination
   * (cartesian product), each with its own folder, id and parameters.
   */
  async create(
    rule: IRule,
    trigger: IJobTrigger,
    extra: { parent?: string; rerunOf?: string } = {}
  ): Promise<IJob[]> {
    const pattern = rule.pattern;
    // Ids and records are made synchronously, so ids follow call order even
    // when several rules create jobs at once; the folders are then written
    // in parallel (each write is fsynced, which dominates the cost).
    const made = sweepParameters(pattern.sweep).map(combination => {
      const created = this._now();
      const id = makeJobId(created, ++this._seq, randomBytes(2).toString('hex'));
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
      const { notebook } = parameteriseNotebook(rule.recipe.notebook, parameters);
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
        created: new Date(created).toISOString()
      };
      if (extra.parent) {
        job.parent = extra.parent;
      }
      if (extra.rerunOf) {
        job.rerunOf = extra.rerunOf;
      }
      return { job, notebook };
    });
    await Promise.all(
      made.map(({ job, notebook }) =>
        this._store.create(job, { recipe: rule.recipe.notebook, notebook })
      )
    );
    return made.map(({ job }) => this._store.get(job.id)!);
  }

  private readonly _root: string;
  private readonly _store: JobStore;
  private readonly _now: () => number;
  private _seq = 0;
}

export namespace JobFactory {
  export interface IOptions {
    /** Absolute workgroup root. */
    root: string;
    store: JobStore;
    now?: () => number;
  }
}
