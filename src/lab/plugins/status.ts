/** meow's JupyterLab plugin: the status-bar item: service state and job counts. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { CommandIDs, IMeow } from '../tokens';
import { MeowStatusItem } from '../widgets/statusItem';

/** Queued / running / failed counts and service state in the status bar. */
export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:status',
  description: 'Shows the meow service state and job counts in the status bar.',
  autoStart: true,
  requires: [IMeow],
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, meow: IMeow, statusBar: IStatusBar | null) => {
    if (!statusBar) {
      return;
    }
    const item = new MeowStatusItem(meow, () => void app.commands.execute(CommandIDs.openMonitor));
    statusBar.registerStatusItem('jupyterlab-meow:status', { item, align: 'left', rank: 4 });
  }
};
