/**
 * Fault test (issue 7): network messages and kill -9. A sender streams
 * messages to a network pattern of the real `meow run` (real kernels) while
 * the service is SIGKILLed several times at random moments and restarted.
 * Like any careful sender it resends a message whose `ok` did not arrive.
 *
 * At the end: every message acknowledged with `ok` has a done job that read
 * it intact; every incoming file has exactly one done job (none ran twice);
 * nothing failed; and every incoming file is deleted once its job ended.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IJob } from '../../../src/core/types';
import { freePort, sendMessage } from '../../helpers/net';
import { journalRecords, latest, notebook, processesLeft, rng, ServiceProcess, sleep } from '../harness';

const MESSAGES = Number(process.env.MEOW_NETKILL_MESSAGES ?? 150);
const KILLS = Number(process.env.MEOW_NETKILL_COUNT ?? 5);
const SEED = Number(process.env.MEOW_NETKILL_SEED ?? 20261129);

// The recipe files each message under its own id (first line), atomically.
const FILE = notebook(
  [
    "infile = ''",
    'import os, pathlib',
    'text = pathlib.Path(infile).read_text()',
    "name = text.split('\\n', 1)[0] + '.txt'",
    "os.makedirs('out', exist_ok=True)",
    "tmp = os.path.join('out', '.' + name + '.tmp')",
    'pathlib.Path(tmp).write_text(text)',
    "os.replace(tmp, os.path.join('out', name))"
  ].join('\n')
);

/** One message; the reply line, or undefined when the connection failed or was cut. */
const send = (port: number, payload: string) =>
  sendMessage(port, payload, 20_000).then(
    r => (r.startsWith('ok ') ? r : undefined),
    () => undefined
  );

describe('network messages survive kill -9', () => {
  it(`every acknowledged message of ${MESSAGES} has exactly one done job across ${KILLS} kills`, async () => {
    const random = rng(SEED);
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-netkill-'));
    const port = await freePort();
    await fs.mkdir(path.join(root, '.meow', 'recipes'), { recursive: true });
    await fs.mkdir(path.join(root, '.meow', 'patterns'), { recursive: true });
    await fs.writeFile(path.join(root, '.meow', 'recipes', 'File.ipynb'), FILE);
    // retries: each kill of a running job is one retry; 5 kills may hit one job twice.
    await fs.writeFile(
      path.join(root, '.meow', 'patterns', 'Net.yaml'),
      `recipe: File\ntrigger:\n  port: ${port}\ninput: infile\nretries: 10\n`
    );
    const service = new ServiceProcess(root, ['--workers', '2', '--settle', '50'], path.join(root, 'service.log'));
    const payloadOf = (i: number) => `m${String(i).padStart(4, '0')}\n${'payload line\n'.repeat(1 + (i % 40))}`;
    const acked = new Map<number, string>();
    let sends = 0;
    let stop = false;

    // The sender: a few messages at a time, resending until acknowledged.
    const sender = (async () => {
      let next = 0;
      const pending: number[] = [];
      while (!stop && (next < MESSAGES || pending.length)) {
        while (pending.length < 4 && next < MESSAGES) {
          pending.push(next++);
        }
        const batch = pending.splice(0, pending.length);
        const replies = await Promise.all(batch.map(i => send(port, payloadOf(i))));
        sends += batch.length;
        replies.forEach((r, k) => (r ? acked.set(batch[k], r) : pending.push(batch[k])));
        if (replies.some(r => !r)) {
          await sleep(200); // the service is down: try again soon
        }
      }
    })();

    try {
      service.start();
      for (let k = 0; k < KILLS; k++) {
        await sleep(1500 + random() * 3000);
        await service.kill9();
        await sleep(200 + random() * 800);
        service.start();
      }
      await sender;
      expect(acked.size).toBe(MESSAGES);
      // Let the last jobs finish, then stop gracefully.
      const deadline = Date.now() + 240_000;
      for (;;) {
        const jobs = [...latest(await journalRecords(root)).values()];
        if (jobs.length && jobs.every(j => ['done', 'failed', 'cancelled', 'skipped'].includes(j.status))) {
          const paths = new Set(jobs.map(j => j.trigger.path));
          const files = await fs.readdir(path.join(root, '.meow', 'incoming', 'network', String(port))).catch(() => []);
          if (files.every(f => !paths.has(`.meow/incoming/network/${port}/${f}`))) {
            break; // every file that has a job is gone: only ones whose job is not made yet could remain
          }
        }
        if (Date.now() > deadline) {
          throw new Error(`jobs did not finish; see ${path.join(root, 'service.log')}`);
        }
        await sleep(500);
      }
      await service.interrupt();

      const jobs: IJob[] = [...latest(await journalRecords(root)).values()];
      const done = jobs.filter(j => j.status === 'done');
      expect(jobs.filter(j => j.status === 'failed').map(j => j.error?.message)).toEqual([]);
      // No incoming file ran twice.
      const perFile = new Map<string, number>();
      for (const job of done) {
        perFile.set(job.trigger.path, (perFile.get(job.trigger.path) ?? 0) + 1);
      }
      expect([...perFile].filter(([, n]) => n > 1)).toEqual([]);
      // Every acknowledged message was read intact by a notebook.
      for (let i = 0; i < MESSAGES; i++) {
        const name = payloadOf(i).split('\n', 1)[0];
        expect([i, await fs.readFile(path.join(root, 'out', `${name}.txt`), 'utf8').catch(() => 'missing')]).toEqual([
          i,
          payloadOf(i)
        ]);
      }
      // The path each `ok` named got its job.
      const ackedPaths = [...acked.values()].map(r => r.split(' ')[2]);
      expect(ackedPaths.filter(p => !perFile.has(p))).toEqual([]);
      const left = await fs.readdir(path.join(root, '.meow', 'incoming', 'network', String(port))).catch(() => []);
      expect(left).toEqual([]);
      expect(await processesLeft(root)).toEqual([]);
      console.log(
        `[network kill] ${MESSAGES} messages, ${sends} sends, ${KILLS} kills: ${done.length} done jobs ` +
          `(${done.length - MESSAGES} for messages received twice because their ok was lost to a kill)`
      );
      await fs.rm(root, { recursive: true, force: true });
    } finally {
      stop = true;
      await sender.catch(() => undefined);
      if (service.child && service.child.exitCode === null) {
        await service.kill9();
      }
    }
  }, 600_000);
});
