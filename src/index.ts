/**
 * The JupyterLab side of meow. The Workflow, Monitor and Report panels are
 * added on top of this plugin; the engine runs in the meow service.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:plugin',
  description: 'MEOW: notebooks as recipes, patterns as triggers, jobs as data arrives.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.debug(`jupyterlab-meow activated in ${app.name}`);
  }
};

export default plugin;
