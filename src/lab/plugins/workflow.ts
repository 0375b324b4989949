/** meow's JupyterLab plugin: the Workflow panel in the left sidebar. */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { CommandIDs, IMeow, COMMAND_CATEGORY as CATEGORY } from '../tokens';
import { WorkflowPanel } from '../widgets/workflowPanel';

/** The Workflow panel in the left sidebar. */
export const workflowPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:workflow',
  description: 'The MEOW Workflow panel: patterns, recipes and their graph.',
  autoStart: true,
  requires: [IMeow],
  optional: [ILabShell, ILayoutRestorer, ICommandPalette, IEditorServices],
  activate: (
    app: JupyterFrontEnd,
    meow: IMeow,
    _labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    editorServices: IEditorServices | null
  ) => {
    const panel = new WorkflowPanel(meow, { commands: app.commands, editorServices: editorServices ?? undefined });
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'jp-meow-workflow');
    app.commands.addCommand(CommandIDs.openWorkflow, {
      label: 'Open MEOW Workflow',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.newPattern, {
      label: 'New MEOW Pattern',
      execute: args => {
        app.shell.activateById(panel.id);
        panel.editPattern(
          typeof args?.name === 'string' ? args.name : undefined,
          typeof args?.recipe === 'string' ? { recipe: args.recipe } : undefined
        );
      }
    });
    palette?.addItem({ command: CommandIDs.openWorkflow, category: CATEGORY });
    palette?.addItem({ command: CommandIDs.newPattern, category: CATEGORY });
  }
};
