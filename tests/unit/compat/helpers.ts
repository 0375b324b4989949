/**
 * The compatibility suite's vocabulary. Each case comes from one test of
 * mig_meow (0.37, the thesis's implementation) or meow_base (1.0.5, its
 * successor), named `file::test`, and is marked `agrees` (meow behaves as that
 * test asserts) or `differs` with the row of the README section "Coming from
 * mig_meow or meow_base" that documents why. A `differs` case asserts meow's
 * documented behaviour, so it fails if that changes without the README.
 *
 * Everything is observed through meow's own code: parsePattern for loading,
 * the Workflow's rules for matching, the core's keyword substitution,
 * sweeps and parameterisation, and a real MeowRunner (with a recording
 * conductor, no Jupyter) for rules and jobs.
 */
import { promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import { substituteKeywords } from '../../../src/core/keywords';
import { parameteriseNotebook } from '../../../src/core/parameterise';
import { parsePattern } from '../../../src/core/pattern';
import { toPythonLiteral } from '../../../src/core/pyvalue';
import { parseRecipeNotebook, parseRecipeYaml } from '../../../src/core/recipe';
import { sweepParameters } from '../../../src/core/sweep';
import type { IJob, INotebook, IPattern } from '../../../src/core/types';
import type { IValidationIssue } from '../../../src/core/validation';
import { Workflow } from '../../../src/core/workflow';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import type { IConductor, IExecutionRequest, IExecutionResult } from '../../../src/service/tokens';
import { makeWorkgroup, removeWorkgroup, writeFile } from '../../helpers/workgroup';

export const README_SECTION = 'Coming from mig_meow or meow_base';

/** `agrees`, or `differs: README: <section> — <row>`; the row must exist in README.md. */
export type Verdict = 'agrees' | `differs: README: ${typeof README_SECTION} — ${string}`;

export function differs(row: string): Verdict {
  return `differs: README: ${README_SECTION} — ${row}`;
}

export interface ICompatCase {
  /** The peer test it comes from: `file::test`. */
  from: string;
  /** What that test asserts, in one line. */
  asserts: string;
  verdict: Verdict;
  check: () => void | Promise<void>;
}

/**
 * Register the cases of one peer, each as `[agrees|differs] file::test —
 * asserts`, and one test that every `differs` row is in the README section.
 */
export function describeCompat(peer: string, cases: ICompatCase[]): void {
  describe(`compatibility with ${peer}`, () => {
    for (const c of cases) {
      const mark = c.verdict === 'agrees' ? 'agrees' : 'differs';
      it(`[${mark}] ${c.from} — ${c.asserts}`, async () => {
        await c.check();
      });
    }
    it('every "differs" case names a row of the README section', () => {
      const rows = readmeRows();
      const missing = cases
        .filter(c => c.verdict !== 'agrees')
        .map(c => c.verdict.split(' — ').slice(1).join(' — '))
        .filter(row => !rows.some(r => r.startsWith(row)));
      expect(missing).toEqual([]);
    });
  });
}

/** First cells of the table rows of the README section, without markdown emphasis. */
export function readmeRows(): string[] {
  const text = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
  const start = text.indexOf(`## ${README_SECTION}`);
  if (start < 0) {
    return [];
  }
  const rest = text.slice(start + 3);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return section
    .split('\n')
    .filter(l => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('|---'))
    .map(l => l.split(' | ')[0].slice(2).replace(/\*\*/g, '').trim());
}

// ---------------------------------------------------------------------------
// Patterns

/** Build a thesis-format pattern file from its fields (one per line). */
export function thesis(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
}

/** The smallest valid thesis pattern, with `over` replacing or adding fields. */
export function thesisPattern(over: Record<string, string | undefined> = {}): string {
  const base: Record<string, string | undefined> = {
    input_file: 'infile',
    input_paths: '[start/*]',
    recipes: '[Append]',
    ...over
  };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined) {
      fields[k] = v;
    }
  }
  return thesis(fields);
}

/** Parse a pattern that must load; fails with its issues otherwise. */
export function loads(text: string, name = 'p'): IPattern {
  const result = parsePattern(name, text);
  expect(result.issues).toEqual([]);
  return result.pattern!;
}

/** Parse a pattern that must be refused; returns its issues. */
export function refused(text: string, name = 'p'): IValidationIssue[] {
  const result = parsePattern(name, text);
  expect(result.pattern).toBeUndefined();
  expect(result.issues.length).toBeGreaterThan(0);
  return result.issues;
}

/** The issue fields, for `expect(fields(...)).toContain('input_file')`. */
export function fields(issues: IValidationIssue[]): string[] {
  return issues.map(i => i.field);
}

const RECIPE_NB: INotebook = {
  cells: [{ cell_type: 'code', source: 'infile = ""\n', metadata: {}, outputs: [], execution_count: null }],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 4
};

/** Which of `paths` (workgroup-relative) a pattern's rule fires on for a created file. */
export function fires(text: string, paths: string[]): string[] {
  const pattern = loads(text);
  const wf = new Workflow();
  wf.setRecipe({ name: pattern.recipe, notebook: RECIPE_NB, digest: 'd', format: 'ipynb' });
  wf.setPattern(pattern);
  return paths.filter(p => wf.match({ kind: 'created', path: p, time: 0 }).length > 0);
}

/** The Python literal each sweep combination gives `name`, in order. */
export function sweepLiterals(text: string, name: string): string[] {
  const pattern = loads(text);
  return sweepParameters(pattern.sweep).map(c => toPythonLiteral(c[name]));
}

/** The Python literal of a pattern variable, as a job's notebook gets it. */
export function variableLiteral(text: string, name: string): string {
  const pattern = loads(text);
  return toPythonLiteral({ ...pattern.parameters, ...pattern.outputs }[name]);
}

/** Keyword values for a trigger at `rel` in a workgroup at `root`. */
export function keywords(values: Record<string, unknown>, root: string, rel: string, jobId = 'job_id') {
  return substituteKeywords(values, { root, path: rel, jobId });
}

// ---------------------------------------------------------------------------
// Recipes and notebooks

export function notebook(...sources: string[]): INotebook {
  return {
    cells: sources.map(source => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 4
  } as INotebook;
}

/** The code cells' sources after parameterising. */
export function parameterised(nb: INotebook, values: Record<string, unknown>): string[] {
  const { notebook: out } = parameteriseNotebook(nb, values);
  return out.cells.map(c => (Array.isArray(c.source) ? c.source.join('') : c.source));
}

export function recipeIssues(file: string, text: string): IValidationIssue[] {
  const name = file.replace(/\.[^.]*$/, '');
  return (file.endsWith('.ipynb') ? parseRecipeNotebook(name, text, 'd') : parseRecipeYaml(name, text, 'd')).issues;
}

// ---------------------------------------------------------------------------
// Rules and jobs: a real runner, a conductor that records and runs nothing
// but the small scripts a case gives (standing in for the notebooks).

export type Script = (params: Record<string, any>, write: (rel: string, text: string) => Promise<void>) => unknown;

class RecordingConductor implements IConductor {
  readonly name = 'compat';
  readonly notebooks = new Map<string, INotebook>();
  constructor(private readonly scripts: Record<string, Script>) {}
  async start(): Promise<void> {
    /* nothing to start */
  }
  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    this.notebooks.set(request.job.id, request.notebook);
    await fs.writeFile(request.resultPath, JSON.stringify(request.notebook));
    const written: string[] = [];
    const write = async (file: string, text: string) => {
      const abs = path.resolve(request.cwd, file);
      await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.appendFile(request.writesLogPath, abs + '\n');
      await fs.writeFile(abs, text);
      written.push(abs);
    };
    try {
      await this.scripts[request.job.recipe]?.(request.job.parameters, write);
    } catch (err) {
      return { status: 'failed', error: { message: (err as Error).message }, filesWritten: written };
    }
    return { status: 'done', filesWritten: written };
  }
  async dispose(): Promise<void> {
    /* nothing to release */
  }
}

export interface IRun {
  root: string;
  jobs: IJob[];
  /** The parameterised notebook a job ran, its code cells joined. */
  source(job: IJob): string;
  /** The text of a job's job.yaml. */
  jobYaml(job: IJob): Promise<string>;
}

/**
 * Run a workgroup until idle: `files` exist before start, `later` files are
 * written once it runs. `check` sees the result before the workgroup goes.
 */
export async function runWorkgroup(
  files: Record<string, string>,
  check: (run: IRun) => void | Promise<void>,
  options: { later?: Record<string, string>; scripts?: Record<string, Script> } = {}
): Promise<void> {
  const root = await makeWorkgroup(files);
  const conductor = new RecordingConductor(options.scripts ?? {});
  const runner = new MeowRunner({ root, settleMs: 20, conductor, log: new RecordingLogger() });
  try {
    await runner.start();
    await runner.waitUntilIdle();
    for (const [rel, text] of Object.entries(options.later ?? {})) {
      await writeFile(root, rel, text);
    }
    await runner.waitUntilIdle();
    await runner.store.flush();
    await check({
      root,
      jobs: runner.store.list(),
      source: job =>
        (conductor.notebooks.get(job.id)?.cells ?? [])
          .filter(c => c.cell_type === 'code')
          .map(c => (Array.isArray(c.source) ? c.source.join('') : c.source))
          .join('\n'),
      jobYaml: job => fs.readFile(path.join(runner.store.jobDir(job.id), 'job.yaml'), 'utf8')
    });
  } finally {
    await runner.stop();
    await removeWorkgroup(root);
  }
}

/** A recipe notebook (file text) assigning each variable a default. */
export function recipeFile(vars: Record<string, string>): string {
  return JSON.stringify(
    notebook(
      Object.entries(vars)
        .map(([k, v]) => `${k} = ${v}\n`)
        .join('')
    )
  );
}
