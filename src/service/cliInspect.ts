/**
 * The commands that only read a workgroup: `meow report` (the provenance
 * graph of its jobs) and `meow validate` (every pattern and recipe file).
 * Both are safe next to a running service: they write nothing.
 */
import * as path from 'path';
import { provenanceGraph, IProvenanceGraph } from '../core/provenance';
import type { IJob } from '../core/types';
import { Workflow } from '../core/workflow';
import { JobStore } from './jobs/jobStore';
import type { ILogger } from './log';
import { escapeControl } from './log';
import { StateMonitor } from './monitors/stateMonitor';

export interface IReportOptions {
  format: 'json' | 'text';
  stateDir: string;
  job?: string;
  path?: string;
  pattern?: string;
  recipe?: string;
  before?: string;
  after?: string;
}

/**
 * Text rendering of a provenance graph: every chain as a tree from the file
 * that started it, each job with the files it wrote, e.g.
 *
 *   start/Alpha.txt
 *   └─ Pattern_One → Append  done  job …  wrote first/Alpha.txt
 *      └─ Pattern_Two → Append  done  job …  wrote second/Alpha.txt
 */
export function formatReport(graph: IProvenanceGraph): string {
  const lines: string[] = [`${graph.jobs.length} job(s), ${graph.edges.length} edge(s)`];
  const byId = new Map(graph.jobs.map(j => [j.id, j]));
  const children = new Map<string, IProvenanceGraph['jobs']>();
  for (const edge of graph.edges) {
    const child = byId.get(edge.to);
    if (child) {
      children.set(edge.from, [...(children.get(edge.from) ?? []), child]);
    }
  }
  const describe = (job: IProvenanceGraph['jobs'][number]) => {
    const took =
      job.started && job.finished
        ? ` ${((Date.parse(job.finished) - Date.parse(job.started)) / 1000).toFixed(2)} s`
        : '';
    const wrote = job.filesWritten.length ? `  wrote ${job.filesWritten.join(', ')}` : '';
    const error = job.error ? `  (${job.error.split('\n')[0]})` : '';
    return `${job.pattern} → ${job.recipe}  ${job.status}${took}  job ${job.id}${wrote}${error}`;
  };
  const walk = (job: IProvenanceGraph['jobs'][number], indent: string, seen: Set<string>) => {
    lines.push(`${indent}└─ ${describe(job)}`);
    if (seen.has(job.id)) {
      return; // provenance is a DAG, but never loop on bad records
    }
    seen.add(job.id);
    for (const child of children.get(job.id) ?? []) {
      walk(child, indent + '   ', seen);
    }
  };
  const roots = graph.jobs.filter(j => !j.parent || !byId.has(j.parent));
  const byTrigger = new Map<string, typeof roots>();
  for (const job of roots) {
    byTrigger.set(job.trigger, [...(byTrigger.get(job.trigger) ?? []), job]);
  }
  for (const [trigger, jobs] of byTrigger) {
    lines.push(trigger);
    for (const job of jobs) {
      walk(job, '', new Set());
    }
  }
  return lines.join('\n');
}

export async function report(workgroup: string, options: IReportOptions): Promise<number> {
  const root = path.resolve(workgroup);
  const warnings: string[] = [];
  const store = new JobStore({
    readOnly: true,
    jobsDir: path.join(root, options.stateDir, 'jobs'),
    log: { debug: () => undefined, info: () => undefined, error: m => warnings.push(m), warn: m => warnings.push(m) }
  });
  const jobs: IJob[] = await store.load();
  const graph = provenanceGraph(jobs, {
    job: options.job,
    path: options.path,
    pattern: options.pattern,
    recipe: options.recipe,
    before: options.before,
    after: options.after
  });
  warnings.forEach(w => process.stderr.write(`warning: ${w}\n`));
  process.stdout.write(
    options.format === 'json' ? JSON.stringify(graph, null, 2) + '\n' : formatReport(graph) + '\n'
  );
  return 0;
}

export interface IValidateOptions {
  stateDir: string;
  maxDefinitionBytes?: number;
}

export async function validate(workgroup: string, options: IValidateOptions): Promise<number> {
  const root = path.resolve(workgroup);
  const workflow = new Workflow();
  const quiet: ILogger = { debug: () => 0, info: () => 0, warn: () => 0, error: () => 0 };
  const monitor = new StateMonitor({
    root,
    stateDir: options.stateDir,
    workflow,
    onChanges: () => 0,
    log: quiet,
    maxDefinitionBytes: options.maxDefinitionBytes
  });
  await monitor.start();
  await monitor.stop();
  // Escaped like log lines: file names and values come from the files.
  const print = (file: string, text: string) =>
    process.stdout.write(`${escapeControl(file)}:\n  ${text.split('\n').map(escapeControl).join('\n  ')}\n`);
  for (const [file, problem] of monitor.problems) {
    print(file, problem);
  }
  for (const [file, warning] of monitor.warnings) {
    print(file, warning);
  }
  process.stdout.write(
    `${workflow.patterns.size} pattern(s), ${workflow.recipes.size} recipe(s), ${workflow.rules.size} rule(s)` +
      `, ${monitor.problems.size} file(s) with problems` +
      (monitor.warnings.size ? `, ${monitor.warnings.size} with warnings` : '') +
      '\n'
  );
  for (const p of workflow.patternsWithoutRecipe()) {
    process.stdout.write(`note: pattern ${p.name} names recipe "${escapeControl(p.recipe)}", which does not exist\n`);
  }
  return monitor.problems.size ? 1 : 0;
}
