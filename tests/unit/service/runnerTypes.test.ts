/**
 * Python types through a real job (issue 11.2, 11.3), with real file
 * watching and a scripted conductor (no Jupyter): a pattern's `1.0` and
 * `{1: 1}` reach job.ipynb, job.yaml and, after a restart (the journal is
 * JSON), the job's record and a rerun unchanged.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { PyDict, PyFloat, jsonReplacer, parseYamlValues, toPythonLiteral } from '../../../src/core/pyvalue';
import type { IJob } from '../../../src/core/types';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { ScriptedConductor } from '../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';

const PATTERN = [
  'recipe: Typed',
  'trigger:',
  '  path: "in/*"',
  'input: infile',
  'parameters:',
  '  fl1: 1.0',
  '  d: {1: 1, 2: 2}',
  '  mixed: {1: a, b: "{FILENAME}"}',
  'sweep:',
  '  s: {start: 0, stop: 1, step: 0.5}',
  ''
].join('\n');

describe('a job records the Python types it ran with', () => {
  let root: string;
  let runner: MeowRunner | undefined;
  const seen: Record<string, unknown>[] = [];

  async function start() {
    const conductor = new ScriptedConductor({ Typed: p => void seen.push(p) });
    runner = new MeowRunner({ root, workers: 1, settleMs: 30, conductor, log: new RecordingLogger() });
    await runner.start();
  }

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await removeWorkgroup(root);
  });

  it('job.yaml says 1.0 and {1: 1}, as job.ipynb does, also after a restart and in a rerun', async () => {
    root = await makeWorkgroup({
      'in/a.txt': 'A',
      '.meow/recipes/Typed.ipynb': recipeNotebook({ infile: "''", fl1: '0', d: '{}', mixed: '{}', s: '0' }),
      '.meow/patterns/Typed.yaml': PATTERN
    });
    await start();
    await runner!.waitUntilIdle();
    const jobs = runner!.store.list();
    expect(jobs.map(j => j.status)).toEqual(['done', 'done', 'done']);
    expect(seen.map(p => p.s)).toEqual([new PyFloat(0), 0.5, new PyFloat(1)]);

    const first = jobs.find(j => toPythonLiteral(j.parameters.s) === '0.0')!;
    const folder = runner!.store.jobDir(first.id);
    const yaml = await fs.readFile(path.join(folder, 'job.yaml'), 'utf8');
    expect(yaml).toContain('\n  fl1: 1.0\n');
    expect(yaml).toContain('\n  d:\n    1: 1\n    2: 2\n');
    expect(yaml).toContain('\n  mixed:\n    1: a\n    b: a.txt\n');
    expect(yaml).toContain('\n  s: 0.0\n');
    expect(yaml).not.toContain('typedParameters');
    const d = new PyDict([
      [1, 1],
      [2, 2]
    ]);
    const mixed = new PyDict([
      [1, 'a'],
      ['b', 'a.txt']
    ]);
    const record = parseYamlValues(yaml) as IJob;
    expect(record.parameters).toMatchObject({ fl1: new PyFloat(1), d, mixed, s: new PyFloat(0) });

    const notebook = JSON.parse(await fs.readFile(path.join(folder, 'job.ipynb'), 'utf8'));
    const source = [notebook.cells[0].source].flat().join('');
    expect(source).toContain('fl1 = 1.0\n');
    expect(source).toContain('d = {1: 1, 2: 2}\n');
    expect(source).toContain("mixed = {1: 'a', 'b': 'a.txt'}\n");
    expect(source).toContain('s = 0.0\n');

    // The API's JSON: valid, the exact values beside it.
    const json = JSON.parse(JSON.stringify(first, jsonReplacer));
    expect(json.parameters.d).toEqual({ '1': 1, '2': 2 });
    expect(json.typedParameters).toMatchObject({ fl1: '1.0\n', d: '1: 1\n2: 2\n', s: '0.0\n' });

    // After a restart the records come from the JSON journal: types intact.
    await runner!.stop();
    await start();
    await runner!.waitUntilIdle();
    const again = runner!.store.get(first.id)!;
    expect(again.parameters).toMatchObject({ fl1: new PyFloat(1), d, mixed, s: new PyFloat(0) });
    const rerun = await runner!.rerun(first.id);
    await runner!.waitUntilIdle();
    const rerunYaml = await fs.readFile(path.join(runner!.store.jobDir(rerun.id), 'job.yaml'), 'utf8');
    expect(rerunYaml).toContain('\n  fl1: 1.0\n');
    expect(rerunYaml).toContain('\n  s: 0.0\n');
    expect(rerunYaml).toContain('\n  d:\n    1: 1\n    2: 2\n');
    expect(seen[seen.length - 1]).toMatchObject({ fl1: new PyFloat(1), d, s: new PyFloat(0) });
  });
});
