/**
 * The engine `meow run` and `meow serve` share: settings (defaults <
 * settings.yaml < command line), the Jupyter server jobs run on, the runner
 * with its executors, and the start-up report (counts, patterns that wait
 * for their recipe). One place, so the two commands cannot drift apart.
 */
import type { Command } from 'commander';
import * as path from 'path';
import type { IServiceSettings } from '../core/api';
import type { IExecutorSettings } from '../core/executor';
import type { ExecutorKind, JobStatus } from '../core/types';
import { makeExecutors } from './executors/configure';
import { fixedServerLink, IJupyterServerLink } from './jupyter/link';
import { PrivateJupyterServer } from './jupyter/server';
import { makeServerSettings } from './jupyter/settings';
import type { ILogger } from './log';
import { consoleLogger } from './log';
import { MeowRunner } from './runner';
import { SettingsFile } from './settings';

/** The options of every command that runs the engine (run, serve). */
export interface IEngineCliOptions {
  workers: number;
  maxDefinitionBytes?: number;
  maxQueued?: number;
  settle: number;
  timeout: number;
  jupyterUrl?: string;
  jupyterToken?: string;
  executor?: ExecutorKind;
  stateDir: string;
  verbose?: boolean;
  python?: string;
}

/** The settings in force, executors included. */
export type IResolvedSettings = IServiceSettings & { executors: IExecutorSettings };

/** One-line summary such as `4 done, 1 failed`. */
export function formatSummary(counts: Record<JobStatus, number>): string {
  const parts = (Object.keys(counts) as JobStatus[]).filter(s => counts[s] > 0).map(s => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no jobs';
}

/**
 * The engine of one workgroup. `runner` and `jupyter` are set as `start`
 * creates them, so a signal during start-up can stop what exists.
 */
export class Engine {
  constructor(options: Engine.IOptions) {
    this.root = path.resolve(options.workgroup);
    this._cli = options.cli;
    this._cmd = options.cmd;
    this._log = options.log;
  }

  readonly root: string;

  get runner(): MeowRunner | undefined {
    return this._runner;
  }

  /** The private Jupyter server, when this engine started one. */
  get jupyter(): PrivateJupyterServer | undefined {
    return this._jupyter;
  }

  /** The settings in force (once `start` has read them). */
  get settings(): IResolvedSettings | undefined {
    return this._settings;
  }

  /** `jobs: 4 done, 1 failed` for the last log line. */
  summary(): string {
    return this._runner ? formatSummary(this._runner.summary()) : 'none';
  }

  /**
   * Read the settings, open the Jupyter server, make the runner, let
   * `beforeRunnerStart` do its part (serve listens and waits for Jupyter
   * there), start the runner and report what it watches.
   */
  async start(hooks: Engine.IHooks = {}): Promise<MeowRunner> {
    const log = this._log;
    const settings = await resolveSettings(this.root, this._cli, this._cmd, log);
    this._settings = settings;
    const jupyter = await this._openJupyter();
    this._jupyter = jupyter.server;
    const runner = this._makeRunner(settings, jupyter.link);
    this._runner = runner;
    await hooks.beforeRunnerStart?.(runner, jupyter.link, settings);
    if (this._cli.jupyterUrl) {
      log.info(`using Jupyter server ${jupyter.server ? this._cli.jupyterUrl : jupyter.link.serverSettings.baseUrl}`);
    }
    await runner.start();
    await hooks.afterRunnerStart?.(runner);
    const wf = runner.workflow;
    log.info(
      `watching ${this.root}: ${wf.patterns.size} pattern(s), ${wf.recipes.size} recipe(s), ` +
        `${wf.rules.size} rule(s), ${settings.workers} worker(s)`
    );
    for (const p of wf.patternsWithoutRecipe()) {
      log.warn(
        `pattern ${p.name} names recipe "${p.recipe}", which does not exist yet: no rule until it is registered`
      );
    }
    return runner;
  }

  /**
   * The Jupyter server jobs run on: the one at --jupyter-url, or a private
   * one started now (loopback only), which restarts itself if it dies.
   */
  private async _openJupyter(): Promise<{ server?: PrivateJupyterServer; link: IJupyterServerLink }> {
    const options = this._cli;
    const log = this._log;
    if (options.jupyterUrl && options.executor !== 'jupyter') {
      const token = options.jupyterToken ?? process.env.JUPYTER_TOKEN ?? '';
      return { link: fixedServerLink(makeServerSettings(options.jupyterUrl, token)) };
    }
    const server = new PrivateJupyterServer({ rootDir: this.root, python: pythonOf(options), log });
    // Kept before start: a signal while it starts must stop it.
    this._jupyter = server;
    log.info('starting a private Jupyter server (loopback only)…');
    await server.start();
    log.info(`private Jupyter server ready at ${server.url}`);
    return { server, link: server };
  }

  /**
   * The runner. Its kernel conductor follows the server through restarts
   * and records its kernels, so the next start shuts down those a killed
   * predecessor left behind.
   */
  private _makeRunner(settings: IResolvedSettings, link: IJupyterServerLink): MeowRunner {
    const options = this._cli;
    const root = this.root;
    return new MeowRunner({
      root,
      stateDir: options.stateDir,
      workers: settings.workers,
      settleMs: settings.settleMs,
      timeoutMs: settings.timeoutSeconds * 1000,
      executors: makeExecutors({
        root,
        stateDir: options.stateDir,
        workers: settings.workers,
        localLink: link,
        python: pythonOf(options),
        settings: settings.executors,
        executor: options.executor,
        jupyterUrl: options.jupyterUrl,
        jupyterToken: options.jupyterToken,
        log: this._log
      }),
      maxDefinitionBytes: options.maxDefinitionBytes,
      maxQueued: options.maxQueued,
      log: this._log
    });
  }

  private readonly _cli: IEngineCliOptions;
  private readonly _cmd?: Command;
  private readonly _log: ILogger;
  private _runner?: MeowRunner;
  private _jupyter?: PrivateJupyterServer;
  private _settings?: IResolvedSettings;
}

export namespace Engine {
  export interface IOptions {
    workgroup: string;
    cli: IEngineCliOptions;
    /** The command, to tell options given on the command line from defaults. */
    cmd?: Command;
    log: ILogger;
  }

  export interface IHooks {
    /** After the runner is made, before it starts. */
    beforeRunnerStart?(runner: MeowRunner, link: IJupyterServerLink, settings: IResolvedSettings): Promise<void>;
    /** After the runner started, before the start-up report. */
    afterRunnerStart?(runner: MeowRunner): Promise<void> | void;
  }
}

/**
 * The process around the engine; tests give their own (a recording
 * logger, no signal handlers, no exit).
 */
export interface IEngineProcess {
  logger(verbose: boolean): ILogger;
  /** Process-wide set-up when run or serve starts. */
  setUp(log: ILogger, verbose: boolean): void;
  /** Call `stop` on SIGINT and SIGTERM. */
  onSignal(stop: (signal: 'SIGINT' | 'SIGTERM') => void): void;
  exit(code: number): void;
}

/** The real process: console logging, signal handlers, `process.exit`. */
export const nodeProcess: IEngineProcess = {
  logger: verbose => consoleLogger(verbose),
  setUp: (log, verbose) => {
    logStrayErrors(log);
    if (!verbose) {
      // @jupyterlab/services narrates every websocket and kernel status change.
      console.debug = () => undefined;
    }
  },
  onSignal: stop => {
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  },
  exit: code => process.exit(code)
};

/**
 * The settings in force: defaults < `<state>/settings.yaml` < options given
 * explicitly on the command line.
 */
async function resolveSettings(
  root: string,
  options: IEngineCliOptions,
  cmd: Command | undefined,
  log: ILogger
): Promise<IResolvedSettings> {
  const file = new SettingsFile(root, options.stateDir);
  const { settings, executor, issues } = await file.load();
  if (issues.length) {
    log.warn(`${SettingsFile.describe(issues, file.path)}\n(using the defaults for those settings)`);
  }
  const fromCli = (key: string) => cmd?.getOptionValueSource(key) === 'cli';
  return {
    workers: fromCli('workers') ? options.workers : (settings.workers ?? options.workers),
    settleMs: fromCli('settle') ? options.settle : (settings.settleMs ?? options.settle),
    timeoutSeconds: fromCli('timeout') ? options.timeout : (settings.timeoutSeconds ?? options.timeout),
    executors: executor
  };
}

/** --python, a relative path taken from where the command was typed (not the server's folder). */
function pythonOf(options: IEngineCliOptions): string | undefined {
  return options.python?.includes('/') ? path.resolve(options.python) : options.python;
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
