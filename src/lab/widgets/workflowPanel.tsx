/**
 * The Workflow panel (left sidebar): the graph of patterns, recipes and
 * paths; the lists of patterns and recipes with their state; the pattern
 * form; import/export of pattern files; the service settings.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { IPatternInfo, IServiceSettings, SETTINGS_LIMITS, validateServiceSettings } from '../../core/api';
import { parsePattern } from '../../core/pattern';
import { formatIssues } from '../../core/validation';
import { IWorkflowGraph, IWorkflowNode, buildWorkflowGraph } from '../graph';
import { fileStem } from '../format';
import { downloadBlob } from '../exportImage';
import { meowIcon } from '../icons';
import type { IPatternForm } from '../patternForm';
import type { IMeow } from '../tokens';
import { IDagViewNode, renderDag } from './dagView';
import { useSignal } from './hooks';
import { PatternEditor } from './patternEditor';
import { PauseNotice } from './paused';

const NODE_STYLE: Record<string, Pick<IDagViewNode, 'fill' | 'stroke' | 'textColour' | 'dashed'>> = {
  active: { fill: '#2e7d32', stroke: '#1b5e20', textColour: '#ffffff' },
  missing: { fill: '#c62828', stroke: '#8e0000', textColour: '#ffffff' },
  invalid: { fill: '#ffffff', stroke: '#c62828', textColour: '#c62828', dashed: true },
  trigger: { fill: '#e3f2fd', stroke: '#1565c0', textColour: '#0d47a1' },
  output: { fill: '#fff3e0', stroke: '#ef6c00', textColour: '#e65100' }
};

function toDagNode(n: IWorkflowNode, paused: ReadonlyMap<string, string>): IDagViewNode {
  const style = n.kind === 'pattern' ? NODE_STYLE[n.state!] : NODE_STYLE[n.kind];
  const label = n.label;
  const limit = n.pattern ? paused.get(n.pattern) : undefined;
  const state = n.state === 'active' ? 'active' : n.state === 'missing' ? 'recipe missing' : 'invalid';
  return {
    id: n.id,
    label,
    sublabel: n.kind === 'pattern' ? (limit ? `paused: ${limit}` : state) : undefined,
    width: Math.max(80, Math.min(240, label.length * 7.5 + 24)),
    height: n.kind === 'pattern' ? 38 : 26,
    shape: n.kind === 'pattern' ? 'rect' : 'pill',
    title: n.details.join('\n'),
    attrs: {
      'data-meow-node-kind': n.kind,
      ...(n.state ? { 'data-meow-pattern-state': n.state } : {}),
      ...(n.pattern ? { 'data-meow-pattern': n.pattern } : {}),
      ...(limit ? { 'data-meow-paused': limit } : {})
    },
    ...style
  };
}

function WorkflowGraph(props: {
  graph: IWorkflowGraph;
  /** Limit that paused each paused pattern. */
  paused: ReadonlyMap<string, string>;
  onEdit: (pattern: string) => void;
}): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const [hover, setHover] = React.useState<IWorkflowNode | null>(null);
  const { graph, paused, onEdit } = props;
  React.useEffect(() => {
    if (!ref.current) {
      return;
    }
    const byId = new Map(graph.nodes.map(n => [n.id, n]));
    renderDag(
      ref.current,
      graph.nodes.map(n => toDagNode(n, paused)),
      graph.edges.map(e => ({
        from: e.from,
        to: e.to,
        dashed: e.kind === 'matches',
        colour: e.kind === 'matches' ? '#ef6c00' : '#888888'
      })),
      {
        className: 'jp-meow-workflowSvg',
        // The sidebar is tall and narrow: top to bottom keeps labels readable.
        rankdir: 'TB',
        fit: 'width',
        empty: 'No patterns yet. Create one with "New pattern" or import a pattern file.',
        onClick: id => {
          const n = byId.get(id);
          if (n?.pattern) {
            onEdit(n.pattern);
          }
        },
        onHover: id => setHover(id ? byId.get(id) ?? null : null)
      }
    );
  }, [graph, paused]);
  return (
    <div className="jp-meow-graphBox">
      <div ref={ref} className="jp-meow-graph" data-testid="meow-workflow-graph" />
      <div className="jp-meow-hover" data-testid="meow-graph-hover">
        {hover ? (
          hover.details.map((d, i) => <div key={i}>{d}</div>)
        ) : (
          <span className="jp-meow-muted">Hover a node for details; click a pattern to edit it.</span>
        )}
      </div>
    </div>
  );
}

function ServiceSettings(props: { meow: IMeow }): JSX.Element {
  const status = props.meow.status.status;
  const [draft, setDraft] = React.useState<Record<string, string> | null>(null);
  const [message, setMessage] = React.useState('');
  const current = status?.settings ?? null;
  if (!current) {
    return <div className="jp-meow-muted">Service settings are shown when the service is up.</div>;
  }
  const keys = Object.keys(SETTINGS_LIMITS) as (keyof IServiceSettings)[];
  const values: Record<string, string> = draft ?? Object.fromEntries(keys.map(k => [k, String(current[k])]));
  const parsed: Record<string, unknown> = Object.fromEntries(keys.map(k => [k, values[k].trim() === '' ? NaN : Number(values[k])]));
  // The same validation the service applies.
  const { issues } = validateServiceSettings(parsed);
  const save = async () => {
    try {
      const result = await props.meow.client.saveSettings(parsed as Partial<IServiceSettings>);
      setDraft(null);
      setMessage(
        'Saved to .meow/settings.yaml.' +
          (result?.restartRequired?.length ? ` ${result.restartRequired.join(', ')} applies after the service restarts.` : '')
      );
      void props.meow.status.refresh();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  return (
    <div className="jp-meow-settings" data-testid="meow-service-settings">
      {keys.map(k => {
        const problem = issues.find(i => i.field === k);
        return (
          <label key={k} className="jp-meow-setting" title={SETTINGS_LIMITS[k].help}>
            <span>{k}</span>
            <input
              type="number"
              min={SETTINGS_LIMITS[k].min}
              max={SETTINGS_LIMITS[k].max}
              className="jp-mod-styled"
              data-meow-setting={k}
              value={values[k]}
              onChange={e => setDraft({ ...values, [k]: e.target.value })}
            />
            {problem && <span className="jp-meow-fieldError">{problem.message}</span>}
          </label>
        );
      })}
      <button className="jp-Button jp-mod-styled jp-mod-accept" disabled={!draft || issues.length > 0} onClick={() => void save()}>
        Save settings
      </button>
      {message && <div className="jp-meow-muted">{message}</div>}
    </div>
  );
}

type EditorState = { editing?: IPatternInfo; initial?: Partial<IPatternForm>; key: number } | null;

function WorkflowView(props: { meow: IMeow; panel: WorkflowPanel }): JSX.Element {
  const { meow, panel } = props;
  const { workflow, status } = meow;
  useSignal(workflow.changed);
  useSignal(status.changed);
  useSignal(meow.paused.changed);
  const [editor, setEditor] = React.useState<EditorState>(null);
  const fileInput = React.useRef<HTMLInputElement>(null);

  React.useEffect(() => {
    const open = (_: WorkflowPanel, req: { name?: string; initial?: Partial<IPatternForm> }) => {
      const editing = req.name ? workflow.pattern(req.name) : undefined;
      setEditor({ editing, initial: req.initial, key: Date.now() });
    };
    panel.editRequested.connect(open);
    return () => {
      panel.editRequested.disconnect(open);
    };
  }, [panel]);

  const graph = React.useMemo(() => buildWorkflowGraph(workflow.patterns, workflow.recipes), [workflow.patterns, workflow.recipes]);
  const pausedLimits = React.useMemo(
    () => new Map(meow.paused.paused.map(r => [r.pattern, r.limit] as [string, string])),
    [meow.paused.paused]
  );
  const stateOf = (p: IPatternInfo) => graph.nodes.find(n => n.id === `pattern:${p.name}`)?.state ?? 'invalid';
  const edit = (name: string) => setEditor({ editing: workflow.pattern(name), key: Date.now() });

  const deletePattern = async (name: string) => {
    const answer = await showDialog({
      title: 'Delete pattern',
      body: `Delete pattern "${name}"? Its rule is removed and its queued and running jobs are cancelled.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await workflow.deletePattern(name).catch(err => showErrorMessage('Cannot delete pattern', err));
    }
  };
  const deleteRecipe = async (name: string) => {
    const users = workflow.patterns.filter(p => p.pattern?.recipe === name).map(p => p.name);
    const answer = await showDialog({
      title: 'Delete recipe',
      body:
        `Delete recipe "${name}"?` +
        (users.length ? ` Patterns ${users.join(', ')} lose their rule and their unfinished jobs are cancelled.` : ''),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await workflow.deleteRecipe(name).catch(err => showErrorMessage('Cannot delete recipe', err));
    }
  };
  const exportPattern = (p: IPatternInfo) => {
    downloadBlob(new Blob([p.text], { type: 'application/x-yaml' }), `${p.name}.yaml`);
  };
  const importFiles = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const name = fileStem(file.name);
      const text = await file.text();
      const parsed = parsePattern(name, text);
      if (parsed.issues.length) {
        await showErrorMessage(`Cannot import ${file.name}`, formatIssues('pattern', name, parsed.issues));
        continue;
      }
      if (workflow.pattern(name)) {
        const answer = await showDialog({
          title: 'Replace pattern?',
          body: `A pattern named "${name}" exists. Replace it with ${file.name}?`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
        });
        if (!answer.button.accept) {
          continue;
        }
      }
      await workflow.savePattern(name, text).catch(err => showErrorMessage(`Cannot import ${file.name}`, err));
    }
    if (fileInput.current) {
      fileInput.current.value = '';
    }
  };

  const problems = Object.entries(status.status?.problems ?? {});
  return (
    <div className="jp-meow-workflowBody">
      <div className="jp-meow-toolbar">
        <button className="jp-Button jp-mod-styled jp-mod-accept" data-testid="meow-new-pattern" onClick={() => setEditor({ key: Date.now() })}>
          New pattern
        </button>
        <button className="jp-Button jp-mod-styled jp-mod-reject" data-testid="meow-import-pattern" onClick={() => fileInput.current?.click()}>
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
      {workflow.error && <div className="jp-meow-serverError">{workflow.error}</div>}
      {editor && (
        <PatternEditor
          key={editor.key}
          workflow={workflow}
          editing={editor.editing}
          initial={editor.initial}
          onClose={() => setEditor(null)}
        />
      )}
      <section>
        <h3 className="jp-meow-sectionTitle">Graph</h3>
        <WorkflowGraph graph={graph} paused={pausedLimits} onEdit={edit} />
        <div className="jp-meow-legend">
          <span className="jp-meow-swatch jp-meow-swatch-active" /> recipe exists
          <span className="jp-meow-swatch jp-meow-swatch-missing" /> recipe missing
          <span className="jp-meow-swatch jp-meow-swatch-trigger" /> trigger
          <span className="jp-meow-swatch jp-meow-swatch-output" /> output
        </div>
      </section>
      <section>
        <h3 className="jp-meow-sectionTitle">Patterns ({workflow.patterns.length})</h3>
        <ul className="jp-meow-list" data-testid="meow-pattern-list">
          {workflow.patterns.map(p => {
            const state = stateOf(p);
            const pause = meow.paused.get(p.name);
            return (
              <li
                key={p.name}
                className={`jp-meow-patternItem${pause ? ' jp-meow-isPaused' : ''}`}
                data-meow-pattern={p.name}
                data-meow-state={state}
                data-meow-paused={pause?.limit}
              >
                <span className={`jp-meow-dot jp-meow-dot-${state}`} title={state} />
                <span className="jp-meow-itemMain">
                  <span className="jp-meow-itemName">{p.name}</span>
                  <span className="jp-meow-itemSub">
                    {p.pattern
                      ? `${p.pattern.recipe} · ${p.pattern.trigger.kind === 'file' ? p.pattern.trigger.path : p.pattern.trigger.kind}`
                      : p.problem ?? 'cannot be read'}
                  </span>
                  {pause && <PauseNotice meow={meow} rule={pause} />}
                </span>
                <button className="jp-Button jp-mod-minimal" title="Edit" onClick={() => edit(p.name)}>
                  Edit
                </button>
                <button className="jp-Button jp-mod-minimal" title="Export as YAML file" onClick={() => exportPattern(p)}>
                  Export
                </button>
                <button className="jp-Button jp-mod-minimal" title="Delete" data-testid="meow-delete-pattern" onClick={() => void deletePattern(p.name)}>
                  Delete
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      <section>
        <h3 className="jp-meow-sectionTitle">Recipes ({workflow.recipes.length})</h3>
        <ul className="jp-meow-list" data-testid="meow-recipe-list">
          {workflow.recipes.map(r => {
            const users = workflow.patterns.filter(p => p.pattern?.recipe === r.name).map(p => p.name);
            return (
              <li key={r.name} className="jp-meow-recipeItem" data-meow-recipe={r.name} data-meow-state={r.problem ? 'invalid' : 'ok'}>
                <span className={`jp-meow-dot jp-meow-dot-${r.problem ? 'invalid' : 'recipe'}`} />
                <span className="jp-meow-itemMain">
                  <span className="jp-meow-itemName">{r.name}</span>
                  <span className="jp-meow-itemSub" title={r.variables.join(', ')}>
                    {r.problem ?? `${r.source ? `from ${r.source} · ` : ''}${users.length ? `used by ${users.join(', ')}` : 'no pattern uses it'}`}
                  </span>
                </span>
                <button
                  className="jp-Button jp-mod-minimal"
                  title="New pattern with this recipe"
                  onClick={() => setEditor({ initial: { recipe: r.name }, key: Date.now() })}
                >
                  + Pattern
                </button>
                <button className="jp-Button jp-mod-minimal" title="Delete" onClick={() => void deleteRecipe(r.name)}>
                  Delete
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      {problems.length > 0 && (
        <section>
          <h3 className="jp-meow-sectionTitle">Problems ({problems.length})</h3>
          <ul className="jp-meow-list jp-meow-problems" data-testid="meow-problems">
            {problems.map(([file, msg]) => (
              <li key={file}>
                <b>{file}</b>: {msg}
              </li>
            ))}
          </ul>
        </section>
      )}
      <details className="jp-meow-settingsBox">
        <summary>Service settings</summary>
        <ServiceSettings meow={meow} />
      </details>
    </div>
  );
}

/** The Workflow sidebar panel. */
export class WorkflowPanel extends ReactWidget {
  constructor(readonly meow: IMeow) {
    super();
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

  get editRequested(): ISignal<WorkflowPanel, { name?: string; initial?: Partial<IPatternForm> }> {
    return this._editRequested;
  }

  protected render(): JSX.Element {
    return <WorkflowView meow={this.meow} panel={this} />;
  }

  private _editRequested = new Signal<WorkflowPanel, { name?: string; initial?: Partial<IPatternForm> }>(this);
}
