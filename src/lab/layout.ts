/**
 * Layered layout of a directed graph with dagre (cycles allowed: workflows
 * may loop). Pure data in, coordinates out; the d3 views draw the result.
 */
import dagre from '@dagrejs/dagre';

export interface ILayoutNodeInput {
  id: string;
  width: number;
  height: number;
}

export interface ILayoutEdgeInput {
  from: string;
  to: string;
  /** Text drawn on the edge (e.g. a file path); reserves room in the layout. */
  label?: string;
}

export interface ILayoutNode extends ILayoutNodeInput {
  /** Centre. */
  x: number;
  y: number;
}

export interface ILayoutEdge extends ILayoutEdgeInput {
  points: { x: number; y: number }[];
  /** Label position, when the edge has a label. */
  labelX?: number;
  labelY?: number;
}

export interface ILayout {
  nodes: ILayoutNode[];
  edges: ILayoutEdge[];
  width: number;
  height: number;
}

export interface ILayoutOptions {
  /** Direction: left→right (default) or top→bottom. */
  rankdir?: 'LR' | 'TB';
  nodesep?: number;
  ranksep?: number;
  /** Approximate width of one label character, in px. */
  charWidth?: number;
}

/** Lay out the graph; edges to unknown nodes are ignored. */
export function layoutGraph(
  nodes: readonly ILayoutNodeInput[],
  edges: readonly ILayoutEdgeInput[],
  options: ILayoutOptions = {}
): ILayout {
  const g = new dagre.graphlib.Graph({ multigraph: true, directed: true });
  g.setGraph({
    rankdir: options.rankdir ?? 'LR',
    nodesep: options.nodesep ?? 24,
    ranksep: options.ranksep ?? 60,
    marginx: 12,
    marginy: 12
  });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: n.width, height: n.height });
  }
  const charWidth = options.charWidth ?? 6.5;
  const kept: ILayoutEdgeInput[] = [];
  edges.forEach((e, i) => {
    if (!ids.has(e.from) || !ids.has(e.to)) {
      return;
    }
    kept.push(e);
    const label = e.label
      ? { width: Math.min(240, e.label.length * charWidth), height: 14, labelpos: 'c' }
      : {};
    g.setEdge(e.from, e.to, label, `e${i}`);
  });
  dagre.layout(g);
  const outNodes = nodes.map(n => {
    const d = g.node(n.id);
    return { ...n, x: d.x, y: d.y };
  });
  const outEdges: ILayoutEdge[] = [];
  edges.forEach((e, i) => {
    if (!ids.has(e.from) || !ids.has(e.to)) {
      return;
    }
    const d = g.edge(e.from, e.to, `e${i}`) as any;
    const edge: ILayoutEdge = { ...e, points: (d?.points ?? []).map((p: any) => ({ x: p.x, y: p.y })) };
    if (e.label && d && typeof d.x === 'number') {
      edge.labelX = d.x;
      edge.labelY = d.y;
    }
    outEdges.push(edge);
  });
  const graph = g.graph();
  return {
    nodes: outNodes,
    edges: outEdges,
    width: Math.max(1, graph.width ?? 1),
    height: Math.max(1, graph.height ?? 1)
  };
}
