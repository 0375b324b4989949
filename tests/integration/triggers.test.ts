/**
 * Every trigger kind through to an executed notebook, on a real Jupyter
 * server with ipykernel: the recipe copies its triggering file into out/, so
 * each test checks that the notebook read exactly what fired it. Network
 * messages sent at once each arrive intact; incoming files go when their
 * jobs end.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelConductor } from '../../src/service/conductors/kernel';
import { PrivateJupyterServer } from '../../src/service/jupyter/server';
import { RecordingLogger } from '../../src/service/log';
import { MeowRunner } from '../../src/service/runner';
import { freePort, sendMessage as send } from '../helpers/net';
import { recipeNotebook, until, writeFile } from '../helpers/workgroup';

jest.setTimeout(240000);

const COPY = recipeNotebook(
  { infile: "''" },
  "import os, shutil\nos.makedirs('out', exist_ok=True)\nshutil.copyfile(infile, os.path.join('out', os.path.basename(infile)))\n"
);

describe('triggers end to end (real kernels)', () => {
  let base: string;
  let server: PrivateJupyterServer;
  let root: string;
  let runner: MeowRunner | undefined;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-triggers-'));
    server = new PrivateJupyterServer({ rootDir: base });
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  async function start(patterns: Record<string, string>): Promise<MeowRunner> {
    root = await fs.mkdtemp(path.join(base, 'wg-'));
    await writeFile(root, '.meow/recipes/Copy.ipynb', COPY);
    for (const [name, text] of Object.entries(patterns)) {
      await writeFile(root, `.meow/patterns/${name}.yaml`, text);
    }
    const conductor = new KernelConductor({ serverSettings: server.serverSettings, poolSize: 2 });
    runner = new MeowRunner({ root, settleMs: 50, workers: 2, conductor, log: new RecordingLogger() });
    await runner.start();
    return runner;
  }

  const done = (pattern: string) => runner!.store.list().filter(j => j.pattern === pattern && j.status === 'done');
  const outOf = (rel: string) => fs.readFile(path.join(root, 'out', path.basename(rel)), 'utf8');

  it('network: 50 messages sent at once each reach a notebook intact; their incoming files are deleted after', async () => {
    const port = await freePort();
    await start({ Net: `recipe: Copy\ntrigger:\n  port: ${port}\ninput: infile\n` });
    const payloads = Array.from({ length: 50 }, (_, i) => `message ${i}\n${'x'.repeat(i * 997)}\nend ${i}\n`);
    const replies = await Promise.all(payloads.map(p => send(port, p)));
    expect(replies.every(r => /^ok \d+ \.meow\/incoming\/network\//.test(r))).toBe(true);
    await until(() => done('Net').length === 50, 200000, '50 network jobs done');
    const seen = await Promise.all(done('Net').map(j => outOf(j.trigger.path)));
    expect(seen.sort()).toEqual([...payloads].sort());
    expect(
      done('Net').every(j => j.trigger.kind === 'network' && /^127\.0\.0\.1:\d+$/.test(j.trigger.source ?? ''))
    ).toBe(true);
    await runner!.waitUntilIdle();
    await runner!.triggers.incoming.settled();
    const left = await fs.readdir(path.join(root, '.meow/incoming/network', String(port))).catch(() => []);
    expect(left).toEqual([]);
  });

  it('timer, absence and a person each run the notebook on their triggering file', async () => {
    await start({
      Tick: 'recipe: Copy\ntrigger:\n  every: 2s\ninput: infile\n',
      Quiet: 'recipe: Copy\ntrigger:\n  absent: {path: "in/*", for: 2s}\ninput: infile\n',
      Hand: 'recipe: Copy\ntrigger:\n  manual: true\ninput: infile\n'
    });
    const run = await runner!.runPattern('Hand', {
      upload: { bytes: Buffer.from('by hand\n'), filename: 'note.txt' },
      by: 'tester'
    });
    await until(
      () => done('Tick').length >= 1 && done('Quiet').length === 1 && done('Hand').length === 1,
      120000,
      'one job of each'
    );
    expect(await outOf(done('Tick')[0].trigger.path)).toContain(`scheduled: ${done('Tick')[0].trigger.time}`);
    expect(await outOf(done('Quiet')[0].trigger.path)).toMatch(/path: "in\/\*"\nfor: 2s\nsilent_since: /);
    expect(await outOf(run.path)).toBe('by hand\n');
    expect(done('Hand')[0].trigger).toMatchObject({ kind: 'manual', source: 'tester' });
  });
});
