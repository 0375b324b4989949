/**
 * The provenance report as drawable data: one node per job labelled with
 * its trigger file and coloured by its pattern, failed jobs marked, one edge
 * per file that triggered a child job (labelled with the file path). The d3
 * view draws what this returns.
 *
 * Thousands of jobs are mostly many copies of the same small workflow (one
 * job per input file, or the same chain per file), so connected components
 * with the same patterns are folded into one group node ("Step1 → Step2:
 * 2,500 runs") that expands on demand; a search target is always drawn.
 */
import type { IProvenanceGraph, IProvenanceNode } from '../core/provenance';
import { shortJobId } from '../core/jobs';

/**
 * Categorical palette (Tableau 20: the Tableau 10 hues and their tints,
 * without its red, which would read as "failed"). Indexed by a hash of the
 * pattern name, not by order, so a pattern keeps its colour when others are
 * added or filtered out.
 */
export const PATTERN_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#a0cbe8',
  '#ffbe7d',
  '#8cd17d',
  '#b6992d',
  '#499894',
  '#86bcb6',
  '#f1ce63',
  '#d37295',
  '#fabfd2',
  '#d4a6c8'
];

/** Colour used to mark failed jobs (border and badge). */
export const FAILED_COLOUR = '#d62728';

/** Text colours chosen by contrast with a node's fill. */
export const DARK_TEXT = '#111111';
export const LIGHT_TEXT = '#ffffff';

/** 32-bit FNV-1a hash of `text`: stable across sessions and machines. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The colour of one pattern: depends on its name only. */
export function patternColour(name: string): string {
  return PATTERN_PALETTE[stableHash(name) % PATTERN_PALETTE.length];
}

/** Colours of patterns (sorted by name, for the legend). */
export function patternColours(names: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(names)].sort();
  return new Map(sorted.map(n => [n, patternColour(n)]));
}

/** WCAG relative luminance of a `#rgb` / `#rrggbb` colour (0 black … 1 white). */
export function relativeLuminance(hex: string): number {
  let h = hex.replace(/^#/, '');
  if (h.length === 3) {
    h = h.replace(/./g, c => c + c);
  }
  const channel = (i: number) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Dark or light text, whichever reads better on `fill`. */
export function textColourFor(fill: string): string {
  return contrastRatio(fill, DARK_TEXT) >= contrastRatio(fill, LIGHT_TEXT) ? DARK_TEXT : LIGHT_TEXT;
}

/** Last segment of a workgroup-relative path. */
export function baseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

export interface IReportGroup {
  /** `group:<signature>`. */
  key: string;
  /** Patterns of one member, in order of appearance (`Step1 → Step2`). */
  signature: string;
  /** Members (connected components) and their jobs. */
  runs: number;
  jobs: number;
  failed: number;
  expanded: boolean;
  /** Runs drawn while expanded. */
  shown: number;
}

export interface IReportNode {
  id: string;
  kind: 'job' | 'group';
  /** First line: the trigger file's name (jobs), the patterns (groups). */
  label: string;
  /** Second line: short id and status (jobs), counts (groups). */
  sublabel: string;
  colour: string;
  textColour: string;
  failed: boolean;
  width: number;
  height: number;
  /** Hover text. */
  title: string;
  job?: IProvenanceNode;
  group?: IReportGroup;
}

export interface IReportEdge {
  from: string;
  to: string;
  /** The file the parent wrote and the child was triggered by. */
  label: string;
}

export interface IReportOptions {
  /** Group keys to draw expanded. */
  expanded?: ReadonlySet<string>;
  /** A job to draw whatever the grouping (a search result). */
  focus?: string | null;
  /** Fold nothing while the graph has at most this many jobs (default 150). */
  groupOver?: number;
  /** Fold a signature once it has more than this many runs (default 12). */
  groupRuns?: number;
  /** Runs drawn by an expanded group (default 100). */
  pageSize?: number;
  /** Most job nodes drawn; the newest runs win (default 2,000). */
  maxNodes?: number;
}

export interface IReportGraph {
  nodes: IReportNode[];
  edges: IReportEdge[];
  colours: Map<string, string>;
  groups: IReportGroup[];
  /** Jobs in the graph; jobs drawn (not folded) and left out by `maxNodes`. */
  total: number;
  drawnJobs: number;
  omitted: number;
}

/** Width of a node fitting `label` (bold 12 px) and `sublabel` (10 px), capped. */
function nodeWidth(label: string, sublabel: string): number {
  return Math.min(220, Math.max(110, Math.ceil(7.2 * label.length) + 20, Math.ceil(6 * sublabel.length) + 20));
}

/** The node of one job: trigger file's name, short id · status. */
export function jobNode(job: IProvenanceNode): IReportNode {
  const failed = job.status === 'failed';
  const label = job.trigger ? baseName(job.trigger) : job.pattern;
  const sublabel = `${shortJobId(job.id)} · ${job.status}`;
  const colour = patternColour(job.pattern);
  const title = [
    job.trigger || '(no trigger file)',
    `job ${job.id}`,
    `pattern ${job.pattern}, recipe ${job.recipe}`,
    `status ${job.status}`,
    `created ${job.created}`,
    ...(job.error ? [`error: ${job.error}`] : []),
    ...(job.filesWritten.length ? [`wrote ${job.filesWritten.join(', ')}`] : [])
  ].join('\n');
  return {
    id: job.id,
    kind: 'job',
    label,
    sublabel,
    colour,
    textColour: textColourFor(colour),
    failed,
    width: nodeWidth(label, sublabel),
    height: 40,
    title,
    job
  };
}

function groupNode(group: IReportGroup, firstPattern: string): IReportNode {
  const label = group.signature;
  const what =
    group.runs === group.jobs
      ? `${group.jobs.toLocaleString('en')} jobs`
      : `${group.runs.toLocaleString('en')} runs, ${group.jobs.toLocaleString('en')} jobs`;
  const state = group.expanded ? `▾ ${group.shown.toLocaleString('en')} shown of` : '▸';
  const sublabel = `${state} ${what}${group.failed ? ` · ${group.failed.toLocaleString('en')} failed` : ''}`;
  const colour = patternColour(firstPattern);
  return {
    id: group.key,
    kind: 'group',
    label,
    sublabel,
    colour,
    textColour: textColourFor(colour),
    failed: group.failed > 0,
    // Not capped like job nodes: the counts must stay readable.
    width: Math.max(180, Math.ceil(7.5 * label.length) + 24, Math.ceil(6.2 * sublabel.length) + 24),
    height: 46,
    title: `${label}: ${what}${group.failed ? `, ${group.failed} failed` : ''}\nClick to ${group.expanded ? 'fold' : 'unfold'}; search to find one job.`,
    group
  };
}

/** Connected components of the jobs (by index, each in id order). */
export function components(graph: IProvenanceGraph): number[][] {
  const index = new Map(graph.jobs.map((j, i) => [j.id, i]));
  const parent = graph.jobs.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (const e of graph.edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a !== undefined && b !== undefined) {
      parent[find(a)] = find(b);
    }
  }
  const byRoot = new Map<number, number[]>();
  graph.jobs.forEach((_, i) => {
    const r = find(i);
    const list = byRoot.get(r);
    if (list) {
      list.push(i);
    } else {
      byRoot.set(r, [i]);
    }
  });
  return [...byRoot.values()];
}

/** Patterns of a component in order of appearance: what its runs have in common. */
function signatureOf(jobs: IProvenanceNode[], members: number[]): string {
  return [...new Set(members.map(i => jobs[i].pattern))].join(' → ');
}

/** Decide what is drawn: job nodes of shown components, and group nodes. */
function foldComponents(graph: IProvenanceGraph, options: IReportOptions) {
  const comps = components(graph);
  const bySignature = new Map<string, number[][]>();
  for (const c of comps) {
    const s = signatureOf(graph.jobs, c);
    const list = bySignature.get(s);
    if (list) {
      list.push(c);
    } else {
      bySignature.set(s, [c]);
    }
  }
  const focusIndex = options.focus ? graph.jobs.findIndex(j => j.id === options.focus) : -1;
  const hasFocus = (c: number[]) => focusIndex >= 0 && c.includes(focusIndex);
  // Newest first (a component's last job is its newest: ids sort by time).
  const newest = (a: number[], b: number[]) => b[b.length - 1] - a[a.length - 1];
  const fold = graph.jobs.length > (options.groupOver ?? 150);
  const groups: { group: IReportGroup; first: string }[] = [];
  const shown: number[][] = [];
  for (const [signature, list] of bySignature) {
    if (!fold || list.length <= (options.groupRuns ?? 12)) {
      shown.push(...list);
      continue;
    }
    const key = `group:${signature}`;
    const expanded = options.expanded?.has(key) ?? false;
    const sorted = [...list].sort((a, b) => (hasFocus(a) ? -1 : hasFocus(b) ? 1 : newest(a, b)));
    const drawn = expanded ? sorted.slice(0, options.pageSize ?? 100) : sorted.filter(hasFocus);
    shown.push(...drawn);
    let jobs = 0;
    let failed = 0;
    for (const c of list) {
      jobs += c.length;
      failed += c.filter(i => graph.jobs[i].status === 'failed').length;
    }
    const group = { key, signature, runs: list.length, jobs, failed, expanded, shown: drawn.length };
    groups.push({ group, first: graph.jobs[list[0][0]].pattern });
  }
  return { groups, shown: shown.sort((a, b) => (hasFocus(a) ? -1 : hasFocus(b) ? 1 : newest(a, b))) };
}

/** Ids of group nodes (runs folded by shape, fan-outs and long chains): a click (un)folds them. */
export function isGroupId(id: string): boolean {
  return /^(group|fan|chain):/.test(id);
}

/** A fold inside a run: leaf children of one parent, or the middle of a long chain. */
interface IInnerFold {
  group: IReportGroup;
  pattern: string;
  /** Drawn jobs the fold node hangs between. */
  from: string;
  to?: string;
}

/**
 * Fold what makes one run too big to read: more than `limit` leaf children
 * of one pattern under one parent (a fan-out), and chains of more than
 * `limit` single-parent, single-child jobs (a loop), keeping their two ends.
 */
function foldInside(
  jobs: IProvenanceNode[],
  kept: number[],
  edges: IProvenanceGraph['edges'],
  options: IReportOptions
) {
  const limit = options.groupRuns ?? 12;
  const at = new Map(kept.map(i => [jobs[i].id, i]));
  const children = new Map<number, number[]>();
  const parentOf = new Map<number, number>();
  for (const e of edges) {
    const [a, b] = [at.get(e.from), at.get(e.to)];
    if (a !== undefined && b !== undefined) {
      const list = children.get(a);
      if (list) {
        list.push(b);
      } else {
        children.set(a, [b]);
      }
      parentOf.set(b, a);
    }
  }
  const focus = options.focus ? at.get(options.focus) : undefined;
  const hidden = new Set<number>();
  const folds: IInnerFold[] = [];
  const fold = (key: string, members: number[], from: number, to?: number) => {
    const expanded = options.expanded?.has(key) ?? false;
    // Newest first; the focus is never folded away.
    const order = [...members].sort((a, b) => (a === focus ? -1 : b === focus ? 1 : b - a));
    const shown = expanded ? order.slice(0, options.pageSize ?? 100) : order.filter(i => i === focus);
    const drawn = new Set(shown);
    order.filter(i => !drawn.has(i)).forEach(i => hidden.add(i));
    const failed = members.filter(i => jobs[i].status === 'failed').length;
    const signature = [...new Set(members.map(i => jobs[i].pattern))].join(' → ');
    const group = { key, signature, runs: members.length, jobs: members.length, failed, expanded, shown: shown.length };
    folds.push({
      group,
      pattern: jobs[members[0]].pattern,
      from: jobs[from].id,
      to: to === undefined ? undefined : jobs[to].id
    });
  };
  for (const [parent, list] of children) {
    const leaves = new Map<string, number[]>();
    for (const c of list) {
      if (!children.has(c)) {
        const same = leaves.get(jobs[c].pattern);
        if (same) {
          same.push(c);
        } else {
          leaves.set(jobs[c].pattern, [c]);
        }
      }
    }
    for (const [pattern, members] of leaves) {
      if (members.length > limit) {
        fold(`fan:${jobs[parent].id}:${pattern}`, members, parent);
      }
    }
  }
  const linear = (i: number) => parentOf.has(i) && children.get(i)?.length === 1;
  for (const i of kept) {
    if (!linear(i) || linear(parentOf.get(i)!)) {
      continue; // not the start of a chain
    }
    const path = [i];
    // (The length guard stops a malformed parent cycle.)
    while (linear(children.get(path[path.length - 1])![0]) && path.length <= kept.length) {
      path.push(children.get(path[path.length - 1])![0]);
    }
    if (path.length > limit && (focus === undefined || !path.slice(2, -2).includes(focus))) {
      fold(`chain:${jobs[path[2]].id}`, path.slice(2, -2), path[1], path[path.length - 2]);
    }
  }
  return { hidden, folds };
}

/** Jobs, edges and inner fold nodes of the runs kept, the newest first, at most `maxNodes`. */
function drawRuns(graph: IProvenanceGraph, shown: number[][], options: IReportOptions) {
  const all = shown.flat();
  const { hidden, folds } = foldInside(graph.jobs, all, graph.edges, options);
  const maxNodes = options.maxNodes ?? 2000;
  const kept: number[] = [];
  let omitted = 0;
  for (const c of shown) {
    const visible = c.filter(i => !hidden.has(i));
    if (kept.length + visible.length <= maxNodes || kept.length === 0) {
      kept.push(...visible);
    } else {
      omitted += c.length;
    }
  }
  const ids = new Set(kept.map(i => graph.jobs[i].id));
  const innerFolds = folds.filter(f => ids.has(f.from));
  const edges: IReportEdge[] = graph.edges
    .filter(e => ids.has(e.from) && ids.has(e.to))
    .map(e => ({ from: e.from, to: e.to, label: e.path }));
  for (const f of innerFolds) {
    edges.push({ from: f.from, to: f.group.key, label: '' });
    if (f.to && ids.has(f.to)) {
      edges.push({ from: f.group.key, to: f.to, label: '' });
    }
  }
  return { kept, omitted, innerFolds, edges };
}

/**
 * The drawable report of `graph`: group nodes for repeated runs (listed
 * first), then the jobs of the other runs, newest runs first, with long
 * fan-outs and chains inside a run folded too.
 */
export function reportGraph(graph: IProvenanceGraph, options: IReportOptions = {}): IReportGraph {
  const { groups, shown } = foldComponents(graph, options);
  const { kept, omitted, innerFolds, edges } = drawRuns(graph, shown, options);
  const nodes = [...groups.map(g => groupNode(g.group, g.first)), ...kept.map(i => jobNode(graph.jobs[i]))];
  // Inner folds sit among their run's jobs (the layout packs runs by first node).
  nodes.push(...innerFolds.map(f => groupNode(f.group, f.pattern)));
  return {
    nodes,
    edges,
    colours: patternColours(graph.jobs.map(j => j.pattern)),
    groups: [...groups.map(g => g.group), ...innerFolds.map(f => f.group)],
    total: graph.jobs.length,
    drawnJobs: kept.length,
    omitted
  };
}

/**
 * Jobs matching a search, newest first: part of the trigger path, part of
 * the job id, or the exact pattern name (case-insensitive).
 */
export function searchJobs(graph: IProvenanceGraph, query: string): IProvenanceNode[] {
  const q = query.trim().toLowerCase();
  if (!q) {
    return [];
  }
  const hits = graph.jobs.filter(
    j => j.trigger.toLowerCase().includes(q) || j.id.toLowerCase().includes(q) || j.pattern.toLowerCase() === q
  );
  return hits.reverse();
}
