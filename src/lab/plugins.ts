/**
 * The JupyterLab plugins of meow: the shared service connection, the status
 * bar item, "Register notebook as recipe", and the Workflow, Monitor and
 * Report panels.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  WidgetTracker,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate } from '@lumino/disposable';

import { isFinalStatus } from '../core/jobs';
import { meowIcon } from './icons';
import { Meow } from './meow';
import { defaultRecipeName, recipeNameProblem, registerRecipe } from './register';
import { CommandIDs, IMeow, IMeowSettings } from './tokens';
import { MonitorPanel } from './widgets/monitorPanel';
import { ReportPanel } from './widgets/reportPanel';
import { MeowStatusItem } from './widgets/statusItem';
import { WorkflowPanel } from './widgets/workflowPanel';

const CATEGORY = 'MEOW';

/** The service connection and live models (`IMeow`), with the UI settings. */
export const corePlugin: JupyterFrontEndPlugin<IMeow> = {
  id: 'jupyterlab-meow:plugin',
  description: 'MEOW: notebooks as recipes, patterns as triggers, jobs as data arrives.',
  autoStart: true,
  provides: IMeow,
  optional: [ISettingRegistry],
  activate: (app: JupyterFrontEnd, registry: ISettingRegistry | null): IMeow => {
    const meow = new Meow(app.serviceManager.serverSettings);
    const apply = (settings: ISettingRegistry.ISettings) => {
      meow.updateSettings(settings.composite as unknown as Partial<IMeowSettings>);
    };
    if (registry) {
      registry
        .load(corePlugin.id)
        .then(settings => {
          apply(settings);
          meow.jobs.setFilter({ status: meow.settings.defaultStatusFilter });
          settings.changed.connect(apply);
        })
        .catch(err => console.warn('meow: cannot load settings', err));
    }
    meow.start();
    return meow;
  }
};

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
      icon: args => (args?.toolbar ? meowIcon : undefined),
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
      void meow.workflow.refresh().catch(() => undefined);
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

/** The Workflow panel in the left sidebar. */
export const workflowPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:workflow',
  description: 'The MEOW Workflow panel: patterns, recipes and their graph.',
  autoStart: true,
  requires: [IMeow],
  optional: [ILabShell, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    meow: IMeow,
    _labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const panel = new WorkflowPanel(meow, { commands: app.commands });
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

    // Result notebooks open while their job runs are reloaded as cells finish.
    const following = new Map<string, IDocumentWidget>();
    meow.jobs.changed.connect((_, change) => {
      if (!meow.settings.followRunningResults || following.size === 0) {
        return;
      }
      const ids = change.type === 'reset' ? [...following.keys()] : change.ids.filter(id => following.has(id));
      for (const id of ids) {
        const w = following.get(id)!;
        const job = meow.jobs.get(id);
        if (w.isDisposed) {
          following.delete(id);
          continue;
        }
        if (!w.context.model.dirty) {
          void w.context.revert().catch(() => undefined);
        }
        if (!job || isFinalStatus(job.status)) {
          following.delete(id);
        }
      }
    });

    commands.addCommand(CommandIDs.openResult, {
      label: 'Open MEOW Job Result',
      execute: async args => {
        const id = String(args.id);
        try {
          const detail = await meow.client.getJob(id);
          const path = meow.contentsPath(detail.result ?? `${detail.folder}/result.ipynb`);
          const w = (await commands.execute('docmanager:open', { path, factory: 'Notebook' })) as IDocumentWidget | undefined;
          if (w && !isFinalStatus(detail.job.status)) {
            following.set(id, w);
          }
        } catch (err) {
          await showErrorMessage('Cannot open the result notebook', err as Error);
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

export const plugins: JupyterFrontEndPlugin<any>[] = [
  corePlugin,
  statusPlugin,
  registerPlugin,
  workflowPlugin,
  monitorPlugin,
  reportPlugin
];
