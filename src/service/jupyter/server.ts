/**
 * A private Jupyter Server owned by the MEOW service: bound to 127.0.0.1 on a
 * free port, protected by a random token, with the workgroup as root
 * directory. Jobs run in its kernels (spec §5).
 */
import { ChildProcess, spawn } from 'child_process';
import { EventEmitter } from 'events';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { ServerConnection } from '@jupyterlab/services';
import { ILogSink, LogOption, toLogSink } from './log';
import type { IJupyterServerLink } from './link';
import { makeServerSettings } from './settings';

/** Where log lines go: a function or a leveled logger; defaults to nowhere. */
export type LogFn = LogOption;

/**
 * The Python side of the launcher, run with `python -c`:
 *
 * - reads the token from the first stdin line (so it never shows in `ps`);
 * - loads no user/system Jupyter config (JUPYTER_NO_CONFIG) while the server
 *   initialises, so no server extension (JupyterLab, or MEOW itself) is
 *   loaded into the private server; the variable is removed again before any
 *   kernel starts, so kernels see the user's normal environment;
 * - makes `meow-fork` (jupyterlab_meow/kernels: kernels forked from a
 *   pre-imported template process) the kernel provisioner of every
 *   kernelspec that names none, when asked (`forkKernels`) and installed;
 * - sends kernel messages at once (TCP_NODELAY on kernel websockets), not
 *   held back by Nagle's algorithm until the client's delayed ACK;
 * - shuts the server (and with it its kernels) down when stdin reaches EOF,
 *   i.e. when the Node process is gone, however it died — exiting hard if
 *   the server's own stop does not finish.
 */
const LAUNCHER = `
import os, sys, signal, threading, shutil, time
token = sys.stdin.readline().strip()
os.environ["JUPYTER_NO_CONFIG"] = "1"
argv = sys.argv[1:]
# Fork kernels (jupyterlab_meow/kernels): the meow-fork provisioner for every
# kernelspec that names none, when this Python has it installed.
if os.environ.pop("MEOW_FORK_PROVISIONER", "") == "1":
    try:
        from importlib.metadata import entry_points
        try:
            _eps = entry_points(group="jupyter_client.kernel_provisioners")
        except TypeError:
            _eps = entry_points().get("jupyter_client.kernel_provisioners", [])
        if any(ep.name == "meow-fork" for ep in _eps):
            argv = ["--KernelProvisionerFactory.default_provisioner_name=meow-fork"] + argv
            print("meow: kernels are forked from a template (meow-fork)", file=sys.stderr, flush=True)
        else:
            print("meow: warning: the meow-fork kernel provisioner is not installed for " + sys.executable +
                  " (pip install jupyterlab_meow there); kernels start the usual way", file=sys.stderr, flush=True)
    except Exception as e:
        print("meow: warning: cannot look for the meow-fork kernel provisioner: %s" % e, file=sys.stderr, flush=True)
# Tornado leaves Nagle's algorithm on for websockets: a kernel message
# written right after another then waits for the client's delayed ACK (40 ms
# on Linux), e.g. each cell's execute_input, reply and idle after its busy
# status. Kernel websockets send small writes at once instead.
try:
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler as _KWH
    _ws_open = _KWH.open
    async def _ws_open_nodelay(self, *args, **kwargs):
        try:
            self.set_nodelay(True)
        except Exception:
            pass
        return await _ws_open(self, *args, **kwargs)
    _KWH.open = _ws_open_nodelay
except Exception as e:
    print("meow: warning: cannot turn Nagle's algorithm off for kernel websockets: %s" % e, file=sys.stderr, flush=True)
from jupyter_server.serverapp import ServerApp
app = ServerApp.instance()
app.initialize(argv + ["--IdentityProvider.token=" + token])
os.environ.pop("JUPYTER_NO_CONFIG", None)
# JUPYTER_NO_CONFIG makes jupyter_core create temporary config folders it
# never removes; remove them once the server is initialised.
try:
    from jupyter_core import paths as _paths
    for _tmp in list(getattr(_paths, "_dtemps", {}).values()):
        shutil.rmtree(_tmp, ignore_errors=True)
    getattr(_paths, "_dtemps", {}).clear()
except Exception:
    pass
def _watch_parent():
    try:
        while sys.stdin.read(4096):
            pass
    except Exception:
        pass
    # jupyter_server's stop can fail part way (a kernel still starting makes
    # shutdown_all raise before the loop stops) and leave the server up: ask
    # again, then exit hard; kernels notice their parent is gone and exit.
    for _ in range(4):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    os._exit(1)
threading.Thread(target=_watch_parent, daemon=True).start()
app.start()
`;

/** The Python to use when none is given: env MEOW_PYTHON, the repo's .venv, python3. */
export function defaultPython(): string {
  if (process.env.MEOW_PYTHON) {
    return process.env.MEOW_PYTHON;
  }
  // Walk up from this file (src/service/jupyter or a bundle) to find <repo>/.venv.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, '.venv', 'bin', 'python');
    if (fs.existsSync(candidate)) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      break;
    }
    dir = parent;
  }
  return 'python3';
}

/** Ask the OS for a free TCP port on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

export namespace PrivateJupyterServer {
  export interface IOptions {
    /** Root directory of the server; kernels start with this working directory. */
    rootDir: string;
    /** Python with jupyter_server + ipykernel (see `defaultPython`). */
    python?: string;
    log?: LogOption;
    /** How long to wait for the server to answer (default 60 s). */
    startTimeoutMs?: number;
    /**
     * jupyter_server's log level (default: env MEOW_JUPYTER_LOG_LEVEL, else
     * WARN). Its output goes to `log` at debug level.
     */
    logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL';
    /** Restart the server when it exits unexpectedly (default true). */
    restart?: boolean;
    /** Longest wait between two restart attempts (default 30 s; starts at 0.5 s, doubles). */
    restartMaxDelayMs?: number;
    /** Extra jupyter_server command-line options, after meow's own (so they win). */
    args?: string[];
    /**
     * Fork kernels from a pre-imported template (the `meow-fork` kernel
     * provisioner of jupyterlab_meow, when installed for `python`): a
     * kernel starts in tens of milliseconds instead of about a second.
     * Default: true unless env MEOW_FORK_KERNELS=0. A kernelspec that names
     * its own provisioner keeps it; non-ipykernel kernels start as usual.
     */
    forkKernels?: boolean;
  }

  /** Emitted as `exit` when the server exits unexpectedly. */
  export interface IExitInfo {
    pid: number | undefined;
    url: string;
    /** Exit code or signal, e.g. `SIGKILL`. */
    how: string;
  }

  /** Emitted as `restart` when a restarted server answers. */
  export interface IRestartInfo {
    url: string;
    /** How many times the server has been restarted so far. */
    restarts: number;
  }
}

/** After this long up, a server that dies is restarted at once again (backoff reset). */
const STABLE_UPTIME_MS = 60_000;

/**
 * The private server, watched: when its process exits without `stop()` (a
 * kill -9, an OOM kill), it is restarted with backoff on a new port and
 * token, the events `exit` and `restart` are emitted, and `serverSettings`
 * then reaches the new server. `ready()` waits through a restart.
 */
export class PrivateJupyterServer extends EventEmitter implements IJupyterServerLink {
  constructor(options: PrivateJupyterServer.IOptions) {
    super();
    this.rootDir = path.resolve(options.rootDir);
    this.python = options.python ?? defaultPython();
    this._log = toLogSink(options.log);
    this._startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this._logLevel = options.logLevel ?? process.env.MEOW_JUPYTER_LOG_LEVEL ?? 'WARN';
    this._restart = options.restart ?? true;
    this._restartMaxDelayMs = options.restartMaxDelayMs ?? 30_000;
    this._extraArgs = options.args ?? [];
    this.forkKernels = options.forkKernels ?? process.env.MEOW_FORK_KERNELS !== '0';
  }

  /** Whether kernels are asked to be forked from a template (see `IOptions.forkKernels`). */
  readonly forkKernels: boolean;

  /** How many times the server was restarted after dying. */
  get restarts(): number {
    return this._restarts;
  }

  /** True while the server is down and being restarted. */
  get isRestarting(): boolean {
    return !!this._restarting;
  }

  /**
   * Resolve when the server answers: at once when it is up, after the
   * restart when it is restarting. Rejects after `timeoutMs`, or when the
   * server was stopped or never started.
   */
  async ready(timeoutMs: number): Promise<void> {
    if (this._stopping) {
      throw new Error('the private Jupyter server has been stopped');
    }
    if (!this._starting) {
      throw new Error('the private Jupyter server has not been started');
    }
    const waitFor = this._restarting ?? this._starting;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        waitFor,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `the private Jupyter server is ${this._restarting ? 'restarting' : 'starting'} and did not ` +
                    `answer within ${Math.round(timeoutMs / 1000)} s` +
                    (this._lastRestartError ? ` (last error: ${this._lastRestartError})` : '')
                )
              ),
            timeoutMs
          );
        })
      ]);
    } finally {
      clearTimeout(timer);
    }
    if (this._restarting) {
      // It died again while we waited.
      return this.ready(timeoutMs);
    }
  }

  readonly rootDir: string;
  readonly python: string;

  /** Base URL, e.g. `http://127.0.0.1:41234/` (after `start()`). */
  get url(): string {
    this._assertStarted();
    return this._url;
  }

  get token(): string {
    this._assertStarted();
    return this._token;
  }

  get serverSettings(): ServerConnection.ISettings {
    this._assertStarted();
    if (!this._settings) {
      this._settings = makeServerSettings(this._url, this._token);
    }
    return this._settings;
  }

  /** Process id of the server, while it runs. */
  get pid(): number | undefined {
    return this._child?.pid;
  }

  get isRunning(): boolean {
    return !!this._child && this._child.exitCode === null && this._child.signalCode === null;
  }

  /** Start the server and wait until it answers. Calling it twice is harmless. */
  start(): Promise<void> {
    if (!this._starting) {
      this._starting = this._start();
      // Callers see the rejection; this copy only keeps `ready()` waiters quiet.
      this._starting.catch(() => undefined);
    }
    return this._starting;
  }

  /** Shut the server and its kernels down. Idempotent. */
  stop(): Promise<void> {
    if (!this._stopping) {
      this._stopping = this._stop();
    }
    return this._stopping;
  }

  private async _start(): Promise<void> {
    let lastError: Error | undefined;
    // A port picked by Node may be taken before the server binds it: retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this._stopping) {
        throw new Error('the Jupyter server was stopped while starting');
      }
      try {
        await this._startOnce(await findFreePort());
        return;
      } catch (err) {
        lastError = err as Error;
        await this._killChild();
        if (!/address already in use|errno 98|port .* not available/i.test(this._stderrTail())) {
          break;
        }
        this._log.warn(`[jupyter] port in use, retrying`);
      }
    }
    throw lastError;
  }

  private async _startOnce(port: number): Promise<void> {
    if (!fs.existsSync(this.rootDir) || !fs.statSync(this.rootDir).isDirectory()) {
      throw new Error(`cannot start Jupyter Server: root directory ${this.rootDir} does not exist`);
    }
    this._token = randomBytes(24).toString('hex');
    this._url = `http://127.0.0.1:${port}/`;
    this._settings = undefined; // new port and token: new settings
    this._stderr = [];
    const args = [
      '-c',
      LAUNCHER,
      `--ServerApp.ip=127.0.0.1`,
      `--ServerApp.port=${port}`,
      `--ServerApp.port_retries=0`,
      `--ServerApp.open_browser=False`,
      `--ServerApp.allow_remote_access=False`,
      `--ServerApp.root_dir=${this.rootDir}`,
      `--ServerApp.log_level=${this._logLevel}`,
      // Jobs are not browsers: never replace a job's output with "IOPub data
      // rate exceeded" (the kernel conductor caps stored output itself).
      `--ZMQChannelsWebsocketConnection.limit_rate=False`
    ];
    if (process.getuid?.() === 0) {
      // Containers often run as root; the server is private to this process.
      args.push('--ServerApp.allow_root=True');
    }
    // An option given in `args` replaces meow's own (traitlets refuses repeats).
    for (const extra of this._extraArgs) {
      const key = extra.split('=')[0];
      const i = args.findIndex(a => a.startsWith('--') && a.split('=')[0] === key);
      if (i >= 0) {
        args.splice(i, 1);
      }
      args.push(extra);
    }
    this._log.debug(`[jupyter] starting ${this.python} (jupyter_server) on ${this._url}, root ${this.rootDir}`);
    const env = { ...process.env };
    delete env.JUPYTER_TOKEN;
    env.MEOW_FORK_PROVISIONER = this.forkKernels ? '1' : '0';
    const child = spawn(this.python, args, {
      // Kernels inherit the server's working directory (jupyter_server only
      // sets a kernel cwd when a notebook path is given).
      cwd: this.rootDir,
      env,
      stdio: ['pipe', 'pipe', 'pipe']
    });
    this._child = child;
    let spawnError: Error | undefined;
    child.on('error', err => {
      spawnError = err;
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.write(this._token + '\n');
    // stdin stays open: its EOF tells the server that Node is gone.
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (line.trim()) {
          this._stderr.push(line);
          if (this._stderr.length > 40) {
            this._stderr.shift();
          }
          if (line.startsWith('meow: warning: ')) {
            this._log.warn(`[jupyter] ${line.slice('meow: warning: '.length)}`);
          } else {
            this._log.debug(`[jupyter] ${line}`);
          }
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    process.on('exit', this._onProcessExit);
    this._exitHandlerInstalled = true;
    // The server must not keep Node alive on its own; 'exit' kills it.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as any[]) {
      s?.unref?.();
    }

    const deadline = Date.now() + this._startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) {
        throw new Error(
          `cannot start Jupyter Server: could not run ${this.python} (${spawnError.message}). ` +
            `Set MEOW_PYTHON (or --python) to a Python that has jupyter_server and ipykernel installed.`
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        await sleep(50); // let the last stderr lines arrive
        throw new Error(this._describeFailure(`exited with ${child.exitCode ?? child.signalCode}`));
      }
      if (await this._answers()) {
        this._log.debug(`[jupyter] ready at ${this._url}`);
        this._upSince = Date.now();
        child.once('exit', (code, signal) => this._onChildExit(child, code, signal));
        return;
      }
      await sleep(150);
    }
    throw new Error(this._describeFailure(`did not answer within ${Math.round(this._startTimeoutMs / 1000)} s`));
  }

  /** The server process exited: after `stop()` that is expected, otherwise restart it. */
  private _onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this._stopping || child !== this._child) {
      return;
    }
    const how = signal ?? `exit code ${code}`;
    const info: PrivateJupyterServer.IExitInfo = { pid: child.pid, url: this._url, how };
    this._releaseChild(child);
    this._log.error(
      `[jupyter] the private Jupyter server (pid ${child.pid}, ${this._url}) died (${how}); ` +
        `its kernels and the jobs running in them are lost` +
        (this._restart ? '; restarting it' : ' and restarting is off')
    );
    const tail = this._stderrTail(6);
    if (tail) {
      this._log.debug(`[jupyter] last output of the dead server:\n${tail}`);
    }
    this.emit('exit', info);
    if (this._restart) {
      const quick = Date.now() - this._upSince > STABLE_UPTIME_MS;
      this._restarting = this._restartLoop(quick ? 0 : this._nextDelay);
      this._restarting.catch(() => undefined);
    }
  }

  /** Start again with backoff until it answers or `stop()` is called. */
  private async _restartLoop(firstDelayMs: number): Promise<void> {
    let delay = firstDelayMs;
    try {
      for (let attempt = 1; ; attempt++) {
        if (delay > 0) {
          await new Promise<void>(resolve => {
            const t = setTimeout(resolve, delay);
            this._wakeRestart = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this._wakeRestart = undefined;
        }
        if (this._stopping) {
          throw new Error('the private Jupyter server was stopped while restarting');
        }
        try {
          await this._start();
          this._restarts++;
          this._lastRestartError = undefined;
          this._nextDelay = Math.min(this._restartMaxDelayMs, Math.max(500, delay * 2));
          this._log.warn(
            `[jupyter] private Jupyter server restarted at ${this._url} (restart ${this._restarts}); ` +
              `jobs that lost their kernel are run again`
          );
          this._restarting = undefined;
          this.emit('restart', { url: this._url, restarts: this._restarts } as PrivateJupyterServer.IRestartInfo);
          return;
        } catch (err) {
          this._lastRestartError = (err as Error).message.split('\n')[0];
          delay = Math.min(this._restartMaxDelayMs, Math.max(500, delay * 2));
          if (this._stopping) {
            throw err;
          }
          this._log.error(
            `[jupyter] could not restart the private Jupyter server (attempt ${attempt}): ` +
              `${(err as Error).message}\nnext attempt in ${Math.round(delay / 100) / 10} s`
          );
        }
      }
    } finally {
      this._wakeRestart = undefined;
      if (this._stopping) {
        this._restarting = undefined;
      }
    }
  }

  /** Forget a child that has exited: streams and the process exit hook. */
  private _releaseChild(child: ChildProcess): void {
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (this._exitHandlerInstalled) {
      process.removeListener('exit', this._onProcessExit);
      this._exitHandlerInstalled = false;
    }
  }

  private _describeFailure(what: string): string {
    const tail = this._stderrTail();
    let hint = '';
    if (/No module named '?jupyter_server/.test(tail)) {
      hint =
        ` jupyter_server is not installed for ${this.python}: install it there ` +
        `(\`${this.python} -m pip install jupyter_server ipykernel\`) or set MEOW_PYTHON to a Python that has it.`;
    }
    return (
      `cannot start Jupyter Server with ${this.python}: the server ${what}.${hint}` +
      (tail ? `\nlast output:\n${tail}` : '')
    );
  }

  private _stderrTail(n = 12): string {
    return this._stderr.slice(-n).join('\n');
  }

  private async _answers(): Promise<boolean> {
    try {
      const res = await fetch(`${this._url}api/status?token=${this._token}`, {
        signal: AbortSignal.timeout(2000)
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  private async _stop(): Promise<void> {
    if (this._starting) {
      await this._starting.catch(() => undefined);
    }
    // A restart in flight finishes (bounded by the start timeout), then stops here.
    this._wakeRestart?.();
    if (this._restarting) {
      await this._restarting.catch(() => undefined);
    }
    const child = this._child;
    if (!child) {
      return;
    }
    if (this.isRunning) {
      this._log.debug(`[jupyter] stopping server ${this._url}`);
      try {
        const res = await fetch(`${this._url}api/shutdown`, {
          method: 'POST',
          headers: { Authorization: `token ${this._token}` },
          signal: AbortSignal.timeout(5000)
        });
        await res.body?.cancel();
      } catch {
        // fall through to signals
      }
      await this._waitExit(child, 10_000);
    }
    await this._killChild();
  }

  /** SIGTERM, then SIGKILL after a grace period, until the child is gone. */
  private async _killChild(): Promise<void> {
    const child = this._child;
    if (!child) {
      return;
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await this._waitExit(child, 5000))) {
        child.kill('SIGKILL');
        await this._waitExit(child, 5000);
      }
    }
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (this._exitHandlerInstalled) {
      process.removeListener('exit', this._onProcessExit);
      this._exitHandlerInstalled = false;
    }
  }

  private _waitExit(child: ChildProcess, ms: number): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve(true);
    }
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        child.removeListener('exit', onExit);
        resolve(false);
      }, ms);
      const onExit = () => {
        clearTimeout(timer);
        resolve(true);
      };
      child.once('exit', onExit);
    });
  }

  private _assertStarted(): void {
    if (!this._url) {
      throw new Error('the Jupyter server has not been started');
    }
  }

  private _onProcessExit = (): void => {
    const child = this._child;
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  };

  private _log: ILogSink;
  private _startTimeoutMs: number;
  private _logLevel: string;
  private _child: ChildProcess | undefined;
  private _url = '';
  private _token = '';
  private _settings: ServerConnection.ISettings | undefined;
  private _stderr: string[] = [];
  private _starting: Promise<void> | undefined;
  private _stopping: Promise<void> | undefined;
  private _exitHandlerInstalled = false;
  private _restart: boolean;
  private _restartMaxDelayMs: number;
  private _extraArgs: string[];
  private _restarting: Promise<void> | undefined;
  private _wakeRestart: (() => void) | undefined;
  private _restarts = 0;
  private _upSince = 0;
  private _nextDelay = 500;
  private _lastRestartError: string | undefined;
}
