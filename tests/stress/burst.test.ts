/**
 * The burst test (issue 6): 100,000 files written by 4 writer processes at
 * once, half into folders of their own and half into one shared folder;
 * every file gets exactly one job. Jobs go through the whole event path
 * (watcher, settling, matching, hashing, idempotency, journal, job folders,
 * workers) with a no-op conductor standing in for execution, so the test
 * measures meow, not kernels.
 */
import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RecordingLogger } from '../../src/service/log';
import { MeowRunner } from '../../src/service/runner';
import type { IConductor, IExecutionResult } from '../../src/service/tokens';
import { notebook } from './harness';

const FILES = Number(process.env.MEOW_BURST_FILES ?? 100_000);
const WRITERS = 4;

/** Runs every job at once, successfully, touching nothing. */
class NoopConductor implements IConductor {
  readonly name = 'noop';
  executed = 0;
  async start(): Promise<void> {}
  async execute(): Promise<IExecutionResult> {
    this.executed++;
    return { status: 'done', filesWritten: [] };
  }
  async dispose(): Promise<void> {}
}

/** A writer process: `count` files, alternating its own folder and the shared one. */
const WRITER = `
const fs = require('fs');
const [root, w, count] = process.argv.slice(1);
fs.mkdirSync(root + '/burst/w' + w, { recursive: true });
fs.mkdirSync(root + '/burst/shared', { recursive: true });
for (let i = 0; i < Number(count); i++) {
  const dir = i % 2 ? 'shared' : 'w' + w;
  fs.writeFileSync(root + '/burst/' + dir + '/w' + w + '-' + i + '.dat', 'writer ' + w + ' file ' + i + '\\n');
}
`;

function writer(root: string, w: number, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', WRITER, root, String(w), String(count)], { stdio: 'inherit' });
    child.on('exit', code => (code === 0 ? resolve() : reject(new Error(`writer ${w} exited with ${code}`))));
  });
}

describe(`a burst of ${FILES} files from ${WRITERS} writers`, () => {
  let root: string;
  let runner: MeowRunner | undefined;

  afterEach(async () => {
    await runner?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it(
    'gives every file exactly one job',
    async () => {
      root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'meow-burst-')));
      await fs.mkdir(path.join(root, '.meow', 'recipes'), { recursive: true });
      await fs.mkdir(path.join(root, '.meow', 'patterns'), { recursive: true });
      await fs.writeFile(path.join(root, '.meow', 'recipes', 'Count.ipynb'), notebook("infile = ''"));
      await fs.writeFile(
        path.join(root, '.meow', 'patterns', 'Burst.yaml'),
        'recipe: Count\ntrigger:\n  path: "burst/**"\ninput: infile\n'
      );
      const log = new RecordingLogger();
      const conductor = new NoopConductor();
      runner = new MeowRunner({ root, workers: 4, conductor, log });
      await runner.start();

      const t0 = Date.now();
      const per = Math.ceil(FILES / WRITERS);
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(root, w, Math.min(per, FILES - w * per))));
      const written = Date.now() - t0;
      await runner.waitUntilIdle(1000);
      const took = Date.now() - t0;

      const jobs = runner.store.list();
      const perPath = new Map<string, number>();
      for (const job of jobs) {
        perPath.set(job.trigger.path, (perPath.get(job.trigger.path) ?? 0) + 1);
      }
      const expected: string[] = [];
      for (let w = 0; w < WRITERS; w++) {
        for (let i = 0; i < Math.min(per, FILES - w * per); i++) {
          expected.push(`burst/${i % 2 ? 'shared' : `w${w}`}/w${w}-${i}.dat`);
        }
      }
      const missing = expected.filter(p => !perPath.has(p));
      // Every job of a path made twice, to tell why when it happens.
      const twice = [...perPath]
        .filter(([, n]) => n !== 1)
        .map(([p]) =>
          jobs
            .filter(j => j.trigger.path === p)
            .map(
              j =>
                `${p} ${j.status} ${j.trigger.kind} ${j.trigger.hash?.slice(0, 8)} ${j.trigger.time} ${j.error?.message ?? ''}`
            )
            .join(' | ')
        );
      console.log(
        `burst: ${FILES} files written in ${(written / 1000).toFixed(1)} s; ${jobs.length} jobs, all idle after ` +
          `${(took / 1000).toFixed(1)} s (${Math.round(FILES / (took / 1000))} files/s end to end)`
      );
      expect(missing.slice(0, 10)).toEqual([]);
      expect(twice.slice(0, 10)).toEqual([]);
      expect(jobs.length).toBe(FILES);
      expect(jobs.filter(j => j.status !== 'done').slice(0, 5)).toEqual([]);
      expect(conductor.executed).toBe(FILES);
      expect(log.text('error')).toBe('');
    },
    40 * 60_000
  );
});
