/**
 * The "silent stall" case of issue 6 with real execution: 2,000 files
 * written at once into one folder matched by `bulk/*.dat`. Before the fix
 * the last ~190 got no job until another event arrived; here every file
 * gets exactly one job, run in a real kernel, with its output written —
 * and nothing else has to happen for the last ones to run.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KernelConductor } from '../../src/service/conductors/kernel';
import { PrivateJupyterServer } from '../../src/service/jupyter/server';
import { RecordingLogger } from '../../src/service/log';
import { MeowRunner } from '../../src/service/runner';
import { notebook, processesLeft, PYTHON } from './harness';

const FILES = Number(process.env.MEOW_BULK_FILES ?? 2000);

const RECIPE = notebook(
  [
    "infile = ''",
    "outdir = ''",
    'import os, pathlib',
    'p = pathlib.Path(infile)',
    "pathlib.Path(outdir, p.stem + '.done').write_text(p.read_text().upper())"
  ].join('\n')
);

describe(`${FILES} files into one folder, run in real kernels`, () => {
  let root: string;
  let server: PrivateJupyterServer | undefined;
  let runner: MeowRunner | undefined;

  afterAll(async () => {
    await runner?.stop();
    await server?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it(
    'gives every file exactly one job that runs, without waiting for a later event',
    async () => {
      root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-bulk-')));
      await fs.mkdir(path.join(root, '.meow', 'recipes'), { recursive: true });
      await fs.mkdir(path.join(root, '.meow', 'patterns'), { recursive: true });
      await fs.mkdir(path.join(root, 'out'));
      await fs.writeFile(path.join(root, '.meow', 'recipes', 'Upper.ipynb'), RECIPE);
      await fs.writeFile(
        path.join(root, '.meow', 'patterns', 'Bulk.yaml'),
        'recipe: Upper\ntrigger:\n  path: "bulk/*.dat"\ninput: infile\nparameters:\n  outdir: "{VGRID}/out"\n'
      );
      const log = new RecordingLogger();
      server = new PrivateJupyterServer({ rootDir: root, python: PYTHON, log });
      await server.start();
      const conductor = new KernelConductor({
        server,
        poolSize: 2,
        log,
        kernelsFile: path.join(root, '.meow', 'kernels.json')
      });
      runner = new MeowRunner({ root, workers: 2, conductor, log });
      await runner.start();

      const t0 = Date.now();
      await fs.mkdir(path.join(root, 'bulk'));
      const names = Array.from({ length: FILES }, (_, i) => `b${String(i).padStart(5, '0')}`);
      for (let i = 0; i < names.length; i += 200) {
        await Promise.all(
          names.slice(i, i + 200).map(n => fs.writeFile(path.join(root, 'bulk', `${n}.dat`), `data ${n}\n`))
        );
      }
      // No further event is made: the last files must get their jobs by time alone.
      await runner.waitUntilIdle(2000);
      const took = (Date.now() - t0) / 1000;

      const jobs = runner.store.list();
      const perPath = new Map<string, number>();
      jobs.forEach(j => perPath.set(j.trigger.path, (perPath.get(j.trigger.path) ?? 0) + 1));
      console.log(
        `bulk: ${FILES} files, ${jobs.length} jobs in ${took.toFixed(0)} s (${(FILES / took).toFixed(1)} jobs/s with 2 workers)`
      );
      expect(names.filter(n => perPath.get(`bulk/${n}.dat`) !== 1).slice(0, 10)).toEqual([]);
      expect(jobs).toHaveLength(FILES);
      expect(
        jobs
          .filter(j => j.status !== 'done')
          .map(j => `${j.id} ${j.status}: ${j.error?.message}`)
          .slice(0, 5)
      ).toEqual([]);
      const outputs = await fs.readdir(path.join(root, 'out'));
      expect(outputs).toHaveLength(FILES);
      for (const n of [names[0], names[FILES - 1]]) {
        expect(await fs.readFile(path.join(root, 'out', `${n}.done`), 'utf8')).toBe(`DATA ${n.toUpperCase()}\n`);
      }
      await runner.stop();
      runner = undefined;
      await server.stop();
      server = undefined;
      expect(await processesLeft(root)).toEqual([]);
    },
    60 * 60_000
  );
});
