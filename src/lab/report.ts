/**
 * The provenance report as drawable data: one node per job coloured by its
 * pattern, failed jobs marked, one edge per file that triggered a child job
 * (labelled with the file path). The d3 view draws what this returns.
 */
import type { IProvenanceGraph, IProvenanceNode } from '../core/provenance';
import { shortJobId } from '../core/jobs';

/** Colour-blind friendly categorical palette (Tableau 10). */
export const PATTERN_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#86bcb6'
];

/** Colour used to mark failed jobs (border and badge). */
export const FAILED_COLOUR = '#d62728';

/** One colour per pattern, stable for a given set of names (sorted). */
export function patternColours(names: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(names)].sort();
  return new Map(sorted.map((n, i) => [n, PATTERN_PALETTE[i % PATTERN_PALETTE.length]]));
}

export interface IReportNode {
  id: string;
  /** First line: the pattern. */
  label: string;
  /** Second line: short id and status. */
  sublabel: string;
  colour: string;
  failed: boolean;
  width: number;
  height: number;
  job: IProvenanceNode;
  /** Hover text. */
  title: string;
}

export interface IReportEdge {
  from: string;
  to: string;
  /** The file the parent wrote and the child was triggered by. */
  label: string;
}

export function reportGraph(graph: IProvenanceGraph): {
  nodes: IReportNode[];
  edges: IReportEdge[];
  colours: Map<string, string>;
} {
  const colours = patternColours(graph.jobs.map(j => j.pattern));
  const nodes = graph.jobs.map(job => {
    const failed = job.status === 'failed';
    const label = job.pattern;
    const sublabel = `${shortJobId(job.id)} · ${job.status}`;
    const title = [
      `job ${job.id}`,
      `pattern ${job.pattern}, recipe ${job.recipe}`,
      `status ${job.status}`,
      `trigger ${job.trigger}`,
      `created ${job.created}`,
      ...(job.error ? [`error: ${job.error}`] : []),
      ...(job.filesWritten.length ? [`wrote ${job.filesWritten.join(', ')}`] : [])
    ].join('\n');
    return {
      id: job.id,
      label,
      sublabel,
      colour: colours.get(job.pattern)!,
      failed,
      // Bold 12px label ≈ 7.5 px a character, 10px sublabel ≈ 6 (see dagView).
      width: Math.max(120, Math.ceil(7.5 * label.length) + 20, 6 * sublabel.length + 20),
      height: 40,
      job,
      title
    };
  });
  const edges = graph.edges.map(e => ({ from: e.from, to: e.to, label: e.path }));
  return { nodes, edges, colours };
}
