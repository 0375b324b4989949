/** meow's JupyterLab plugin: the provenance Report panel. */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { meowIcon } from '../icons';
import { CommandIDs, IMeow, COMMAND_CATEGORY as CATEGORY } from '../tokens';
import { ReportPanel } from '../widgets/reportPanel';

/** The provenance Report panel. */
export const reportPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:report',
  description: 'The MEOW Report panel: the provenance graph of jobs and files.',
  autoStart: true,
  requires: [IMeow],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (app: JupyterFrontEnd, meow: IMeow, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
    const tracker = new WidgetTracker<MainAreaWidget<ReportPanel>>({ namespace: 'meow-report' });
    let widget: MainAreaWidget<ReportPanel> | null = null;
    app.commands.addCommand(CommandIDs.openReport, {
      label: 'Open MEOW Report',
      execute: () => {
        if (!widget || widget.isDisposed) {
          widget = new MainAreaWidget({ content: new ReportPanel(meow, app.commands) });
          widget.id = 'jp-meow-report';
          widget.title.label = 'MEOW Report';
          widget.title.icon = meowIcon;
          widget.title.closable = true;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    restorer?.restore(tracker, { command: CommandIDs.openReport, name: () => 'meow-report' });
    palette?.addItem({ command: CommandIDs.openReport, category: CATEGORY });
  }
};
