/**
 * Draw a directed graph with d3, laid out by dagre (`../layout`). Shared by
 * the Workflow graph (`renderDag`: natural size, scrolls) and the provenance
 * report (`renderZoomableDag`: fills its box, wheel zooms, drag pans, fit
 * and zoom-to-node). Node colours are attributes; with `themed`, edges and
 * edge labels take their colours from the Lab theme through CSS classes
 * (style/report.css), and the export inlines the computed colours.
 */
import * as d3 from 'd3';

import { ILayout, layoutComponents, layoutGraph } from '../layout';
import { LIGHT_TEXT, textColourFor } from '../report';

export interface IDagViewNode {
  id: string;
  width: number;
  height: number;
  label: string;
  sublabel?: string;
  fill: string;
  stroke: string;
  textColour?: string;
  strokeWidth?: number;
  dashed?: boolean;
  /**
   * `rect` (jobs, patterns), `pill` (paths), `box` (square corners: ports),
   * `hexagon` (timers).
   */
  shape?: 'rect' | 'pill' | 'box' | 'hexagon';
  /** A 24×24 SVG path drawn left of the label (trigger kinds). */
  icon?: string;
  /** Native tooltip text. */
  title?: string;
  /** Small badge at the top-right corner, e.g. "✗" for failed jobs. */
  badge?: string;
  badgeColour?: string;
  /** Extra attributes on the node's `<g>` (for tests: `data-meow-*`). */
  attrs?: Record<string, string>;
}

export interface IDagViewEdge {
  from: string;
  to: string;
  label?: string;
  colour?: string;
  dashed?: boolean;
}

export interface IDagViewOptions {
  rankdir?: 'LR' | 'TB';
  onClick?: (id: string) => void;
  onHover?: (id: string | null) => void;
  /** Extra class on the `<svg>`. */
  className?: string;
  /** Text shown when there is nothing to draw. */
  empty?: string;
  /** `width`: scale to the container's width; `none` (default): natural size. */
  fit?: 'width' | 'none';
  /** Edge and label colours from CSS classes (the Lab theme), not attributes. */
  themed?: boolean;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
let markerSeq = 0;

/** Corners of a hexagon filling a `w`×`h` box (pointed left and right). */
function hexagonPoints(w: number, h: number): string {
  const i = Math.min(10, h / 2, w / 4);
  return [
    [i, 0],
    [w - i, 0],
    [w, h / 2],
    [w - i, h],
    [i, h],
    [0, h / 2]
  ]
    .map(([x, y]) => `${x},${y}`)
    .join(' ');
}

/** Text colour of a node: its own, else dark or light by contrast with its fill. */
function textColourOf(n: IDagViewNode): string {
  if (n.textColour) {
    return n.textColour;
  }
  return /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(n.fill) ? textColourFor(n.fill) : LIGHT_TEXT;
}

/** Replace `container`'s content by the empty message; true when there is nothing to draw. */
function showEmpty(container: HTMLElement, nodes: IDagViewNode[], options: IDagViewOptions): boolean {
  container.textContent = '';
  if (nodes.length > 0) {
    return false;
  }
  const p = document.createElement('div');
  p.className = 'jp-meow-graphEmpty';
  p.textContent = options.empty ?? 'Nothing to show.';
  container.appendChild(p);
  return true;
}

/** Draw into `container` (its content is replaced); returns the `<svg>`. */
export function renderDag(
  container: HTMLElement,
  nodes: IDagViewNode[],
  edges: IDagViewEdge[],
  options: IDagViewOptions = {}
): SVGSVGElement | null {
  if (showEmpty(container, nodes, options)) {
    return null;
  }
  const layout = layoutGraph(
    nodes.map(n => ({ id: n.id, width: n.width, height: n.height })),
    edges.map(e => ({ from: e.from, to: e.to, label: e.label })),
    { rankdir: options.rankdir ?? 'LR' }
  );
  const svg = d3
    .select(container)
    .append('svg')
    .attr('xmlns', SVG_NS)
    .attr('class', `jp-meow-dag ${options.className ?? ''}`.trim())
    .attr('viewBox', `0 0 ${layout.width} ${layout.height}`)
    .attr('preserveAspectRatio', 'xMidYMin meet');
  if (options.fit === 'width') {
    // Scale to the container's width; the height follows the aspect ratio.
    // Never below 80 % of the natural size (text stays readable): a wider
    // graph scrolls sideways instead.
    svg
      .attr('width', '100%')
      .style('max-width', `${Math.max(layout.width, 200)}px`)
      .style('min-width', `${Math.round(layout.width * 0.8)}px`);
  } else {
    svg.attr('width', layout.width).attr('height', layout.height);
  }
  const root = svg.append('g').attr('data-meow-zoom', '');
  const zoom = d3
    .zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.2, 4])
    // Plain wheel scrolls the panel; Ctrl/⌘ + wheel zooms, drag pans.
    .filter((event: any) => (event.type === 'wheel' ? event.ctrlKey || event.metaKey : !event.button))
    .on('zoom', event => root.attr('transform', event.transform.toString()));
  svg.call(zoom).on('dblclick.zoom', null);
  drawGraph(svg, root, layout, nodes, edges, options);
  return svg.node();
}

/** A drawn graph that fills its container and zooms. */
export interface IDagCanvas {
  readonly svg: SVGSVGElement;
  readonly layout: ILayout;
  /** The current zoom transform (`{ k, x, y }`). */
  readonly transform: { k: number; x: number; y: number };
  /** Show the whole graph (never enlarged beyond its natural size). */
  fit(): void;
  /** Centre node `id` at a readable scale; false when it is not drawn. */
  zoomTo(id: string): boolean;
  /** Zoom by `factor` around the centre. */
  zoomBy(factor: number): void;
  setTransform(t: { k: number; x: number; y: number }): void;
}

export interface IZoomableDagOptions extends IDagViewOptions {
  /** Pack connected components in rows (`../layout` layoutComponents). */
  packed?: boolean;
  /** Start from this transform (a redraw keeps the user's view); else fit. */
  transform?: { k: number; x: number; y: number } | null;
}

/**
 * Draw into `container` (its content is replaced), filling it: the wheel
 * zooms, dragging pans. Returns the canvas, or null when there is nothing.
 */
export function renderZoomableDag(
  container: HTMLElement,
  nodes: IDagViewNode[],
  edges: IDagViewEdge[],
  options: IZoomableDagOptions = {}
): IDagCanvas | null {
  if (showEmpty(container, nodes, options)) {
    return null;
  }
  const inputs = [
    nodes.map(n => ({ id: n.id, width: n.width, height: n.height })),
    edges.map(e => ({ from: e.from, to: e.to, label: e.label }))
  ] as const;
  const size = () => ({ w: container.clientWidth || 800, h: container.clientHeight || 600 });
  const layout = options.packed
    ? layoutComponents(inputs[0], inputs[1], { rankdir: options.rankdir ?? 'LR', aspect: size().w / size().h })
    : layoutGraph(inputs[0], inputs[1], { rankdir: options.rankdir ?? 'LR' });
  const svg = d3
    .select(container)
    .append('svg')
    .attr('xmlns', SVG_NS)
    .attr('class', `jp-meow-dag jp-meow-dagZoomable ${options.className ?? ''}`.trim())
    .attr('width', '100%')
    .attr('height', '100%')
    // The export's extent (the screen shows a window onto it).
    .attr('data-meow-bounds', `0 0 ${layout.width} ${layout.height}`);
  const root = svg.append('g').attr('data-meow-zoom', '');
  const zoom = d3
    .zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.02, 4])
    // The box on screen (d3's default reads the SVG's length, a percentage here).
    .extent(() => {
      const { w, h } = size();
      return [
        [0, 0],
        [w, h]
      ];
    })
    .on('zoom', event => root.attr('transform', event.transform.toString()));
  svg.call(zoom).on('dblclick.zoom', null);
  drawGraph(svg, root, layout, nodes, edges, options);

  const node = svg.node()!;
  const apply = (t: { k: number; x: number; y: number }) =>
    zoom.transform(svg, d3.zoomIdentity.translate(t.x, t.y).scale(t.k));
  const canvas: IDagCanvas = {
    svg: node,
    layout,
    get transform() {
      const t = d3.zoomTransform(node);
      return { k: t.k, x: t.x, y: t.y };
    },
    fit: () => {
      const { w, h } = size();
      const k = Math.min(1, w / layout.width, h / layout.height);
      apply({ k, x: (w - layout.width * k) / 2, y: Math.max(0, (h - layout.height * k) / 2) });
    },
    zoomTo: id => {
      const target = layout.nodes.find(n => n.id === id);
      if (!target) {
        return false;
      }
      const { w, h } = size();
      const k = Math.max(1, d3.zoomTransform(node).k);
      apply({ k, x: w / 2 - target.x * k, y: h / 2 - target.y * k });
      return true;
    },
    zoomBy: factor => zoom.scaleBy(svg, factor),
    setTransform: apply
  };
  if (options.transform) {
    canvas.setTransform(options.transform);
  } else {
    canvas.fit();
  }
  return canvas;
}

type SvgSelection = d3.Selection<SVGSVGElement, unknown, null, undefined>;
type GroupSelection = d3.Selection<SVGGElement, unknown, null, undefined>;

/** The arrow marker, the edges and the nodes of `layout`, into `root`. */
function drawGraph(
  svg: SvgSelection,
  root: GroupSelection,
  layout: ILayout,
  nodes: IDagViewNode[],
  edges: IDagViewEdge[],
  options: IDagViewOptions
): void {
  const markerId = `jp-meow-arrow-${++markerSeq}`;
  const arrow = svg
    .append('defs')
    .append('marker')
    .attr('id', markerId)
    .attr('viewBox', '0 0 10 10')
    .attr('refX', 9)
    .attr('refY', 5)
    .attr('markerWidth', 7)
    .attr('markerHeight', 7)
    .attr('orient', 'auto-start-reverse')
    .append('path')
    .attr('class', 'jp-meow-dagArrow')
    .attr('d', 'M 0 0 L 10 5 L 0 10 z');
  if (!options.themed) {
    arrow.attr('fill', '#888888');
  }
  drawEdges(root, layout, edges, markerId, options);
  drawNodes(root, layout, nodes, options);
}

function drawEdges(
  root: GroupSelection,
  layout: ILayout,
  edges: IDagViewEdge[],
  markerId: string,
  options: IDagViewOptions
): void {
  const line = d3
    .line<{ x: number; y: number }>()
    .x(p => p.x)
    .y(p => p.y)
    .curve(d3.curveBasis);
  const specs = new Map<string, IDagViewEdge>();
  for (const e of edges) {
    specs.set(`${e.from}->${e.to}`, specs.get(`${e.from}->${e.to}`) ?? e);
  }
  const edgeGroup = root.append('g').attr('class', 'jp-meow-dagEdges');
  for (const e of layout.edges) {
    const spec = specs.get(`${e.from}->${e.to}`);
    const g = edgeGroup.append('g').attr('class', 'jp-meow-dagEdge').attr('data-meow-edge', `${e.from}->${e.to}`);
    const path = g
      .append('path')
      .attr('class', 'jp-meow-dagEdgeLine')
      .attr('d', line(e.points) ?? '')
      .attr('fill', 'none')
      .attr('stroke-width', 1.5)
      .attr('stroke-dasharray', spec?.dashed ? '4 3' : null)
      .attr('marker-end', `url(#${markerId})`);
    if (spec?.colour || !options.themed) {
      path.attr('stroke', spec?.colour ?? '#888888');
    }
    if (e.label && e.labelX !== undefined) {
      const text = g
        .append('text')
        .attr('class', 'jp-meow-dagEdgeLabel')
        .attr('x', e.labelX)
        .attr('y', e.labelY! + 4)
        .attr('text-anchor', 'middle')
        .attr('font-size', 10)
        .attr('stroke-width', 3)
        .attr('paint-order', 'stroke')
        .text(e.label.length > 40 ? `…${e.label.slice(-39)}` : e.label);
      if (!options.themed) {
        text.attr('fill', '#555555').attr('stroke', '#ffffff');
      }
      g.append('title').text(e.label);
    }
  }
}

function drawNodes(root: GroupSelection, layout: ILayout, nodes: IDagViewNode[], options: IDagViewOptions): void {
  const byId = new Map(nodes.map(n => [n.id, n]));
  const nodeGroup = root.append('g').attr('class', 'jp-meow-dagNodes');
  for (const ln of layout.nodes) {
    const n = byId.get(ln.id)!;
    const g = nodeGroup
      .append('g')
      .attr('class', 'jp-meow-dagNode')
      .attr('data-meow-node', n.id)
      .attr('transform', `translate(${ln.x - n.width / 2},${ln.y - n.height / 2})`)
      .style('cursor', options.onClick ? 'pointer' : 'default');
    for (const [k, v] of Object.entries(n.attrs ?? {})) {
      g.attr(k, v);
    }
    const outline: d3.Selection<SVGElement, unknown, null, undefined> =
      n.shape === 'hexagon'
        ? g.append<SVGElement>('polygon').attr('points', hexagonPoints(n.width, n.height))
        : g
            .append<SVGElement>('rect')
            .attr('width', n.width)
            .attr('height', n.height)
            .attr('rx', n.shape === 'pill' ? n.height / 2 : n.shape === 'box' ? 1 : 5);
    outline
      .attr('fill', n.fill)
      .attr('stroke', n.stroke)
      .attr('stroke-width', n.strokeWidth ?? 1.5)
      .attr('stroke-dasharray', n.dashed ? '4 3' : null);
    const colour = textColourOf(n);
    // The icon takes the left of the node; the label is centred in the rest.
    const iconSize = 14;
    const inset = n.icon ? (n.shape === 'hexagon' ? 10 : n.shape === 'pill' ? n.height / 3 : 6) : 0;
    const textLeft = n.icon ? inset + iconSize + 2 : 0;
    if (n.icon) {
      g.append('path')
        .attr('class', 'jp-meow-dagIcon')
        .attr('d', n.icon)
        .attr('fill', colour)
        .attr('transform', `translate(${inset},${(n.height - iconSize) / 2}) scale(${iconSize / 24})`);
    }
    // Average glyph width ≈ 0.62 em for the bold label, 0.6 em for the sublabel.
    const fit = (s: string, charWidth = 7.5) => {
      const max = Math.floor((n.width - textLeft - 12) / charWidth);
      return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s;
    };
    g.append('text')
      .attr('x', textLeft + (n.width - textLeft) / 2)
      .attr('y', n.sublabel ? n.height / 2 - 3 : n.height / 2 + 4)
      .attr('text-anchor', 'middle')
      .attr('font-size', 12)
      .attr('font-weight', 600)
      .attr('fill', colour)
      .text(fit(n.label));
    if (n.sublabel) {
      g.append('text')
        .attr('x', n.width / 2)
        .attr('y', n.height / 2 + 12)
        .attr('text-anchor', 'middle')
        .attr('font-size', 10)
        .attr('fill', colour)
        .text(fit(n.sublabel, 6));
    }
    if (n.badge) {
      g.append('circle')
        .attr('cx', n.width - 2)
        .attr('cy', 2)
        .attr('r', 8)
        .attr('fill', n.badgeColour ?? '#d62728');
      g.append('text')
        .attr('x', n.width - 2)
        .attr('y', 6)
        .attr('text-anchor', 'middle')
        .attr('font-size', 11)
        .attr('font-weight', 700)
        .attr('fill', '#ffffff')
        .text(n.badge);
    }
    if (n.title) {
      g.append('title').text(n.title);
    }
    if (options.onClick) {
      g.on('click', () => options.onClick!(n.id));
    }
    if (options.onHover) {
      g.on('mouseenter', () => options.onHover!(n.id)).on('mouseleave', () => options.onHover!(null));
    }
  }
}
