/**
 * Starts, shuts down and interrupts the kernels of one conductor, and keeps
 * their ids in the kernels file so a successor can shut down what a killed
 * service left behind.
 */
import { Kernel, KernelAPI } from '@jupyterlab/services';
import type { ILogSink } from '../jupyter/log';
import { SafeKernelConnection } from './connection';
import { KernelRegistry } from './kernelRegistry';
import { formatSeconds } from './outputs';
import { IServerIdentity, ServerLostError, ServerWatch } from './serverWatch';
import { bounded, errorMessage, REST_TIMEOUT_MS, sleep } from './util';

/** A kernel owned by the conductor. */
export interface IKernelHandle {
  id: string;
  spec: string;
  connection: Kernel.IKernelConnection;
  pooled: boolean;
  /** The server it runs on: when that one is gone, so is the kernel. */
  server: IServerIdentity;
  shutdown?: Promise<void>;
}

/** How long to keep retrying a failed kernel shutdown. */
const SHUTDOWN_RETRY_MS = 30_000;
/** How often a starting kernel's server is asked whether it is still there. */
const PROBE_INTERVAL_MS = 2000;

export class KernelLauncher {
  constructor(
    private readonly server: ServerWatch,
    private readonly registry: KernelRegistry,
    private readonly log: ILogSink,
    private readonly startTimeoutMs: number
  ) {}

  /** Ids of every kernel started and not yet shut down. */
  get ids(): string[] {
    return [...this._kernels].map(k => k.id);
  }

  /** Refuse new kernels; those still starting are shut down when they arrive. */
  close(): void {
    this._closed = true;
  }

  /** Settles when no kernel is starting. */
  async whenIdle(): Promise<void> {
    await Promise.allSettled([...this._launching]);
  }

  /** Shut down every kernel still owned (bounded, never rejects); the kernels file ends up empty. */
  async shutdownAll(): Promise<void> {
    await Promise.allSettled([...this._kernels].map(h => this.shutdown(h)));
    await this._save();
  }

  /**
   * Shut down the kernels a previous run of the service listed in the
   * kernels file and that still run on this server (it was killed before it
   * could). Never rejects.
   */
  async reapLeftovers(): Promise<void> {
    const base = this.server.settings.baseUrl;
    const listed = await this.registry.leftovers(base);
    if (listed.length) {
      let stale: string[];
      try {
        const running = (
          await bounded(KernelAPI.listRunning(this.server.settings), REST_TIMEOUT_MS, 'listing kernels')
        ).map(k => k.id);
        stale = listed.filter(id => running.includes(id));
      } catch (err) {
        if ((err as any)?.response?.status !== 403) {
          this.log.warn(`[kernel] could not list kernels to shut down those of an earlier run: ${errorMessage(err)}`);
          return;
        }
        // Enterprise Gateway forbids listing kernels (unless list_kernels is
        // on) but answers for one kernel: ask for each listed one.
        stale = [];
        for (const id of listed) {
          try {
            if (
              await bounded(
                KernelAPI.getKernelModel(id, this.server.settings),
                REST_TIMEOUT_MS,
                `asking for kernel ${id}`
              )
            ) {
              stale.push(id);
            }
          } catch (err2) {
            this.log.warn(`[kernel] could not ask for kernel ${id} left by an earlier run: ${errorMessage(err2)}`);
          }
        }
      }
      for (const id of stale) {
        try {
          await bounded(
            KernelAPI.shutdownKernel(id, this.server.settings),
            REST_TIMEOUT_MS,
            `shutting down kernel ${id}`
          );
        } catch (err) {
          this.log.warn(`[kernel] could not shut down kernel ${id} left by an earlier run: ${errorMessage(err)}`);
        }
      }
      if (stale.length) {
        this.log.info(
          `[kernel] shut down ${stale.length} kernel(s) left running by an earlier run of the service on ${base}`
        );
      }
    }
    await this._save();
  }

  /** Start a kernel and wait until it answers kernel_info. */
  launch(spec: string, pooled: boolean): Promise<IKernelHandle> {
    const p = this._launch(spec, pooled);
    this._launching.add(p);
    const forget = () => this._launching.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Shut a kernel down (idempotent, bounded, never rejects). */
  shutdown(handle: IKernelHandle): Promise<void> {
    if (!handle.shutdown) {
      this._shuttingDown.add(handle);
      // The kernels file is not rewritten here: an id of a kernel that is
      // gone is harmless there (only running kernels are reaped), and the
      // next start or `shutdownAll` writes the list again.
      handle.shutdown = this._shutdown(handle).finally(() => {
        this._kernels.delete(handle);
        this._shuttingDown.delete(handle);
      });
    }
    return handle.shutdown;
  }

  /** How many kernels are being shut down now. */
  get shuttingDown(): number {
    return this._shuttingDown.size;
  }

  /** Settles when no kernel is being shut down. */
  async whenShutdownsDone(): Promise<void> {
    while (this._shuttingDown.size) {
      await Promise.allSettled([...this._shuttingDown].map(h => h.shutdown));
    }
  }

  /** Interrupt a kernel (bounded, never rejects). */
  async interrupt(handle: IKernelHandle): Promise<void> {
    try {
      await bounded(
        KernelAPI.interruptKernel(handle.id, handle.server.settings),
        REST_TIMEOUT_MS,
        `interrupting kernel ${handle.id}`
      );
    } catch (err) {
      this.log.warn(`[kernel] could not interrupt kernel ${handle.id}: ${errorMessage(err)}`);
    }
  }

  private async _launch(spec: string, pooled: boolean): Promise<IKernelHandle> {
    const deadline = Date.now() + this.startTimeoutMs;
    const settings = this.server.settings;
    const [model, identity] = await Promise.all([
      bounded(KernelAPI.startNew({ name: spec }, settings), this.startTimeoutMs, `starting a "${spec}" kernel`),
      this.server.identify()
    ]);
    const connection = new SafeKernelConnection({ model, serverSettings: settings, handleComms: false }, m =>
      this.log.debug(`[kernel] ${m}`)
    );
    const handle: IKernelHandle = { id: model.id, spec, connection, pooled, server: { ...identity, settings } };
    this._kernels.add(handle);
    void this._save();
    if (this._closed) {
      await this.shutdown(handle);
      throw new Error('the kernel conductor was disposed');
    }
    try {
      await this._waitReady(handle, Math.max(1000, deadline - Date.now()));
    } catch (err) {
      await this.shutdown(handle);
      throw err;
    }
    this.log.debug(`[kernel] started ${spec} kernel ${model.id}${pooled ? ' (pool)' : ''}`);
    return handle;
  }

  private async _shutdown(handle: IKernelHandle): Promise<void> {
    // Close our websocket first, so the library does not try to reconnect
    // to a kernel that is going away.
    handle.connection.dispose();
    // A kernel of a server that was replaced went with it (ipykernel exits
    // when its parent does); its old address answers nothing.
    if (handle.server.settings !== this.server.settings) {
      return;
    }
    // A DELETE while the server is auto-restarting a dead kernel fails with
    // a 500 (jupyter_client's InvalidStateError on `km.ready`) and the
    // restarted kernel would be left running: retry until it works.
    const deadline = Date.now() + SHUTDOWN_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await bounded(
          KernelAPI.shutdownKernel(handle.id, handle.server.settings),
          REST_TIMEOUT_MS,
          `shutting down kernel ${handle.id}`
        );
        return;
      } catch (err) {
        if ((err as any)?.response?.status === 404) {
          return;
        }
        const lost = await this.server.lost(handle.server);
        if (lost) {
          this.log.debug(`[kernel] kernel ${handle.id} not shut down: ${lost}`);
          return;
        }
        if (Date.now() > deadline) {
          this.log.warn(`[kernel] could not shut down kernel ${handle.id} (${attempt} attempts): ${errorMessage(err)}`);
          return;
        }
        await sleep(Math.min(2000, 250 * attempt));
      }
    }
  }

  private _waitReady(handle: IKernelHandle, ms: number): Promise<void> {
    const c = handle.connection;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the "${handle.spec}" kernel did not become ready within ${formatSeconds(ms)}`));
      }, ms);
      const onStatus = (_: unknown, status: Kernel.Status) => {
        // A kernel that crashes while starting ("Address already in use"
        // when another kernel took its port) is auto-restarted by the
        // server: treat it as failed, the caller starts another.
        if (status === 'dead' || status === 'autorestarting' || status === 'restarting') {
          cleanup();
          reject(new Error(`the "${handle.spec}" kernel died while starting`));
        }
      };
      const onConnection = (_: unknown, status: Kernel.ConnectionStatus) => {
        if (status === 'disconnected') {
          cleanup();
          reject(new Error(`could not open a websocket to the "${handle.spec}" kernel`));
        }
      };
      // A dead server never closes the websocket cleanly: the library then
      // retries for minutes. Ask the server instead.
      let probing = false;
      const probe = setInterval(async () => {
        if (probing) {
          return;
        }
        probing = true;
        const lost = await this.server.lost(handle.server);
        probing = false;
        if (lost) {
          cleanup();
          reject(new ServerLostError(`${lost} while the "${handle.spec}" kernel was starting`));
        }
      }, PROBE_INTERVAL_MS);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(probe);
        if (!c.isDisposed) {
          c.statusChanged.disconnect(onStatus);
          c.connectionStatusChanged.disconnect(onConnection);
        }
      };
      c.statusChanged.connect(onStatus);
      c.connectionStatusChanged.connect(onConnection);
      c.info.then(
        () => {
          cleanup();
          resolve();
        },
        err => {
          cleanup();
          reject(err);
        }
      );
    });
  }

  private _save(): Promise<void> {
    return this.registry.save(this.server.settings.baseUrl, this.ids);
  }

  private _closed = false;
  private _kernels = new Set<IKernelHandle>();
  private _shuttingDown = new Set<IKernelHandle>();
  private _launching = new Set<Promise<IKernelHandle>>();
}
