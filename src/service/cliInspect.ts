/**
 * The commands that only read a workgroup: `meow report` (the provenance
 * graph of its jobs) and `meow validate` (every pattern and recipe file).
 * Both are safe next to a running service: they write nothing.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { globSyntaxText } from '../core/glob';
import { recipeVariableWarnings } from '../core/patternWarnings';
import { recipeVariables } from '../core/recipe';
import { formatIssue } from '../core/validation';
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

/** Text handed to a stream at once: large enough that writes are few, small enough to stream. */
const CHUNK_CHARS = 1 << 16;

/**
 * Text rendering of a provenance graph: every chain as a tree from the file
 * that started it, each job with the files it wrote, e.g.
 *
 *   start/Alpha.txt
 *   └─ Pattern_One → Append  done  job …  wrote first/Alpha.txt
 *      └─ Pattern_Two → Append  done  job …  wrote second/Alpha.txt
 */
export function formatReport(graph: IProvenanceGraph): string {
  return [...reportLines(graph)].join('\n');
}

type Node = IProvenanceGraph['jobs'][number];

/** The lines of `formatReport`, one at a time (linear in jobs and edges). */
export function* reportLines(graph: IProvenanceGraph): Generator<string> {
  yield `${graph.jobs.length} job(s), ${graph.edges.length} edge(s)`;
  const byId = new Map(graph.jobs.map(j => [j.id, j]));
  const children = new Map<string, Node[]>();
  for (const edge of graph.edges) {
    const child = byId.get(edge.to);
    if (child) {
      push(children, edge.from, child);
    }
  }
  const describe = (job: Node) => {
    const took =
      job.started && job.finished
        ? ` ${((Date.parse(job.finished) - Date.parse(job.started)) / 1000).toFixed(2)} s`
        : '';
    const wrote = job.filesWritten.length ? `  wrote ${job.filesWritten.join(', ')}` : '';
    const error = job.error ? `  (${job.error.split('\n')[0]})` : '';
    return `${job.pattern} → ${job.recipe}  ${job.status}${took}  job ${job.id}${wrote}${error}`;
  };
  const byTrigger = new Map<string, Node[]>();
  for (const job of graph.jobs) {
    if (!job.parent || !byId.has(job.parent)) {
      push(byTrigger, job.trigger, job);
    }
  }
  for (const [trigger, roots] of byTrigger) {
    yield trigger;
    for (const root of roots) {
      // Depth first without recursion: a chain can be thousands of jobs long.
      const seen = new Set<string>();
      const stack: { job: Node; indent: string }[] = [{ job: root, indent: '' }];
      while (stack.length) {
        const { job, indent } = stack.pop()!;
        yield `${indent}└─ ${describe(job)}`;
        if (seen.has(job.id)) {
          continue; // provenance is a DAG, but never loop on bad records
        }
        seen.add(job.id);
        const kids = children.get(job.id) ?? [];
        for (let i = kids.length - 1; i >= 0; i--) {
          stack.push({ job: kids[i], indent: indent + '   ' });
        }
      }
    }
  }
}

/**
 * The graph as JSON text in pieces, the same text as
 * `JSON.stringify(graph, null, 2)`, without holding all of it at once.
 */
export function* reportJson(graph: IProvenanceGraph): Generator<string> {
  const indent = (text: string) => text.split('\n').join('\n    ');
  const list = function* (name: string, items: unknown[], last: boolean) {
    if (!items.length) {
      yield `  "${name}": []${last ? '' : ','}\n`;
      return;
    }
    yield `  "${name}": [\n`;
    for (let i = 0; i < items.length; i++) {
      yield `    ${indent(JSON.stringify(items[i], null, 2))}${i < items.length - 1 ? ',' : ''}\n`;
    }
    yield `  ]${last ? '' : ','}\n`;
  };
  yield '{\n';
  yield* list('jobs', graph.jobs, false);
  yield* list('edges', graph.edges, true);
  yield '}';
}

/**
 * Write text pieces to a stream in chunks, and resolve once the last one
 * has been handed to the operating system. The CLI
 * exits right after a command (process.exit), and stdout into a pipe is
 * asynchronous: without the wait a large report was cut at whatever had
 * drained by then (64 KB into a pipe nobody read yet).
 */
export async function writeAll(stream: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let buffer = '';
  // One piece in flight at a time: its callback fires once the operating
  // system has it, which is also the stream's back-pressure.
  const flush = (text: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(text, err => (err ? reject(err) : resolve()));
    });
  for (const piece of pieces) {
    buffer += piece;
    if (buffer.length >= CHUNK_CHARS) {
      await flush(buffer);
      buffer = '';
    }
  }
  if (buffer) {
    await flush(buffer);
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}

export async function report(
  workgroup: string,
  options: IReportOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr
): Promise<number> {
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
  await writeAll(
    err,
    warnings.map(w => `warning: ${w}\n`)
  );
  const text = options.format === 'json' ? reportJson(graph) : withNewlines(reportLines(graph));
  await writeAll(out, chain(text, ['\n']));
  return 0;
}

function* withNewlines(lines: Iterable<string>): Generator<string> {
  let first = true;
  for (const line of lines) {
    yield first ? line : '\n' + line;
    first = false;
  }
}

function* chain(...parts: Iterable<string>[]): Generator<string> {
  for (const part of parts) {
    yield* part;
  }
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
  const warned = new Map(monitor.warnings);
  // Names in input, parameters, outputs and sweep the recipe never assigns
  // (the check the form and the API make), now that the recipes are known.
  for (const p of workflow.patterns.values()) {
    const recipe = workflow.recipes.get(p.recipe);
    const found = recipe ? recipeVariableWarnings(p, recipeVariables(recipe.notebook)) : [];
    if (found.length) {
      const file = patternFile(root, options.stateDir, p.name);
      const lines = found.map(w => `${formatIssue('pattern', p.name, w)} (warning)`);
      warned.set(file, [warned.get(file), ...lines].filter(Boolean).join('\n'));
    }
  }
  for (const [file, warning] of warned) {
    print(file, warning);
  }
  process.stdout.write(
    `${workflow.patterns.size} pattern(s), ${workflow.recipes.size} recipe(s), ${workflow.rules.size} rule(s)` +
      `, ${monitor.problems.size} file(s) with problems` +
      (warned.size ? `, ${warned.size} with warnings` : '') +
      '\n'
  );
  for (const p of workflow.patternsWithoutRecipe()) {
    process.stdout.write(`note: pattern ${p.name} names recipe "${escapeControl(p.recipe)}", which does not exist\n`);
  }
  // Which glob rules a pattern follows is not visible in a thesis file.
  for (const p of workflow.patterns.values()) {
    const t = p.trigger;
    if (t.kind === 'file' && t.glob === 'fnmatch') {
      const why = p.format === 'thesis' ? 'thesis format' : 'glob: fnmatch';
      process.stdout.write(
        `note: pattern ${p.name} (${why}) matches "${escapeControl(t.path)}" as mig_meow did (${globSyntaxText('fnmatch')})\n`
      );
    }
  }
  return monitor.problems.size ? 1 : 0;
}

/** A pattern's file, workgroup-relative (`.yaml`, or `.yml` when only that exists). */
function patternFile(root: string, stateDir: string, name: string): string {
  const rel = (ext: string) => path.posix.join(stateDir.split(path.sep).join('/'), 'patterns', `${name}${ext}`);
  return existsSync(path.join(root, rel('.yaml'))) || !existsSync(path.join(root, rel('.yml')))
    ? rel('.yaml')
    : rel('.yml');
}
