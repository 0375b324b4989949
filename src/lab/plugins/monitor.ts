/** meow's JupyterLab plugin: the Monitor panel and the job commands (result notebooks: `results.ts`). */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker, showErrorMessage } from '@jupyterlab/apputils';
import { isFinalStatus } from '../../core/jobs';
import { meowIcon } from '../icons';
import { CommandIDs, IMeow, COMMAND_CATEGORY as CATEGORY } from '../tokens';
import { MonitorPanel } from '../widgets/monitorPanel';

/** The Monitor panel and the job actions. */
export const monitorPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:monitor',
  description: 'The MEOW Monitor panel: live jobs, details and actions.',
  autoStart: true,
  requires: [IMeow],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (app: JupyterFrontEnd, meow: IMeow, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
    const { commands, shell } = app;
    const tracker = new WidgetTracker<MainAreaWidget<MonitorPanel>>({ namespace: 'meow-monitor' });
    let widget: MainAreaWidget<MonitorPanel> | null = null;

    const openMonitor = (): MainAreaWidget<MonitorPanel> => {
      if (!widget || widget.isDisposed) {
        const content = new MonitorPanel(meow, commands);
        widget = new MainAreaWidget({ content });
        widget.id = 'jp-meow-monitor';
        widget.title.label = 'MEOW Monitor';
        widget.title.icon = meowIcon;
        widget.title.closable = true;
        void tracker.add(widget);
      }
      if (!widget.isAttached) {
        shell.add(widget, 'main');
      }
      shell.activateById(widget.id);
      return widget;
    };

    commands.addCommand(CommandIDs.openMonitor, { label: 'Open MEOW Monitor', execute: () => openMonitor() });
    commands.addCommand(CommandIDs.showJob, {
      label: 'Show MEOW Job',
      execute: args => openMonitor().content.showJob(String(args.id))
    });
    commands.addCommand(CommandIDs.cancelJob, {
      label: 'Cancel MEOW Job',
      isEnabled: args => {
        const job = meow.jobs.get(String(args?.id));
        return !job || !isFinalStatus(job.status);
      },
      execute: async args => {
        try {
          meow.jobs.upsert(await meow.client.cancelJob(String(args.id)));
        } catch (err) {
          await showErrorMessage('Cannot cancel the job', err as Error);
        }
      }
    });
    commands.addCommand(CommandIDs.rerunJob, {
      label: 'Rerun MEOW Job',
      execute: async args => {
        try {
          const job = await meow.client.rerunJob(String(args.id));
          meow.jobs.upsert(job);
          openMonitor().content.showJob(job.id);
          Notification.info(`Job ${job.id} queued (rerun of ${args.id}).`, { autoClose: 4000 });
        } catch (err) {
          await showErrorMessage('Cannot rerun the job', err as Error);
        }
      }
    });

    commands.addCommand(CommandIDs.revealJob, {
      label: 'Show MEOW Job Folder',
      execute: async args => {
        try {
          const detail = await meow.client.getJob(String(args.id));
          await commands.execute('filebrowser:go-to-path', { path: meow.contentsPath(detail.folder) });
        } catch (err) {
          await showErrorMessage('Cannot show the job folder', err as Error);
        }
      }
    });

    restorer?.restore(tracker, { command: CommandIDs.openMonitor, name: () => 'meow-monitor' });
    for (const command of [CommandIDs.openMonitor]) {
      palette?.addItem({ command, category: CATEGORY });
    }
  }
};
