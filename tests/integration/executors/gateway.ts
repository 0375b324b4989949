/**
 * Remote Jupyter servers for the remote executor's tests: a Jupyter
 * Enterprise Gateway on loopback (from its own virtualenv, `.venv/gateway`:
 * EG 3.x pins jupyter_server<2 and jupyter_client<7, which JupyterLab 4 in
 * `.venv` cannot share), and the processes a test left in its folder.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import { findFreePort } from '../../../src/service/jupyter/server';

export const REPO = path.resolve(__dirname, '..', '..', '..');

/** `jupyter` of the virtualenv that has jupyter_enterprise_gateway (MEOW_GATEWAY_JUPYTER overrides). */
export const GATEWAY_JUPYTER =
  process.env.MEOW_GATEWAY_JUPYTER ?? path.join(REPO, '.venv', 'gateway', 'bin', 'jupyter');

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** An Enterprise Gateway started by a test. */
export class Gateway {
  private constructor(
    readonly url: string,
    readonly token: string,
    private readonly child: ChildProcess,
    private readonly lines: string[]
  ) {}

  /**
   * Start EG on a free loopback port with a random token (given in the
   * environment, not on the command line), its working directory `cwd` —
   * the kernels it launches with the default (local) process proxy inherit
   * it. Rejects with the tail of its output when it does not answer.
   */
  static async start(options: { cwd: string; timeoutMs?: number }): Promise<Gateway> {
    if (!existsSync(GATEWAY_JUPYTER)) {
      throw new Error(
        `Jupyter Enterprise Gateway is not installed: ${GATEWAY_JUPYTER} does not exist. ` +
          `Run \`make setup\` (it creates .venv/gateway), or: ` +
          `.venv/bin/python -m venv .venv/gateway && .venv/gateway/bin/pip install jupyter_enterprise_gateway ipykernel`
      );
    }
    const timeoutMs = options.timeoutMs ?? 120_000;
    let lastError: Error | undefined;
    // A port picked here may be taken before EG binds it: try another.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await findFreePort();
      const token = randomBytes(16).toString('hex');
      const lines: string[] = [];
      const child = spawn(
        GATEWAY_JUPYTER,
        [
          'enterprisegateway',
          '--EnterpriseGatewayApp.ip=127.0.0.1',
          `--EnterpriseGatewayApp.port=${port}`,
          '--EnterpriseGatewayApp.port_retries=0',
          // EG refuses kernels for KERNEL_USERNAME "root" by default (and the
          // user running EG is the default KERNEL_USERNAME); CI runs as root.
          '--EnterpriseGatewayApp.unauthorized_users=nobody-is-refused',
          // Only python3 may be started (jupyter_client 6 calls the allow-list `whitelist`).
          '--KernelSpecManager.whitelist=python3',
          '--EnterpriseGatewayApp.log_level=INFO'
        ],
        { cwd: options.cwd, env: { ...process.env, EG_AUTH_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] }
      );
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split(/\r?\n/)) {
          if (line.trim()) {
            lines.push(line);
            if (lines.length > 200) {
              lines.shift();
            }
          }
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      let spawnError: Error | undefined;
      child.on('error', err => (spawnError = err));
      const gateway = new Gateway(`http://127.0.0.1:${port}/`, token, child, lines);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (spawnError || child.exitCode !== null || child.signalCode !== null) {
          await sleep(100);
          lastError = new Error(
            `Jupyter Enterprise Gateway did not start (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}); ` +
              `its output ended:\n${gateway.tail()}`
          );
          break;
        }
        try {
          const res = await fetch(`${gateway.url}api`, {
            headers: { Authorization: `token ${token}` },
            signal: AbortSignal.timeout(3000)
          });
          if (res.ok) {
            return gateway;
          }
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          await gateway.stop();
          throw new Error(
            `Jupyter Enterprise Gateway did not answer within ${timeoutMs / 1000} s; its output ended:\n${gateway.tail()}`
          );
        }
        await sleep(250);
      }
      if (!/already in use|errno 98/i.test(gateway.tail())) {
        break;
      }
    }
    throw lastError;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines EG printed. */
  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Everything EG printed (its last 200 lines). */
  get output(): string {
    return this.lines.join('\n');
  }

  /** SIGTERM (EG shuts its kernels down), SIGKILL after 30 s; resolves when it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Processes (other than this one) whose working directory is `root` or a
 * folder inside it: kernels change to the workgroup, servers start in it.
 */
export async function processesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) {
      continue;
    }
    try {
      const cwd = await fs.readlink(`/proc/${pid}/cwd`);
      if (cwd === root || cwd.startsWith(root + path.sep)) {
        const cmd = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
        found.push(`${pid} (in ${cwd}) ${cmd}`);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Wait until no process is left under `root` (up to `ms`); the ones still there. */
export async function settleProcesses(root: string, ms = 20_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = await processesUnder(root);
  while (left.length && Date.now() < deadline) {
    await sleep(250);
    left = await processesUnder(root);
  }
  return left;
}

/** SIGKILL every process under `root` (cleanup after a failed check). */
export async function killProcessesUnder(root: string): Promise<void> {
  for (const line of await processesUnder(root)) {
    try {
      process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}
