/**
 * The shared `IMeow` implementation: one client, the live models, the UI
 * settings, and the mapping from workgroup paths to Jupyter contents paths.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import type { IStatus } from '../core/api';
import { MeowClient } from './client';
import { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel } from './models';
import { DEFAULT_SETTINGS, IMeow, IMeowSettings } from './tokens';

/**
 * Where the workgroup lies inside the Jupyter root: `''` when they are the
 * same (the default). `serverRoot` may be written with `~` for the home.
 */
export function workgroupPrefix(workgroup: string | undefined, serverRoot: string | undefined): string {
  if (!workgroup || !serverRoot) {
    return '';
  }
  const wg = workgroup.replace(/\\/g, '/').replace(/\/+$/, '');
  let root = serverRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  if (root.startsWith('~')) {
    // `~/x` → find `/x` in the workgroup after some home folder.
    root = root.slice(1);
    const i = root === '' ? -1 : wg.indexOf(root + '/');
    if (root !== '' && wg.endsWith(root)) {
      return '';
    }
    return i >= 0 ? wg.slice(i + root.length + 1) : '';
  }
  if (wg === root) {
    return '';
  }
  return wg.startsWith(root + '/') ? wg.slice(root.length + 1) : '';
}

export class Meow implements IMeow {
  constructor(serverSettings: ServerConnection.ISettings) {
    this.client = new MeowClient({ serverSettings });
    this.jobs = new JobsModel({
      client: this.client,
      pageSize: this._settings.pageSize,
      maxJobs: this._settings.maxJobs
    });
    this.workflow = new WorkflowModel({ client: this.client });
    this.status = new StatusModel({ client: this.client });
    this.paused = new PausedModel({ client: this.client });
    this.manual = new ManualModel({ client: this.client });
  }

  readonly client: MeowClient;
  readonly jobs: JobsModel;
  readonly workflow: WorkflowModel;
  readonly status: StatusModel;
  readonly paused: PausedModel;
  readonly manual: ManualModel;

  get settings(): IMeowSettings {
    return this._settings;
  }

  get settingsChanged(): ISignal<IMeow, IMeowSettings> {
    return this._settingsChanged;
  }

  updateSettings(settings: Partial<IMeowSettings>): void {
    this._settings = { ...DEFAULT_SETTINGS, ...settings };
    this._settingsChanged.emit(this._settings);
  }

  contentsPath(workgroupPath: string): string {
    const status = this.status.status as (IStatus & { contentsRoot?: string }) | null;
    const prefix =
      this._settings.workgroupPath ||
      status?.contentsRoot ||
      workgroupPrefix(status?.workgroup, PageConfig.getOption('serverRoot'));
    const rel = workgroupPath.replace(/^\/+/, '');
    return prefix ? `${prefix.replace(/\/+$/, '')}/${rel}` : rel;
  }

  /** Connect the websocket and load everything. */
  start(): void {
    this.client.connect();
    void this.status.refresh().then(() => {
      if (!this.status.up) {
        this.status.startPolling();
      }
    });
    this.workflow.refresh().catch(err => console.warn('meow: cannot load patterns and recipes', err));
    this.jobs.refresh().catch(err => console.warn('meow: cannot load jobs', err));
    void this.paused.refresh();
    // After the service comes back, load what was missed.
    this.status.changed.connect(() => {
      if (this.status.up && !this._wasUp) {
        if (!this.workflow.loaded || this.workflow.error) {
          this.workflow.scheduleRefresh();
        }
        if (this.jobs.size === 0) {
          this.jobs.refresh().catch(() => undefined);
        }
        if (!this.paused.loaded) {
          void this.paused.refresh();
        }
      }
      this._wasUp = this.status.up;
    });
  }

  dispose(): void {
    this.jobs.dispose();
    this.workflow.dispose();
    this.status.dispose();
    this.paused.dispose();
    this.manual.dispose();
    this.client.dispose();
  }

  private _settings: IMeowSettings = { ...DEFAULT_SETTINGS };
  private _wasUp = false;
  private _settingsChanged = new Signal<IMeow, IMeowSettings>(this);
}
