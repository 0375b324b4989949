/**
 * Tells the conductor whether a failure was the Jupyter server's: the
 * server stopped answering, or was replaced (a restart gives new settings,
 * or a new `started` time in api/status). Such jobs are retryable; failures
 * on a server that is still the same one belong to the job.
 */
import type { ServerConnection } from '@jupyterlab/services';
import { fetchServerStatus, IJupyterServerLink } from '../jupyter/link';
import { errorMessage } from './util';

/** Which server a kernel was started on. */
export interface IServerIdentity {
  settings: ServerConnection.ISettings;
  /** `started` from api/status, when it could be read. */
  started?: string;
}

/**
 * A link to a server that cannot be asked through `api/status` (Jupyter
 * Enterprise Gateway has none) says how to ask whether it is up instead;
 * rejections carry `timedOut` as `fetchServerStatus`'s do.
 */
export interface IServerStatusProbe {
  status(settings: ServerConnection.ISettings, ms: number): Promise<{ started?: string }>;
}

/** A failure caused by the Jupyter server, not by the job: retry the job. */
export class ServerLostError extends Error {
  readonly retryable = true;
}

/** How long a liveness probe may take before the server counts as unreachable. */
const PROBE_TIMEOUT_MS = 3000;

export class ServerWatch {
  constructor(readonly link: IJupyterServerLink & Partial<IServerStatusProbe>) {}

  get settings(): ServerConnection.ISettings {
    return this.link.serverSettings;
  }

  /** Wait until the server is up; a `ServerLostError` after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    try {
      await this.link.ready(timeoutMs);
    } catch (err) {
      throw new ServerLostError(errorMessage(err));
    }
  }

  /** The server as it is now (never rejects: `started` is left out when unreadable). */
  async identify(): Promise<IServerIdentity> {
    const settings = this.settings;
    try {
      const status = await this._status(settings);
      return { settings, started: status.started };
    } catch {
      return { settings };
    }
  }

  /**
   * Why the server a kernel ran on (`identity`; default: the current one)
   * is gone, or undefined when it still answers as the same server.
   */
  async lost(identity?: IServerIdentity): Promise<string | undefined> {
    const settings = this.settings;
    if (identity && identity.settings !== settings) {
      return `the Jupyter server at ${identity.settings.baseUrl} was restarted`;
    }
    let status: { started?: string };
    try {
      status = await this._status(settings);
    } catch (err) {
      if (this.settings !== settings) {
        return `the Jupyter server at ${settings.baseUrl} was restarted`;
      }
      if ((err as { timedOut?: boolean }).timedOut) {
        // Busy, not gone: the websocket's reconnect grace decides.
        return undefined;
      }
      return `the Jupyter server at ${settings.baseUrl} does not answer (${errorMessage(err)})`;
    }
    if (identity?.started && status.started && identity.started !== status.started) {
      return `the Jupyter server at ${settings.baseUrl} was restarted (started ${status.started})`;
    }
    return undefined;
  }

  private _status(settings: ServerConnection.ISettings): Promise<{ started?: string }> {
    return this.link.status
      ? this.link.status(settings, PROBE_TIMEOUT_MS)
      : fetchServerStatus(settings, PROBE_TIMEOUT_MS);
  }
}
