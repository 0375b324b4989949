/**
 * The remote Jupyter executor: jobs run in kernels of a Jupyter Server or a
 * Jupyter Enterprise Gateway that meow does not own (`jupyter.url` in
 * settings.yaml, or `--executor jupyter --jupyter-url`), through the same
 * kernel conductor as local jobs — so timeouts, cancel, kernel death, stdin
 * off, the output cap and the writes log behave exactly as on this machine.
 *
 * The kernels must see the workgroup at the same path as meow (a shared
 * filesystem): the hidden setup cell changes to it and appends the files a
 * job writes to a log inside it.
 *
 * Enterprise Gateway has no `api/status`: whether the server is up is asked
 * through `api/status` where there is one (its `started` tells a restart),
 * else through `api`.
 */
import type { ServerConnection } from '@jupyterlab/services';
import { KernelConductor } from '../conductors/kernel';
import type { IKernelExecutionResult } from '../conductors/kernelJob';
import type { IServerStatusProbe } from '../conductors/serverWatch';
import { formatSeconds } from '../conductors/outputs';
import type { IJupyterServerLink } from '../jupyter/link';
import type { LogOption } from '../jupyter/log';
import { makeServerSettings } from '../jupyter/settings';
import type { IExecutionRequest } from '../tokens';
import type { IExecutor } from './executor';

export namespace RemoteJupyterExecutor {
  export interface IOptions {
    /** Base URL of the Jupyter Server or Enterprise Gateway (a `?token=` in it is used when `token` is empty). */
    url: string;
    /** Its token (MEOW_JUPYTER_TOKEN or --jupyter-token). */
    token?: string;
    /** Jobs run there at once (default: the service's workers). */
    workers?: number;
    log?: LogOption;
    /** Give up on a remote kernel that is not ready after this long (default 120 s). */
    kernelStartTimeoutMs?: number;
    /** Most bytes of output kept per job (default 10 MB; 0 = no cap). */
    maxOutputBytes?: number;
    /** Idle remote kernels kept started (default 0: none unless asked for). */
    poolSize?: number;
    /** File listing the remote kernels started, so the next start shuts down those a killed meow left. */
    kernelsFile?: string;
    /** Kernelspec of notebooks that name none (default `python3`). */
    defaultKernel?: string;
    /** How long `start()` waits for a server that does not answer yet (default 10 s). */
    startWaitMs?: number;
    /** How long a job waits for an unreachable server before it comes back retryable (default 60 s). */
    serverWaitMs?: number;
  }
}

/** Fix given when the server refuses the token. */
const TOKEN_FIX = 'pass --jupyter-token or set MEOW_JUPYTER_TOKEN (or jupyter.token in .meow/settings.yaml)';
/** Bound for one request of the start check. */
const CHECK_TIMEOUT_MS = 5000;

export class RemoteJupyterExecutor implements IExecutor {
  constructor(options: RemoteJupyterExecutor.IOptions) {
    this.settings = makeServerSettings(options.url, options.token);
    this.url = this.settings.baseUrl;
    this.concurrency = options.workers;
    this._startWaitMs = options.startWaitMs ?? 10_000;
    this.link = new RemoteServerLink(this.settings);
    this.conductor = new KernelConductor({
      server: this.link,
      poolSize: options.poolSize ?? 0,
      defaultKernel: options.defaultKernel,
      log: options.log,
      kernelStartTimeoutMs: options.kernelStartTimeoutMs,
      maxOutputBytes: options.maxOutputBytes,
      kernelsFile: options.kernelsFile,
      serverWaitMs: options.serverWaitMs
    });
  }

  readonly kind = 'jupyter' as const;
  readonly name = 'jupyter';
  readonly concurrency: number | undefined;
  /** Base URL of the server, without the token. */
  readonly url: string;
  readonly settings: ServerConnection.ISettings;
  readonly link: RemoteServerLink;
  readonly conductor: KernelConductor;

  /** True once `start()` found an Enterprise Gateway (its `api` names a gateway version). */
  get isGateway(): boolean {
    return this._gateway;
  }

  describe(): string {
    const what = this._gateway ? 'the Jupyter Enterprise Gateway' : 'the Jupyter server';
    const n =
      this.concurrency === undefined ? "as many at once as the service's workers" : `${this.concurrency} at once`;
    return `kernels of ${what} at ${this.url} (${n})`;
  }

  /**
   * Check that the server answers and takes the token (a clear error with
   * the fix when not), then start the conductor (shut down kernels a killed
   * meow left, fill the pool when one is asked for).
   */
  async start(): Promise<void> {
    await this._check();
    await this.conductor.start();
  }

  execute(request: IExecutionRequest): Promise<IKernelExecutionResult> {
    return this.conductor.execute(request);
  }

  dispose(): Promise<void> {
    return this.conductor.dispose();
  }

  /** GET api/kernelspecs with the token, waiting up to `startWaitMs` for a server that does not answer. */
  private async _check(): Promise<void> {
    const deadline = Date.now() + this._startWaitMs;
    let last = '';
    for (;;) {
      let res: { status: number; body: unknown } | undefined;
      try {
        res = await getJson(this.settings, 'api/kernelspecs', CHECK_TIMEOUT_MS);
      } catch (err) {
        last = (err as Error).message;
      }
      if (res) {
        if (res.status === 401 || res.status === 403) {
          throw new Error(`the Jupyter server at ${this.url} refused the token (HTTP ${res.status}); ${TOKEN_FIX}`);
        }
        if (res.status === 404) {
          throw new Error(
            `${this.url} does not look like a Jupyter server (GET api/kernelspecs answered 404); ` +
              'give the base URL of a Jupyter Server or Enterprise Gateway, e.g. http://host:8888/'
          );
        }
        if (res.status >= 200 && res.status < 300) {
          const body = res.body as { kernelspecs?: unknown } | undefined;
          if (!body || typeof body.kernelspecs !== 'object' || body.kernelspecs === null) {
            throw new Error(
              `${this.url} does not look like a Jupyter server (api/kernelspecs did not list kernelspecs); ` +
                'give the base URL of a Jupyter Server or Enterprise Gateway'
            );
          }
          break;
        }
        last = `GET api/kernelspecs answered HTTP ${res.status}`;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `no Jupyter server answers at ${this.url} (${last}, for ${formatSeconds(this._startWaitMs)}); ` +
            'check that it is running and that --jupyter-url (or jupyter.url in .meow/settings.yaml) is right'
        );
      }
      await new Promise(r => setTimeout(r, 500));
    }
    try {
      const api = await getJson(this.settings, 'api', CHECK_TIMEOUT_MS);
      this._gateway = !!(api.body as { gateway_version?: unknown } | undefined)?.gateway_version;
    } catch {
      // only used to describe the server
    }
  }

  private readonly _startWaitMs: number;
  private _gateway = false;
}

/**
 * A server meow does not own: fixed settings; up when `api/status` (Jupyter
 * Server) or `api` (Enterprise Gateway, which has no api/status) answers.
 */
export class RemoteServerLink implements IJupyterServerLink, IServerStatusProbe {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  async status(settings: ServerConnection.ISettings, ms: number): Promise<{ started?: string }> {
    if (!this._noStatus) {
      const res = await getJson(settings, 'api/status', ms);
      if (res.status !== 404) {
        if (res.status < 200 || res.status >= 300) {
          throw new Error(`GET ${settings.baseUrl}api/status answered ${res.status}`);
        }
        return (res.body ?? {}) as { started?: string };
      }
      this._noStatus = true;
    }
    const res = await getJson(settings, 'api', ms);
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`GET ${settings.baseUrl}api answered ${res.status}`);
    }
    return {};
  }

  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        await this.status(this.serverSettings, Math.min(3000, Math.max(500, deadline - Date.now())));
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `the Jupyter server at ${this.serverSettings.baseUrl} did not answer within ${formatSeconds(timeoutMs)} ` +
            `(${last}); check that it is running and that the URL and token are right`
        );
      }
      await new Promise(r => setTimeout(r, 500));
    }
  }

  private _noStatus = false;
}

/**
 * GET `path` of the server with its token within `ms`: the HTTP status and
 * JSON body (undefined when not JSON). Rejects when the server cannot be
 * reached, with the reason (ECONNREFUSED…) and `timedOut` set for a slow
 * answer (a busy server, not a dead one).
 */
async function getJson(
  settings: ServerConnection.ISettings,
  path: string,
  ms: number
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${settings.baseUrl}${path}`, {
      headers: settings.token ? { Authorization: `token ${settings.token}` } : {},
      signal: AbortSignal.timeout(ms)
    });
  } catch (err) {
    const cause = (err as any)?.cause;
    const timedOut = (err as Error)?.name === 'TimeoutError';
    const why = timedOut
      ? `no answer within ${formatSeconds(ms)}`
      : (cause?.code ?? cause?.message ?? (err as Error).message);
    const error = new Error(`cannot reach ${settings.baseUrl}: ${why}`) as Error & { timedOut?: boolean };
    error.timedOut = timedOut;
    throw error;
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}
