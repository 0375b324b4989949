/**
 * meow's JupyterLab plugin: a MEOW section in the Launcher (Workflow,
 * Monitor, Report, New pattern). The MEOW main-menu entry is declared in
 * this plugin's settings schema (`schema/launcher.json`, "jupyter.lab.menus"),
 * JupyterLab 4's way of adding menus, and runs the same command.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILauncher } from '@jupyterlab/launcher';
import { LabIcon, addIcon, listIcon, treeViewIcon } from '@jupyterlab/ui-components';

import { meowIcon } from '../icons';
import { CommandIDs, COMMAND_CATEGORY as CATEGORY } from '../tokens';

/** The command behind every launcher card and menu item: `{ panel: <key of LAUNCH_ITEMS> }`. */
export const LAUNCH_COMMAND = 'meow:launch';

/** One launcher card / menu item. */
export interface ILaunchItem {
  label: string;
  caption: string;
  icon: LabIcon;
  /** The command it runs. */
  command: string;
}

/** The launcher cards, in order. */
export const LAUNCH_ITEMS: Record<string, ILaunchItem> = {
  workflow: {
    label: 'Workflow',
    caption: 'Patterns, recipes and how they connect (left sidebar)',
    icon: meowIcon,
    command: CommandIDs.openWorkflow
  },
  monitor: {
    label: 'Monitor',
    caption: 'Jobs as they run: status, details, cancel and rerun',
    icon: listIcon,
    command: CommandIDs.openMonitor
  },
  report: {
    label: 'Report',
    caption: 'The provenance graph of jobs and the files they read and wrote',
    icon: treeViewIcon,
    command: CommandIDs.openReport
  },
  'new-pattern': {
    label: 'New Pattern',
    caption: 'Create a pattern: which files trigger which recipe',
    icon: addIcon,
    command: CommandIDs.newPattern
  }
};

const item = (args: { panel?: unknown }): ILaunchItem | undefined => LAUNCH_ITEMS[String(args?.panel)];

/** The MEOW section of the Launcher and the command of the MEOW menu. */
export const launcherPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:launcher',
  description: 'A MEOW section in the Launcher and a MEOW menu: Workflow, Monitor, Report, New pattern.',
  autoStart: true,
  optional: [ILauncher],
  activate: (app: JupyterFrontEnd, launcher: ILauncher | null) => {
    app.commands.addCommand(LAUNCH_COMMAND, {
      label: args => item(args)?.label ?? 'MEOW',
      caption: args => item(args)?.caption ?? '',
      icon: args => item(args)?.icon ?? meowIcon,
      isEnabled: args => item(args) !== undefined && app.commands.hasCommand(item(args)!.command),
      execute: args => {
        const target = item(args);
        return target ? app.commands.execute(target.command) : undefined;
      }
    });
    Object.keys(LAUNCH_ITEMS).forEach((panel, rank) => {
      launcher?.add({ command: LAUNCH_COMMAND, args: { panel }, category: CATEGORY, rank });
    });
  }
};
