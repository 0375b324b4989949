/**
 * The workflow graph of the Workflow panel, as plain data (the d3 view only
 * draws it):
 *
 * - a node per pattern: `active` (green) when its recipe exists, `missing`
 *   (red) when it does not, `invalid` when its file does not parse;
 * - a node per trigger glob (shared by patterns with the same glob) with an
 *   edge glob → pattern;
 * - a node per output of a pattern (`outputs` values that are strings) with
 *   an edge pattern → output;
 * - an edge output → trigger glob where a file written to that output can
 *   match the glob, i.e. the output can start another pattern.
 *
 * Outputs are templates with keywords (`{VGRID}/first/{FILENAME}`); they are
 * read as globs over workgroup-relative paths (`first/*`) and two globs
 * "can match" when some path could match both (decided segment by segment,
 * erring towards "yes" when `**` is involved).
 */
import type { IPatternInfo, IRecipeInfo } from '../core/api';
import { globBase, globMatches } from '../core/glob';
import type { IPattern } from '../core/types';

export type WorkflowNodeKind = 'pattern' | 'trigger' | 'output';
export type PatternState = 'active' | 'missing' | 'invalid';

export interface IWorkflowNode {
  id: string;
  kind: WorkflowNodeKind;
  label: string;
  /** Pattern nodes: green / red / invalid. */
  state?: PatternState;
  /** Pattern name (pattern and output nodes). */
  pattern?: string;
  /** Hover details, one line each. */
  details: string[];
}

export interface IWorkflowEdge {
  from: string;
  to: string;
  kind: 'triggers' | 'writes' | 'matches';
}

/** `from` pattern's output `variable` can trigger pattern `to`. */
export interface IPatternLink {
  from: string;
  to: string;
  variable: string;
}

export interface IWorkflowGraph {
  nodes: IWorkflowNode[];
  edges: IWorkflowEdge[];
  links: IPatternLink[];
}

/** Keywords standing for one path segment (or part of one). */
const SEGMENT_KEYWORDS = ['FILENAME', 'PREFIX', 'EXTENSION', 'JOB'];
/** Keywords standing for any number of segments. */
const MULTI_KEYWORDS = ['REL_PATH', 'REL_DIR', 'PATH', 'DIR'];
const ROOT_KEYWORDS = ['VGRID', 'BASE'];

/**
 * An output template as a glob over workgroup-relative paths, or undefined
 * when it cannot land inside the workgroup (absolute, not a string).
 * `{VGRID}/first/{FILENAME}` → `first/*`; `{DIR}/x.txt` → `**\/x.txt`.
 */
export function outputGlob(template: unknown): string | undefined {
  if (typeof template !== 'string' || template.trim() === '') {
    return undefined;
  }
  let t = template.trim().replace(/\\/g, '/');
  const rootRe = new RegExp(`^\\{(${ROOT_KEYWORDS.join('|')})\\}/*`);
  if (rootRe.test(t)) {
    t = t.replace(rootRe, '');
  } else if (t.startsWith('/')) {
    return undefined;
  }
  t = t.replace(/^\.\//, '');
  t = t.replace(new RegExp(`\\{(${MULTI_KEYWORDS.join('|')})\\}`, 'g'), '**');
  t = t.replace(new RegExp(`\\{(${SEGMENT_KEYWORDS.join('|')})\\}`, 'g'), '*');
  t = t.replace(/\{(VGRID|BASE)\}/g, '**');
  // A segment made of `**` plus other text is just `*` within the segment.
  t = t
    .split('/')
    .map(seg => (seg.includes('**') && seg !== '**' ? seg.replace(/\*\*+/g, '*') : seg))
    .filter(seg => seg !== '' && seg !== '.')
    .join('/');
  return t === '' ? undefined : t;
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** A literal sample path segment matching glob segment `seg`. */
function sampleSegment(seg: string): string {
  return seg
    .replace(/\{([^,}]*)[^}]*\}/g, '$1')
    .replace(/\[!?([^\]])[^\]]*\]/g, '$1')
    .replace(/[@!+*?]\(([^|)]*)[^)]*\)/g, '$1')
    .replace(/\*+/g, 'x')
    .replace(/\?/g, 'x');
}

function segmentsCanMatch(a: string, b: string): boolean {
  const aWild = GLOB_CHARS.test(a);
  const bWild = GLOB_CHARS.test(b);
  if (!aWild && !bWild) {
    return a === b;
  }
  if (!aWild) {
    return globMatches(b, a);
  }
  if (!bWild) {
    return globMatches(a, b);
  }
  return globMatches(b, sampleSegment(a)) || globMatches(a, sampleSegment(b));
}

/** Whether some workgroup-relative path could match both globs. */
export function globsCanOverlap(a: string, b: string): boolean {
  const as = a.split('/');
  const bs = b.split('/');
  if (as.includes('**') || bs.includes('**')) {
    // Compare the literal directories both start with.
    const ab = globBase(a).split('/').filter(Boolean);
    const bb = globBase(b).split('/').filter(Boolean);
    const n = Math.min(ab.length, bb.length);
    for (let i = 0; i < n; i++) {
      if (ab[i] !== bb[i]) {
        return false;
      }
    }
    return true;
  }
  if (as.length !== bs.length) {
    return false;
  }
  return as.every((seg, i) => segmentsCanMatch(seg, bs[i]));
}

function triggerText(p: IPattern): string {
  const t = p.trigger;
  switch (t.kind) {
    case 'file':
      return t.path;
    case 'network':
      return `port ${t.port}`;
    case 'schedule':
      return t.cron !== undefined ? `schedule ${t.cron}` : `every ${t.everyMs! / 1000}s`;
    case 'manual':
      return 'manual';
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Build the graph from the service's lists. */
export function buildWorkflowGraph(
  patterns: readonly IPatternInfo[],
  recipes: readonly IRecipeInfo[]
): IWorkflowGraph {
  const recipeNames = new Set(recipes.filter(r => !r.problem).map(r => r.name));
  const nodes: IWorkflowNode[] = [];
  const edges: IWorkflowEdge[] = [];
  const links: IPatternLink[] = [];
  const triggers = new Map<string, IWorkflowNode>();
  /** glob → patterns it triggers */
  const triggered = new Map<string, string[]>();
  const outputs: { node: IWorkflowNode; glob: string; pattern: string; variable: string }[] = [];

  for (const info of patterns) {
    const p = info.pattern;
    const id = `pattern:${info.name}`;
    if (!p) {
      nodes.push({
        id,
        kind: 'pattern',
        label: info.name,
        state: 'invalid',
        pattern: info.name,
        details: [`file: ${info.file}`, `problem: ${info.problem ?? 'cannot be read'}`]
      });
      continue;
    }
    const state: PatternState = recipeNames.has(p.recipe) ? 'active' : 'missing';
    const details = [
      `recipe: ${p.recipe}${state === 'missing' ? ' (missing: no rule, nothing runs)' : ''}`,
      `trigger: ${triggerText(p)}`
    ];
    if (p.input) {
      details.push(`input: ${p.input}`);
    }
    for (const [k, v] of Object.entries(p.parameters)) {
      details.push(`parameter ${k} = ${show(v)}`);
    }
    for (const [k, v] of Object.entries(p.sweep)) {
      details.push(`sweep ${k} = ${v.start}..${v.stop} step ${v.step}`);
    }
    if (info.problem) {
      details.push(`problem: ${info.problem}`);
    }
    nodes.push({ id, kind: 'pattern', label: info.name, state, pattern: info.name, details });

    if (p.trigger.kind === 'file') {
      const glob = p.trigger.path;
      let t = triggers.get(glob);
      if (!t) {
        t = { id: `trigger:${glob}`, kind: 'trigger', label: glob, details: [`trigger glob: ${glob}`] };
        triggers.set(glob, t);
        nodes.push(t);
        triggered.set(glob, []);
      }
      t.details.push(`triggers ${info.name} on ${p.trigger.events.join(', ')}`);
      triggered.get(glob)!.push(info.name);
      edges.push({ from: t.id, to: id, kind: 'triggers' });
    }

    for (const [variable, value] of Object.entries(p.outputs)) {
      const glob = outputGlob(value);
      const node: IWorkflowNode = {
        id: `output:${info.name}:${variable}`,
        kind: 'output',
        label: typeof value === 'string' ? value.replace(/^\{(VGRID|BASE)\}\//, '') : show(value),
        pattern: info.name,
        details: [`output ${variable} of ${info.name}`, `value: ${show(value)}`]
      };
      if (glob) {
        node.details.push(`as glob: ${glob}`);
        outputs.push({ node, glob, pattern: info.name, variable });
      }
      nodes.push(node);
      edges.push({ from: id, to: node.id, kind: 'writes' });
    }
  }

  for (const out of outputs) {
    for (const [glob, names] of triggered) {
      if (globsCanOverlap(out.glob, glob)) {
        edges.push({ from: out.node.id, to: `trigger:${glob}`, kind: 'matches' });
        out.node.details.push(`can trigger: ${names.join(', ')}`);
        for (const to of names) {
          links.push({ from: out.pattern, to, variable: out.variable });
        }
      }
    }
  }
  return { nodes, edges, links };
}
