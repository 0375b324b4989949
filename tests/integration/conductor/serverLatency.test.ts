/**
 * The private server sends kernel messages at once. Tornado leaves Nagle's
 * algorithm on for websockets: a message written right after another (a
 * cell's execute_input after its busy status) then waits for the client's
 * delayed ACK, 40 ms or more on Linux, for every cell.
 */
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelAPI, KernelConnection } from '@jupyterlab/services';
import { PrivateJupyterServer } from '../../../src/service/jupyter';

jest.setTimeout(120_000);

let root: string;
let server: PrivateJupyterServer;

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-latency-'));
  server = new PrivateJupyterServer({ rootDir: root });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  await fsp.rm(root, { recursive: true, force: true });
});

test("a cell's messages after its busy status are not held back by Nagle's algorithm", async () => {
  const model = await KernelAPI.startNew({ name: 'python3' }, server.serverSettings);
  const kernel = new KernelConnection({ model, serverSettings: server.serverSettings, handleComms: false });
  try {
    await kernel.info;
    // Arrival times of each request's busy status and execute_input.
    const busy = new Map<string, number>();
    const input = new Map<string, number>();
    kernel.iopubMessage.connect((_, msg) => {
      const parent = (msg.parent_header as any)?.msg_id;
      if (msg.header.msg_type === 'status' && (msg.content as any).execution_state === 'busy') {
        busy.set(parent, performance.now());
      } else if (msg.header.msg_type === 'execute_input') {
        input.set(parent, performance.now());
      }
    });
    const gaps: number[] = [];
    for (let i = 0; i < 15; i++) {
      const future = kernel.requestExecute({ code: `x = ${i}`, store_history: false });
      await future.done;
      const id = future.msg.header.msg_id;
      expect(busy.has(id) && input.has(id)).toBe(true);
      gaps.push(input.get(id)! - busy.get(id)!);
    }
    gaps.sort((a, b) => a - b);
    // The kernel sends both within a millisecond; with Nagle the second one
    // arrives after the delayed ACK (at least 40 ms).
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThan(25);
  } finally {
    kernel.dispose();
    await KernelAPI.shutdownKernel(model.id, server.serverSettings);
  }
});
