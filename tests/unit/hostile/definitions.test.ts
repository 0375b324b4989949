/**
 * Definitions that can never hurt the service: parsing in a worker thread
 * (identical results, the event loop stays free), limits-only changes, and
 * log lines that stay one line.
 */
import { buildSync } from 'esbuild';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parsePattern, patternToYaml } from '../../../src/core/pattern';
import { Workflow } from '../../../src/core/workflow';
import { consoleLogger } from '../../../src/service/cli';
import { escapeControl, RecordingLogger } from '../../../src/service/log';
import { DefinitionParser, parseDefinition } from '../../../src/service/monitors/definitionParser';
import { StateMonitor } from '../../../src/service/monitors/stateMonitor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, until, writeFile } from '../../helpers/workgroup';
import { GOOD_PATTERN } from './harness';

/** The worker script, bundled as scripts/bundle-service.mjs does. */
function workerScript(): string {
  const out = path.join(os.tmpdir(), `meow-definition-parser-${process.pid}.js`);
  buildSync({
    entryPoints: [path.join(__dirname, '../../../src/service/monitors/definitionWorker.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning'
  });
  return out;
}

const SAMPLES: Record<string, string> = {
  floats:
    'recipe: r\ntrigger: {path: "a/*"}\nparameters:\n  f: 1.0\n  g: 2.5\n  big: 123456789012345678901234567890\n  nested: {l: [1.0, 2, "x", null, true]}\nmax_jobs: 3\nmax_rate: 0.5\nretries: 2\n',
  thesis:
    "input_file: infile\ninput_paths:\n- start/*\noutput:\n  outfile: '{VGRID}/first/{FILENAME}'\nparameterize_over: {}\nrecipes:\n- Append\nvariables:\n  extra: x\nmax_depth: 7\n",
  broken: 'recipe: r\ntrigger: {path: "a/*"}\nbad: [\n',
  warned: 'recipe: r\ntrigger: {path: "a/*"}\noutputs: {o: /tmp/x}\n',
  proto: 'recipe: r\ntrigger: {path: "a/*"}\nparameters:\n  d: {__proto__: 1, constructor: 2}\n'
};

describe('parsing definitions in a worker thread', () => {
  let script: string;
  let parser: DefinitionParser;
  beforeAll(() => {
    script = workerScript();
    parser = new DefinitionParser({ workerScript: script });
  });
  afterAll(async () => {
    await parser.close();
    await fs.rm(script, { force: true });
  });

  it('gives exactly the in-thread results (PyFloat, bigint, limits, issues, warnings)', async () => {
    expect(parser.inWorker).toBe(true);
    for (const [name, text] of Object.entries(SAMPLES)) {
      const req = { kind: 'pattern' as const, name, ext: '.yaml', bytes: new TextEncoder().encode(text) };
      const inWorker = await parser.parse(req);
      const inThread = parseDefinition(req);
      expect(inWorker).toEqual(inThread);
      if (inThread.pattern) {
        expect(patternToYaml(inWorker.pattern!)).toBe(patternToYaml(inThread.pattern));
      }
    }
    const nb = new TextEncoder().encode(recipeNotebook({ x: '1' }));
    const req = { kind: 'recipe' as const, name: 'r', ext: '.ipynb', bytes: nb };
    expect(await parser.parse(req)).toEqual(parseDefinition(req));
  });

  it('keeps the event loop free while a large file is parsed', async () => {
    const lines = ['recipe: r', 'trigger: {path: "a/*"}', 'parameters:'];
    for (let i = 0; i < 40000; i++) {
      lines.push(`  p${i}: "value number ${i} with some text"`);
    }
    const bytes = new TextEncoder().encode(lines.join('\n') + '\n');
    let worst = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      worst = Math.max(worst, Date.now() - last);
      last = Date.now();
    }, 10);
    const t0 = Date.now();
    const result = await parser.parse({ kind: 'pattern', name: 'big', ext: '.yaml', bytes });
    const took = Date.now() - t0;
    clearInterval(timer);
    expect(result.issues).toEqual([]);
    expect(Object.keys(result.pattern!.parameters)).toHaveLength(40000);
    // The parse takes a while; the loop never waited more than a fraction of it.
    expect(worst).toBeLessThan(Math.max(250, took / 3));
  });

  it('a state monitor with the worker applies files in order, with the same results', async () => {
    const root = await makeWorkgroup({
      '.meow/patterns/Good.yaml': GOOD_PATTERN,
      '.meow/patterns/Bad.yaml': 'recipe: [\n'
    });
    const workflow = new Workflow();
    const monitor = new StateMonitor({ root, workflow, onChanges: () => undefined, parseWorkerScript: script });
    try {
      await monitor.start();
      expect(monitor.parsesInWorker).toBe(true);
      expect(workflow.patterns.get('Good')).toEqual(parsePattern('Good', GOOD_PATTERN).pattern);
      expect(monitor.problems.get('.meow/patterns/Bad.yaml')).toMatch(/pattern "Bad": is not valid YAML/);
    } finally {
      await monitor.stop();
      await removeWorkgroup(root);
    }
  });
});

describe('limits-only changes', () => {
  it('update the live pattern in place and keep the rule (nothing re-runs)', async () => {
    const root = await makeWorkgroup({
      '.meow/recipes/Copy.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/P.yaml': GOOD_PATTERN
    });
    const workflow = new Workflow();
    const log = new RecordingLogger();
    const changes: unknown[] = [];
    const limited: string[] = [];
    const monitor = new StateMonitor({
      root,
      workflow,
      log,
      settleMs: 20,
      onChanges: ch => changes.push(ch),
      onLimitsChanged: p => limited.push(p.name)
    });
    try {
      await monitor.start();
      const rule = [...workflow.rules.values()][0];
      changes.length = 0;
      await writeFile(
        root,
        '.meow/patterns/P.yaml',
        GOOD_PATTERN + 'max_jobs: 5\nmax_rate: 2.5\nretries: 3\nexecutor: slurm\nresources: {cpus: 2}\n'
      );
      await until(() => limited.length === 1);
      expect([...workflow.rules.values()][0]).toBe(rule);
      expect(rule.pattern.limits).toEqual({ maxJobs: 5, maxRate: 2.5 });
      expect(rule.pattern.retries).toBe(3);
      expect(rule.pattern.executor).toBe('slurm');
      expect(rule.pattern.resources).toEqual({ cpus: 2 });
      expect(changes).toEqual([]);
      expect(log.text('info')).toMatch(/pattern P limits, retries or executor updated \(.meow\/patterns\/P.yaml\)/);
      // Not at once: chokidar has been seen to miss a rewrite within moments of the last.
      await new Promise(r => setTimeout(r, 300));
      await writeFile(root, '.meow/patterns/P.yaml', GOOD_PATTERN);
      await until(() => limited.length === 2);
      expect(rule.pattern.limits).toBeUndefined();
      expect(rule.pattern.retries).toBeUndefined();
      expect(rule.pattern.executor).toBeUndefined();
      expect(rule.pattern.resources).toBeUndefined();
      // A real change still re-creates the rule.
      await writeFile(root, '.meow/patterns/P.yaml', GOOD_PATTERN.replace('good/*', 'other/*'));
      await until(() => changes.length === 1);
      expect([...workflow.rules.values()][0]).not.toBe(rule);
    } finally {
      await monitor.stop();
      await removeWorkgroup(root);
    }
  });
});

describe('log lines stay one line', () => {
  it('escapes C0 and C1 control characters', () => {
    expect(escapeControl('a\nb\rc\td\u001b[2Je\u0000f\u007fg\u009bh\u2028i')).toBe(
      'a\\nb\\rc\\td\\x1b[2Je\\x00f\\x7fg\\x9bh\\u2028i'
    );
    expect(escapeControl('plain ünïcode ✓')).toBe('plain ünïcode ✓');
  });

  it('the console logger writes escaped lines', () => {
    const written: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => (written.push(String(chunk)), true));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(chunk => (written.push(String(chunk)), true));
    try {
      const log = consoleLogger(true);
      log.info('file h/\u001b[2Jx\nforged line');
      log.error('e\u001b]0;title\u0007');
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(written).toHaveLength(2);
    for (const line of written) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    }
    expect(written[0]).toMatch(/file h\/\\x1b\[2Jx\\nforged line\n$/);
  });
});
