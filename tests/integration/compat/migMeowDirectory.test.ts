/**
 * The thesis's meow_directory example (mig_meow 0.37, examples/meow_directory;
 * the thesis tutorial's "defining_a_loop") loads and runs: imported with
 * `meow import-mig` as mig_meow wrote it, then run by a runner on a real
 * Jupyter server that executes the real notebooks (numpy ones included).
 *
 * What it must produce, for each of data_0..2.npy dropped into initial_data/:
 * first_mult doubles it into data_1/, second_mult triples that into data_2/,
 * third_choo writes it to final/ once a value exceeds 10,000 and otherwise
 * back to data_1/ (a loop of unknown length: here 4 rounds, so final = ×162);
 * adder's 1..3 sweep writes data + k to data_added/. pAppend appends a line.
 */
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { importMig } from '../../../src/service/cliImportMig';
import { KernelConductor } from '../../../src/service/conductors/kernel';
import { PrivateJupyterServer } from '../../../src/service/jupyter/server';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';

const REPO = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(REPO, 'tests/data/mig_meow_directory');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

/** The int64 values of a small .npy file (format 1.0, little-endian, C order). */
async function readNpy(file: string): Promise<number[]> {
  const buf = await fs.readFile(file);
  expect(buf.subarray(1, 6).toString('latin1')).toBe('NUMPY');
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  expect(header).toMatch(/'descr': '<i8'/);
  const values: number[] = [];
  for (let o = 10 + headerLen; o < buf.length; o += 8) {
    values.push(Number(buf.readBigInt64LE(o)));
  }
  return values;
}

describe("the thesis's meow_directory example, imported with meow import-mig, on a real Jupyter server", () => {
  let base: string;
  let server: PrivateJupyterServer;
  let runner: MeowRunner | undefined;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-mig-directory-'));
    // The example's recipes use numpy; `make setup` installs it into the .venv.
    execFileSync(PYTHON, ['-c', 'import numpy']);
    server = new PrivateJupyterServer({ rootDir: base });
    await server.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await server?.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  it('loads unchanged, runs the loop until every array is in final/ (×162), sweeps adder, appends', async () => {
    const root = path.join(base, 'wg');
    const imported = await importMig(EXAMPLE, { into: root });
    expect(imported.notes.map(n => [n.source, n.outcome])).toEqual(
      expect.arrayContaining([
        ['patterns/third_choo', 'changed'],
        ['recipes/choo', 'changed']
      ])
    );
    expect(imported.notes.filter(n => n.outcome === 'refused')).toEqual([]);
    await fs.mkdir(path.join(root, 'start'));
    await fs.writeFile(path.join(root, 'start/alpha.txt'), 'This is alpha');
    const originals: number[][] = [];
    await fs.mkdir(path.join(root, 'initial_data'));
    for (const i of [0, 1, 2]) {
      const src = path.join(EXAMPLE, 'example_data', `data_${i}.npy`);
      originals.push(await readNpy(src));
      await fs.copyFile(src, path.join(root, 'initial_data', `data_${i}.npy`));
    }

    const log = new RecordingLogger();
    const conductor = new KernelConductor({ serverSettings: server.serverSettings, poolSize: 1 });
    runner = new MeowRunner({ root, settleMs: 50, workers: 2, conductor, log });
    await runner.start();
    await runner.waitUntilIdle();
    const jobs: IJob[] = runner.store.list();
    const explain = `\njobs: ${JSON.stringify(jobs.map(j => [j.pattern, j.trigger.path, j.status, j.error?.message]))}`;

    const count = (p: string) => jobs.filter(j => j.pattern === p).length;
    expect({ statuses: [...new Set(jobs.map(j => j.status))], explain }).toEqual({ statuses: ['done'], explain });
    expect(await fs.readFile(path.join(root, 'end/alpha.txt'), 'utf8')).toBe('This is alpha\nAppended by pAppend');
    expect(count('pAppend')).toBe(1);
    // Per array: adder 3 (sweep), first_mult 1, then 4 rounds of second_mult + third_choo.
    expect({
      adder: count('adder'),
      first_mult: count('first_mult'),
      second_mult: count('second_mult'),
      third_choo: count('third_choo')
    }).toEqual({ adder: 9, first_mult: 3, second_mult: 12, third_choo: 12 });
    for (const i of [0, 1, 2]) {
      expect(await readNpy(path.join(root, 'final', `data_${i}.npy`))).toEqual(originals[i].map(v => v * 162));
      const added = await readNpy(path.join(root, 'data_added', `data_${i}.npy`));
      const k = added[0] - originals[i][0];
      expect([1, 2, 3]).toContain(k);
      expect(added).toEqual(originals[i].map(v => v + k));
    }
    // Provenance: each final array's job descends from its initial_data file through the loop.
    const finals = jobs.filter(j => j.pattern === 'third_choo' && j.filesWritten.some(f => f.includes('final/')));
    expect(finals).toHaveLength(3);
    for (const job of finals) {
      let depth = 0;
      for (let j: IJob | undefined = job; j?.parent; j = runner.store.get(j.parent)) {
        depth++;
      }
      expect(depth).toBe(8); // first_mult, then 4 × (second_mult, third_choo), less the root
    }
  });
});
