/**
 * The JupyterLab plugins of meow, one file each: the shared service
 * connection, the status bar item, "Register notebook as recipe", and the
 * Workflow, Monitor and Report panels.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { corePlugin } from './core';
import { monitorPlugin } from './monitor';
import { notificationsPlugin } from './notifications';
import { registerPlugin } from './register';
import { reportPlugin } from './report';
import { statusPlugin } from './status';
import { workflowPlugin } from './workflow';

export { corePlugin, monitorPlugin, registerPlugin, reportPlugin, statusPlugin, workflowPlugin };

export const plugins: JupyterFrontEndPlugin<any>[] = [
  corePlugin,
  statusPlugin,
  registerPlugin,
  workflowPlugin,
  monitorPlugin,
  reportPlugin,
  notificationsPlugin
];
