/**
 * Layered layout of a directed graph with dagre (cycles allowed: workflows
 * may loop). Pure data in, coordinates out; the d3 views draw the result.
 *
 * `layoutComponents` lays out each connected component on its own and packs
 * them in rows: a report of many independent runs becomes a wide grid, not
 * one column thousands of pixels tall, and dagre stays fast (it is
 * superlinear in the graph it is given).
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
    const label = e.label ? { width: Math.min(240, e.label.length * charWidth), height: 14, labelpos: 'c' } : {};
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

export interface IPackOptions extends ILayoutOptions {
  /** Width ÷ height the packing aims at (the viewport's; default 16/9). */
  aspect?: number;
  /** Space between components (default 24). */
  gap?: number;
}

/** Connected components of `nodes` (indices, in order of first appearance). */
function componentsOf(nodes: readonly ILayoutNodeInput[], edges: readonly ILayoutEdgeInput[]): number[][] {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const parent = nodes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (const e of edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a !== undefined && b !== undefined) {
      const [ra, rb] = [find(a), find(b)];
      // The smaller index stays root, so components keep their order.
      parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
  const byRoot = new Map<number, number[]>();
  nodes.forEach((_, i) => {
    const r = find(i);
    const list = byRoot.get(r);
    if (list) {
      list.push(i);
    } else {
      byRoot.set(r, [i]);
    }
  });
  return [...byRoot.keys()].sort((a, b) => a - b).map(r => byRoot.get(r)!);
}

/**
 * Lay out each connected component with dagre and pack them left to right in
 * rows about `sqrt(area × aspect)` wide, in the order of `nodes`.
 */
export function layoutComponents(
  nodes: readonly ILayoutNodeInput[],
  edges: readonly ILayoutEdgeInput[],
  options: IPackOptions = {}
): ILayout {
  const gap = options.gap ?? 24;
  const byId = new Map(nodes.map(n => [n.id, n]));
  const parts = componentsOf(nodes, edges).map(members => {
    const ids = new Set(members.map(i => nodes[i].id));
    if (members.length === 1) {
      const n = nodes[members[0]];
      return {
        nodes: [{ ...n, x: n.width / 2, y: n.height / 2 }],
        edges: [] as ILayoutEdge[],
        width: n.width,
        height: n.height,
        shift: 0
      };
    }
    const sub = layoutGraph(
      members.map(i => nodes[i]),
      edges.filter(e => ids.has(e.from) && ids.has(e.to)),
      { ...options }
    );
    // dagre adds a margin; the packing has its own gap.
    return { ...sub, width: sub.width - 24, height: sub.height - 24, shift: 12 };
  });
  const area = parts.reduce((sum, p) => sum + (p.width + gap) * (p.height + gap), 0);
  const rowWidth = Math.max(Math.sqrt(area * (options.aspect ?? 16 / 9)), ...parts.map(p => p.width));
  const out: ILayout = { nodes: [], edges: [], width: 1, height: 1 };
  let x = gap;
  let y = gap;
  let rowHeight = 0;
  for (const part of parts) {
    if (x > gap && x + part.width > rowWidth + gap) {
      x = gap;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    const dx = x - part.shift;
    const dy = y - part.shift;
    for (const n of part.nodes) {
      out.nodes.push({ ...byId.get(n.id)!, x: n.x + dx, y: n.y + dy });
    }
    for (const e of part.edges) {
      out.edges.push({
        ...e,
        points: e.points.map(p => ({ x: p.x + dx, y: p.y + dy })),
        ...(e.labelX !== undefined ? { labelX: e.labelX + dx, labelY: e.labelY! + dy } : {})
      });
    }
    out.width = Math.max(out.width, x + part.width + gap);
    out.height = Math.max(out.height, y + part.height + gap);
    x += part.width + gap;
    rowHeight = Math.max(rowHeight, part.height);
  }
  return out;
}
