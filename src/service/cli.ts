/**
 * `meow`: the command line of the MEOW service.
 *
 *   meow run WORKGROUP       watch a workgroup and run jobs as data arrives
 *   meow report WORKGROUP    print the provenance graph of its jobs
 *   meow validate WORKGROUP  check every pattern and recipe file
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import * as path from 'path';
import { provenanceGraph, IProvenanceGraph } from '../core/provenance';
import { Workflow } from '../core/workflow';
import type { IJob, JobStatus } from '../core/types';
import { KernelConductor } from './conductors/kernel';
import { PrivateJupyterServer } from './jupyter/server';
import { makeServerSettings } from './jupyter/settings';
import { JobStore } from './jobs/jobStore';
import type { ILogger } from './log';
import { DEFAULT_SETTLE_MS } from './monitors/fileMonitor';
import { StateMonitor } from './monitors/stateMonitor';
import { DEFAULT_TIMEOUT_MS, MeowRunner } from './runner';

const VERSION = '0.1.0';

/** Console logger: progress on stdout, problems on stderr, with a clock. */
export function consoleLogger(verbose: boolean): ILogger {
  const stamp = () => new Date().toISOString().slice(11, 19);
  return {
    debug: m => verbose && process.stdout.write(`${stamp()}  ${m}\n`),
    info: m => process.stdout.write(`${stamp()}  ${m}\n`),
    warn: m => process.stderr.write(`${stamp()}  warning: ${m}\n`),
    error: m => process.stderr.write(`${stamp()}  error: ${m}\n`)
  };
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${value}"`);
    }
    return n;
  };
}

function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a number ≥ 0, got "${value}"`);
    }
    return n;
  };
}

function isoTime(name: string) {
  return (value: string): string => {
    const t = Date.parse(value);
    if (Number.isNaN(t)) {
      throw new InvalidArgumentError(
        `${name} must be a date/time such as 2026-11-22T10:00:00Z, got "${value}"`
      );
    }
    return new Date(t).toISOString();
  };
}

/** One-line summary such as `4 done, 1 failed`. */
export function formatSummary(counts: Record<JobStatus, number>): string {
  const parts = (Object.keys(counts) as JobStatus[])
    .filter(s => counts[s] > 0)
    .map(s => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no jobs';
}

interface IRunOptions {
  workers: number;
  settle: number;
  timeout: number;
  jupyterUrl?: string;
  jupyterToken?: string;
  untilIdle?: boolean;
  stateDir: string;
  verbose?: boolean;
  python?: string;
}

async function run(workgroup: string, options: IRunOptions): Promise<number> {
  const log = consoleLogger(!!options.verbose);
  if (!options.verbose) {
    // @jupyterlab/services narrates every websocket and kernel status change.
    console.debug = () => undefined;
  }
  const root = path.resolve(workgroup);
  let server: PrivateJupyterServer | undefined;
  let runner: MeowRunner | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: stopping (running jobs are cancelled; press Ctrl-C again to force)`);
    await runner?.stop();
    await server?.stop();
    log.info(`stopped — jobs: ${runner ? formatSummary(runner.summary()) : 'none'}`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    let settings;
    if (options.jupyterUrl) {
      settings = makeServerSettings(options.jupyterUrl, options.jupyterToken ?? '');
      log.info(`using Jupyter server ${options.jupyterUrl}`);
    } else {
      server = new PrivateJupyterServer({ rootDir: root, python: options.python, log });
      log.info('starting a private Jupyter server (loopback only)…');
      await server.start();
      settings = server.serverSettings;
      log.info(`private Jupyter server ready at ${server.url}`);
    }
    const conductor = new KernelConductor({
      serverSettings: settings,
      poolSize: options.workers,
      log
    });
    runner = new MeowRunner({
      root,
      stateDir: options.stateDir,
      workers: options.workers,
      settleMs: options.settle,
      timeoutMs: options.timeout * 1000,
      conductor,
      log
    });
    await runner.start();
    const wf = runner.workflow;
    log.info(
      `watching ${root}: ${wf.patterns.size} pattern(s), ${wf.recipes.size} recipe(s), ` +
        `${wf.rules.size} rule(s), ${options.workers} worker(s)`
    );
    for (const p of wf.patternsWithoutRecipe()) {
      log.warn(`pattern ${p.name} names recipe "${p.recipe}", which does not exist yet: no rule until it is registered`);
    }
    if (!options.untilIdle) {
      await new Promise(() => undefined); // until a signal
    }
    await runner.waitUntilIdle();
    const counts = runner.summary();
    await runner.stop();
    await server?.stop();
    log.info(`idle — jobs: ${formatSummary(counts)}`);
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    await runner?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    return 1;
  }
}

interface IReportOptions {
  format: 'json' | 'text';
  stateDir: string;
  job?: string;
  path?: string;
  pattern?: string;
  recipe?: string;
  before?: string;
  after?: string;
}

/** Text rendering of a provenance graph: one line per job, then edges. */
export function formatReport(graph: IProvenanceGraph): string {
  const lines: string[] = [];
  lines.push(`${graph.jobs.length} job(s), ${graph.edges.length} edge(s)`);
  for (const job of graph.jobs) {
    lines.push(
      `  ${job.id}  ${job.status.padEnd(9)} ${job.pattern} → ${job.recipe}  ${job.trigger ?? ''}`
    );
  }
  if (graph.edges.length) {
    lines.push('edges (parent → child, via file):');
    for (const e of graph.edges) {
      lines.push(`  ${e.from} → ${e.to}  ${e.path}`);
    }
  }
  return lines.join('\n');
}

async function report(workgroup: string, options: IReportOptions): Promise<number> {
  const root = path.resolve(workgroup);
  const warnings: string[] = [];
  const store = new JobStore({
    jobsDir: path.join(root, options.stateDir, 'jobs'),
    log: { ...consoleLogger(false), warn: m => warnings.push(m), info: () => undefined }
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

async function validate(workgroup: string, options: { stateDir: string }): Promise<number> {
  const root = path.resolve(workgroup);
  const workflow = new Workflow();
  const quiet: ILogger = { debug: () => 0, info: () => 0, warn: () => 0, error: () => 0 };
  const monitor = new StateMonitor({ root, stateDir: options.stateDir, workflow, onChanges: () => 0, log: quiet });
  await monitor.start();
  await monitor.stop();
  for (const [file, problem] of monitor.problems) {
    process.stdout.write(`${file}:\n  ${problem.split('\n').join('\n  ')}\n`);
  }
  process.stdout.write(
    `${workflow.patterns.size} pattern(s), ${workflow.recipes.size} recipe(s), ${workflow.rules.size} rule(s)` +
      `, ${monitor.problems.size} file(s) with problems\n`
  );
  for (const p of workflow.patternsWithoutRecipe()) {
    process.stdout.write(`note: pattern ${p.name} names recipe "${p.recipe}", which does not exist\n`);
  }
  return monitor.problems.size ? 1 : 0;
}

export function makeProgram(): Command {
  const program = new Command('meow')
    .description('MEOW: Managing Event Oriented Workflows — run notebooks as data arrives')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const stateDir = new Option('--state-dir <dir>', 'state folder inside the workgroup').default('.meow');

  program
    .command('run')
    .description('watch WORKGROUP and run a job whenever a pattern matches')
    .argument('<workgroup>', 'the folder to watch (patterns in .meow/patterns, recipes in .meow/recipes)')
    .option('-w, --workers <n>', 'jobs to run at the same time', positiveInt('--workers'), 1)
    .option('--settle <ms>', 'quiet time per file before its event counts', nonNegative('--settle'), DEFAULT_SETTLE_MS)
    .option('--timeout <seconds>', 'stop a job that runs longer than this', nonNegative('--timeout'), DEFAULT_TIMEOUT_MS / 1000)
    .option('--jupyter-url <url>', 'use this Jupyter server instead of starting a private one')
    .option('--jupyter-token <token>', 'token for --jupyter-url (default: $JUPYTER_TOKEN)', process.env.JUPYTER_TOKEN)
    .option('--python <path>', 'Python whose jupyter_server runs the private server (default: $MEOW_PYTHON)')
    .option('--until-idle', 'exit once nothing is queued, running or pending, printing a summary')
    .option('-v, --verbose', 'print debug messages')
    .addOption(stateDir)
    .action(async (workgroup: string, opts: IRunOptions) => {
      process.exitCode = await run(workgroup, opts);
    });

  program
    .command('report')
    .description('print the provenance graph of the jobs in WORKGROUP')
    .argument('<workgroup>', 'the workgroup folder')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('text'))
    .option('--job <id>', 'only this job and its direct parents and children')
    .option('--path <glob>', 'only jobs whose trigger path matches')
    .option('--pattern <name>', 'only jobs of this pattern')
    .option('--recipe <name>', 'only jobs of this recipe')
    .option('--before <time>', 'only jobs created before this time', isoTime('--before'))
    .option('--after <time>', 'only jobs created after this time', isoTime('--after'))
    .addOption(stateDir)
    .action(async (workgroup: string, opts: IReportOptions) => {
      process.exitCode = await report(workgroup, opts);
    });

  program
    .command('validate')
    .description('check every pattern and recipe file in WORKGROUP; exit 1 on problems')
    .argument('<workgroup>', 'the workgroup folder')
    .addOption(stateDir)
    .action(async (workgroup: string, opts: { stateDir: string }) => {
      process.exitCode = await validate(workgroup, opts);
    });
  return program;
}

if (require.main === module) {
  makeProgram()
    .parseAsync(process.argv)
    .then(() => {
      // Commands finish their own work; exit so no stray handle keeps us alive.
      process.exit(process.exitCode ?? 0);
    })
    .catch(err => {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
