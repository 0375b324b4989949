/**
 * `meow`: the command line of the MEOW service.
 *
 *   meow run WORKGROUP       watch a workgroup and run jobs as data arrives
 *   meow report WORKGROUP    print the provenance graph of its jobs
 *   meow validate WORKGROUP  check every pattern and recipe file
 *   meow serve WORKGROUP     run, and serve the HTTP/websocket API (used inside Jupyter)
 *   meow paused / resume     runaway limits (cliLimits.ts)
 *
 * report and validate live in cliInspect.ts; run and serve share one engine (engine.ts).
 */
import { addSendCommand } from './cliSend';
import { addTriggerCommand } from './cliTrigger';
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomBytes } from 'crypto';
import * as path from 'path';
import { SECRET_HEADER } from '../core/api';
import { ApiServer } from './api/server';
import { IReportOptions, IValidateOptions, report, validate } from './cliInspect';
import { addLimitCommands } from './cliLimits';
import { EXECUTOR_KINDS } from '../core/types';
import { addExecJobCommand } from './cliExecJob';
import { addImportMigCommand } from './cliImportMig';
import { Engine, formatSummary, IEngineCliOptions, IEngineProcess, nodeProcess } from './engine';
import { consoleLogger } from './log';
import { DEFAULT_SETTLE_MS } from './monitors/fileMonitor';
import { DEFAULT_MAX_DEFINITION_BYTES } from './monitors/stateMonitor';
import { DEFAULT_TIMEOUT_MS } from './runner';

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
      throw new InvalidArgumentError(`${name} must be a date/time such as 2026-11-22T10:00:00Z, got "${value}"`);
    }
    return new Date(t).toISOString();
  };
}

export { formatSummary };

interface IRunOptions extends IEngineCliOptions {
  untilIdle?: boolean;
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
        throw new Error(
          `the Jupyter server at ${baseUrl} refused the token (HTTP ${res.status}); pass the right --jupyter-token`
        );
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

async function run(
  workgroup: string,
  options: IRunOptions,
  cmd: Command | undefined,
  env: IEngineProcess
): Promise<number> {
  const log = env.logger(!!options.verbose);
  env.setUp(log, !!options.verbose);
  const engine = new Engine({ workgroup, cli: options, cmd, log });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      env.exit(130);
      return;
    }
    stopping = true;
    log.info(`${signal}: stopping (running jobs are cancelled; press Ctrl-C again to force)`);
    await engine.runner?.stop();
    await engine.jupyter?.stop();
    log.info(`stopped — jobs: ${engine.summary()}`);
    env.exit(signal === 'SIGINT' ? 130 : 143);
  };
  env.onSignal(signal => void shutdown(signal));
  try {
    const runner = await engine.start();
    if (!options.untilIdle) {
      await new Promise(() => undefined); // until a signal
    }
    await runner.waitUntilIdle();
    const counts = runner.summary();
    await runner.stop();
    await engine.jupyter?.stop();
    log.info(`idle — jobs: ${formatSummary(counts)}`);
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    await engine.runner?.stop().catch(() => undefined);
    await engine.jupyter?.stop().catch(() => undefined);
    return 1;
  }
}

/** How long `meow serve` waits for running jobs to be cancelled on exit. */
const STOP_TIMEOUT_MS = 4000;
/** The same when the parent (Jupyter) is going away. */
const PARENT_GONE_STOP_MS = 1500;

interface IServeOptions extends IEngineCliOptions {
  port?: number;
  host: string;
  unixSocket?: string;
  exitWithStdin?: boolean;
}

/** The service secret: $MEOW_SERVICE_SECRET (taken out of the environment), else a random one. */
function serviceSecret(): { secret: string; generated: boolean } {
  const given = process.env.MEOW_SERVICE_SECRET ?? '';
  delete process.env.MEOW_SERVICE_SECRET; // not inherited by the private Jupyter server
  return given ? { secret: given, generated: false } : { secret: randomBytes(24).toString('hex'), generated: true };
}

async function serve(
  workgroup: string,
  options: IServeOptions,
  cmd: Command | undefined,
  env: IEngineProcess
): Promise<number> {
  const log = env.logger(!!options.verbose);
  env.setUp(log, !!options.verbose);
  if ((options.port === undefined) === (options.unixSocket === undefined)) {
    log.error('give exactly one of --port N or --unix-socket PATH');
    return 2;
  }
  if (options.port !== undefined && !Number.isInteger(options.port)) {
    log.error(`--port must be a whole number, got ${options.port}`);
    return 2;
  }
  const { secret, generated } = serviceSecret();
  const engine = new Engine({ workgroup, cli: options, cmd, log });
  let api: ApiServer | undefined;
  let stopping = false;
  const shutdown = async (why: string, code: number, parentGone = false) => {
    if (stopping) {
      log.warn(`${why} again: exiting now`);
      env.exit(code);
      return;
    }
    stopping = true;
    log.info(`${why}: stopping (running jobs are cancelled)`);
    await api?.close().catch(() => undefined);
    // Bounded: a Jupyter server that is shutting down (our parent, when its
    // stdin closes) no longer answers kernel interrupts and shutdowns; it
    // shuts its kernels down itself.
    const limitMs = parentGone ? PARENT_GONE_STOP_MS : STOP_TIMEOUT_MS;
    const stopped = engine.runner?.stop().catch(err => log.error(`stopping the runner: ${(err as Error).message}`));
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
    await engine.jupyter?.stop().catch(() => undefined);
    log.info(`stopped — jobs: ${engine.summary()}`);
    env.exit(code);
  };
  env.onSignal(signal => void shutdown(signal, signal === 'SIGINT' ? 130 : 143));
  if (options.exitWithStdin) {
    process.stdin.on('end', () => void shutdown('standard input closed (Jupyter is stopping)', 0, true));
    process.stdin.on('error', () => void shutdown('standard input failed', 0, true));
    process.stdin.resume();
  }
  try {
    await engine.start({
      beforeRunnerStart: async (runner, link, saved) => {
        // Listen at once, so clients see "starting" rather than nothing.
        api = new ApiServer({ runner, secret, version: VERSION, log, saved });
        const address = await api.listen(
          options.unixSocket !== undefined
            ? { socket: path.resolve(options.unixSocket) }
            : { port: options.port!, host: options.host }
        );
        log.info(`meow API listening on ${address}`);
        if (generated) {
          log.info(`service secret (send it in the ${SECRET_HEADER} header): ${secret}`);
        }
        if (options.jupyterUrl) {
          const settings = link.serverSettings;
          log.info(`waiting for the Jupyter server ${settings.baseUrl}…`);
          await waitForJupyter(settings.baseUrl, settings.token);
        }
      },
      afterRunnerStart: () => api?.markReady()
    });
    await new Promise(() => undefined); // until a signal or stdin closes
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    await api?.close().catch(() => undefined);
    await engine.runner?.stop().catch(() => undefined);
    await engine.jupyter?.stop().catch(() => undefined);
    return 1;
  }
}

/** The `meow` command; `env` is the process around run and serve (tests give their own). */
export function makeProgram(env: IEngineProcess = nodeProcess): Command {
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
      .option(
        '--settle <ms>',
        'quiet time per file before its event counts',
        nonNegative('--settle'),
        DEFAULT_SETTLE_MS
      )
      .option(
        '--timeout <seconds>',
        'stop a job that runs longer than this',
        nonNegative('--timeout'),
        DEFAULT_TIMEOUT_MS / 1000
      )
      .addOption(
        new Option(
          '--executor <kind>',
          'where jobs of patterns and recipes that name no executor run (default: settings.yaml, else local)'
        ).choices([...EXECUTOR_KINDS])
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
      .option(
        '--max-queued <n>',
        'most jobs queued before new events wait (backpressure; default 50000)',
        positiveInt('--max-queued')
      )
      .addOption(stateDir);

  engine(program.command('run').description('watch WORKGROUP and run a job whenever a pattern matches'))
    .option('--until-idle', 'exit once nothing is queued, running or pending, printing a summary')
    .action(async (workgroup: string, opts: IRunOptions, cmd: Command) => {
      process.exitCode = await run(workgroup, opts, cmd, env);
    });

  engine(program.command('serve'))
    .description(
      'like run, and serve the HTTP/websocket API (schema/openapi.yaml); every request must carry ' +
        `the secret from $MEOW_SERVICE_SECRET in the ${SECRET_HEADER} header (a random one is printed when unset)`
    )
    .option('--port <n>', 'listen on this TCP port of --host (0 = any free port)', nonNegative('--port'))
    .option('--host <address>', 'address for --port; keep it a loopback address', '127.0.0.1')
    .option('--unix-socket <path>', 'listen on this Unix socket instead (made owner-only)')
    .option('--exit-with-stdin', 'stop when standard input closes (the parent process is gone)')
    .action(async (workgroup: string, opts: IServeOptions, cmd: Command) => {
      process.exitCode = await serve(workgroup, opts, cmd, env);
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
  addImportMigCommand(program);
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
