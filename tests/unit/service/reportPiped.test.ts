/**
 * `meow report` into a pipe is whole: 10,000 jobs in the journal, the real
 * CLI (bundled from the sources as `npm run build:service` does) writing
 * into a pipe whose reader starts late, as `meow report … | python3 …` does
 * when the reader is slower. The CLI exits right after a command, so a
 * report not yet drained into the pipe used to be cut at 64 KB.
 */
import { execFile } from 'child_process';
import { build } from 'esbuild';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { provenanceGraph } from '../../../src/core/provenance';
import type { IJob } from '../../../src/core/types';
import { reportJson, writeAll } from '../../../src/service/cliInspect';
import { makeJobId } from '../../../src/core/jobs';
import { PassThrough } from 'stream';

const JOBS = 10_000;

function job(i: number, parent?: string): IJob {
  const created = Date.parse('2026-01-01T00:00:00.000Z') + i * 1000;
  const rel = parent ? `out/d${i}.dat` : `in/d${i}.dat`;
  const record: IJob = {
    id: makeJobId(created, i + 1, 'ab12'),
    pattern: parent ? 'Step2' : 'Step1',
    recipe: 'Step',
    rule: parent ? 'Step2/Step#1' : 'Step1/Step#1',
    ruleKey: 'k',
    status: i % 7 ? 'done' : 'failed',
    trigger: { kind: 'created', path: rel, time: new Date(created).toISOString(), hash: 'f'.repeat(64) },
    parameters: { infile: `/wg/${rel}` },
    filesWritten: parent ? [] : [`out/d${i + 1}.dat`],
    created: new Date(created).toISOString(),
    started: new Date(created + 50).toISOString(),
    finished: new Date(created + 300).toISOString(),
    key: String(i).padStart(32, '0'),
    attempt: 1,
    depth: parent ? 2 : 1
  };
  if (parent) {
    record.parent = parent;
  }
  if (record.status === 'failed') {
    record.error = { message: `cell 1 raised ValueError\nline two of ${i}` };
  }
  return record;
}

/** Run a shell pipeline; resolves its stdout. */
function sh(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command}\n${stderr}`)) : resolve(stdout)
    );
  });
}

describe('meow report into a pipe', () => {
  let dir: string;
  let cli: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-report-piped-'));
    cli = path.join(dir, 'meow.js');
    await build({
      entryPoints: [path.join(__dirname, '../../../src/service/cli.ts')],
      outfile: cli,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['fsevents'],
      logLevel: 'warning'
    });
    const jobs: IJob[] = [];
    for (let i = 0; i < JOBS; i += 2) {
      const first = job(i);
      jobs.push(first, job(i + 1, first.id));
    }
    await fs.mkdir(path.join(dir, 'wg', '.meow', 'jobs'), { recursive: true });
    await fs.writeFile(
      path.join(dir, 'wg', '.meow', 'jobs', 'journal.jsonl'),
      jobs.map(j => JSON.stringify(j)).join('\n') + '\n'
    );
  }, 60_000);

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--format json: python3 json.load gets every job and edge, though it starts reading late', async () => {
    const out = await sh(
      `node ${cli} report ${dir}/wg --format json | python3 -c ` +
        `"import json, sys, time; time.sleep(1); d = json.load(sys.stdin); print(len(d['jobs']), len(d['edges']))"`
    );
    expect(out.trim()).toBe(`${JOBS} ${JOBS / 2}`);
  }, 30_000);

  it('--format text: every job has its line', async () => {
    const out = await sh(
      `node ${cli} report ${dir}/wg --format text | python3 -c ` +
        `"import sys, time; time.sleep(1); t = sys.stdin.read(); print(t.count(' job '), t.endswith('\\n'))"`
    );
    expect(out.trim()).toBe(`${JOBS} True`);
  }, 30_000);
});

describe('report writing', () => {
  it('streams the same JSON text as JSON.stringify(graph, null, 2)', () => {
    const a = job(0);
    const jobs = [a, job(1, a.id), job(7)];
    const graph = provenanceGraph(jobs);
    expect([...reportJson(graph)].join('')).toBe(JSON.stringify(graph, null, 2));
    const empty = provenanceGraph([]);
    expect([...reportJson(empty)].join('')).toBe(JSON.stringify(empty, null, 2));
  });

  it('writeAll resolves only once a slow reader has had everything', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 });
    const pieces = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`);
    let done = false;
    const written = writeAll(stream, pieces).then(() => (done = true));
    await new Promise(r => setTimeout(r, 50));
    expect(done).toBe(false); // nobody read yet: the stream is full
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    await written;
    expect(Buffer.concat(chunks).toString()).toBe(pieces.join(''));
  });
});
