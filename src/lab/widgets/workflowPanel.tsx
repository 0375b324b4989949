/**
 * The Workflow panel (left sidebar): the graph of patterns, recipes and
 * paths; the lists of patterns and recipes with their state; the pattern
 * form; import/export of pattern files; the service settings.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { IPatternInfo, IServiceSettings, SETTINGS_LIMITS, validateServiceSettings } from '../../core/api';
import { parsePattern } from '../../core/pattern';
import type { TriggerKind } from '../../core/types';
import { formatIssues } from '../../core/validation';
import { IWorkflowGraph, IWorkflowNode, buildWorkflowGraph } from '../graph';
import { fileStem } from '../format';
import { downloadBlob } from '../exportImage';
import { meowIcon, triggerIcons } from '../icons';
import type { IPatternForm } from '../patternForm';
import { CommandIDs, IMeow } from '../tokens';
import { TRIGGER_GROUP_HELP, TRIGGER_GROUP_LABEL, TRIGGER_ICON_PATHS, triggerSummary } from '../triggers';
import { IDagViewNode, renderDag } from './dagView';
import { useSignal } from './hooks';
import { RunBox, RunOutcomeView, WaitingList, runLabel } from './patternRun';
import { PatternEditor } from './patternEditor';
import { PauseNotice } from './paused';

type NodeStyle = Pick<IDagViewNode, 'fill' | 'stroke' | 'textColour' | 'dashed' | 'shape'>;

const NODE_STYLE: Record<string, NodeStyle> = {
  active: { fill: '#2e7d32', stroke: '#1b5e20', textColour: '#ffffff' },
  missing: { fill: '#c62828', stroke: '#8e0000', textColour: '#ffffff' },
  invalid: { fill: '#ffffff', stroke: '#c62828', textColour: '#c62828', dashed: true },
  trigger: { fill: '#e3f2fd', stroke: '#1565c0', textColour: '#0d47a1', shape: 'pill' },
  output: { fill: '#fff3e0', stroke: '#ef6c00', textColour: '#e65100', shape: 'pill' }
};

/**
 * What fires a pattern, told apart by shape, colour and icon: a path (blue
 * pill), a port (purple box), a clock (teal hexagon), a person (pink pill),
 * an absence (grey dashed hexagon).
 */
export const TRIGGER_NODE_STYLE: Record<TriggerKind, NodeStyle> = {
  file: NODE_STYLE.trigger,
  network: { fill: '#ede7f6', stroke: '#5e35b1', textColour: '#311b92', shape: 'box' },
  schedule: { fill: '#e0f2f1', stroke: '#00796b', textColour: '#004d40', shape: 'hexagon' },
  manual: { fill: '#fce4ec', stroke: '#ad1457', textColour: '#880e4f', shape: 'pill' },
  absent: { fill: '#f5f5f5', stroke: '#616161', textColour: '#424242', shape: 'hexagon', dashed: true }
};

function toDagNode(n: IWorkflowNode, paused: ReadonlyMap<string, string>): IDagViewNode {
  const style =
    n.kind === 'pattern' ? NODE_STYLE[n.state!] : n.kind === 'trigger' ? TRIGGER_NODE_STYLE[n.trigger ?? 'file'] : NODE_STYLE[n.kind];
  const icon = n.kind === 'trigger' ? TRIGGER_ICON_PATHS[n.trigger ?? 'file'] : undefined;
  const label = n.label;
  const limit = n.pattern ? paused.get(n.pattern) : undefined;
  const state = n.state === 'active' ? 'active' : n.state === 'missing' ? 'recipe missing' : 'invalid';
  // A pattern sent elsewhere than this machine's kernels says where.
  const remote = n.executor && n.executor !== 'local' ? ` · ${n.executor}` : '';
  const sublabel = n.kind === 'pattern' ? `${limit ? `paused: ${limit}` : state}${remote}` : undefined;
  return {
    id: n.id,
    label,
    sublabel,
    // Bold 12px label ≈ 7.5 px a character, 10px sublabel ≈ 6 (see dagView).
    width: Math.max(80, Math.min(icon ? 260 : 240, Math.max(label.length * 7.5, remote ? sublabel!.length * 6 : 0) + 24 + (icon ? 22 : 0))),
    height: n.kind === 'pattern' ? 38 : 26,
    shape: 'rect',
    icon,
    title: n.details.join('\n'),
    attrs: {
      'data-meow-node-kind': n.kind,
      ...(n.trigger ? { 'data-meow-trigger-kind': n.trigger } : {}),
      ...(n.state ? { 'data-meow-pattern-state': n.state } : {}),
      ...(n.pattern ? { 'data-meow-pattern': n.pattern } : {}),
      ...(n.executor ? { 'data-meow-executor': n.executor } : {}),
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

/** A pattern in the list: state, trigger, actions; Run now and, for manual patterns, its waiting files. */
function PatternItem(props: {
  meow: IMeow;
  panel: WorkflowPanel;
  info: IPatternInfo;
  state: string;
  onEdit: (name: string) => void;
  onExport: (info: IPatternInfo) => void;
  onDelete: (name: string) => void;
}): JSX.Element {
  const { meow, panel, info: p, state } = props;
  const [running, setRunning] = React.useState(false);
  const pause = meow.paused.get(p.name);
  const pattern = p.pattern;
  const outcome = meow.manual.outcome(p.name);
  const trigger = pattern?.trigger;
  const Icon = trigger ? triggerIcons[trigger.kind] : null;
  const runnable = !!pattern && state === 'active';
  const showJob = panel.commands ? (id: string) => void panel.commands!.execute(CommandIDs.showJob, { id }) : undefined;
  return (
    <li
      className={`jp-meow-patternItem${pause ? ' jp-meow-isPaused' : ''}`}
      data-meow-pattern={p.name}
      data-meow-state={state}
      data-meow-paused={pause?.limit}
      data-meow-trigger-kind={trigger?.kind}
    >
      <span className={`jp-meow-dot jp-meow-dot-${state}`} title={state} />
      <span className="jp-meow-itemMain">
        <span className="jp-meow-itemName">{p.name}</span>
        <span className="jp-meow-itemSub" title={trigger ? `${TRIGGER_GROUP_LABEL[trigger.kind]}: ${TRIGGER_GROUP_HELP[trigger.kind]}` : undefined}>
          {pattern && trigger ? (
            <>
              {pattern.recipe} · {Icon && <Icon.react tag="span" className="jp-meow-triggerIcon" />}
              {triggerSummary(trigger)}
            </>
          ) : (
            p.problem ?? 'cannot be read'
          )}
        </span>
        {pause && <PauseNotice meow={meow} rule={pause} />}
      </span>
      {pattern && (
        <button
          className="jp-Button jp-mod-minimal"
          data-testid="meow-run-pattern"
          title={
            runnable
              ? trigger?.kind === 'manual'
                ? `Run ${p.name} now`
                : `Run ${p.name} now, without waiting for its trigger`
              : 'Its recipe is missing: register it first'
          }
          disabled={!runnable}
          aria-expanded={running}
          onClick={() => setRunning(r => !r)}
        >
          {runLabel(pattern)}
        </button>
      )}
      <button className="jp-Button jp-mod-minimal" title="Edit" onClick={() => props.onEdit(p.name)}>
        Edit
      </button>
      <button className="jp-Button jp-mod-minimal" title="Export as YAML file" onClick={() => props.onExport(p)}>
        Export
      </button>
      <button className="jp-Button jp-mod-minimal" title="Delete" data-testid="meow-delete-pattern" onClick={() => props.onDelete(p.name)}>
        Delete
      </button>
      {pattern && (running || outcome || (trigger?.kind === 'manual' && trigger.path)) && (
        <div className="jp-meow-patternExtra">
          {running && runnable && <RunBox meow={meow} pattern={pattern} onClose={() => setRunning(false)} />}
          {outcome && <RunOutcomeView meow={meow} pattern={p.name} outcome={outcome} onShowJob={showJob} />}
          {trigger?.kind === 'manual' && trigger.path && <WaitingList meow={meow} pattern={pattern} visible={panel.isVisible} />}
        </div>
      )}
    </li>
  );
}

type EditorState = { editing?: IPatternInfo; initial?: Partial<IPatternForm>; key: number } | null;

function WorkflowView(props: { meow: IMeow; panel: WorkflowPanel }): JSX.Element {
  const { meow, panel } = props;
  const { workflow, status } = meow;
  useSignal(workflow.changed);
  useSignal(status.changed);
  useSignal(meow.paused.changed);
  useSignal(meow.manual.changed);
  useSignal(panel.visibilityChanged);
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
          <span className="jp-meow-swatch jp-meow-swatch-output" /> output
        </div>
        <div className="jp-meow-legend" data-testid="meow-trigger-legend">
          {(Object.keys(TRIGGER_NODE_STYLE) as TriggerKind[]).map(kind => {
            const Icon = triggerIcons[kind];
            const style = TRIGGER_NODE_STYLE[kind];
            return (
              <span key={kind} className="jp-meow-legendItem" title={TRIGGER_GROUP_HELP[kind]}>
                <span
                  className={`jp-meow-swatch jp-meow-swatch-${style.shape}`}
                  style={{ background: style.fill, border: `1px ${style.dashed ? 'dashed' : 'solid'} ${style.stroke}` }}
                />
                <Icon.react tag="span" className="jp-meow-triggerIcon" />
                {TRIGGER_GROUP_LABEL[kind]}
              </span>
            );
          })}
        </div>
      </section>
      <section>
        <h3 className="jp-meow-sectionTitle">Patterns ({workflow.patterns.length})</h3>
        <ul className="jp-meow-list" data-testid="meow-pattern-list">
          {workflow.patterns.map(p => (
            <PatternItem
              key={p.name}
              meow={meow}
              panel={panel}
              info={p}
              state={stateOf(p)}
              onEdit={edit}
              onExport={exportPattern}
              onDelete={name => void deletePattern(name)}
            />
          ))}
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
  constructor(readonly meow: IMeow, options: WorkflowPanel.IOptions = {}) {
    super();
    this.commands = options.commands ?? null;
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

  /** Commands for links out of the panel (a run's jobs → the Monitor); null in tests. */
  readonly commands: CommandRegistry | null;

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
  private _editRequested = new Signal<WorkflowPanel, { name?: string; initial?: Partial<IPatternForm> }>(this);
}

export namespace WorkflowPanel {
  export interface IOptions {
    /** The application's commands: a run's job links open the Monitor. */
    commands?: CommandRegistry;
  }
}
