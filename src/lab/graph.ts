/**
 * The workflow graph of the Workflow panel, as plain data (the d3 view only
 * draws it):
 *
 * - a node per pattern: `active` (green) when its recipe exists, `missing`
 *   (red) when it does not, `invalid` when its file does not parse;
 * - a node per trigger with an edge trigger → pattern, drawn by kind: a path
 *   glob for file events (shared by patterns with the same glob), a port
 *   (`:9000`, shared by the patterns on that port, as their listener is), a
 *   clock (`*\/10 * * * *`, `every 30s`), a person (manual; `approve
 *   review/*` when files wait for approval) and an absence (`no in/* for
 *   10m`);
 * - a node per output of a pattern (`outputs` values that are strings) with
 *   an edge pattern → output;
 * - an edge output → trigger glob where a file written to that output can
 *   match the glob, i.e. the output can start another pattern (or, for an
 *   approval glob, waits there for a person to approve it).
 *
 * Outputs are templates with keywords (`{VGRID}/first/{FILENAME}`); they are
 * read as globs over workgroup-relative paths (`first/*`) and two globs
 * "can match" when some path could match both (decided segment by segment,
 * erring towards "yes" when `**` is involved). A trigger glob in fnmatch
 * syntax (thesis-format patterns: `*` also matches `/`) is compared with
 * its own rules, and its node and pattern say so.
 */
import type { IPatternInfo, IRecipeInfo } from '../core/api';
import { GlobSyntax, globBase, globMatches, globSyntaxText } from '../core/glob';
import { describeResources } from '../core/executor';
import type { ExecutorKind, IPattern, TriggerKind } from '../core/types';
import { formatDuration } from '../core/timers';
import { formatSize } from '../core/pattern';
import { portText, scheduleText, triggerSummary } from './triggers';

export type WorkflowNodeKind = 'pattern' | 'trigger' | 'output';
export type PatternState = 'active' | 'missing' | 'invalid';

export interface IWorkflowNode {
  id: string;
  kind: WorkflowNodeKind;
  label: string;
  /** Pattern nodes: green / red / invalid. */
  state?: PatternState;
  /** Trigger nodes: what fires the patterns it points to. */
  trigger?: TriggerKind;
  /** Pattern name (pattern and output nodes). */
  pattern?: string;
  /** File trigger nodes (and their patterns) whose glob is not native: `fnmatch`. */
  glob?: GlobSyntax;
  /** Pattern nodes: the executor the pattern names, when it names one. */
  executor?: ExecutorKind;
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

/**
 * Whether some workgroup-relative path could match both globs: `a` a
 * native glob (an output), `b` in `bSyntax` (a trigger).
 */
export function globsCanOverlap(a: string, b: string, bSyntax: GlobSyntax = 'native'): boolean {
  if (bSyntax === 'fnmatch') {
    return fnmatchCanOverlap(a, b);
  }
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

/**
 * A native glob `a` against an fnmatch glob `b`, whose `*` crosses folders:
 * yes when a sample path of `a` matches `b`, else when their literal
 * folders agree and their literal file-name endings do (`*.txt` vs `*.csv`
 * cannot meet); errs towards "yes" like `**` above.
 */
function fnmatchCanOverlap(a: string, b: string): boolean {
  const sample = a
    .split('/')
    .map(seg => (seg === '**' ? 'x' : sampleSegment(seg)))
    .join('/');
  if (globMatches(b, sample, 'fnmatch')) {
    return true;
  }
  const ab = globBase(a).split('/').filter(Boolean);
  const bb = globBase(b, 'fnmatch').split('/').filter(Boolean);
  for (let i = 0; i < Math.min(ab.length, bb.length); i++) {
    if (ab[i] !== bb[i]) {
      return false;
    }
  }
  const aEnd = /[^*?[\]{}()!+@/]*$/.exec(a)![0];
  const bEnd = /[^*?[/]*$/.exec(b)![0];
  return aEnd.endsWith(bEnd) || bEnd.endsWith(aEnd);
}

function triggerText(p: IPattern): string {
  const t = p.trigger;
  switch (t.kind) {
    case 'file':
      return t.glob === 'fnmatch' ? `${t.path} (fnmatch)` : t.path;
    case 'network':
      return `port ${portText(t)}`;
    case 'schedule':
      return t.cron !== undefined ? `schedule ${t.cron}${t.timezone ? ` (${t.timezone})` : ''}` : scheduleText(t);
    case 'manual':
      return t.path ? `manual, files in ${t.path} wait for approval` : 'manual';
    case 'absent':
      return `absence: no ${t.path} for ${formatDuration(t.forMs)}`;
  }
  return (t as { kind: string }).kind;
}

/** The trigger node a pattern hangs from: id, label and its own details. */
function triggerNode(p: IPattern): {
  id: string;
  label: string;
  details: string[];
  glob?: string;
  syntax?: GlobSyntax;
} {
  const t = p.trigger;
  switch (t.kind) {
    case 'file':
      // The same text in the other syntax matches other files: another node.
      return t.glob === 'fnmatch'
        ? {
            id: `trigger:fnmatch:${t.path}`,
            label: `${t.path} (fnmatch)`,
            details: [`trigger glob: ${t.path}`, `globs match as in mig_meow (${globSyntaxText('fnmatch')})`],
            glob: t.path,
            syntax: 'fnmatch'
          }
        : { id: `trigger:${t.path}`, label: t.path, details: [`trigger glob: ${t.path}`], glob: t.path };
    case 'network': {
      const details = [`network listener on ${t.host ?? '127.0.0.1'}:${t.port}`];
      details.push(t.tls ? `TLS (certificate ${t.tls.cert})` : 'plain TCP');
      if (t.secret) {
        details.push('a shared secret is required');
      }
      if (t.maxBytes !== undefined) {
        details.push(`at most ${formatSize(t.maxBytes)} per message, ${t.maxConnections} connections at once`);
      }
      return { id: `port:${t.port}`, label: portText(t), details };
    }
    case 'schedule': {
      const text = scheduleText(t);
      const zone = t.cron !== undefined && t.timezone ? ` ${t.timezone}` : '';
      return {
        id: `clock:${text}${zone}`,
        label: `${text}${zone}`,
        details: [
          t.cron !== undefined ? `cron schedule: ${t.cron}${zone ? ` (time zone${zone})` : ''}` : `timer: ${text}`
        ]
      };
    }
    case 'manual':
      return {
        id: `person:${p.name}`,
        label: triggerSummary(t),
        details: t.path
          ? [`a person approves each file in ${t.path}`, 'approve waiting files or run it in the pattern list']
          : ['run by a person: Run in the pattern list, the API or meow trigger'],
        glob: t.path
      };
    case 'absent':
      return {
        id: `absent:${t.forMs}:${t.path}`,
        label: triggerSummary(t),
        details: [`fires once when no file matching ${t.path} appeared or changed for ${formatDuration(t.forMs)}`]
      };
  }
  const kind = (t as { kind: string }).kind;
  return { id: `trigger-kind:${kind}`, label: kind, details: [] };
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Build the graph from the service's lists. */
export function buildWorkflowGraph(patterns: readonly IPatternInfo[], recipes: readonly IRecipeInfo[]): IWorkflowGraph {
  const recipeNames = new Set(recipes.filter(r => !r.problem).map(r => r.name));
  const nodes: IWorkflowNode[] = [];
  const edges: IWorkflowEdge[] = [];
  const links: IPatternLink[] = [];
  const triggers = new Map<string, IWorkflowNode>();
  /** Trigger node id → its glob and the patterns it fires (file and approval globs). */
  const matchable = new Map<string, { glob: string; syntax?: GlobSyntax; patterns: string[] }>();
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
    if (p.trigger.kind === 'file' && p.trigger.glob === 'fnmatch') {
      const thesis = p.format === 'thesis' ? 'thesis format: ' : '';
      details.push(`${thesis}globs match as in mig_meow (${globSyntaxText('fnmatch')})`);
    }
    if (p.input) {
      details.push(`input: ${p.input}`);
    }
    for (const [k, v] of Object.entries(p.parameters)) {
      details.push(`parameter ${k} = ${show(v)}`);
    }
    for (const [k, v] of Object.entries(p.sweep)) {
      details.push(`sweep ${k} = ${v.start}..${v.stop} step ${v.step}`);
    }
    if (p.executor) {
      details.push(`executor: ${p.executor}`);
    }
    if (p.resources) {
      details.push(`resources: ${describeResources(p.resources)}`);
    }
    if (info.problem) {
      details.push(`problem: ${info.problem}`);
    }
    nodes.push({
      id,
      kind: 'pattern',
      label: info.name,
      state,
      pattern: info.name,
      details,
      ...(p.executor ? { executor: p.executor } : {}),
      ...(p.trigger.kind === 'file' && p.trigger.glob ? { glob: p.trigger.glob } : {})
    });

    const tn = triggerNode(p);
    let t = triggers.get(tn.id);
    if (!t) {
      t = { id: tn.id, kind: 'trigger', trigger: p.trigger.kind, label: tn.label, details: tn.details };
      if (tn.syntax) {
        t.glob = tn.syntax;
      }
      triggers.set(tn.id, t);
      nodes.push(t);
      if (tn.glob) {
        matchable.set(tn.id, { glob: tn.glob, syntax: tn.syntax, patterns: [] });
      }
    }
    t.details.push(
      p.trigger.kind === 'file'
        ? `triggers ${info.name} on ${p.trigger.events.join(', ')}`
        : p.trigger.kind === 'schedule'
          ? `triggers ${info.name} (missed firings: ${p.trigger.missed === 'skip' ? 'skipped' : 'run once'})`
          : `triggers ${info.name}`
    );
    matchable.get(tn.id)?.patterns.push(info.name);
    edges.push({ from: t.id, to: id, kind: 'triggers' });

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
    for (const [nodeId, { glob, syntax, patterns: names }] of matchable) {
      if (globsCanOverlap(out.glob, glob, syntax)) {
        edges.push({ from: out.node.id, to: nodeId, kind: 'matches' });
        out.node.details.push(
          nodeId.startsWith('person:') ? `waits for approval: ${names.join(', ')}` : `can trigger: ${names.join(', ')}`
        );
        for (const to of names) {
          links.push({ from: out.pattern, to, variable: out.variable });
        }
      }
    }
  }
  return { nodes, edges, links };
}
