/**
 * Job result notebooks (src/lab/results.ts, src/lab/plugins/results.ts):
 * names, copies, the live binding to jobs, and the plugin opening a result
 * through JupyterLab's real DocumentManager (with mocked services): no
 * kernel, read-only cells, never dirty, titled with the job, and "Copy to
 * workspace" making an ordinary notebook.
 */
import { DocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { DocumentWidgetOpenerMock } from '@jupyterlab/docregistry/lib/testutils';
import { NotebookModelFactory, NotebookPanel, NotebookWidgetFactory } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { ServiceManagerMock } from '@jupyterlab/services/lib/testutils';
import { Toolbar } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { PromiseDelegate } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';
import * as fs from 'fs';
import * as path from 'path';

import { makeJobId } from '../../src/core/jobs';
import type { IJob } from '../../src/core/types';
import { JobsModel } from '../../src/lab/models';
import { LAUNCH_COMMAND, LAUNCH_ITEMS, launcherPlugin } from '../../src/lab/plugins/launcher';
import { resultsPlugin } from '../../src/lab/plugins/results';
import {
  RESULT_FACTORY,
  ResultCommandIDs,
  ResultViews,
  copyCandidates,
  copyResult,
  resultStatus,
  resultTitle,
  triggeringPatterns
} from '../../src/lab/results';
import { CommandIDs, DEFAULT_SETTINGS } from '../../src/lab/tokens';
import { makeJob } from './fakes';

const ID = makeJobId(Date.UTC(2026, 10, 22, 3, 59, 41, 703), 5, '6d07');
const SHORT = '000005-6d07';

/** A pattern whose file trigger is `glob`. */
const pattern = (name: string, glob: string) =>
  ({
    name,
    file: `.meow/patterns/${name}.yaml`,
    text: '',
    active: true,
    pattern: { trigger: { kind: 'file', path: glob, events: ['created'] } }
  }) as any;

/** Resolve pending promise callbacks (the document manager chains a few). */
const settle = async (until: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !until(); i++) {
    await new Promise(r => setTimeout(r, 5));
  }
  if (!until()) {
    throw new Error(`timed out waiting for ${what}`);
  }
};

describe('result names', () => {
  it('titles a result with its pattern and short job id', () => {
    expect(resultTitle(ID, { pattern: 'Shout' })).toBe(`Shout · ${SHORT}`);
    expect(resultTitle(ID)).toBe(`MEOW job ${SHORT}`);
  });

  it('says read-only and how far the job is', () => {
    expect(resultStatus({ status: 'running', progress: { done: 2, total: 5 } })).toBe(
      'Read-only job result · running (cells 2/5) · updating live'
    );
    expect(resultStatus({ status: 'failed' })).toBe('Read-only job result · failed');
  });

  it('names copies <pattern>-<short id>.ipynb, then -2, -3', () => {
    expect(copyCandidates(ID, { pattern: 'Shout' }, 3)).toEqual([
      `Shout-${SHORT}.ipynb`,
      `Shout-${SHORT}-2.ipynb`,
      `Shout-${SHORT}-3.ipynb`
    ]);
    expect(copyCandidates(ID, { pattern: 'a b/c' }, 1)).toEqual([`a_b_c-${SHORT}.ipynb`]);
  });

  it('finds the patterns a path would trigger', () => {
    const patterns = [pattern('Start', 'start/*'), pattern('Any', '*.ipynb'), pattern('Bad', '[')];
    expect(triggeringPatterns(`Shout-${SHORT}.ipynb`, patterns)).toEqual(['Any']);
    expect(triggeringPatterns('start/x.txt', patterns)).toEqual(['Start']);
    expect(triggeringPatterns('copies/x.ipynb', patterns)).toEqual([]);
  });
});

describe('copyResult', () => {
  const source = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };
  const fakeContents = (files: Record<string, unknown>) =>
    ({
      get: jest.fn(async (path: string, opts?: { content?: boolean }) => {
        if (!(path in files)) {
          throw new Error(`404 ${path}`);
        }
        return { path, content: opts?.content ? files[path] : null };
      }),
      save: jest.fn(async (path: string, model: { content: unknown }) => {
        files[path] = model.content;
        return { path };
      })
    }) as any;
  const options = (
    files: Record<string, unknown>,
    patterns: any[] = [],
    ask = jest.fn(async (_p: string, _problem: string): Promise<string | null> => null)
  ) => ({
    contents: fakeContents(files),
    from: `wg/.meow/jobs/${ID}/result.ipynb`,
    id: ID,
    job: { pattern: 'Shout' },
    patterns,
    contentsPath: (rel: string) => `wg/${rel}`,
    ask
  });

  it('writes the copy at the workgroup root in one step, next free name', async () => {
    const files: Record<string, unknown> = { [`wg/.meow/jobs/${ID}/result.ipynb`]: source };
    const o = options(files);
    expect(await copyResult(o)).toBe(`Shout-${SHORT}.ipynb`);
    expect(files[`wg/Shout-${SHORT}.ipynb`]).toEqual(source);
    expect(o.contents.save).toHaveBeenCalledTimes(1);
    expect(await copyResult(o)).toBe(`Shout-${SHORT}-2.ipynb`);
    expect(o.ask).not.toHaveBeenCalled();
  });

  it('asks for another place where a pattern would trigger, and cancels', async () => {
    const files: Record<string, unknown> = { [`wg/.meow/jobs/${ID}/result.ipynb`]: source };
    const ask = jest.fn(async (_: string, problem: string) =>
      problem.includes('pattern Any') ? 'copies/mine.ipynb' : null
    );
    const o = options(files, [pattern('Any', '*.ipynb')], ask);
    expect(await copyResult(o)).toBe('copies/mine.ipynb');
    expect(ask).toHaveBeenCalledWith(`Shout-${SHORT}.ipynb`, expect.stringContaining('would start jobs'));
    expect(files['wg/copies/mine.ipynb']).toEqual(source);

    const cancelled = options(files, [pattern('Any', '*.ipynb')]);
    expect(await copyResult(cancelled)).toBeNull();
    expect(cancelled.contents.save).not.toHaveBeenCalled();
  });
});

describe('ResultViews', () => {
  const job = (over: Partial<IJob>): IJob => makeJob(5, { id: ID, pattern: 'Shout', ...over });
  const fakeView = () => {
    const revert = jest.fn(() => Promise.resolve());
    return Object.assign(new Widget(), { toolbar: new Toolbar(), context: { revert } });
  };

  it('titles the tab, shows the status and reloads while the job runs, merging bursts', async () => {
    const jobs = new JobsModel();
    const views = new ResultViews({ jobs });
    const view = fakeView();
    jobs.upsert(job({ status: 'running', progress: { done: 0, total: 3 } }));
    views.add(ID, view);
    expect(views.jobId(view)).toBe(ID);
    expect(view.title.label).toBe(`Shout · ${SHORT}`);
    const status = view.toolbar.node.querySelector('[data-testid="meow-result-status"]')!;
    expect(status.textContent).toBe('Read-only job result · running (cells 0/3) · updating live');
    expect(view.context.revert).not.toHaveBeenCalled();

    // A reload in flight: two more updates make one more reload, not two.
    const pending = new PromiseDelegate<void>();
    view.context.revert.mockImplementationOnce(() => pending.promise);
    jobs.upsert(job({ status: 'running', progress: { done: 1, total: 3 } }));
    jobs.upsert(job({ status: 'running', progress: { done: 2, total: 3 } }));
    jobs.upsert(job({ status: 'running', progress: { done: 3, total: 3 } }));
    expect(view.context.revert).toHaveBeenCalledTimes(1);
    expect(status.textContent).toContain('cells 3/3');
    pending.resolve();
    await settle(() => view.context.revert.mock.calls.length === 2, 'the merged reload');

    // Done: one last reload, then no more.
    jobs.upsert(job({ status: 'done' }));
    await settle(() => view.context.revert.mock.calls.length === 3, 'the final reload');
    expect(status.textContent).toBe('Read-only job result · done');
    expect(status.getAttribute('data-meow-job-status')).toBe('done');
    // (A reload starts synchronously, when at all.)
    jobs.upsert(job({ status: 'done' }));
    expect(view.context.revert).toHaveBeenCalledTimes(3);

    // A closed view is forgotten.
    view.dispose();
    expect(views.jobId(view)).toBeUndefined();
    views.dispose();
    jobs.dispose();
  });

  it('does not reload when following is switched off, but keeps the status', () => {
    const jobs = new JobsModel();
    const views = new ResultViews({ jobs, follow: () => false });
    const view = fakeView();
    views.add(ID, view, job({ status: 'running' }));
    jobs.upsert(job({ status: 'failed' }));
    expect(view.context.revert).not.toHaveBeenCalled();
    expect(view.toolbar.node.textContent).toBe('Read-only job result · failed');
    views.dispose();
    jobs.dispose();
  });
});

describe('resultsPlugin', () => {
  const RESULT = `wg/.meow/jobs/${ID}/result.ipynb`;
  const notebook = {
    cells: [
      { cell_type: 'markdown', id: 'm', metadata: {}, source: '# Result' },
      {
        cell_type: 'code',
        id: 'c',
        execution_count: 1,
        metadata: {},
        outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }],
        source: "print('hi')"
      }
    ],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };

  async function setup() {
    const manager = new ServiceManagerMock();
    await manager.contents.save(RESULT, { type: 'notebook', format: 'json', content: notebook });
    const registry = new DocumentRegistry();
    registry.addModelFactory(new NotebookModelFactory({}));
    // As the Lab's notebook extension makes it: it starts kernels.
    const base = new NotebookWidgetFactory({
      name: 'Notebook',
      modelName: 'notebook',
      fileTypes: ['notebook'],
      defaultFor: ['notebook'],
      preferKernel: true,
      canStartKernel: true,
      rendermime: NBTestUtils.defaultRenderMime(),
      contentFactory: NBTestUtils.createNotebookPanelFactory(),
      mimeTypeService: NBTestUtils.mimeTypeService,
      editorConfig: NBTestUtils.defaultEditorConfig
    });
    registry.addWidgetFactory(base);
    const opener = new DocumentWidgetOpenerMock();
    opener.opened.connect((_, w) => Widget.attach(w, document.body));
    const docManager = new DocumentManager({ registry, manager, opener });
    const jobs = new JobsModel();
    jobs.upsert(makeJob(5, { id: ID, pattern: 'Shout', status: 'done' }));
    const meow = {
      jobs,
      settings: { ...DEFAULT_SETTINGS },
      workflow: { patterns: [] },
      contentsPath: (rel: string) => `wg/${rel}`,
      client: {
        getJob: jest.fn(async (id: string) => ({
          job: jobs.get(id),
          children: [],
          folder: `.meow/jobs/${id}`,
          result: `.meow/jobs/${id}/result.ipynb`
        }))
      }
    };
    const app = { commands: new CommandRegistry(), serviceManager: manager, docRegistry: registry };
    resultsPlugin.activate(app as any, meow, docManager, base);
    return { app, manager, docManager };
  }

  it('opens a result read-only, without a kernel, titled with the job, and closes without asking', async () => {
    const { app, manager, docManager } = await setup();
    const widget = (await app.commands.execute(CommandIDs.openResult, { id: ID })) as NotebookPanel;
    await widget.context.ready;
    expect(docManager.contextForWidget(widget)!.path).toBe(RESULT);
    expect(widget.hasClass('jp-meow-ResultPanel')).toBe(true);

    // No kernel started, none can be.
    expect(manager.sessions.startNew).not.toHaveBeenCalled();
    expect(widget.sessionContext.session).toBeNull();
    expect(widget.sessionContext.kernelPreference).toMatchObject({ shouldStart: false, canStart: false });

    // Read-only model and cells; the file's cell metadata is untouched.
    const model = widget.context.model;
    expect(model.readOnly).toBe(true);
    expect(widget.content.widgets.length).toBe(2);
    expect(widget.content.widgets.every(c => c.readOnly)).toBe(true);
    expect(model.cells.get(1).getMetadata('editable')).toBeUndefined();
    expect(model.dirty).toBe(false);
    model.sharedModel.cells[1].setSource('changed');
    expect(model.dirty).toBe(false);

    // The tab names the job; the file keeps its name.
    expect(widget.title.label).toBe(`Shout · ${SHORT}`);
    // (A document widget would call rename at once, from the title's signal.)
    const rename = jest.spyOn(widget.context, 'rename');
    widget.title.label = `Shout · ${SHORT} again`;
    expect(rename).not.toHaveBeenCalled();
    expect(widget.context.path).toBe(RESULT);
    expect(await manager.contents.get(RESULT, { content: false })).toBeTruthy();

    // The toolbar: status and the copy action.
    // (jsdom has no width: the reactive toolbar folds its items into its popup.)
    const item = (testid: string) =>
      widget.toolbar.node.querySelector(`[data-testid="${testid}"]`) ??
      (widget.toolbar as any).popupOpener.popup.node.querySelector(`[data-testid="${testid}"]`);
    expect(item('meow-result-status')?.textContent).toBe('Read-only job result · done');
    expect(item('meow-result-copy')).not.toBeNull();

    // Opening again reveals the same tab.
    expect(await app.commands.execute(CommandIDs.openResult, { id: ID })).toBe(widget);

    // Closing asks nothing.
    widget.close();
    await settle(() => widget.isDisposed, 'the widget to close');
    expect(document.querySelector('.jp-Dialog')).toBeNull();
  });

  it('copies a result to the workgroup and opens the copy as an ordinary notebook', async () => {
    const { app, manager, docManager } = await setup();
    await app.commands.execute(ResultCommandIDs.copy, { id: ID });
    const copy = `wg/Shout-${SHORT}.ipynb`;
    const saved = await manager.contents.get(copy);
    expect((saved.content as any).cells.map((c: any) => c.id)).toEqual(['m', 'c']);
    const widget = docManager.findWidget(copy, 'Notebook') as NotebookPanel;
    expect(widget).toBeDefined();
    await widget.context.ready;
    expect(widget.context.model.readOnly).toBe(false);
    // The ordinary notebook factory does start a kernel: the check above can fail.
    await settle(() => (manager.sessions.startNew as any).mock.calls.length > 0, 'a kernel for the copy');
    expect(docManager.findWidget(RESULT, RESULT_FACTORY)).toBeUndefined();
    widget.dispose();
  });
});

describe('launcherPlugin', () => {
  it('adds Workflow, Monitor, Report and New Pattern to a MEOW launcher section, running their commands', async () => {
    const commands = new CommandRegistry();
    const ran: string[] = [];
    for (const id of [CommandIDs.openWorkflow, CommandIDs.openMonitor, CommandIDs.openReport, CommandIDs.newPattern]) {
      commands.addCommand(id, { execute: () => void ran.push(id) });
    }
    const launcher = { add: jest.fn() };
    launcherPlugin.activate({ commands } as any, launcher);
    const items = launcher.add.mock.calls.map(([item]) => item);
    expect(items.map(i => [i.category, i.command, commands.label(i.command, i.args)])).toEqual([
      ['MEOW', LAUNCH_COMMAND, 'Workflow'],
      ['MEOW', LAUNCH_COMMAND, 'Monitor'],
      ['MEOW', LAUNCH_COMMAND, 'Report'],
      ['MEOW', LAUNCH_COMMAND, 'New Pattern']
    ]);
    expect(items.every(i => commands.icon(i.command, i.args))).toBe(true);
    for (const i of items) {
      // The Launcher adds the current folder to the arguments.
      await commands.execute(i.command, { ...i.args, cwd: '' });
    }
    expect(ran).toEqual([
      CommandIDs.openWorkflow,
      CommandIDs.openMonitor,
      CommandIDs.openReport,
      CommandIDs.newPattern
    ]);
  });

  it('declares a MEOW main menu whose items name existing launch targets', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schema', 'launcher.json'), 'utf-8'));
    const [menu] = schema['jupyter.lab.menus'].main;
    expect(menu.label).toBe('MEOW');
    const launches = menu.items.filter((i: any) => i.command === LAUNCH_COMMAND).map((i: any) => i.args.panel);
    expect(launches).toEqual(Object.keys(LAUNCH_ITEMS));
    expect(menu.items.map((i: any) => i.command).filter(Boolean)).toContain(CommandIDs.registerRecipe);
  });
});
