/**
 * `meow`: the command line of the MEOW service.
 *
 *   meow run WORKGROUP       watch a workgroup and run jobs as data arrives
 *   meow report WORKGROUP    print the provenance graph of its jobs
 *   meow validate WORKGROUP  check every pattern and recipe file
 *   meow serve WORKGROUP     run, and serve the HTTP/websocket API (used inside Jupyter)
 *   meow paused / resume     runaway limits (cliLimits.ts)
 *
 * report and validate live in cliInspect.ts.
 */
import { addSendCommand } from './cliSend';
import { addTriggerCommand } from './cliTrigger';
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomBytes } from 'crypto';
import * as path from 'path';
import type { IServiceSettings } from '../core/api';
import { SECRET_HEADER } from '../core/api';
import { ApiServer } from './api/server';
import { IReportOptions, IValidateOptions, report, validate } from './cliInspect';
import { addLimitCommands } from './cliLimits';
import { SettingsFile } from './settings';
import { makeExecutors } from './executors/configure';
import type { IExecutorSettings } from '../core/executor';
import { EXECUTOR_KINDS, ExecutorKind } from '../core/types';
import { addExecJobCommand } from './cliExecJob';
import type { JobStatus } from '../core/types';
import { PrivateJupyterServer } from './jupyter/server';
import { makeServerSettings } from './jupyter/settings';
import { fixedServerLink, IJupyterServerLink } from './jupyter/link';
import type { ILogger } from './log';
import { consoleLogger } from './log';
import { DEFAULT_SETTLE_MS } from './monitors/fileMonitor';
import { DEFAULT_MAX_DEFINITION_BYTES } from './monitors/stateMonitor';
import { DEFAULT_TIMEOUT_MS, MeowRunner } from './runner';

const VERSION = '0.1.0';

export { consoleLogger };

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
  maxDefinitionBytes?: number;
  maxQueued?: number;
  settle: number;
  timeout: number;
  jupyterUrl?: string;
  jupyterToken?: string;
  executor?: ExecutorKind;
  untilIdle?: boolean;
  stateDir: string;
  verbose?: boolean;
  python?: string;
}

/**
 * The settings in force: defaults < `<state>/settings.yaml` < options given
 * explicitly on the command line.
 */
async function resolveSettings(
  root: string,
  options: IRunOptions,
  cmd: Command | undefined,
  log: ILogger
): Promise<IServiceSettings & { executors: IExecutorSettings }> {
  const file = new SettingsFile(root, options.stateDir);
  const { settings, executor, issues } = await file.load();
  if (issues.length) {
    log.warn(`${SettingsFile.describe(issues, file.path)}\n(using the defaults for those settings)`);
  }
  const fromCli = (key: string) => cmd?.getOptionValueSource(key) === 'cli';
  return {
    workers: fromCli('workers') ? options.workers : settings.workers ?? options.workers,
    settleMs: fromCli('settle') ? options.settle : settings.settleMs ?? options.settle,
    timeoutSeconds: fromCli('timeout') ? options.timeout : settings.timeoutSeconds ?? options.timeout,
    executors: executor
  };
}

/**
 * Wait until the Jupyter server at `baseUrl` answers (it may be starting
 * together with us, e.g. when Jupyter launched this service).
 */
export async function waitForJupyter(baseUrl: string, token: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const res = await fetch(`${baseUrl}api/status`, {
        headers: token ? { Authorization: `token ${token}` } : {}
      });
      if (res.ok) {
        return;
      }
      if (res.status === 401 || res.status === 403) {
        throw new Error(`the Jupyter server at ${baseUrl} refused the token (HTTP ${res.status}); pass the right --jupyter-token`);
      }
      last = `HTTP ${res.status}`;
    } catch (err) {
      if ((err as Error).message.includes('refused the token')) {
        throw err;
      }
      last = (err as Error).message;
    }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(`the Jupyter server at ${baseUrl} did not answer within ${timeoutMs / 1000} s (${last})`);
}

async function run(workgroup: string, options: IRunOptions, cmd?: Command): Promise<number> {
  const log = consoleLogger(!!options.verbose);
  logStrayErrors(log);
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
    const resolved = await resolveSettings(root, options, cmd, log);
    options = { ...options, workers: resolved.workers, settle: resolved.settleMs, timeout: resolved.timeoutSeconds };
    const jupyter = await openJupyter(root, options, log);
    server = jupyter.server;
    if (options.jupyterUrl) {
      log.info(`using Jupyter server ${options.jupyterUrl}`);
    }
    runner = makeRunner(root, options, resolved, jupyter.link, log);
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

/**
 * The Jupyter server jobs run on: the one at --jupyter-url, or a private
 * one started now (loopback only), which restarts itself if it dies.
 */
async function openJupyter(
  root: string,
  options: IRunOptions,
  log: ILogger
): Promise<{ server?: PrivateJupyterServer; link: IJupyterServerLink }> {
  if (options.jupyterUrl && options.executor !== 'jupyter') {
    const token = options.jupyterToken ?? process.env.JUPYTER_TOKEN ?? '';
    return { link: fixedServerLink(makeServerSettings(options.jupyterUrl, token)) };
  }
  // A relative --python is relative to where the command was typed, not to the server's folder.
  const python = pythonOf(options);
  const server = new PrivateJupyterServer({ rootDir: root, python, log });
  log.info('starting a private Jupyter server (loopback only)…');
  await server.start();
  log.info(`private Jupyter server ready at ${server.url}`);
  return { server, link: server };
}

/** --python, a relative path taken from where the command was typed. */
function pythonOf(options: IRunOptions): string | undefined {
  return options.python?.includes('/') ? path.resolve(options.python) : options.python;
}

/**
 * The runner of `run` and `serve`. Its kernel conductor follows the server
 * through restarts and records its kernels, so the next start shuts down
 * those a killed predecessor left behind.
 */
function makeRunner(
  root: string,
  options: IRunOptions,
  resolved: IServiceSettings & { executors: IExecutorSettings },
  link: IJupyterServerLink,
  log: ILogger
): MeowRunner {
  return new MeowRunner({
    root,
    stateDir: options.stateDir,
    workers: resolved.workers,
    settleMs: resolved.settleMs,
    timeoutMs: resolved.timeoutSeconds * 1000,
    executors: makeExecutors({
      root,
      stateDir: options.stateDir,
      workers: resolved.workers,
      localLink: link,
      python: pythonOf(options),
      settings: resolved.executors,
      executor: options.executor,
      jupyterUrl: options.jupyterUrl,
      jupyterToken: options.jupyterToken,
      log
    }),
    maxDefinitionBytes: options.maxDefinitionBytes,
    maxQueued: options.maxQueued,
    log
  });
}

/**
 * The last line of defence: an error no part caught is logged, and the
 * service goes on (jobs are isolated; one bad promise must not stop them all).
 */
function logStrayErrors(log: ILogger): void {
  process.on('unhandledRejection', reason => {
    log.error(`internal error (unhandled rejection, the service goes on): ${(reason as Error)?.stack ?? reason}`);
  });
}

/** How long `meow serve` waits for running jobs to be cancelled on exit. */
const STOP_TIMEOUT_MS = 4000;
/** The same when the parent (Jupyter) is going away. */
const PARENT_GONE_STOP_MS = 1500;

interface IServeOptions extends IRunOptions {
  port?: number;
  host: string;
  unixSocket?: string;
  exitWithStdin?: boolean;
}

async function serve(workgroup: string, options: IServeOptions, cmd: Command): Promise<number> {
  const log = consoleLogger(!!options.verbose);
  logStrayErrors(log);
  if (!options.verbose) {
    console.debug = () => undefined;
  }
  if ((options.port === undefined) === (options.unixSocket === undefined)) {
    log.error('give exactly one of --port N or --unix-socket PATH');
    return 2;
  }
  if (options.port !== undefined && !Number.isInteger(options.port)) {
    log.error(`--port must be a whole number, got ${options.port}`);
    return 2;
  }
  let secret = process.env.MEOW_SERVICE_SECRET ?? '';
  delete process.env.MEOW_SERVICE_SECRET; // not inherited by the private Jupyter server
  const generated = !secret;
  if (generated) {
    secret = randomBytes(24).toString('hex');
  }
  const root = path.resolve(workgroup);
  let server: PrivateJupyterServer | undefined;
  let runner: MeowRunner | undefined;
  let api: ApiServer | undefined;
  let stopping = false;
  const shutdown = async (why: string, code: number, parentGone = false) => {
    if (stopping) {
      log.warn(`${why} again: exiting now`);
      process.exit(code);
    }
    stopping = true;
    log.info(`${why}: stopping (running jobs are cancelled)`);
    await api?.close().catch(() => undefined);
    // Bounded: a Jupyter server that is shutting down (our parent, when its
    // stdin closes) no longer answers kernel interrupts and shutdowns; it
    // shuts its kernels down itself.
    const limitMs = parentGone ? PARENT_GONE_STOP_MS : STOP_TIMEOUT_MS;
    const stopped = runner?.stop().catch(err => log.error(`stopping the runner: ${(err as Error).message}`));
    const bounded = await Promise.race([
      stopped?.then(() => true),
      new Promise<boolean>(r => setTimeout(() => r(false), limitMs).unref())
    ]);
    if (bounded === false) {
      const line = `the runner did not stop within ${limitMs / 1000} s; exiting anyway (jobs left running are marked interrupted at the next start)`;
      if (parentGone) {
        log.info(line);
      } else {
        log.warn(line);
      }
    }
    await server?.stop().catch(() => undefined);
    log.info(`stopped — jobs: ${runner ? formatSummary(runner.summary()) : 'none'}`);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 130));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 143));
  if (options.exitWithStdin) {
    process.stdin.on('end', () => void shutdown('standard input closed (Jupyter is stopping)', 0, true));
    process.stdin.on('error', () => void shutdown('standard input failed', 0, true));
    process.stdin.resume();
  }
  try {
    const resolved = await resolveSettings(root, options, cmd, log);
    const jupyter = await openJupyter(root, options, log);
    server = jupyter.server;
    const link = jupyter.link;
    runner = makeRunner(root, options, resolved, link, log);
    // Listen at once, so clients see "starting" rather than nothing.
    api = new ApiServer({ runner, secret, version: VERSION, log, saved: resolved });
    const address = await api.listen(
      options.unixSocket !== undefined ? { socket: path.resolve(options.unixSocket) } : { port: options.port!, host: options.host }
    );
    log.info(`meow API listening on ${address}`);
    if (generated) {
      log.info(`service secret (send it in the ${SECRET_HEADER} header): ${secret}`);
    }
    if (options.jupyterUrl) {
      const settings = link.serverSettings;
      log.info(`waiting for the Jupyter server ${settings.baseUrl}…`);
      await waitForJupyter(settings.baseUrl, settings.token);
      log.info(`using Jupyter server ${settings.baseUrl}`);
    }
    await runner.start();
    api.markReady();
    const wf = runner.workflow;
    log.info(
      `watching ${root}: ${wf.patterns.size} pattern(s), ${wf.recipes.size} recipe(s), ` +
        `${wf.rules.size} rule(s), ${resolved.workers} worker(s)`
    );
    await new Promise(() => undefined); // until a signal or stdin closes
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    await api?.close().catch(() => undefined);
    await runner?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    return 1;
  }
}

export function makeProgram(): Command {
  const program = new Command('meow')
    .description('MEOW: Managing Event Oriented Workflows — run notebooks as data arrives')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const stateDir = new Option('--state-dir <dir>', 'state folder inside the workgroup').default('.meow');

  /** Options of every command that runs the engine (run, serve). */
  const engine = (cmd: Command): Command =>
    cmd
      .argument('<workgroup>', 'the folder to watch (patterns in .meow/patterns, recipes in .meow/recipes)')
      .option('-w, --workers <n>', 'jobs to run at the same time', positiveInt('--workers'), 1)
      .option('--settle <ms>', 'quiet time per file before its event counts', nonNegative('--settle'), DEFAULT_SETTLE_MS)
      .option('--timeout <seconds>', 'stop a job that runs longer than this', nonNegative('--timeout'), DEFAULT_TIMEOUT_MS / 1000)
      .addOption(
        new Option('--executor <kind>', 'where jobs of patterns and recipes that name no executor run (default: settings.yaml, else local)').choices([
          ...EXECUTOR_KINDS
        ])
      )
      .option(
        '--jupyter-url <url>',
        'with --executor jupyter: the remote Jupyter Server or Enterprise Gateway jobs run on; ' +
          'otherwise: run local jobs on this server instead of starting a private one'
      )
      .option(
        '--jupyter-token <token>',
        'token for --jupyter-url (default: $MEOW_JUPYTER_TOKEN with --executor jupyter, else $JUPYTER_TOKEN; both keep it out of `ps`)'
      )
      .option('--python <path>', 'Python whose jupyter_server runs the private server (default: $MEOW_PYTHON)')
      .option('-v, --verbose', 'print debug messages')
      .option(
        '--max-definition-bytes <n>',
        `refuse larger pattern and recipe files unread (default ${DEFAULT_MAX_DEFINITION_BYTES})`,
        positiveInt('--max-definition-bytes')
      )
      .option('--max-queued <n>', 'most jobs queued before new events wait (backpressure; default 50000)', positiveInt('--max-queued'))
      .addOption(stateDir);

  engine(program
    .command('run')
    .description('watch WORKGROUP and run a job whenever a pattern matches'))
    .option('--until-idle', 'exit once nothing is queued, running or pending, printing a summary')
    .action(async (workgroup: string, opts: IRunOptions, cmd: Command) => {
      process.exitCode = await run(workgroup, opts, cmd);
    });

  engine(program
    .command('serve'))
    .description(
      'like run, and serve the HTTP/websocket API (schema/openapi.yaml); every request must carry ' +
        `the secret from $MEOW_SERVICE_SECRET in the ${SECRET_HEADER} header (a random one is printed when unset)`
    )
    .option('--port <n>', 'listen on this TCP port of --host (0 = any free port)', nonNegative('--port'))
    .option('--host <address>', 'address for --port; keep it a loopback address', '127.0.0.1')
    .option('--unix-socket <path>', 'listen on this Unix socket instead (made owner-only)')
    .option('--exit-with-stdin', 'stop when standard input closes (the parent process is gone)')
    .action(async (workgroup: string, opts: IServeOptions, cmd: Command) => {
      process.exitCode = await serve(workgroup, opts, cmd);
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
    .description('check every pattern and recipe file in WORKGROUP; exit 1 on problems (warnings do not count)')
    .argument('<workgroup>', 'the workgroup folder')
    .addOption(stateDir)
    .option(
      '--max-definition-bytes <n>',
      `refuse larger pattern and recipe files unread (default ${DEFAULT_MAX_DEFINITION_BYTES})`,
      positiveInt('--max-definition-bytes')
    )
    .action(async (workgroup: string, opts: IValidateOptions) => {
      process.exitCode = await validate(workgroup, opts);
    });

  addLimitCommands(program);
  addTriggerCommand(program);
  addSendCommand(program);
  addExecJobCommand(program);
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
