/**
 * Writes through the API answer from the state monitor's `applied` signal:
 * a PUT resolves in the same turn as the batch that made its rule (no
 * polling), a file the monitor refuses answers at once with its problem,
 * and a write the monitor never applies fails with a clear 503. The API
 * server tells websocket clients from the same signal.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import type { IServiceEvent } from '../../../../src/core/api';
import { Definitions } from '../../../../src/service/api/definitions';
import { ApiServer } from '../../../../src/service/api/server';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import { ScriptedConductor } from '../../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until } from '../../../helpers/workgroup';

const PATTERN = 'recipe: Count\ntrigger:\n  path: "data/*"\ninput: infile\n';

describe('definitions applied', () => {
  let root: string;
  let runner: MeowRunner;

  beforeEach(async () => {
    root = await makeWorkgroup({ '.meow/recipes/Count.ipynb': recipeNotebook({ infile: "''" }) });
    runner = new MeowRunner({
      root,
      settleMs: 30,
      conductor: new ScriptedConductor({ Count: () => undefined }),
      log: new RecordingLogger()
    });
    await runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await removeWorkgroup(root);
  });

  it('a PUT resolves with its rule in place, from the batch that applied its file', async () => {
    const batches: string[][] = [];
    runner.stateMonitor.applied.connect((_, batch) => void batches.push([...batch.files]));
    const { info, created } = await new Definitions(runner).putPattern('Two', PATTERN);
    expect(created).toBe(true);
    expect(info).toMatchObject({ name: 'Two', active: true });
    expect(runner.workflow.rulesForPattern('Two')).toHaveLength(1);
    expect(batches.flat()).toContain('.meow/patterns/Two.yaml');
  });

  it('a DELETE resolves in the same turn as the batch that removed the pattern (no polling)', async () => {
    const defs = new Definitions(runner);
    await defs.putPattern('Two', PATTERN);
    const order: string[] = [];
    runner.stateMonitor.applied.connect((_, batch) => {
      // Only the removal's batch: a late second batch of the PUT's own file is possible.
      if (batch.files.includes('.meow/patterns/Two.yaml') && !runner.workflow.patterns.has('Two')) {
        order.push('applied (pattern removed)');
        // A polling wait would notice only after this next turn of the event loop.
        setImmediate(() => order.push('next turn'));
      }
    });
    await defs.deletePattern('Two');
    order.push('resolved');
    expect(runner.workflow.patterns.has('Two')).toBe(false);
    expect(order).toEqual(['applied (pattern removed)', 'resolved']);
  });

  it('a PUT that replaces Two.yml with Two.yaml resolves once both changes are applied', async () => {
    await fs.writeFile(path.join(root, '.meow/patterns/Two.yml'), PATTERN);
    await until(() => runner.workflow.patterns.has('Two'), 5000, 'Two.yml to be applied');
    const changed = PATTERN.replace('data/*', 'other/*');
    const { info, created } = await new Definitions(runner).putPattern('Two', changed);
    expect(created).toBe(false);
    expect(info.problem).toBeUndefined();
    expect(runner.workflow.patterns.get('Two')?.trigger).toMatchObject({ path: 'other/*' });
    expect(runner.workflow.rulesForPattern('Two')).toHaveLength(1);
    await expect(fs.access(path.join(root, '.meow/patterns/Two.yml'))).rejects.toThrow();
  });

  it('a write the state monitor never applies fails with a 503 that says so', async () => {
    await runner.stateMonitor.stop(); // nothing watches the folders any more
    const defs = new Definitions(runner, 300);
    await expect(defs.putPattern('Three', PATTERN)).rejects.toMatchObject({
      status: 503,
      message: expect.stringMatching(
        /pattern "Three": \.meow\/patterns\/Three\.yaml changed on disk, but the service did not apply the change within 0\.3 s/
      )
    });
  });

  it('the API server sends one definitions event per applied batch, without a watcher of its own', async () => {
    const api = new ApiServer({ runner, secret: 's', version: 'test', statusIntervalMs: 0 });
    const base = await api.listen({ port: 0 });
    api.markReady();
    const ws = new WebSocket(base.replace('http', 'ws') + 'api/events', { headers: { 'X-Meow-Secret': 's' } });
    const events: IServiceEvent[] = [];
    ws.on('message', data => events.push(JSON.parse(data.toString())));
    await new Promise(resolve => ws.on('open', resolve));
    try {
      const res = await fetch(base + 'api/patterns/Two', {
        method: 'PUT',
        headers: { 'X-Meow-Secret': 's', 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: PATTERN })
      });
      expect(res.status).toBe(201);
      await until(() => events.some(e => e.type === 'definitions'), 5000, 'the definitions event');
      // An emission with no file change behind it is announced too: the signal, not the disk, drives it.
      const count = () => events.filter(e => e.type === 'definitions').length;
      const before = count();
      (runner.stateMonitor.applied as any).emit({ files: ['.meow/patterns/Nothing.yaml'] });
      await until(() => count() > before, 5000, 'the event of the emission');
    } finally {
      ws.close();
      await api.close();
    }
  });
});
