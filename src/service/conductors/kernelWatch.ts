/**
 * The watch that sees a kernel die while a job runs: its status, its
 * websocket (with a grace period to reconnect, probing the server
 * meanwhile) and a poll of its model on the server, which catches deaths
 * the websocket misses.
 */
import { Kernel, KernelAPI } from '@jupyterlab/services';
import type { IStop } from './kernelStop';
import type { IKernelHandle } from './launcher';
import { formatSeconds } from './outputs';
import type { ServerWatch } from './serverWatch';
import { bounded, REST_TIMEOUT_MS } from './util';

/** How long a dropped websocket may take to reconnect before the job fails. */
const RECONNECT_GRACE_MS = 20_000;
/** How often the kernel's model is polled while a job runs. */
const LIVENESS_POLL_MS = 3_000;
/** While the websocket is down, how often the server is asked whether it is still there. */
const SERVER_PROBE_MS = 1_000;

export class KernelWatch {
  constructor(options: KernelWatch.IOptions) {
    this._handle = options.handle;
    this._server = options.server;
    this._stop = options.stop;
    this._stopped = options.stopped;
    const c = this._handle.connection;
    c.statusChanged.connect(this._onStatus);
    c.connectionStatusChanged.connect(this._onConnection);
    if (c.isDisposed || c.status === 'dead') {
      this._stop({ kind: 'dead' });
    }
    this._startPolling();
  }

  /** Stop watching (timers and signal connections). */
  dispose(): void {
    clearInterval(this._poll);
    clearInterval(this._serverProbe);
    clearTimeout(this._reconnectTimer);
    const c = this._handle.connection;
    if (!c.isDisposed) {
      c.statusChanged.disconnect(this._onStatus);
      c.connectionStatusChanged.disconnect(this._onConnection);
    }
  }

  private _onStatus = (_: unknown, status: Kernel.Status): void => {
    if (status === 'dead' || status === 'autorestarting' || status === 'restarting') {
      this._stop({ kind: 'dead' });
    }
  };

  private _onConnection = (_: unknown, status: Kernel.ConnectionStatus): void => {
    if (status === 'connected') {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = undefined;
      clearInterval(this._serverProbe);
      this._serverProbe = undefined;
    } else if (status === 'disconnected') {
      this._stop({ kind: 'dead', detail: 'the connection to the kernel was lost' });
    } else if (status === 'connecting' && !this._reconnectTimer) {
      // A dead server is seen in about a second, not after the grace period.
      this._probeServer();
      this._reconnectTimer = setTimeout(
        () =>
          this._stop({
            kind: 'dead',
            detail: `the connection to the kernel was lost and not restored within ${formatSeconds(RECONNECT_GRACE_MS)}`
          }),
        RECONNECT_GRACE_MS
      );
    }
  };

  /** While the websocket is down: ask the server, stop as `server` when it is gone. */
  private _probeServer(): void {
    if (this._serverProbe) {
      return;
    }
    const identity = this._handle.server;
    let probing = false;
    const probe = async () => {
      if (probing || this._stopped()) {
        return;
      }
      probing = true;
      try {
        const lost = await this._server.lost(identity);
        if (lost) {
          this._stop({ kind: 'server', detail: lost });
        }
      } finally {
        probing = false;
      }
    };
    this._serverProbe = setInterval(() => void probe(), SERVER_PROBE_MS);
    void probe();
  }

  /** The websocket can miss a death (e.g. when the server cannot restart the kernel): ask the server now and then. */
  private _startPolling(): void {
    const handle = this._handle;
    let polling = false;
    this._poll = setInterval(async () => {
      if (polling || this._stopped()) {
        return;
      }
      polling = true;
      try {
        const model = await bounded(
          KernelAPI.getKernelModel(handle.id, handle.server.settings),
          REST_TIMEOUT_MS,
          'polling the kernel'
        );
        if (!model) {
          this._stop({ kind: 'dead', detail: 'the kernel disappeared from the Jupyter server' });
        } else if (model.execution_state === 'dead') {
          this._stop({ kind: 'dead' });
        }
      } catch {
        // Unreachable: find out whether the server is gone.
        this._probeServer();
      } finally {
        polling = false;
      }
    }, LIVENESS_POLL_MS);
  }

  private readonly _handle: IKernelHandle;
  private readonly _server: ServerWatch;
  private readonly _stop: (stop: IStop) => void;
  private readonly _stopped: () => boolean;
  private _poll: ReturnType<typeof setInterval> | undefined;
  private _reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private _serverProbe: ReturnType<typeof setInterval> | undefined;
}

export namespace KernelWatch {
  export interface IOptions {
    handle: IKernelHandle;
    server: ServerWatch;
    /** Stop the job (the first call wins). */
    stop: (stop: IStop) => void;
    /** True once the job has stopped: no more probing. */
    stopped: () => boolean;
  }
}
