/** meow's JupyterLab plugin: "Register notebook as recipe": command, notebook toolbar button, file-browser menu. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate } from '@lumino/disposable';
import { meowIcon } from '../icons';
import { defaultRecipeName, recipeNameProblem, registerRecipe } from '../register';
import { CommandIDs, IMeow, COMMAND_CATEGORY as CATEGORY } from '../tokens';

/** "Register notebook as recipe": command, notebook toolbar button, file-browser menu. */
export const registerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:register',
  description: 'Registers a notebook as a MEOW recipe.',
  autoStart: true,
  requires: [IMeow],
  optional: [INotebookTracker, IDefaultFileBrowser, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    meow: IMeow,
    notebooks: INotebookTracker | null,
    browser: IDefaultFileBrowser | null,
    palette: ICommandPalette | null
  ) => {
    const { commands, serviceManager } = app;

    const targetPath = (args: any): string | null => {
      if (typeof args?.path === 'string') {
        return args.path;
      }
      if (args?.fromBrowser && browser) {
        for (const item of browser.selectedItems()) {
          if (item.path.endsWith('.ipynb')) {
            return item.path;
          }
        }
      }
      return notebooks?.currentWidget?.context.path ?? null;
    };

    commands.addCommand(CommandIDs.registerRecipe, {
      label: args => (args?.fromBrowser ? 'Register as MEOW Recipe' : 'Register Notebook as MEOW Recipe'),
      caption: 'Register this notebook as a MEOW recipe (a frozen copy patterns can run)',
      icon: meowIcon,
      isEnabled: args => targetPath(args) !== null,
      execute: async args => {
        const path = targetPath(args);
        if (!path) {
          return;
        }
        try {
          await registerWithDialogs(path);
        } catch (err) {
          await showErrorMessage('Could not register the recipe', err as Error);
        }
      }
    });

    async function registerWithDialogs(path: string): Promise<void> {
      const open = notebooks?.find(w => w.context.path === path) ?? null;
      let note = '';
      if (open && open.context.model.dirty) {
        const answer = await showDialog({
          title: 'Unsaved changes',
          body: `${path} has unsaved changes. Save them and register the saved notebook, or register the version last saved on disk?`,
          buttons: [
            Dialog.cancelButton(),
            Dialog.okButton({ label: 'Register last saved', displayType: 'default', actions: ['last-saved'] }),
            Dialog.okButton({ label: 'Save and register' })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        if (answer.button.actions.includes('last-saved')) {
          note = ' (the last saved version; your unsaved changes are not part of it)';
        } else {
          await open.context.save();
        }
      }
      const file = await serviceManager.contents.get(path, { type: 'notebook', content: true });
      const saved = file.last_modified ? new Date(file.last_modified).toLocaleString() : 'unknown time';

      let name = defaultRecipeName(path);
      for (;;) {
        const exists = meow.workflow.recipe(name) ? ' A recipe with this name exists and would be replaced.' : '';
        const result = await InputDialog.getText({
          title: 'Register notebook as recipe',
          label: `Recipe name for ${path}.${exists}`,
          text: name,
          okLabel: 'Register'
        });
        if (!result.button.accept || result.value === null) {
          return;
        }
        name = result.value.trim();
        const problem = recipeNameProblem(name);
        if (!problem) {
          break;
        }
        await showErrorMessage('Invalid recipe name', problem);
      }

      const outcome = await registerRecipe({
        client: meow.client,
        path,
        notebook: file.content,
        name,
        confirmOverwrite: async n => {
          const users = meow.workflow.patterns.filter(p => p.pattern?.recipe === n).map(p => p.name);
          const answer = await showDialog({
            title: 'Replace recipe?',
            body:
              `A recipe named "${n}" already exists. Replace it with ${path}?` +
              (users.length ? ` Patterns ${users.join(', ')} will re-run on the existing files.` : ''),
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
          });
          return answer.button.accept;
        }
      });
      if (outcome.status === 'cancelled') {
        return;
      }
      // The service's "definitions" event refreshes the Workflow model.
      const users = meow.workflow.patterns.filter(p => p.pattern?.recipe === name).map(p => p.name);
      Notification.success(
        `${outcome.status === 'replaced' ? 'Replaced' : 'Registered'} recipe "${name}" from ${path}, saved ${saved}${note}. ` +
          (users.length ? `Used by ${users.join(', ')}.` : 'No pattern uses it yet.'),
        {
          autoClose: 8000,
          actions: users.length
            ? []
            : [
                {
                  label: 'New pattern',
                  callback: () => void commands.execute(CommandIDs.newPattern, { recipe: name })
                }
              ]
        }
      );
    }

    // Notebook toolbar button.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: meowIcon,
          label: 'Recipe',
          tooltip: 'Register this notebook as a MEOW recipe',
          onClick: () => void commands.execute(CommandIDs.registerRecipe, { path: panel.context.path })
        });
        button.addClass('jp-meow-registerButton');
        button.node.setAttribute('data-testid', 'meow-register-recipe');
        panel.toolbar.insertItem(10, 'meowRegisterRecipe', button);
        return new DisposableDelegate(() => button.dispose());
      }
    });

    // File browser context menu on notebooks.
    app.contextMenu.addItem({
      command: CommandIDs.registerRecipe,
      args: { fromBrowser: true },
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 60
    });
    palette?.addItem({ command: CommandIDs.registerRecipe, category: CATEGORY });
  }
};
