/**
 * A service killed with kill -9 never shuts its kernels down. The conductor
 * lists them in the kernels file; its successor shuts them down on start.
 */
import { promises as fsp, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI } from '@jupyterlab/services';
import { KernelConductor } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';

jest.setTimeout(180_000);

let root: string;
let server: PrivateJupyterServer;

beforeAll(async () => {
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-kernels-file-')));
  server = new PrivateJupyterServer({ rootDir: root });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  if (root) {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

const running = async () => (await KernelAPI.listRunning(server.serverSettings)).map(k => k.id);

it('shuts down the pool kernels a killed predecessor left running', async () => {
  const kernelsFile = path.join(root, '.meow', 'state', 'kernels.json');
  const first = new KernelConductor({ server, poolSize: 2, kernelsFile });
  await first.start();
  const leaked = first.pooledKernelIds;
  expect(leaked).toHaveLength(2);
  expect(JSON.parse(await fsp.readFile(kernelsFile, 'utf8')).kernels.sort()).toEqual([...leaked].sort());
  // "kill -9": no dispose; the process's websockets just close.
  for (const handle of (first as any)._launcher._kernels) {
    handle.connection.dispose();
  }
  expect(await running()).toEqual(expect.arrayContaining(leaked));

  const second = new KernelConductor({ server, poolSize: 1, kernelsFile });
  try {
    await second.start();
    const now = await running();
    for (const id of leaked) {
      expect(now).not.toContain(id);
    }
    expect(now).toEqual(second.pooledKernelIds);
    expect(JSON.parse(await fsp.readFile(kernelsFile, 'utf8')).kernels).toEqual(second.pooledKernelIds);
  } finally {
    await second.dispose();
  }
  expect(await running()).toEqual([]);
  expect(JSON.parse(await fsp.readFile(kernelsFile, 'utf8')).kernels).toEqual([]);
});

it('leaves kernels it did not start alone', async () => {
  const kernelsFile = path.join(root, 'kernels-other.json');
  const mine = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
  try {
    const conductor = new KernelConductor({ server, poolSize: 0, kernelsFile });
    await conductor.start();
    await conductor.dispose();
    expect(await running()).toContain(mine.id);
  } finally {
    await KernelAPI.shutdownKernel(mine.id, server.serverSettings);
  }
});
