/**
 * The trigger examples end to end with a real Jupyter server and ipykernel:
 *
 * - examples/network: readings sent over TCP become files, are checked and
 *   summarised; a malformed message fails its job; a message sent twice is
 *   summarised once; incoming files go when their jobs end; the watchdog
 *   (absence) and the report (timer pattern, run now) work on the results;
 * - examples/approval: previews run on their own, the analysis only when a
 *   person approves a review file (runner.runPattern, `meow trigger`).
 *
 * Each example is copied to a workgroup under the server's root and run by an
 * in-process runner with the kernel conductor.
 */
import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { triggerPattern } from '../../../src/service/cliTrigger';
import { KernelConductor } from '../../../src/service/conductors/kernel';
import { PrivateJupyterServer } from '../../../src/service/jupyter/server';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { freePort, sendMessage } from '../../helpers/net';
import { until } from '../../helpers/workgroup';

const REPO = path.resolve(__dirname, '../../..');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const HEADER = 'instrument,sequence,time,temperature_c,humidity_pct';

/** Send, retrying while the listener is not open yet. */
async function sendWhenListening(port: number, payload: string, ms = 30000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await sendMessage(port, payload);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > end) {
        throw err;
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }
}

/** One reading: six samples 10 s apart, deterministic values. */
function reading(sequence: number): { payload: string; stored: string } {
  const rows: string[][] = [];
  for (let k = 0; k < 6; k++) {
    const time = new Date(Date.UTC(2025, 2, 1, 12, sequence, 10 * k)).toISOString().replace('.000Z', '');
    rows.push(['probe-1', String(sequence), time, (20 + sequence + k / 10).toFixed(1), (40 + k).toFixed(1)]);
  }
  // Sent with `Z` times, CRLF line ends and spaces; stored normalised.
  const payload = [HEADER, ...rows.map(r => ` ${r[0]}, ${r[1]},${r[2]}Z,${r[3]},${r[4]}`)].join('\r\n') + '\r\n';
  const stored = [HEADER, ...rows.map(r => [r[0], r[1], `${r[2]}+00:00`, r[3], r[4]].join(','))].join('\n') + '\n';
  return { payload, stored };
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { cwd, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
  });
}

async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

async function replaceInFile(file: string, from: string, to: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  expect(text).toContain(from);
  await fs.writeFile(file, text.replace(from, to));
}

describe('the trigger examples on a real Jupyter server', () => {
  let base: string;
  let server: PrivateJupyterServer;
  let runner: MeowRunner | undefined;
  let log: RecordingLogger;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-trigger-examples-'));
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

  /** A copy of an example as a workgroup under the Jupyter root. */
  async function copyExample(name: string): Promise<string> {
    const root = await fs.mkdtemp(path.join(base, `${name}-`));
    await fs.cp(path.join(REPO, 'examples', name), root, { recursive: true });
    for (const generated of ['jobs', 'incoming', 'triggers', 'requests']) {
      await fs.rm(path.join(root, '.meow', generated), { recursive: true, force: true });
    }
    return root;
  }

  async function start(root: string): Promise<MeowRunner> {
    log = new RecordingLogger();
    const conductor = new KernelConductor({ serverSettings: server.serverSettings, poolSize: 1 });
    runner = new MeowRunner({ root, settleMs: 50, workers: 2, conductor, log });
    await runner.start();
    return runner;
  }

  const jobs = (pattern?: string): IJob[] =>
    runner!.store.list().filter(j => pattern === undefined || j.pattern === pattern);
  const ended = (j: IJob) => ['done', 'failed', 'cancelled', 'skipped'].includes(j.status);
  const explain = () =>
    `\njobs: ${JSON.stringify(jobs().map(j => [j.pattern, j.trigger.path, j.status]))}\nlog:\n${log.text()}`;

  it('network: every reading sent over TCP is filed and summarised; a bad message fails; incoming files go', async () => {
    const root = await copyExample('network');
    const port = await freePort();
    await replaceInFile(path.join(root, '.meow/patterns/ingest.yaml'), 'port: 9000', `port: ${port}`);
    await start(root);

    // Five readings from a Node socket, one malformed message, reading 3 again.
    const sent = [1, 2, 3, 4, 5].map(reading);
    const replies: string[] = [];
    for (const r of sent) {
      replies.push(await sendWhenListening(port, r.payload));
    }
    const bad = await sendMessage(port, 'this is not a reading\n');
    const again = await sendMessage(port, sent[2].payload);
    const okLine = new RegExp(`^ok (\\d+) (\\.meow/incoming/network/${port}/\\S+)$`);
    for (const [i, reply] of [...replies, again].entries()) {
      const m = okLine.exec(reply);
      expect([i, reply, m !== null]).toEqual([i, reply, true]);
      expect(Number(m![1])).toBe(Buffer.byteLength(sent[i === 5 ? 2 : i].payload));
    }
    expect(bad).toMatch(okLine); // the listener stores any bytes; the recipe judges them

    // Two more from the example's own sender script.
    const script = await run(
      PYTHON,
      ['send_readings.py', '--port', String(port), '--count', '2', '--first', '6'],
      root
    );
    expect([script.code, script.stderr]).toEqual([0, '']);
    expect(script.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^probe-1 #6 \\(\\d+ bytes\\): ok \\d+ \\.meow/incoming/network/${port}/`)),
      expect.stringMatching(new RegExp(`^probe-1 #7 \\(\\d+ bytes\\): ok \\d+ \\.meow/incoming/network/${port}/`))
    ]);

    // 9 messages → 9 ingest jobs (one fails); 7 distinct readings → 7 summaries.
    await until(
      () => jobs('ingest').length === 9 && jobs('ingest').every(ended),
      90000,
      `9 ingest jobs to end${explain()}`
    );
    await until(
      () => jobs('summarise').length >= 7 && jobs('summarise').every(ended),
      60000,
      `7 summarise jobs to end${explain()}`
    );
    await runner!.waitUntilIdle();
    const ingest = jobs('ingest');
    expect(ingest.filter(j => j.status === 'done')).toHaveLength(8);
    const failed = ingest.filter(j => j.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].trigger.path).toBe(/ok \d+ (\S+)/.exec(bad)![1]);
    expect(failed[0].error!.ename).toBe('ValueError');
    expect(failed[0].error!.evalue).toMatch(
      /line 1: expected the header 'instrument,sequence,time,temperature_c,humidity_pct', got 'this is not a reading'/
    );
    for (const j of ingest) {
      expect(j.trigger.kind).toBe('network');
      expect(j.parameters.payload).toBe(path.join(root, j.trigger.path));
    }
    // The repeated reading 3 rewrote the same file with the same content: no second summary job.
    expect(
      jobs('summarise')
        .map(j => [j.trigger.path, j.status])
        .sort()
    ).toEqual([1, 2, 3, 4, 5, 6, 7].map(n => [`readings/probe-1-00000${n}.csv`, 'done']));

    expect(await listDir(path.join(root, 'readings'))).toEqual([1, 2, 3, 4, 5, 6, 7].map(n => `probe-1-00000${n}.csv`));
    for (const [i, r] of sent.entries()) {
      expect(await fs.readFile(path.join(root, `readings/probe-1-00000${i + 1}.csv`), 'utf8')).toBe(r.stored);
    }
    expect(await listDir(path.join(root, 'summary'))).toEqual([1, 2, 3, 4, 5, 6, 7].map(n => `probe-1-00000${n}.json`));
    const summary = JSON.parse(await fs.readFile(path.join(root, 'summary/probe-1-000002.json'), 'utf8'));
    expect(summary).toEqual({
      reading: 'readings/probe-1-000002.csv',
      instrument: 'probe-1',
      sequence: 2,
      samples: 6,
      first: '2025-03-01T12:02:00+00:00',
      last: '2025-03-01T12:02:50+00:00',
      temperature_c: { min: 22, mean: 22.25, max: 22.5 },
      humidity_pct: { min: 40, mean: 42.5, max: 45 }
    });

    // Every message's file is deleted once its jobs ended, the failed one's too.
    const incoming = path.join(root, '.meow/incoming/network', String(port));
    await until(
      async () => (await listDir(incoming)).length === 0,
      10000,
      `empty ${incoming}: ${await listDir(incoming)}`
    );

    // The report, run now instead of waiting an hour, covers every summary.
    const run1 = await runner!.runPattern('hourly_report');
    expect(run1.jobs).toHaveLength(1);
    await until(() => jobs('hourly_report').every(ended), 60000, `the report job${explain()}`);
    expect(jobs('hourly_report').map(j => j.status)).toEqual(['done']);
    const reports = await listDir(path.join(root, 'reports'));
    expect(reports).toEqual([expect.stringMatching(/^report-\d{8}T\d{6}Z\.txt$/)]);
    const report = await fs.readFile(path.join(root, 'reports', reports[0]), 'utf8');
    expect(report).toMatch(/^Report for \d{4}-\d\d-\d\dT/);
    expect(report).toContain('probe-1: 7 readings, 42 samples, ');

    // The watchdog, shortened from 10 minutes by a live edit, fires once on the silence since the newest reading.
    expect(jobs('watchdog')).toHaveLength(0);
    await replaceInFile(path.join(root, '.meow/patterns/watchdog.yaml'), 'for: 10m', 'for: 2s');
    await until(
      () => jobs('watchdog').length === 1 && jobs('watchdog').every(ended),
      60000,
      `the watchdog job${explain()}`
    );
    expect(jobs('watchdog')[0].status).toBe('done');
    expect(jobs('watchdog')[0].trigger.kind).toBe('absent');
    const alerts = await listDir(path.join(root, 'alerts'));
    expect(alerts).toEqual([expect.stringMatching(/^silence-\d{8}T\d{6}Z\.txt$/)]);
    const alert = await fs.readFile(path.join(root, 'alerts', alerts[0]), 'utf8');
    expect(alert).toMatch(
      /^SILENCE: no new file matching readings\/\*\.csv for 2s\.\nsilent since: \S+\nlast reading: readings\/probe-1-00000[1-7]\.csv\n/
    );
    await new Promise(r => setTimeout(r, 3000));
    expect(jobs('watchdog')).toHaveLength(1); // once per silence

    await until(
      async () => (await listDir(path.join(root, '.meow/incoming/absent/watchdog'))).length === 0,
      10000,
      'the silence file to go'
    );
    await until(
      async () => (await listDir(path.join(root, '.meow/incoming/manual/hourly_report'))).length === 0,
      10000,
      'the run-now file to go'
    );
  });

  it('approval: previews run on their own; analyse runs only on the review file a person approves', async () => {
    const root = await copyExample('approval');
    await start(root);
    await until(
      () => jobs('preview').length === 3 && jobs('preview').every(ended),
      60000,
      `3 preview jobs${explain()}`
    );
    await runner!.waitUntilIdle();
    expect(
      jobs('preview')
        .map(j => [j.trigger.path, j.status])
        .sort()
    ).toEqual([
      ['raw/scan_01.txt', 'done'],
      ['raw/scan_02.txt', 'done'],
      ['raw/scan_03.txt', 'done']
    ]);
    expect(await listDir(path.join(root, 'review'))).toEqual(['scan_01.txt', 'scan_02.txt', 'scan_03.txt']);
    const review3 = await fs.readFile(path.join(root, 'review/scan_03.txt'), 'utf8');
    expect(review3).toContain('\nsource: raw/scan_03.txt\n');
    expect(review3).toContain('\nroi: 1 12 3 13\n');

    // Nothing is analysed until a person approves: the review files wait.
    await new Promise(r => setTimeout(r, 1500));
    expect(jobs('analyse')).toHaveLength(0);
    expect(await listDir(path.join(root, 'results'))).toEqual([]);
    const waiting = await runner!.waitingFiles('analyse');
    expect(waiting.files.map(f => f.path).sort()).toEqual([
      'review/scan_01.txt',
      'review/scan_02.txt',
      'review/scan_03.txt'
    ]);

    // A person edits one proposal (that is no event analyse reacts to)...
    await replaceInFile(path.join(root, 'review/scan_03.txt'), 'roi: 1 12 3 13', 'roi: 6 1 9 5');
    await new Promise(r => setTimeout(r, 500));
    await runner!.waitUntilIdle();
    expect(jobs('analyse')).toHaveLength(0);

    // ...approves scan_02: exactly that one is analysed.
    const approved = await runner!.runPattern('analyse', { path: 'review/scan_02.txt', by: 'test' });
    expect(approved.jobs.map(j => [j.pattern, j.trigger.path])).toEqual([['analyse', 'review/scan_02.txt']]);
    await until(() => jobs('analyse').every(ended), 60000, `the analyse job${explain()}`);
    await runner!.waitUntilIdle();
    expect(jobs('analyse').map(j => [j.trigger.path, j.status])).toEqual([['review/scan_02.txt', 'done']]);
    expect(await listDir(path.join(root, 'results'))).toEqual(['scan_02.txt']);
    expect(await fs.readFile(path.join(root, 'results/scan_02.txt'), 'utf8')).toBe(
      [
        'Analysis of raw/scan_02.txt, region of interest approved in review/scan_02.txt',
        'roi: rows 5-7, columns 9-13 (15 cells)',
        'total counts: 545',
        'mean counts: 36.33',
        'peak: 63 at row 6, column 11',
        'centroid: row 6.06, column 10.88',
        'background mean (outside the roi): 6.45',
        'signal / background: 5.6',
        ''
      ].join('\n')
    );
    expect((await runner!.waitingFiles('analyse')).files.map(f => f.path).sort()).toEqual([
      'review/scan_01.txt',
      'review/scan_03.txt'
    ]);

    // A file outside review/*.txt is refused with the reason.
    await expect(runner!.runPattern('analyse', { path: 'raw/scan_01.txt' })).rejects.toThrow(
      /does not match review\/\*\.txt/
    );

    // The edited scan_03 is analysed with the person's region.
    await runner!.runPattern('analyse', { path: 'review/scan_03.txt' });
    await until(
      () => jobs('analyse').length === 2 && jobs('analyse').every(ended),
      60000,
      `the second analyse job${explain()}`
    );
    const result3 = await fs.readFile(path.join(root, 'results/scan_03.txt'), 'utf8');
    expect(result3).toContain('roi: rows 6-9, columns 1-5 (20 cells)\ntotal counts: 307\n');
    expect(result3).toContain('peak: 38 at row 8, column 3\n');

    // `meow trigger WORKGROUP analyse review/scan_01.txt` approves the last one.
    const out: string[] = [];
    const code = await triggerPattern(
      root,
      'analyse',
      path.join(root, 'review/scan_01.txt'),
      { stateDir: '.meow', wait: 60, format: 'text' },
      { out: t => void out.push(t), err: t => void out.push(t) }
    );
    expect([code, out.join('')]).toEqual([0, expect.stringMatching(/analyse/)]);
    await until(
      () => jobs('analyse').length === 3 && jobs('analyse').every(ended),
      60000,
      `the third analyse job${explain()}`
    );
    expect(
      jobs('analyse')
        .map(j => [j.trigger.path, j.status])
        .sort()
    ).toEqual([
      ['review/scan_01.txt', 'done'],
      ['review/scan_02.txt', 'done'],
      ['review/scan_03.txt', 'done']
    ]);
    expect(await fs.readFile(path.join(root, 'results/scan_01.txt'), 'utf8')).toContain(
      'peak: 87 at row 3, column 6\n'
    );
    expect((await runner!.waitingFiles('analyse')).files).toEqual([]);
    expect(jobs('preview')).toHaveLength(3); // nothing re-ran the previews
  });
});
