/**
 * Large outputs: the private server sends everything (no IOPub rate
 * limit); the conductor keeps up to its per-job cap, says in the notebook
 * what it cut and flags the result. A server that does rate-limit (one we
 * do not control) is detected and named in `outputsTruncated`.
 */
import { promises as fsp, realpathSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelConductor } from '../../../src/service/conductors';
import { PrivateJupyterServer } from '../../../src/service/jupyter';
import { notebook, readResult, request, text } from './helpers';

jest.setTimeout(180_000);

let root: string;
const servers: PrivateJupyterServer[] = [];
const conductors: KernelConductor[] = [];

async function setUp(options: { args?: string[]; maxOutputBytes?: number }): Promise<KernelConductor> {
  const server = new PrivateJupyterServer({ rootDir: root, args: options.args });
  servers.push(server);
  await server.start();
  const conductor = new KernelConductor({ server, poolSize: 0, maxOutputBytes: options.maxOutputBytes });
  conductors.push(conductor);
  await conductor.start();
  return conductor;
}

beforeAll(async () => {
  root = realpathSync(await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-output-cap-')));
});

afterAll(async () => {
  await Promise.all(conductors.map(c => c.dispose()));
  await Promise.all(servers.map(s => s.stop()));
  if (root) {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

const MB = 1_000_000;

it('keeps 50 MB of printed output to the 10 MB default cap, with a note and a flag, job done', async () => {
  const conductor = await setUp({});
  const req = request(
    root,
    notebook([
      'import sys\nfor i in range(50):\n    sys.stdout.write("x" * 999_999 + "\\n")\nsys.stdout.flush()',
      'print("later")'
    ])
  );
  const result = await conductor.execute(req);
  expect(result.error).toBeUndefined();
  expect(result.status).toBe('done');
  expect(result.outputsTruncated).toEqual({
    message: expect.stringMatching(
      /^outputs past the per-job cap of 10 MB were dropped from result\.ipynb: 40(\.0)? MB cut from cell 1 on/
    ),
    droppedBytes: 40 * MB + 'later\n'.length
  });
  const nb = await readResult(req);
  const [kept, note] = nb.cells[0].outputs!;
  expect(text(kept)).toHaveLength(10 * MB);
  expect(note).toMatchObject({ output_type: 'stream', name: 'stderr' });
  expect(text(note)).toMatch(
    /^\[meow\] output cut here: this job's outputs reached the cap of 10 MB; 40(\.0)? MB of later output was dropped/
  );
  expect(nb.cells[1].outputs).toEqual([]);
  expect(JSON.stringify(nb)).not.toContain('IOPub data rate exceeded');
});

it('drops display data past the cap and keeps tracebacks', async () => {
  const conductor = await setUp({ maxOutputBytes: 1000 });
  const req = request(
    root,
    notebook(['print("a" * 600)', 'from IPython.display import display\ndisplay({"x": "y" * 800}, raw=False)', '1 / 0'])
  );
  const result = await conductor.execute(req);
  expect(result.status).toBe('failed');
  expect(result.error?.ename).toBe('ZeroDivisionError');
  expect(result.outputsTruncated?.message).toMatch(
    /cap of 1 kB were dropped from result\.ipynb: 8\d\d B cut from cell 2 on/
  );
  const nb = await readResult(req);
  expect(text(nb.cells[0].outputs![0])).toBe('a'.repeat(600) + '\n');
  expect(nb.cells[1].outputs!.map(o => o.output_type)).toEqual(['stream']);
  expect(nb.cells[2].outputs!.map(o => o.output_type)).toEqual(['error']);
});

it('flags the IOPub rate limit of a server that has one, naming the setting to raise', async () => {
  const conductor = await setUp({ args: ['--ZMQChannelsWebsocketConnection.limit_rate=True'] });
  const req = request(
    root,
    notebook([
      'import sys, time\nfor i in range(8):\n    sys.stdout.write("x" * 999_999 + "\\n")\n    sys.stdout.flush()\ntime.sleep(0.5)'
    ])
  );
  const result = await conductor.execute(req);
  expect(result.status).toBe('done');
  expect(result.outputsTruncated?.message).toMatch(
    /^the Jupyter server dropped outputs \(IOPub data rate exceeded, from cell 1 on\): raise its limit, e\.g\. start it with --ZMQChannelsWebsocketConnection\.iopub_data_rate_limit=0/
  );
  expect(JSON.stringify(await readResult(req))).toContain('IOPub data rate exceeded');
});
