/**
 * The private Jupyter server exits when the Node process that started it is
 * gone (its stdin reaches EOF) — also when that happens while kernels are
 * still starting, which makes jupyter_server's own shutdown fail part way
 * (seen as a server left running after a kill -9 of meow).
 */
import { promises as fsp, readdirSync, readlinkSync, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PrivateJupyterServer } from '../../../src/service/jupyter';
import { sleep } from '../../helpers/scriptedConductor';
import { alive, waitFor } from './helpers';

jest.setTimeout(240_000);

let root: string;

beforeAll(async () => {
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-parent-death-')));
});

afterAll(async () => {
  for (const pid of processesIn(root)) {
    process.kill(pid, 'SIGKILL');
  }
  await fsp.rm(root, { recursive: true, force: true });
});

/** Processes whose working directory is `dir`: the server and its kernels. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (/^\d+$/.test(pid) && Number(pid) !== process.pid) {
      try {
        if (readlinkSync(`/proc/${pid}/cwd`) === dir) {
          found.push(Number(pid));
        }
      } catch {
        // gone, or not ours
      }
    }
  }
  return found;
}

it('exits, with its kernels, when stdin closes while kernels are starting', async () => {
  // The window that matters opens when a start request has answered and
  // its kernel is still coming up; a second start is then on its way.
  for (const delayMs of [0, 0, 10, 20, 50, 100]) {
    const server = new PrivateJupyterServer({ rootDir: root, restart: false });
    await server.start();
    const pid = server.pid!;
    const startKernel = () =>
      fetch(`${server.url}api/kernels`, {
        method: 'POST',
        headers: { Authorization: `token ${server.token}`, 'Content-Type': 'application/json' },
        body: '{}'
      }).then(
        res => res.body?.cancel(),
        () => undefined
      );
    await startKernel();
    const second = startKernel();
    await sleep(delayMs);
    // What the OS does to the pipe when Node is killed with SIGKILL.
    (server as any)._child.stdin.destroy();
    await waitFor(
      () => !alive(pid),
      60_000,
      `the server (pid ${pid}) to exit after its stdin closed ${delayMs} ms after a kernel start answered`
    );
    await second;
    await waitFor(() => processesIn(root).length === 0, 30_000, 'its kernels to exit');
    await server.stop();
  }
});
