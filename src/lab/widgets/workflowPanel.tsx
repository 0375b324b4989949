/**
 * The Workflow panel (left sidebar): the graph of patterns, recipes and
 * paths; the lists of patterns and recipes with their state; the pattern
 * form; import/export of pattern files; the service settings.
 */
import type { IEditorServices } from '@jupyterlab/codeeditor';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import type { IPatternInfo } from '../../core/api';
import { buildWorkflowGraph } from '../graph';
import { meowIcon } from '../icons';
import type { IPatternForm } from '../patternForm';
import type { IMeow } from '../tokens';
import { useSignal } from './hooks';
import { PatternEditor } from './patternEditor';
import { ServiceSettings } from './serviceSettings';
import { deletePattern, deleteRecipe, exportPattern, importPatternFiles } from './workflowActions';
import { GraphLegend, WorkflowGraph } from './workflowGraph';
import { PatternItem, RecipeItem } from './workflowItems';

type EditorState = { editing?: IPatternInfo; initial?: Partial<IPatternForm>; key: number } | null;

/** New pattern, Import…, and the service's connection state. */
function Toolbar(props: { meow: IMeow; onNew: () => void }): JSX.Element {
  const { workflow, status } = props.meow;
  const fileInput = React.useRef<HTMLInputElement>(null);
  const importFiles = async (files: FileList | null) => {
    await importPatternFiles(workflow, Array.from(files ?? []));
    if (fileInput.current) {
      fileInput.current.value = '';
    }
  };
  return (
    <div className="jp-meow-toolbar">
      <button className="jp-Button jp-mod-styled jp-mod-accept" data-testid="meow-new-pattern" onClick={props.onNew}>
        New pattern
      </button>
      <button
        className="jp-Button jp-mod-styled jp-mod-reject"
        data-testid="meow-import-pattern"
        onClick={() => fileInput.current?.click()}
      >
        Import…
      </button>
      <input
        ref={fileInput}
        type="file"
        accept=".yaml,.yml"
        multiple
        style={{ display: 'none' }}
        data-testid="meow-import-input"
        onChange={e => void importFiles(e.target.files)}
      />
      <span className={`jp-meow-conn jp-meow-conn-${status.up ? 'up' : 'down'}`} title={status.error ?? 'service up'}>
        {status.up ? 'live' : 'service down'}
      </span>
    </div>
  );
}

/** Problems the service found in pattern and recipe files. */
function Problems(props: { problems: [string, string][] }): JSX.Element | null {
  if (props.problems.length === 0) {
    return null;
  }
  return (
    <section>
      <h3 className="jp-meow-sectionTitle">Problems ({props.problems.length})</h3>
      <ul className="jp-meow-list jp-meow-problems" data-testid="meow-problems">
        {props.problems.map(([file, msg]) => (
          <li key={file}>
            <b>{file}</b>: {msg}
          </li>
        ))}
      </ul>
    </section>
  );
}

function WorkflowView(props: { meow: IMeow; panel: WorkflowPanel }): JSX.Element {
  const { meow, panel } = props;
  const { workflow, status } = meow;
  useSignal(workflow.changed);
  useSignal(status.changed);
  useSignal(meow.paused.changed);
  useSignal(meow.manual.changed);
  useSignal(panel.visibilityChanged);
  const [editor, setEditor] = React.useState<EditorState>(null);

  React.useEffect(() => {
    const open = (_: WorkflowPanel, req: WorkflowPanel.IEditRequest) => {
      const editing = req.name ? workflow.pattern(req.name) : undefined;
      setEditor({ editing, initial: req.initial, key: Date.now() });
    };
    panel.editRequested.connect(open);
    return () => {
      panel.editRequested.disconnect(open);
    };
  }, [panel]);

  const graph = React.useMemo(
    () => buildWorkflowGraph(workflow.patterns, workflow.recipes),
    [workflow.patterns, workflow.recipes]
  );
  const pausedLimits = React.useMemo(
    () => new Map(meow.paused.paused.map(r => [r.pattern, r.limit] as [string, string])),
    [meow.paused.paused]
  );
  const stateOf = (p: IPatternInfo) => graph.nodes.find(n => n.id === `pattern:${p.name}`)?.state ?? 'invalid';
  const edit = (name: string) => setEditor({ editing: workflow.pattern(name), key: Date.now() });

  return (
    <div className="jp-meow-workflowBody">
      <Toolbar meow={meow} onNew={() => setEditor({ key: Date.now() })} />
      {workflow.error && <div className="jp-meow-serverError">{workflow.error}</div>}
      {editor && (
        <PatternEditor
          key={editor.key}
          workflow={workflow}
          editing={editor.editing}
          initial={editor.initial}
          editorFactory={panel.editorServices?.factoryService.newInlineEditor}
          onClose={() => setEditor(null)}
        />
      )}
      <section>
        <h3 className="jp-meow-sectionTitle">Graph</h3>
        <WorkflowGraph graph={graph} paused={pausedLimits} onEdit={edit} />
        <GraphLegend />
      </section>
      <section>
        <h3 className="jp-meow-sectionTitle">Patterns ({workflow.patterns.length})</h3>
        <ul className="jp-meow-list" data-testid="meow-pattern-list">
          {workflow.patterns.map(p => (
            <PatternItem
              key={p.name}
              meow={meow}
              commands={panel.commands}
              visible={panel.isVisible}
              info={p}
              state={stateOf(p)}
              onEdit={edit}
              onExport={exportPattern}
              onDelete={name => void deletePattern(workflow, name)}
            />
          ))}
        </ul>
      </section>
      <section>
        <h3 className="jp-meow-sectionTitle">Recipes ({workflow.recipes.length})</h3>
        <ul className="jp-meow-list" data-testid="meow-recipe-list">
          {workflow.recipes.map(r => (
            <RecipeItem
              key={r.name}
              recipe={r}
              users={workflow.patterns.filter(p => p.pattern?.recipe === r.name).map(p => p.name)}
              onNewPattern={recipe => setEditor({ initial: { recipe }, key: Date.now() })}
              onDelete={name => void deleteRecipe(workflow, name)}
            />
          ))}
        </ul>
      </section>
      <Problems problems={Object.entries(status.status?.problems ?? {})} />
      <details className="jp-meow-settingsBox">
        <summary>Service settings</summary>
        <ServiceSettings meow={meow} />
      </details>
    </div>
  );
}

/** The Workflow sidebar panel. */
export class WorkflowPanel extends ReactWidget {
  constructor(
    readonly meow: IMeow,
    options: WorkflowPanel.IOptions = {}
  ) {
    super();
    this.commands = options.commands ?? null;
    this.editorServices = options.editorServices ?? null;
    this.id = 'jp-meow-workflow';
    this.addClass('jp-meow-WorkflowPanel');
    this.title.icon = meowIcon;
    this.title.caption = 'MEOW workflow';
    this.node.setAttribute('data-testid', 'meow-workflow-panel');
  }

  /** Open the form for pattern `name`, or a new pattern. */
  editPattern(name?: string, initial?: Partial<IPatternForm>): void {
    this._editRequested.emit({ name, initial });
  }

  get editRequested(): ISignal<WorkflowPanel, WorkflowPanel.IEditRequest> {
    return this._editRequested;
  }

  /** Commands for links out of the panel (a run's jobs → the Monitor); null in tests. */
  readonly commands: CommandRegistry | null;

  /** The Lab's code editors (YAML mode of the form); null: a plain text area. */
  readonly editorServices: IEditorServices | null;

  /** The panel was shown or hidden: waiting files are only polled while it shows. */
  get visibilityChanged(): ISignal<this, boolean> {
    return this._visibilityChanged;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._visibilityChanged.emit(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._visibilityChanged.emit(false);
  }

  protected render(): JSX.Element {
    return <WorkflowView meow={this.meow} panel={this} />;
  }

  private _visibilityChanged = new Signal<this, boolean>(this);
  private _editRequested = new Signal<WorkflowPanel, WorkflowPanel.IEditRequest>(this);
}

export namespace WorkflowPanel {
  export interface IOptions {
    /** The application's commands: a run's job links open the Monitor. */
    commands?: CommandRegistry;
    /** The Lab's editor services: YAML mode edits in CodeMirror with YAML highlighting. */
    editorServices?: IEditorServices;
  }

  /** Open the form: for pattern `name`, or a new pattern prefilled with `initial`. */
  export interface IEditRequest {
    name?: string;
    initial?: Partial<IPatternForm>;
  }
}
