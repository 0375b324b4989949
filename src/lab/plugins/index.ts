/**
 * The JupyterLab plugins of meow, one file each: the shared service
 * connection, the status bar item, "Register notebook as recipe", the
 * Workflow, Monitor and Report panels, read-only job results, and the
 * Launcher section with the MEOW menu.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { corePlugin } from './core';
import { launcherPlugin } from './launcher';
import { monitorPlugin } from './monitor';
import { notificationsPlugin } from './notifications';
import { registerPlugin } from './register';
import { reportPlugin } from './report';
import { resultsPlugin } from './results';
import { statusPlugin } from './status';
import { workflowPlugin } from './workflow';

export {
  corePlugin,
  launcherPlugin,
  monitorPlugin,
  registerPlugin,
  reportPlugin,
  resultsPlugin,
  statusPlugin,
  workflowPlugin
};

export const plugins: JupyterFrontEndPlugin<any>[] = [
  corePlugin,
  statusPlugin,
  registerPlugin,
  workflowPlugin,
  monitorPlugin,
  reportPlugin,
  resultsPlugin,
  launcherPlugin,
  notificationsPlugin
];
