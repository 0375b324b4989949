/**
 * meow's JupyterLab plugin: a Lab notification when jobs fail, with a button
 * to show them in the Monitor. Each failed job is announced once; jobs that
 * had already failed when the jobs were first loaded are not; failures
 * close together are announced together ("12 jobs failed").
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyJSONValue } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';

import { shortJobId } from '../../core/jobs';
import type { IJob } from '../../core/types';
import type { IJobsChange, JobsModel } from '../models';
import { CommandIDs, IMeow } from '../tokens';

/** Watches the jobs model and hands each batch of new failures to `notify`. */
export class FailureNotifier implements IDisposable {
  constructor(options: FailureNotifier.IOptions) {
    this._jobs = options.jobs;
    this._notify = options.notify;
    this._delay = options.delay ?? 300;
    this._jobs.changed.connect(this._onChanged, this);
    if (this._jobs.loaded) {
      this._onChanged(this._jobs, { type: 'reset', ids: [] }); // loaded before this plugin started
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._jobs.changed.disconnect(this._onChanged, this);
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
  }

  private _onChanged(jobs: JobsModel, change: IJobsChange): void {
    if (change.type === 'update') {
      for (const id of change.ids) {
        this._consider(jobs.get(id));
      }
      return;
    }
    if (!jobs.loaded) {
      return; // a filter set before the first load
    }
    // The first load: failures from before are history, not news. Later
    // reloads (after a reconnect) bring failures missed meanwhile.
    const seeding = !this._seeded;
    this._seeded = true;
    for (const job of jobs.all()) {
      if (job.status === 'failed' && seeding) {
        this._announced.add(job.id);
      } else {
        this._consider(job);
      }
    }
  }

  private _consider(job: IJob | undefined): void {
    if (!job || job.status !== 'failed' || this._announced.has(job.id)) {
      return;
    }
    this._announced.add(job.id);
    this._batch.push(job);
    if (this._timer === null) {
      this._timer = setTimeout(() => {
        this._timer = null;
        const batch = this._batch;
        this._batch = [];
        if (batch.length && !this._disposed) {
          this._notify(batch);
        }
      }, this._delay);
    }
  }

  private _jobs: JobsModel;
  private _notify: (failed: IJob[]) => void;
  private _delay: number;
  private _announced = new Set<string>();
  private _batch: IJob[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _seeded = false;
  private _disposed = false;
}

export namespace FailureNotifier {
  export interface IOptions {
    jobs: JobsModel;
    /** Called with the jobs that failed since the last call (at least one). */
    notify: (failed: IJob[]) => void;
    /** Milliseconds failures are collected into one notification (default 300). */
    delay?: number;
  }
}

/** How long a toast keeps gathering later failures instead of a new toast appearing. */
const MERGE_MS = 10000;

/**
 * Shows batches of failed jobs as Lab notifications: one job with "Show
 * job", several with "Show jobs" (the Monitor filtered to failures). A batch
 * that comes while the last toast is fresh updates it ("12 jobs failed"
 * becomes "30 jobs failed"): a failure storm makes one toast, not dozens.
 */
export function failureToasts(commands: CommandRegistry, meow: IMeow): (failed: IJob[]) => void {
  let last: { id: string; jobs: IJob[]; at: number } | null = null;
  return failed => {
    if (last && Date.now() - last.at < MERGE_MS) {
      const jobs = [...last.jobs, ...failed];
      const { message, options } = toast(commands, meow, jobs);
      if (Notification.update({ id: last.id, message, type: 'error', ...options })) {
        last = { ...last, jobs };
        return;
      }
    }
    const { message, options } = toast(commands, meow, failed);
    last = { id: Notification.error(message, options), jobs: failed, at: Date.now() };
  };
}

function toast(
  commands: CommandRegistry,
  meow: IMeow,
  failed: IJob[]
): { message: string; options: Notification.IOptions<ReadonlyJSONValue> } {
  const autoClose = 15000;
  if (failed.length === 1) {
    const job = failed[0];
    const why = job.error?.message ? `: ${clip(job.error.message, 80)}` : '';
    return {
      message: `Job ${shortJobId(job.id)} of ${job.pattern} failed${why}`,
      options: {
        autoClose,
        actions: [{ label: 'Show job', callback: () => void commands.execute(CommandIDs.showJob, { id: job.id }) }]
      }
    };
  }
  const patterns = [...new Set(failed.map(j => j.pattern))];
  const which =
    patterns.length <= 3 ? patterns.join(', ') : `${patterns.slice(0, 3).join(', ')} and ${patterns.length - 3} more`;
  const showAll = () =>
    void commands.execute(CommandIDs.openMonitor).then(() => meow.jobs.setFilter({ status: ['failed'] }));
  return {
    message: `${failed.length} jobs failed (${which})`,
    options: { autoClose, actions: [{ label: 'Show jobs', callback: showAll }] }
  };
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Failure notifications with "Show job". */
export const notificationsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:notifications',
  description: 'Notifies when MEOW jobs fail, with a button that shows them in the Monitor.',
  autoStart: true,
  requires: [IMeow],
  activate: (app: JupyterFrontEnd, meow: IMeow) => {
    new FailureNotifier({ jobs: meow.jobs, notify: failureToasts(app.commands, meow) });
  }
};
