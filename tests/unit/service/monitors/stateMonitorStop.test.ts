/**
 * After `stop()` the state monitor applies nothing: a check pass under way
 * at the stop used to finish afterwards and apply every pattern file as
 * deleted when the workgroup was then removed — 100,000 deletions, each
 * cancelling over all jobs, kept the process busy for minutes (issue 9).
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { Workflow } from '../../../../src/core/workflow';
import type { IRuleChanges } from '../../../../src/core/workflow';
import { StateMonitor } from '../../../../src/service/monitors/stateMonitor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../../helpers/workgroup';
import { sleep } from './helpers';

describe('StateMonitor.stop', () => {
  let root: string;
  afterEach(() => removeWorkgroup(root));

  it('applies nothing after a stop, even a check pass that was under way', async () => {
    const files: Record<string, string> = { '.meow/recipes/r.ipynb': recipeNotebook({ infile: "''" }) };
    for (let i = 0; i < 1500; i++) {
      files[`.meow/patterns/p${i}.yaml`] = `recipe: r\ntrigger:\n  path: "in${i}/*"\ninput: infile\n`;
    }
    root = await makeWorkgroup(files);
    const workflow = new Workflow();
    const changes: IRuleChanges[] = [];
    // A check pass every millisecond: one is almost always under way.
    const monitor = new StateMonitor({ root, workflow, verifyIntervalMs: 1, onChanges: ch => changes.push(ch) });
    await monitor.start();
    expect(workflow.patterns.size).toBe(1500);
    await sleep(30);
    const stopping = monitor.stop();
    await fs.rm(path.join(root, '.meow/patterns'), { recursive: true, force: true });
    await stopping;
    changes.length = 0;
    await sleep(300);
    expect(changes).toEqual([]);
    expect(workflow.patterns.size).toBe(1500);
  });
});
