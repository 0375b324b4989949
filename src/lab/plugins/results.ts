/**
 * meow's JupyterLab plugin: job result notebooks, opened read-only and
 * without a kernel, titled with pattern and short job id, reloaded while
 * their job runs, with "Copy to workspace to edit".
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { InputDialog, Notification, showErrorMessage } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookWidgetFactory, NotebookWidgetFactory } from '@jupyterlab/notebook';
import { ToolbarButton, copyIcon } from '@jupyterlab/ui-components';

import { shortJobId } from '../../core/jobs';
import { RESULT_FACTORY, ResultCommandIDs, ResultViews, ResultWidgetFactory, copyResult } from '../results';
import { CommandIDs, IMeow } from '../tokens';

/** Result notebooks of jobs: open read-only, follow, copy to edit. */
export const resultsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-meow:results',
  description: 'Opens MEOW job results read-only and without a kernel; "Copy to workspace" makes an editable copy.',
  autoStart: true,
  requires: [IMeow, IDocumentManager, INotebookWidgetFactory],
  activate: (
    app: JupyterFrontEnd,
    meow: IMeow,
    docManager: IDocumentManager,
    notebooks: NotebookWidgetFactory.IFactory
  ) => {
    const { commands, serviceManager } = app;
    // The token's interface hides what the factory is: the Lab's NotebookWidgetFactory.
    app.docRegistry.addWidgetFactory(new ResultWidgetFactory({ base: notebooks as NotebookWidgetFactory }));
    const views = new ResultViews({ jobs: meow.jobs, follow: () => meow.settings.followRunningResults });

    const resultPath = async (id: string) => {
      const detail = await meow.client.getJob(id);
      return { detail, path: meow.contentsPath(detail.result ?? `${detail.folder}/result.ipynb`) };
    };

    commands.addCommand(CommandIDs.openResult, {
      label: 'Open MEOW Job Result',
      caption: "Open the job's executed notebook, read-only and without a kernel",
      execute: async args => {
        const id = String(args.id);
        try {
          const { detail, path } = await resultPath(id);
          // Fails with the server's message when the notebook is not there (yet).
          await serviceManager.contents.get(path, { content: false });
          const widget = docManager.openOrReveal(path, RESULT_FACTORY);
          if (!widget) {
            throw new Error(`No viewer for ${path}`);
          }
          if (views.jobId(widget) === undefined) {
            views.add(id, widget, detail.job);
            const copy = new ToolbarButton({
              icon: copyIcon,
              label: 'Copy to workspace to edit',
              tooltip: 'Copy this result into the workgroup as an ordinary notebook and open the copy',
              onClick: () => void commands.execute(ResultCommandIDs.copy, { id })
            });
            copy.node.setAttribute('data-testid', 'meow-result-copy');
            widget.toolbar.addItem('meowCopyResult', copy);
          }
          return widget;
        } catch (err) {
          await showErrorMessage('Cannot open the result notebook', err as Error);
        }
      }
    });

    commands.addCommand(ResultCommandIDs.copy, {
      label: 'Copy MEOW Job Result to Workspace',
      caption: 'Copy the result notebook into the workgroup as an ordinary, editable notebook',
      icon: copyIcon,
      execute: async args => {
        const id = String(args.id);
        try {
          const { detail, path } = await resultPath(id);
          const rel = await copyResult({
            contents: serviceManager.contents,
            from: path,
            id,
            job: detail.job,
            patterns: meow.workflow.patterns,
            contentsPath: p => meow.contentsPath(p),
            ask: async (proposal, problem) => {
              const answer = await InputDialog.getText({
                title: 'Copy result to workspace',
                label: `${problem} Copy to (relative to the workgroup):`,
                text: proposal,
                okLabel: 'Copy'
              });
              return answer.button.accept ? answer.value : null;
            }
          });
          if (rel === null) {
            return;
          }
          docManager.openOrReveal(meow.contentsPath(rel));
          Notification.success(`Copied the result of job ${shortJobId(id)} to ${rel}; the copy is yours to edit.`, {
            autoClose: 5000
          });
        } catch (err) {
          await showErrorMessage('Cannot copy the result notebook', err as Error);
        }
      }
    });
  }
};
