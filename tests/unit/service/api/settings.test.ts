/** settings.yaml: load, save, bad content reported by field; live changes on the runner. */
import { promises as fs } from 'fs';
import * as path from 'path';
import { RecordingLogger } from '../../../../src/service/log';
import { MeowRunner } from '../../../../src/service/runner';
import { SettingsFile } from '../../../../src/service/settings';
import { ScriptedConductor, sleep } from '../../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';

describe('SettingsFile', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeWorkgroup();
  });
  afterEach(() => removeWorkgroup(root));

  it('is empty when missing, and round-trips what it saves', async () => {
    const file = new SettingsFile(root);
    expect(await file.load()).toEqual({ settings: {}, executor: {}, issues: [] });
    await file.save({ workers: 2, settleMs: 50, timeoutSeconds: 600 });
    expect(file.path).toBe(path.join(root, '.meow', 'settings.yaml'));
    expect(await file.load()).toEqual({
      settings: { workers: 2, settleMs: 50, timeoutSeconds: 600 },
      executor: {},
      issues: []
    });
  });

  it('reads the executor part, and saving the numbers keeps it as written', async () => {
    const text =
      'workers: 3\nexecutor: slurm\nslurm:\n  partition: debug\n  sbatch_args: ["--account=lab"]\n  max_jobs: 50\n  poll_seconds: 0.5\n' +
      'jupyter:\n  url: http://gateway:8888/\n  workers: 4\n';
    await writeFile(root, '.meow/settings.yaml', text);
    const file = new SettingsFile(root);
    const loaded = await file.load();
    expect(loaded.issues).toEqual([]);
    expect(loaded.settings).toEqual({ workers: 3 });
    expect(loaded.executor).toEqual({
      executor: 'slurm',
      slurm: { partition: 'debug', sbatchArgs: ['--account=lab'], maxJobs: 50, pollMs: 500 },
      jupyter: { url: 'http://gateway:8888/', workers: 4 }
    });
    await file.save({ workers: 5, settleMs: 50, timeoutSeconds: 600 });
    const again = await file.load();
    expect(again.settings.workers).toBe(5);
    expect(again.executor).toEqual(loaded.executor);
  });

  it('names bad executor settings by field, with the fix', async () => {
    await writeFile(
      root,
      '.meow/settings.yaml',
      'executor: slurmm\nslurm:\n  max_job: 5\n  poll_seconds: 0\njupyter:\n  url: gateway\n'
    );
    const { issues } = await new SettingsFile(root).load();
    expect(issues.map(i => i.field).sort()).toEqual(['executor', 'jupyter.url', 'slurm.max_job', 'slurm.poll_seconds']);
    expect(issues.find(i => i.field === 'executor')!.fix).toMatch(/did you mean "slurm"/);
    expect(issues.find(i => i.field === 'slurm.max_job')!.fix).toMatch(/did you mean "max_jobs"/);
  });

  it('keeps the valid fields of a file edited badly by hand and names the rest', async () => {
    await writeFile(root, '.meow/settings.yaml', 'workers: 0\nsettleMs: 20\ncolour: red\n');
    const { settings, issues } = await new SettingsFile(root).load();
    expect(settings).toEqual({ settleMs: 20 });
    expect(issues.map(i => i.field).sort()).toEqual(['colour', 'workers']);
    await writeFile(root, '.meow/settings.yaml', 'workers: [\n');
    expect((await new SettingsFile(root).load()).issues[0].field).toBe('(file)');
    expect(SettingsFile.describe(issues, 'settings.yaml')).toMatch(/settings.yaml: field "workers"/);
  });
});

describe('MeowRunner.configure', () => {
  let root: string;
  let runner: MeowRunner;
  afterEach(async () => {
    await runner.stop();
    await removeWorkgroup(root);
  });

  it('adds and removes workers while running', async () => {
    root = await makeWorkgroup({
      '.meow/recipes/Wait.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Wait.yaml': 'recipe: Wait\ntrigger:\n  path: "in/*"\ninput: infile\n'
    });
    let running = 0;
    let most = 0;
    const conductor = new ScriptedConductor({
      Wait: async () => {
        running++;
        most = Math.max(most, running);
        await sleep(150);
        running--;
      }
    });
    runner = new MeowRunner({ root, settleMs: 20, conductor, log: new RecordingLogger() });
    await runner.start();
    runner.configure({ workers: 3, timeoutMs: 5000 });
    expect(runner.settings).toEqual({ workers: 3, settleMs: 20, timeoutMs: 5000 });
    await Promise.all([1, 2, 3, 4, 5, 6].map(i => writeFile(root, `in/${i}.txt`, String(i))));
    await runner.waitUntilIdle();
    expect(most).toBe(3);
    runner.configure({ workers: 1 });
    most = 0;
    await Promise.all([7, 8, 9].map(i => writeFile(root, `in/${i}.txt`, String(i))));
    await until(() => runner.store.list().filter(j => j.status === 'done').length === 9, 10000, 'nine jobs');
    expect(most).toBe(1);
    expect((await fs.readdir(path.join(root, '.meow', 'jobs'))).filter(f => f !== 'journal.jsonl')).toHaveLength(9);
  });
});
