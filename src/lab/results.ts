/**
 * Job result notebooks, opened safely: a notebook widget factory that never
 * starts a kernel and never edits, marks dirty or saves the job's record;
 * the binding of each open result to its job (tab title, status line, live
 * reload while it runs); and "Copy to workspace", the way to edit one. The
 * plugin (`plugins/results.ts`) wires them to commands.
 */
import type { IDocumentWidget } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel, NotebookWidgetFactory } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import type { Toolbar } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { Title, Widget } from '@lumino/widgets';

import type { IPatternInfo } from '../core/api';
import { GlobSyntax, triggerMatcher } from '../core/glob';
import { isFinalStatus, shortJobId } from '../core/jobs';
import type { IJob } from '../core/types';
import type { IJobsChange } from './models';

/** Name of the read-only widget factory of result notebooks. */
export const RESULT_FACTORY = 'MEOW Result';

/** Commands of this module (the job commands themselves are in `tokens.ts`). */
export namespace ResultCommandIDs {
  export const copy = 'meow:copy-result';
}

/** Tab title of a result: every result file is called `result.ipynb`, so name the job. */
export function resultTitle(id: string, job?: Pick<IJob, 'pattern'>): string {
  return job?.pattern ? `${job.pattern} · ${shortJobId(id)}` : `MEOW job ${shortJobId(id)}`;
}

/** The status line in a result's toolbar: read-only, and how far its job is. */
export function resultStatus(job?: Pick<IJob, 'status' | 'progress'>): string {
  if (!job) {
    return 'Read-only job result';
  }
  const cells =
    job.status === 'running' && job.progress && job.progress.total > 0
      ? ` (cells ${job.progress.done}/${job.progress.total})`
      : '';
  const live = isFinalStatus(job.status) ? '' : ' · updating live';
  return `Read-only job result · ${job.status}${cells}${live}`;
}

/**
 * Workgroup-relative names for a copy, best first: `<pattern>-<short id>.ipynb`
 * at the workgroup root, then `-2`, `-3`, ... for when it is taken.
 */
export function copyCandidates(id: string, job?: Pick<IJob, 'pattern'>, count = 50): string[] {
  const stem = `${(job?.pattern || 'job').replace(/[^\w.-]+/g, '_')}-${shortJobId(id)}`;
  return [`${stem}.ipynb`, ...Array.from({ length: count - 1 }, (_, i) => `${stem}-${i + 2}.ipynb`)];
}

/** Patterns whose trigger glob matches `relPath`: a copy there would start (or await) their jobs. */
export function triggeringPatterns(relPath: string, patterns: readonly IPatternInfo[]): string[] {
  return patterns
    .filter(p => {
      const t = p.pattern?.trigger as { path?: unknown; glob?: GlobSyntax } | undefined;
      try {
        return typeof t?.path === 'string' && t.path !== '' && triggerMatcher({ path: t.path, glob: t.glob })(relPath);
      } catch {
        return false;
      }
    })
    .map(p => p.name);
}

/** Whether a contents path exists. */
async function exists(contents: Contents.IManager, path: string): Promise<boolean> {
  try {
    await contents.get(path, { content: false });
    return true;
  } catch {
    return false;
  }
}

/** What `copyResult` needs. */
export interface ICopyResultOptions {
  contents: Contents.IManager;
  /** Contents path of the result notebook. */
  from: string;
  id: string;
  job?: Pick<IJob, 'pattern'>;
  /** The workflow's patterns: the copy must not land where one of them triggers. */
  patterns: readonly IPatternInfo[];
  /** Workgroup-relative path to contents path (`IMeow.contentsPath`). */
  contentsPath: (rel: string) => string;
  /** Ask for another workgroup-relative path; null cancels. */
  ask: (proposal: string, problem: string) => Promise<string | null>;
}

/**
 * Copy a result notebook into the workgroup, as an ordinary notebook the
 * user may edit. The copy is written in one step (no temporary file next to
 * the job record). Resolves with the copy's workgroup-relative path, or
 * null when the user cancelled.
 */
export async function copyResult(options: ICopyResultOptions): Promise<string | null> {
  const { contents, contentsPath } = options;
  let rel = copyCandidates(options.id, options.job)[0];
  for (const candidate of copyCandidates(options.id, options.job)) {
    if (!(await exists(contents, contentsPath(candidate)))) {
      rel = candidate;
      break;
    }
  }
  for (;;) {
    const fired = triggeringPatterns(rel, options.patterns);
    const problem = !rel.endsWith('.ipynb')
      ? `${rel} is not a notebook name (.ipynb).`
      : fired.length
        ? `${rel} matches the trigger of pattern ${fired.join(', ')}: a copy there would start jobs.`
        : (await exists(contents, contentsPath(rel)))
          ? `${rel} exists.`
          : '';
    if (!problem) {
      break;
    }
    const answer = await options.ask(rel, problem);
    if (answer === null) {
      return null;
    }
    rel = answer.trim().replace(/^\/+/, '');
  }
  const source = await contents.get(options.from, { type: 'notebook', content: true });
  await contents.save(contentsPath(rel), { type: 'notebook', format: 'json', content: source.content });
  return rel;
}

/** Cells made by this factory are read-only in the view only (the file keeps its metadata). */
function readOnlyCell<T extends { syncEditable?: boolean; readOnly: boolean }>(cell: T): T {
  // Off first: with sync on, `readOnly` would write `editable: false` into the model.
  cell.syncEditable = false;
  cell.readOnly = true;
  return cell;
}

/**
 * A notebook widget factory for job results: no kernel is started or can be
 * (so no kernel selection either), the model is read-only (Save refuses,
 * Save All skips it), it never turns dirty (so closing asks nothing), its
 * cells cannot be edited, and it is not offered in "Open With" nor tracked
 * as a notebook (notebook commands such as Run or Delete Cells do not act
 * on it).
 */
export class ResultWidgetFactory extends NotebookWidgetFactory {
  constructor(options: ResultWidgetFactory.IOptions) {
    const { base } = options;
    super({
      name: RESULT_FACTORY,
      label: 'MEOW Result (read-only)',
      modelName: 'notebook',
      fileTypes: [],
      readOnly: true,
      preferKernel: false,
      canStartKernel: false,
      autoStartDefault: false,
      shutdownOnClose: false,
      rendermime: base.rendermime,
      contentFactory: new ResultWidgetFactory.ContentFactory({ editorFactory: base.contentFactory.editorFactory }),
      mimeTypeService: base.mimeTypeService,
      editorConfig: base.editorConfig,
      notebookConfig: base.notebookConfig
    });
    this._base = base;
  }

  protected createNewWidget(
    context: IDocumentWidget<NotebookPanel, INotebookModel>['context'],
    source?: NotebookPanel
  ): NotebookPanel {
    // The user's notebook settings as they are now (they load after start-up).
    this.editorConfig = this._base.editorConfig;
    this.notebookConfig = { ...this._base.notebookConfig, showEditorForReadOnlyMarkdown: false };
    const panel = super.createNewWidget(context, source);
    const model = context.model;
    model.readOnly = true;
    model.stateChanged.connect((m, change) => {
      if (change.name === 'dirty' && change.newValue) {
        m.dirty = false;
      }
    });
    // A document widget renames its file when its tab label changes; a
    // result's tab is labelled with its job instead, and the file stays.
    Signal.disconnectBetween(panel.title, panel);
    panel.addClass('jp-meow-ResultPanel');
    return panel;
  }

  private _base: NotebookWidgetFactory;
}

export namespace ResultWidgetFactory {
  export interface IOptions {
    /** The Lab's notebook factory: rendering, editors and settings are taken from it. */
    base: NotebookWidgetFactory;
  }

  /** Makes every cell read-only as it is created (also when a reload replaces the cells). */
  export class ContentFactory extends NotebookPanel.ContentFactory {
    createCodeCell(options: Parameters<NotebookPanel.ContentFactory['createCodeCell']>[0]) {
      return readOnlyCell(super.createCodeCell(options));
    }
    createMarkdownCell(options: Parameters<NotebookPanel.ContentFactory['createMarkdownCell']>[0]) {
      return readOnlyCell(super.createMarkdownCell(options));
    }
    createRawCell(options: Parameters<NotebookPanel.ContentFactory['createRawCell']>[0]) {
      return readOnlyCell(super.createRawCell(options));
    }
  }
}

/**
 * The open results and their jobs: each result's tab is titled with its
 * pattern and short job id, a status line in its toolbar follows the job,
 * and while the job runs the notebook is reloaded as cells finish.
 */
export class ResultViews implements IDisposable {
  constructor(options: ResultViews.IOptions) {
    this._jobs = options.jobs;
    this._follow = options.follow ?? (() => true);
    this._jobs.changed.connect(this._onJobsChanged, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The job shown by `view`, if it is an open result. */
  jobId(view: ResultViews.IView): string | undefined {
    return this._entries.get(view)?.id;
  }

  /** Bind an opened result to its job (`job`: the record as fetched, if the model lacks it). */
  add(id: string, view: ResultViews.IView, job?: IJob): void {
    if (this._entries.has(view)) {
      return;
    }
    const status = new Widget();
    status.addClass('jp-meow-resultStatus');
    status.node.setAttribute('data-testid', 'meow-result-status');
    view.toolbar.insertItem(0, 'meowResultStatus', status);
    const entry: Private.IEntry = {
      id,
      view,
      status,
      job: undefined,
      fallback: job,
      following: true,
      busy: false,
      again: false
    };
    this._entries.set(view, entry);
    view.disposed.connect(() => this._entries.delete(view));
    this._update(entry, false);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._entries.clear();
    Signal.clearData(this);
  }

  private _onJobsChanged(_: unknown, change: IJobsChange): void {
    for (const entry of this._entries.values()) {
      if (change.type === 'reset' || change.ids.includes(entry.id)) {
        this._update(entry, true);
      }
    }
  }

  private _update(entry: Private.IEntry, reload: boolean): void {
    const job = this._jobs.get(entry.id) ?? entry.fallback;
    if (reload && job === entry.job) {
      return; // a reset (filter, sort) without news for this job
    }
    entry.job = job;
    entry.view.title.label = resultTitle(entry.id, job);
    entry.view.title.caption = `${resultStatus(job)}\nJob ${entry.id}`;
    entry.status.node.textContent = resultStatus(job);
    entry.status.node.dataset.meowJobStatus = job?.status ?? '';
    if (reload && entry.following && this._follow()) {
      this._reload(entry);
    }
    if (job && isFinalStatus(job.status)) {
      entry.following = false;
    }
  }

  /** Reload from disk; reloads asked for meanwhile are merged into one more. */
  private _reload(entry: Private.IEntry): void {
    if (entry.busy) {
      entry.again = true;
      return;
    }
    entry.busy = true;
    void entry.view.context
      .revert()
      .catch(() => undefined)
      .then(() => {
        entry.busy = false;
        if (entry.again && !entry.view.isDisposed) {
          entry.again = false;
          this._reload(entry);
        }
      });
  }

  private _jobs: ResultViews.IJobs;
  private _follow: () => boolean;
  private _entries = new Map<ResultViews.IView, Private.IEntry>();
  private _isDisposed = false;
}

export namespace ResultViews {
  /** The live jobs (`IMeow.jobs`). */
  export interface IJobs {
    readonly changed: ISignal<any, IJobsChange>;
    get(id: string): IJob | undefined;
  }
  /** What a result view must offer (a `NotebookPanel` does). */
  export interface IView {
    readonly title: Title<Widget>;
    readonly toolbar: Toolbar<Widget>;
    readonly isDisposed: boolean;
    readonly disposed: ISignal<any, void>;
    readonly context: { revert(): Promise<void> };
  }
  export interface IOptions {
    jobs: IJobs;
    /** Whether to reload running results (setting `followRunningResults`). */
    follow?: () => boolean;
  }
}

namespace Private {
  export interface IEntry {
    id: string;
    view: ResultViews.IView;
    status: Widget;
    /** The record last shown. */
    job: IJob | undefined;
    fallback: IJob | undefined;
    following: boolean;
    busy: boolean;
    again: boolean;
  }
}
