/**
 * Tokens and interfaces shared by the meow plugins.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import type { JobStatus } from '../core/types';
import type { MeowClient } from './client';
import type { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel } from './models';

/** User-interface settings (`schema/plugin.json`). */
export interface IMeowSettings {
  /** Seconds between refreshes of relative times ("3 min ago") and running durations. */
  relativeTimeRefresh: number;
  /** Statuses the Monitor shows when opened (empty = all). */
  defaultStatusFilter: JobStatus[];
  /** Jobs fetched per request when loading the job list. */
  pageSize: number;
  /** Most jobs kept in the browser; older ones are dropped from the Monitor. */
  maxJobs: number;
  /** Workgroup folder relative to the Jupyter root, when the service cannot tell (normally empty). */
  workgroupPath: string;
  /** Reload an open result notebook while its job runs. */
  followRunningResults: boolean;
}

export const DEFAULT_SETTINGS: IMeowSettings = {
  relativeTimeRefresh: 30,
  defaultStatusFilter: [],
  pageSize: 1000,
  maxJobs: 100000,
  workgroupPath: '',
  followRunningResults: true
};

/** The service connection and the live models, shared by every meow view. */
export interface IMeow {
  readonly client: MeowClient;
  readonly jobs: JobsModel;
  readonly workflow: WorkflowModel;
  readonly status: StatusModel;
  /** Rules paused by a runaway limit. */
  readonly paused: PausedModel;
  /** Running patterns by hand, and files waiting for a person's approval. */
  readonly manual: ManualModel;
  readonly settings: IMeowSettings;
  readonly settingsChanged: ISignal<IMeow, IMeowSettings>;
  /**
   * A workgroup-relative path as a path of the Jupyter contents API (what
   * the file browser and `docmanager:open` take).
   */
  contentsPath(workgroupPath: string): string;
}

export const IMeow = new Token<IMeow>(
  'jupyterlab-meow:IMeow',
  'The meow service client and the live job, workflow and status models.'
);

/** Command ids. */
export namespace CommandIDs {
  export const registerRecipe = 'meow:register-recipe';
  export const openWorkflow = 'meow:open-workflow';
  export const newPattern = 'meow:new-pattern';
  export const openMonitor = 'meow:open-monitor';
  export const showJob = 'meow:show-job';
  export const cancelJob = 'meow:cancel-job';
  export const rerunJob = 'meow:rerun-job';
  export const openResult = 'meow:open-result';
  export const revealJob = 'meow:reveal-job';
  export const openReport = 'meow:open-report';
}

/** The command palette category of meow's commands. */
export const COMMAND_CATEGORY = 'MEOW';
