/**
 * The engine end to end with a real Jupyter server and ipykernel:
 * the thesis examples through the `meow` CLI, and runtime edits and hostile
 * recipes through an in-process runner with the kernel conductor.
 */
import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import type { IJob } from '../../src/core/types';
import { KernelConductor } from '../../src/service/conductors/kernel';
import { PrivateJupyterServer } from '../../src/service/jupyter/server';
import { RecordingLogger } from '../../src/service/log';
import { MeowRunner } from '../../src/service/runner';
import { recipeNotebook, removeWorkgroup, until, writeFile } from '../helpers/workgroup';

const REPO = path.resolve(__dirname, '../..');
const MEOW = path.join(REPO, '.venv', 'bin', 'meow');

function meow(args: string[], timeoutMs = 170000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(MEOW, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function copyExample(name: string): Promise<string> {
  const dest = await fs.mkdtemp(path.join(os.tmpdir(), `meow-${name}-`));
  await fs.cp(path.join(REPO, 'examples', name), dest, { recursive: true });
  await fs.rm(path.join(dest, '.meow', 'jobs'), { recursive: true, force: true });
  return dest;
}

async function readJobs(root: string): Promise<IJob[]> {
  const dir = path.join(root, '.meow', 'jobs');
  const ids = (await fs.readdir(dir, { withFileTypes: true }))
    .filter(e => e.isDirectory())
    .map(e => e.name)
    .sort();
  return Promise.all(
    ids.map(async id => YAML.parse(await fs.readFile(path.join(dir, id, 'job.yaml'), 'utf8')) as IJob)
  );
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    out[key(item)] = (out[key(item)] ?? 0) + 1;
  }
  return out;
}

describe('the meow CLI on the thesis examples', () => {
  it('foundational example: second/Alpha.txt holds the three lines of listing 14.6, four jobs done', async () => {
    const root = await copyExample('foundational');
    try {
      const run = await meow(['run', root, '--until-idle']);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/idle — jobs: 4 done/);
      expect(await fs.readFile(path.join(root, 'second', 'Alpha.txt'), 'utf8')).toBe(
        'This is the starting state of Alpha\n' +
          'This line was added by Pattern_One\n' +
          'This line was added by Pattern_Two'
      );
      const jobs = await readJobs(root);
      expect(jobs.map(j => j.status)).toEqual(['done', 'done', 'done', 'done']);

      // The provenance report shows the chain start → first → second.
      const report = await meow(['report', root, '--format', 'json']);
      expect(report.code).toBe(0);
      const graph = JSON.parse(report.stdout);
      const nodeFor = (trigger: string) => graph.jobs.find((j: any) => j.trigger === trigger);
      const one = nodeFor('start/Alpha.txt');
      const two = nodeFor('first/Alpha.txt');
      expect(one.pattern).toBe('Pattern_One');
      expect(two.pattern).toBe('Pattern_Two');
      expect(one.filesWritten).toEqual(['first/Alpha.txt']);
      expect(two.filesWritten).toEqual(['second/Alpha.txt']);
      expect(graph.edges).toContainEqual({ from: one.id, to: two.id, path: 'first/Alpha.txt' });
      expect(graph.edges).toHaveLength(2);
    } finally {
      await removeWorkgroup(root);
    }
  });

  it('abstract analysis: jobs per pattern, deliberate Division failures with tracebacks, three sweep jobs per trigger', async () => {
    const root = await copyExample('abstract');
    try {
      const expected = JSON.parse(await fs.readFile(path.join(REPO, 'examples/abstract/expected.json'), 'utf8'));
      const run = await meow(['run', root, '--until-idle', '--workers', '2']);
      expect(run.code).toBe(0);
      const jobs = await readJobs(root);
      expect(countBy(jobs, j => j.pattern)).toEqual(expected.jobs.per_pattern);
      const failed = jobs.filter(j => j.status === 'failed');
      expect(failed.map(j => `${j.pattern} ${j.trigger.path}`).sort()).toEqual([...expected.failed.jobs].sort());
      expect(jobs.filter(j => j.status === 'done')).toHaveLength(expected.done.total);
      for (const job of failed) {
        expect(job.error!.ename).toBe('ValueError');
        expect(job.error!.traceback!.join('\n')).toMatch(/ValueError/);
        expect(job.error!.traceback!.join('\n')).not.toMatch(/\u001b\[/);
        const result = JSON.parse(await fs.readFile(path.join(root, '.meow/jobs', job.id, 'result.ipynb'), 'utf8'));
        const errors = result.cells.flatMap((c: any) => c.outputs ?? []).filter((o: any) => o.output_type === 'error');
        expect(errors).toHaveLength(1);
        expect(errors[0].ename).toBe('ValueError');
      }
      const sweeps = jobs.filter(j => j.pattern === 'Add_Range');
      for (const [trigger, n] of Object.entries(countBy(sweeps, j => j.trigger.path))) {
        expect([trigger, n]).toEqual([trigger, 3]);
        const extras = sweeps.filter(j => j.trigger.path === trigger).map(j => j.parameters.extra);
        expect(extras.sort()).toEqual([1, 2, 3]);
      }
      for (const [file, text] of Object.entries({ ...expected.final, ...expected.add_to_div })) {
        expect(await fs.readFile(path.join(root, file), 'utf8')).toBe(text);
      }
    } finally {
      await removeWorkgroup(root);
    }
  });

  it('self-modifying example: a job writes a pattern that then processes the data', async () => {
    const root = await copyExample('self-modifying');
    try {
      const run = await meow(['run', root, '--until-idle']);
      expect(run.code).toBe(0);
      const jobs = await readJobs(root);
      expect(jobs.map(j => j.status)).toEqual(['done', 'done', 'done']);
      expect(await fs.readdir(path.join(root, 'processed'))).toEqual(['hello.txt', 'poem.txt']);
      const made = jobs.filter(j => j.pattern !== 'pattern_maker');
      expect(made).toHaveLength(2);
    } finally {
      await removeWorkgroup(root);
    }
  });

  it('validate and report print clear errors for bad input and keep exit codes honest', async () => {
    const root = await copyExample('foundational');
    try {
      await writeFile(root, '.meow/patterns/Broken.yaml', 'recipe: Append\ntrigger:\n  path: "/abs/*"\n');
      const result = await meow(['validate', root]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/\.meow\/patterns\/Broken\.yaml/);
      expect(result.stdout).toMatch(/trigger\.path/);
      const bad = await meow(['run', root, '--workers', 'zero']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--workers must be a whole number/);
    } finally {
      await removeWorkgroup(root);
    }
  });
});

describe('a live runner on a real Jupyter server', () => {
  let base: string;
  let server: PrivateJupyterServer;
  let root: string;
  let runner: MeowRunner | undefined;
  let log: RecordingLogger;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-live-'));
    server = new PrivateJupyterServer({ rootDir: base });
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(base, 'wg-'));
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  async function start(options: { workers?: number; timeoutMs?: number } = {}) {
    log = new RecordingLogger();
    const conductor = new KernelConductor({ serverSettings: server.serverSettings, poolSize: 1 });
    runner = new MeowRunner({ root, settleMs: 50, conductor, log, ...options });
    await runner.start();
    return runner;
  }

  const jobs = () => runner!.store.list();

  const copyRecipe = recipeNotebook(
    { infile: "''", outfile: "''" },
    "import os\nos.makedirs(os.path.dirname(outfile), exist_ok=True)\nopen(outfile, 'w').write(open(infile).read().upper())\n"
  );
  const copyPattern = (out: string) =>
    `recipe: Upper\ntrigger:\n  path: "in/*"\ninput: infile\noutputs:\n  outfile: "{VGRID}/${out}/{FILENAME}"\n`;

  it('adding a recipe after its pattern schedules jobs for existing files (M10)', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(root, 'in/b.txt', 'b');
    await writeFile(root, '.meow/patterns/Up.yaml', copyPattern('out'));
    await start();
    await runner!.waitUntilIdle();
    expect(jobs()).toHaveLength(0);
    await writeFile(root, '.meow/recipes/Upper.ipynb', copyRecipe);
    await runner!.waitUntilIdle();
    // Existing files are hashed together, so their jobs come in the order the hashes finish.
    expect(
      jobs()
        .map(j => [j.trigger.path, j.status])
        .sort()
    ).toEqual([
      ['in/a.txt', 'done'],
      ['in/b.txt', 'done']
    ]);
    expect(await fs.readFile(path.join(root, 'out/b.txt'), 'utf8')).toBe('B');
  });

  it('deleting a pattern cancels its queued and running jobs (M11)', async () => {
    for (const n of [1, 2, 3]) {
      await writeFile(root, `in/${n}.txt`, String(n));
    }
    await writeFile(
      root,
      '.meow/recipes/Slow.ipynb',
      recipeNotebook({ infile: "''" }, 'import time\ntime.sleep(120)\n')
    );
    await writeFile(root, '.meow/patterns/Slow.yaml', 'recipe: Slow\ntrigger:\n  path: "in/*"\ninput: infile\n');
    await start();
    await until(() => jobs().some(j => j.status === 'running'), 60000, 'a running job');
    await fs.rm(path.join(root, '.meow/patterns/Slow.yaml'));
    await until(() => jobs().length === 3 && jobs().every(j => j.status === 'cancelled'), 60000, 'cancellation');
    await runner!.waitUntilIdle();
    const kernels = (await (await fetch(`${server.url}api/kernels?token=${server.token}`)).json()) as unknown[];
    expect(kernels.length).toBeLessThanOrEqual(1); // only the pooled, unused kernel remains
  });

  it('editing a recipe re-runs its step on existing files (R5 + M10)', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(root, '.meow/recipes/Upper.ipynb', copyRecipe);
    await writeFile(root, '.meow/patterns/Up.yaml', copyPattern('out'));
    await start();
    await runner!.waitUntilIdle();
    expect(await fs.readFile(path.join(root, 'out/a.txt'), 'utf8')).toBe('A');
    await writeFile(
      root,
      '.meow/recipes/Upper.ipynb',
      recipeNotebook(
        { infile: "''", outfile: "''" },
        "import os\nos.makedirs(os.path.dirname(outfile), exist_ok=True)\nopen(outfile, 'w').write(open(infile).read().upper() + '!')\n"
      )
    );
    await runner!.waitUntilIdle();
    expect(jobs().map(j => j.status)).toEqual(['done', 'done']);
    expect(await fs.readFile(path.join(root, 'out/a.txt'), 'utf8')).toBe('A!');
  });

  it('a notebook calling input() fails quickly instead of hanging', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(
      root,
      '.meow/recipes/Ask.ipynb',
      recipeNotebook({ infile: "''" }, "answer = input('continue? ')\n")
    );
    await writeFile(root, '.meow/patterns/Ask.yaml', 'recipe: Ask\ntrigger:\n  path: "in/*"\ninput: infile\n');
    await start({ timeoutMs: 120000 });
    await runner!.waitUntilIdle();
    const [job] = jobs();
    expect(job.status).toBe('failed');
    expect(job.error!.ename).toBe('StdinNotImplementedError');
    expect(Date.parse(job.finished!) - Date.parse(job.started!)).toBeLessThan(15000);
  });

  it('a notebook that kills its own kernel fails with a kernel-death message', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(root, '.meow/recipes/Die.ipynb', recipeNotebook({ infile: "''" }, 'import os\nos._exit(1)\n'));
    await writeFile(root, '.meow/patterns/Die.yaml', 'recipe: Die\ntrigger:\n  path: "in/*"\ninput: infile\n');
    await start();
    await runner!.waitUntilIdle();
    const [job] = jobs();
    expect(job.status).toBe('failed');
    expect(job.error!.message).toMatch(/kernel died/);
  });

  it('a cell that runs past the timeout is stopped', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(
      root,
      '.meow/recipes/Sleep.ipynb',
      recipeNotebook({ infile: "''" }, 'import time\ntime.sleep(300)\n')
    );
    await writeFile(root, '.meow/patterns/Sleep.yaml', 'recipe: Sleep\ntrigger:\n  path: "in/*"\ninput: infile\n');
    await start({ timeoutMs: 3000 });
    await runner!.waitUntilIdle();
    const [job] = jobs();
    expect(job.status).toBe('failed');
    expect(job.error!.message).toMatch(/timed out/);
    expect(Date.parse(job.finished!) - Date.parse(job.started!)).toBeLessThan(60000);
  });

  it('reports an invalid pattern file (file, field) and keeps running the valid ones', async () => {
    await writeFile(root, 'in/a.txt', 'a');
    await writeFile(root, '.meow/recipes/Upper.ipynb', copyRecipe);
    await writeFile(root, '.meow/patterns/Up.yaml', copyPattern('out'));
    await start();
    await runner!.waitUntilIdle();
    await writeFile(root, '.meow/patterns/Bad.yaml', 'recipe: Upper\ntrigger:\n  path: "in/*"\n  events: [exploded]\n');
    await writeFile(root, 'in/b.txt', 'b');
    await runner!.waitUntilIdle();
    expect(runner!.stateMonitor.problems.get('.meow/patterns/Bad.yaml')).toMatch(/trigger\.events/);
    expect(log.text('error')).toMatch(/Bad\.yaml/);
    expect(jobs().map(j => [j.pattern, j.trigger.path, j.status])).toEqual([
      ['Up', 'in/a.txt', 'done'],
      ['Up', 'in/b.txt', 'done']
    ]);
  });
});
