/**
 * The Workflow panel's graph: patterns, their triggers and outputs drawn by
 * the d3 view, a tooltip with a node's details that floats over the graph
 * (so nothing below it moves), and the legend.
 */
import * as React from 'react';

import type { TriggerKind } from '../../core/types';
import type { IWorkflowGraph, IWorkflowNode } from '../graph';
import { triggerIcons } from '../icons';
import { TRIGGER_GROUP_HELP, TRIGGER_GROUP_LABEL, TRIGGER_ICON_PATHS } from '../triggers';
import { IDagViewNode, renderDag } from './dagView';

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

export function toDagNode(n: IWorkflowNode, paused: ReadonlyMap<string, string>): IDagViewNode {
  const style =
    n.kind === 'pattern'
      ? NODE_STYLE[n.state!]
      : n.kind === 'trigger'
        ? TRIGGER_NODE_STYLE[n.trigger ?? 'file']
        : NODE_STYLE[n.kind];
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
    width: Math.max(
      80,
      Math.min(icon ? 260 : 240, Math.max(label.length * 7.5, remote ? sublabel!.length * 6 : 0) + 24 + (icon ? 22 : 0))
    ),
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
      ...(n.glob ? { 'data-meow-glob': n.glob } : {}),
      ...(limit ? { 'data-meow-paused': limit } : {})
    },
    ...style
  };
}

/** Where the tooltip floats: beside the pointer, flipped to stay inside the graph. */
interface ITipPosition {
  left?: number;
  right?: number;
  top: number;
}

function tipPosition(box: HTMLElement, event: React.MouseEvent): ITipPosition {
  const rect = box.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  // Right of the pointer in the left half, left of it in the right half.
  return x <= rect.width / 2 ? { left: x + 12, top: y + 16 } : { right: rect.width - x + 12, top: y + 16 };
}

export function WorkflowGraph(props: {
  graph: IWorkflowGraph;
  /** Limit that paused each paused pattern. */
  paused: ReadonlyMap<string, string>;
  onEdit: (pattern: string) => void;
}): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const box = React.useRef<HTMLDivElement>(null);
  const [hover, setHover] = React.useState<IWorkflowNode | null>(null);
  const [at, setAt] = React.useState<ITipPosition>({ left: 0, top: 0 });
  // The pointer's last place, kept without re-rendering until a node is hovered.
  const pointer = React.useRef<ITipPosition>({ left: 0, top: 0 });
  const hovering = React.useRef(false);
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
        onHover: id => {
          hovering.current = !!id;
          setAt(pointer.current);
          setHover(id ? (byId.get(id) ?? null) : null);
        }
      }
    );
  }, [graph, paused]);
  return (
    <div
      className="jp-meow-graphBox"
      ref={box}
      onMouseMove={e => {
        pointer.current = tipPosition(box.current!, e);
        if (hovering.current) {
          setAt(pointer.current);
        }
      }}
    >
      <div ref={ref} className="jp-meow-graph" data-testid="meow-workflow-graph" />
      {hover && (
        <div className="jp-meow-graphTip" role="tooltip" data-testid="meow-graph-hover" style={at}>
          {hover.details.map((d, i) => (
            <div key={i}>{d}</div>
          ))}
        </div>
      )}
      <div className="jp-meow-graphHint jp-meow-muted">Hover a node for details; click a pattern to edit it.</div>
    </div>
  );
}

/** What the colours, shapes and icons of the graph mean. */
export function GraphLegend(): JSX.Element {
  return (
    <>
      <div className="jp-meow-legend" data-testid="meow-graph-legend">
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
    </>
  );
}
