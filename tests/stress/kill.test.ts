/**
 * The kill test (issue 6): a workload of more than 500 jobs — fan-out by a
 * sweep, then a chain — run by the real `meow run` with real kernels, while
 * the service is killed with SIGKILL at least 20 times at random moments
 * with jobs in flight, restarted each time, and fed new files while it is
 * down. At the end every trigger has exactly one `done` job, every output
 * is right, no job failed, no final status was ever changed and no kernel
 * is left running.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../src/core/types';
import { journalRecords, latest, notebook, processesLeft, rng, ServiceProcess, sleep } from './harness';

const INPUTS = Number(process.env.MEOW_KILL_INPUTS ?? 130); // 4 jobs each
const KILLS = Number(process.env.MEOW_KILL_COUNT ?? 20);
const SEED = Number(process.env.MEOW_KILL_SEED ?? 20261129);
const FINAL = new Set(['done', 'failed', 'cancelled', 'skipped']);

// Recipes write atomically (temp file + rename), as careful recipes do, so
// a kill never leaves a half-written output that is itself a trigger.
const SPLIT = notebook(
  [
    "infile = ''",
    "outdir = ''",
    'part = 0',
    'import os, pathlib',
    'text = pathlib.Path(infile).read_text()',
    "name = pathlib.Path(infile).stem + f'_{part}.txt'",
    'os.makedirs(outdir, exist_ok=True)',
    "tmp = os.path.join(outdir, '.' + name + '.tmp')",
    "pathlib.Path(tmp).write_text(text + f'part {part}\\n')",
    'os.replace(tmp, os.path.join(outdir, name))'
  ].join('\n')
);
const FINISH = notebook(
  [
    "infile = ''",
    "outfile = ''",
    'import os, pathlib',
    'text = pathlib.Path(infile).read_text()',
    'os.makedirs(os.path.dirname(outfile), exist_ok=True)',
    "tmp = outfile + '.tmp'",
    "pathlib.Path(tmp).write_text(text + 'done\\n')",
    'os.replace(tmp, outfile)'
  ].join('\n')
);

describe('kill -9 at random moments', () => {
  let root: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-kill-')));
    const files: Record<string, string> = {
      '.meow/recipes/Split.ipynb': SPLIT,
      '.meow/recipes/Finish.ipynb': FINISH,
      // retries: each kill of a running job is one retry; 20 kills may hit one job twice
      '.meow/patterns/Split.yaml':
        'recipe: Split\ntrigger:\n  path: "in/*.txt"\ninput: infile\nretries: 10\nparameters:\n  outdir: "{VGRID}/mid"\nsweep:\n  part: {start: 1, stop: 2, step: 1}\n',
      '.meow/patterns/Finish.yaml':
        'recipe: Finish\ntrigger:\n  path: "mid/*.txt"\ninput: infile\nretries: 10\noutputs:\n  outfile: "{VGRID}/out/{FILENAME}"\n'
    };
    for (const [rel, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fs.writeFile(path.join(root, rel), text);
    }
  });

  afterAll(async () => {
    if (service?.child && service.child.exitCode === null) {
      await service.kill9();
    }
    if (process.env.MEOW_KEEP_STRESS) {
      console.log(`workgroup kept at ${root}`);
    } else {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it(
    `survives ${KILLS} SIGKILLs with jobs in flight: every trigger has exactly one done job`,
    async () => {
      const random = rng(SEED);
      const logFile = path.join(root, '..', `${path.basename(root)}.log`);
      const inputs: string[] = [];
      let next = 0;
      const addInputs = async (n: number) => {
        for (let i = 0; i < n && next < INPUTS; i++, next++) {
          const name = `f${String(next).padStart(4, '0')}`;
          await fs.mkdir(path.join(root, 'in'), { recursive: true });
          await fs.writeFile(path.join(root, 'in', `${name}.txt`), `input ${name}\n`);
          inputs.push(name);
        }
      };
      let killsInFlight = 0;
      let cycles = 0;
      const perCycle = Math.ceil(INPUTS / (KILLS + 1));
      await addInputs(perCycle);
      while (killsInFlight < KILLS && cycles < KILLS * 3) {
        cycles++;
        service = new ServiceProcess(root, ['--workers', '2'], logFile);
        service.start();
        // Wait until a job is running, then kill at a random moment soon after.
        const seen = Date.now();
        let running = false;
        while (Date.now() - seen < 60_000) {
          const jobs = latest(await journalRecords(root));
          if ([...jobs.values()].some(j => j.status === 'running')) {
            running = true;
            break;
          }
          if (service.child!.exitCode !== null) {
            throw new Error(`the service exited by itself (code ${service.child!.exitCode}); see ${logFile}`);
          }
          await sleep(50);
        }
        if (!running) {
          break; // nothing left to run: the workload is done
        }
        await addInputs(Math.floor(perCycle / 2));
        await sleep(random() * 1500);
        await service.kill9();
        const records = await journalRecords(root);
        if ([...latest(records).values()].some(j => j.status === 'running')) {
          killsInFlight++;
        }
        checkFinalNeverChanges(records);
        // Files arrive while meow is down.
        await addInputs(perCycle - Math.floor(perCycle / 2));
        await sleep(random() * 500);
      }
      await addInputs(INPUTS);
      expect(killsInFlight).toBeGreaterThanOrEqual(KILLS);

      // The last run finishes the work.
      service = new ServiceProcess(root, ['--workers', '2', '--until-idle'], logFile);
      service.start();
      const end = await Promise.race([service.exited!, sleep(20 * 60_000).then(() => undefined)]);
      expect(end).toEqual({ code: 0, signal: null });

      const records = await journalRecords(root);
      checkFinalNeverChanges(records);
      const jobs = [...latest(records).values()];
      const byStatus = count(jobs.map(j => j.status));
      console.log(
        `kill test: ${killsInFlight} kills with jobs running in ${cycles} cycles; jobs by status ${JSON.stringify(byStatus)}`
      );
      expect(jobs.filter(j => j.status === 'failed').map(j => `${j.id}: ${j.error?.message}`)).toEqual([]);
      expect(jobs.filter(j => !FINAL.has(j.status))).toEqual([]);
      const done = jobs.filter(j => j.status === 'done');
      expect(done.length).toBe(4 * INPUTS); // 520 with the defaults

      // Exactly one done job per trigger (pattern, path, sweep value).
      const perTrigger = count(done.map(j => `${j.pattern} ${j.trigger.path} ${j.parameters.part ?? ''}`));
      const expected: string[] = [];
      for (const name of inputs) {
        for (const part of [1, 2]) {
          expected.push(`Split in/${name}.txt ${part}`, `Finish mid/${name}_${part}.txt `);
        }
      }
      expect(Object.keys(perTrigger).sort()).toEqual(expected.sort());
      expect(Object.entries(perTrigger).filter(([, n]) => n !== 1)).toEqual([]);

      // Every output is right.
      for (const name of inputs) {
        for (const part of [1, 2]) {
          const out = await fs.readFile(path.join(root, 'out', `${name}_${part}.txt`), 'utf8');
          expect(out).toBe(`input ${name}\npart ${part}\ndone\n`);
        }
      }
      // Nothing left running: no kernel, no Jupyter server.
      expect(await processesLeft(root)).toEqual([]);
    },
    45 * 60_000
  );
});

/** Once a job's record shows a final status, no later record may differ. */
function checkFinalNeverChanges(records: IJob[]): void {
  const final = new Map<string, string>();
  const changed: string[] = [];
  for (const r of records) {
    const was = final.get(r.id);
    if (was !== undefined && r.status !== was) {
      changed.push(`${r.id}: ${was} → ${r.status}`);
    }
    if (FINAL.has(r.status)) {
      final.set(r.id, r.status);
    }
  }
  expect(changed).toEqual([]);
}

function count(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) {
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
