/**
 * The executors of `meow run` / `meow serve`, from settings.yaml and the
 * command line (the command line wins): local kernels always; Slurm always
 * (its start says when Slurm is not there); a remote Jupyter server when a
 * URL is known.
 */
import * as path from 'path';
import type { IExecutorSettings } from '../../core/executor';
import type { ExecutorKind } from '../../core/types';
import type { IJupyterServerLink } from '../jupyter/link';
import { defaultPython } from '../jupyter/server';
import type { ILogger } from '../log';
import { ExecutorSet, IExecutor } from './executor';
import { RemoteJupyterExecutor } from './jupyter';
import { LocalExecutor } from './local';
import { SlurmExecutor } from './slurm';

export interface IExecutorChoice {
  root: string;
  stateDir: string;
  /** Jobs at once on local kernels (and remote ones unless set apart). */
  workers: number;
  /** The Jupyter server local jobs run on. */
  localLink: IJupyterServerLink;
  /** Python for private servers here and on compute nodes. */
  python?: string;
  settings: IExecutorSettings;
  /** --executor, and with `jupyter` its --jupyter-url / --jupyter-token. */
  executor?: ExecutorKind;
  jupyterUrl?: string;
  jupyterToken?: string;
  log: ILogger;
}

export function makeExecutors(o: IExecutorChoice): ExecutorSet {
  const state = path.join(o.root, o.stateDir);
  const executors: Partial<Record<ExecutorKind, IExecutor>> = {
    local: new LocalExecutor({
      server: o.localLink,
      poolSize: localPoolSize(o.workers),
      shutdownInBackground: true,
      pipelineCells: true,
      kernelsFile: path.join(state, 'kernels.json'),
      log: o.log
    }),
    slurm: new SlurmExecutor({
      settings: o.settings.slurm,
      meowCommand: meowCommand(),
      python: o.python ?? defaultPython(),
      log: o.log
    })
  };
  const missing: Partial<Record<ExecutorKind, string>> = {};
  const remote = o.executor === 'jupyter' && o.jupyterUrl ? o.jupyterUrl : o.settings.jupyter?.url;
  if (remote) {
    executors.jupyter = new RemoteJupyterExecutor({
      url: remote,
      token:
        (o.executor === 'jupyter' ? o.jupyterToken : undefined) ??
        process.env.MEOW_JUPYTER_TOKEN ??
        o.settings.jupyter?.token ??
        '',
      workers: o.settings.jupyter?.workers,
      kernelsFile: path.join(state, 'kernels-remote.json'),
      log: o.log
    });
  } else {
    missing.jupyter =
      'no remote Jupyter server is configured: set jupyter.url in .meow/settings.yaml (and the token in $MEOW_JUPYTER_TOKEN), ' +
      'or start meow with --executor jupyter --jupyter-url URL';
  }
  return new ExecutorSet({ executors, defaultKind: o.executor ?? o.settings.executor ?? 'local', missing, log: o.log });
}

/**
 * Pre-started local kernels: env MEOW_KERNEL_POOL when set, else three per
 * worker (at least 4, at most 16). A kernel takes ~0.4 s from its start to
 * answering on its websocket, mostly waiting rather than CPU, while a short
 * job takes ~0.1 s: with one more kernel than workers the workers waited for
 * the pool (notebooks bench, 1 worker: 0.19 s/job with 2 pooled kernels,
 * 0.13 s with 4; 2 workers: 0.12-0.13 s with 3, 0.10-0.11 s with 6). Idle
 * forked kernels share the template's memory; the cap bounds the rest.
 */
export function localPoolSize(workers: number, env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.MEOW_KERNEL_POOL);
  if (env.MEOW_KERNEL_POOL !== undefined && env.MEOW_KERNEL_POOL !== '' && Number.isInteger(asked) && asked >= 0) {
    return asked;
  }
  return Math.min(MAX_DEFAULT_POOL, Math.max(4, 3 * workers));
}

/** The default pool's cap: past a few kernels per core, more only holds memory. */
const MAX_DEFAULT_POOL = 16;

/**
 * How a compute node runs this meow: the same Node.js and the same script
 * (the workgroup and meow's install are on shared filesystems).
 */
export function meowCommand(): string[] {
  const script = process.env.MEOW_SCRIPT ?? process.argv[1];
  return [process.execPath, path.resolve(script)];
}
