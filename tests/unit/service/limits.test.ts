import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DEFAULT_MAX_DEPTH, IPattern, IPatternLimits } from '../../../src/core/types';
import { RATE_WINDOW_MS, RuleLimits, pausedFile, parsePausedFile } from '../../../src/service/jobs/limits';
import { RecordingLogger } from '../../../src/service/log';

function pattern(name: string, limits?: IPatternLimits): IPattern {
  return {
    name,
    recipe: 'r',
    trigger: { kind: 'file', path: 'in/*', events: ['created'] } as any,
    parameters: {},
    outputs: {},
    sweep: {},
    format: 'native',
    limits
  };
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 20));
  }
}

describe('RuleLimits', () => {
  let root: string;
  let log: RecordingLogger;
  let clock: number;
  const made: RuleLimits[] = [];
  const limits = (): RuleLimits => {
    const l = new RuleLimits({ root, stateDir: '.meow', log, now: () => clock });
    made.push(l);
    return l;
  };

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-limits-'));
    log = new RecordingLogger();
    clock = Date.UTC(2026, 0, 1);
  });
  afterEach(async () => {
    for (const l of made.splice(0)) {
      await l.settled();
      l.dispose();
    }
    await fs.rm(root, { recursive: true, force: true });
  });

  it('max_jobs: admits that many jobs, then pauses once, persists and emits', async () => {
    const l = limits();
    await l.load();
    const changes: RuleLimits.IChange[] = [];
    l.changed.connect((_, c) => changes.push(c));
    const p = pattern('P', { maxJobs: 3 });
    for (let i = 0; i < 3; i++) {
      expect(l.admit(p, 1)).toEqual({ ok: true });
    }
    const refused = l.admit(p, 1, 'in/d.txt');
    expect(refused.ok).toBe(false);
    const rule = (refused as { paused: any }).paused;
    expect(rule).toMatchObject({
      pattern: 'P',
      limit: 'max_jobs',
      path: 'in/d.txt',
      since: new Date(clock).toISOString()
    });
    expect(rule.reason).toBe('it has created 3 jobs since it started or was resumed; max_jobs is 3');
    // Paused: the same answer, and no further log lines or signals per event.
    expect(l.admit(p, 1)).toEqual({ ok: false, paused: rule });
    expect(l.admit(p, 1)).toEqual({ ok: false, paused: rule });
    const warnings = log.lines.filter(x => x.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('pattern "P" paused: max_jobs exceeded');
    expect(warnings[0].message).toContain('Resume button in the Workflow panel');
    expect(warnings[0].message).toContain(`meow resume ${root} P`);
    expect(warnings[0].message).toContain(path.join('.meow', 'paused', 'P.yaml'));
    expect(changes).toEqual([{ pattern: 'P', paused: rule }]);
    expect(l.isPaused('P')).toBe(true);
    expect(l.paused()).toEqual([rule]);
    await l.settled();
    const text = await fs.readFile(path.join(root, '.meow', 'paused', 'P.yaml'), 'utf8');
    expect(text).toMatch(/^# meow paused pattern "P"/);
    expect(YAML.parse(text)).toEqual(rule);
    // Other patterns are unaffected.
    expect(l.admit(pattern('Q', { maxJobs: 3 }), 1)).toEqual({ ok: true });
  });

  it('max_rate: a 60 s sliding window', async () => {
    const l = limits();
    const p = pattern('R', { maxRate: 3 });
    expect(l.admit(p, 1).ok).toBe(true); // t = 0
    clock += 20_000;
    expect(l.admit(p, 1).ok).toBe(true); // t = 20 s
    clock += 20_000;
    expect(l.admit(p, 1).ok).toBe(true); // t = 40 s
    clock += 20_001;
    // t = 60.001 s: the first job left the window, so a fourth is fine.
    expect(l.admit(p, 1).ok).toBe(true);
    clock += 1000;
    const refused = l.admit(p, 1);
    expect(refused).toMatchObject({ ok: false, paused: { limit: 'max_rate' } });
    expect((refused as any).paused.reason).toBe(
      'its next job would be job 4 in the last minute; max_rate is 3 per minute'
    );
    // Time passing does not lift a pause: only a person does.
    clock += 10 * RATE_WINDOW_MS;
    expect(l.admit(p, 1).ok).toBe(false);
    await l.resume('R');
    expect(l.admit(p, 1).ok).toBe(true);
  });

  it('max_depth: the chain the new job would end; default 100; 0 means unlimited', async () => {
    const l = limits();
    expect(l.admit(pattern('D', { maxDepth: 5 }), 5).ok).toBe(true);
    expect(l.admit(pattern('D', { maxDepth: 5 }), 6)).toMatchObject({
      ok: false,
      paused: { limit: 'max_depth', reason: 'its next job would end a provenance chain of 6 jobs; max_depth is 5' }
    });
    expect(DEFAULT_MAX_DEPTH).toBe(100);
    expect(l.admit(pattern('E'), 100).ok).toBe(true);
    expect(l.admit(pattern('E'), 101)).toMatchObject({ ok: false, paused: { limit: 'max_depth' } });
    expect(l.admit(pattern('F', { maxDepth: 0 }), 100000).ok).toBe(true);
  });

  it('defaults let the thesis loops finish (check ⇄ regenerate for 20 rounds, and a 50-step chain)', () => {
    const l = limits();
    const check = pattern('pattern_check');
    const regenerate = pattern('pattern_regenerate');
    let depth = 1;
    for (let round = 0; round < 20; round++) {
      // A burst of datasets each round, all at once.
      for (let n = 0; n < 30; n++) {
        expect(l.admit(check, depth).ok).toBe(true);
      }
      expect(l.admit(regenerate, depth + 1).ok).toBe(true);
      depth += 2;
    }
    const step = pattern('Pattern_Step');
    for (let d = 1; d <= 50; d++) {
      expect(l.admit(step, d).ok).toBe(true);
    }
    expect(l.paused()).toEqual([]);
    expect(log.text('warn')).toBe('');
  });

  it('a pause survives a new instance (restart), and the counts start afresh on resume', async () => {
    const a = limits();
    await a.load();
    const p = pattern('P', { maxJobs: 1 });
    a.admit(p, 1);
    const rule = (a.admit(p, 1, 'in/x') as any).paused;
    await a.settled();
    a.dispose();

    const b = limits();
    await b.load();
    expect(b.isPaused('P')).toBe(true);
    expect(b.paused()).toEqual([rule]);
    expect(b.admit(p, 1)).toEqual({ ok: false, paused: rule });
    expect(log.text('warn')).toContain('pattern "P" is still paused (max_jobs');

    const changes: RuleLimits.IChange[] = [];
    b.changed.connect((_, c) => changes.push(c));
    expect(await b.resume('P')).toBe(true);
    expect(changes).toEqual([{ pattern: 'P' }]);
    await expect(fs.access(pausedFile(root, '.meow', 'P'))).rejects.toThrow();
    expect(b.admit(p, 1).ok).toBe(true);
    expect(b.admit(p, 1).ok).toBe(false);
    await b.settled();
    expect(await b.resume('P')).toBe(true);
    expect(await b.resume('P')).toBe(false);
    expect(await b.resume('Never')).toBe(false);
  });

  it('resumes when a person deletes the file while it runs, and pauses when one is written', async () => {
    const l = limits();
    await l.load();
    const changes: RuleLimits.IChange[] = [];
    l.changed.connect((_, c) => changes.push(c));
    const p = pattern('P', { maxJobs: 1 });
    l.admit(p, 1);
    l.admit(p, 1);
    await l.settled();
    const file = pausedFile(root, '.meow', 'P');
    // Our own write does not echo back as a second pause.
    await new Promise(r => setTimeout(r, 300));
    expect(changes).toHaveLength(1);

    await fs.unlink(file);
    await until(() => !l.isPaused('P'), 'the resume');
    expect(changes[1]).toEqual({ pattern: 'P' });
    expect(log.text('info')).toContain('pattern "P" resumed');
    expect(l.admit(p, 1).ok).toBe(true); // counts reset

    // A file written by hand pauses the rule too.
    await fs.writeFile(pausedFile(root, '.meow', 'Q'), 'limit: max_rate\nreason: by hand\n');
    await until(() => l.isPaused('Q'), 'the pause');
    expect(l.paused().find(r => r.pattern === 'Q')).toMatchObject({ limit: 'max_rate', reason: 'by hand' });
  });

  it('a resume right after a trip is not undone by the late write', async () => {
    const l = limits();
    await l.load();
    const p = pattern('P', { maxJobs: 1 });
    l.admit(p, 1);
    l.admit(p, 1);
    expect(await l.resume('P')).toBe(true);
    await l.settled();
    await new Promise(r => setTimeout(r, 300));
    expect(l.isPaused('P')).toBe(false);
    await expect(fs.access(pausedFile(root, '.meow', 'P'))).rejects.toThrow();
  });

  it('reset (rule re-created) restarts the counts but keeps a pause', () => {
    const l = limits();
    const p = pattern('P', { maxJobs: 2 });
    l.admit(p, 1);
    l.admit(p, 1);
    l.reset('P');
    expect(l.admit(p, 1).ok).toBe(true);
    expect(l.admit(p, 1).ok).toBe(true);
    expect(l.admit(p, 1).ok).toBe(false);
    l.reset('P');
    expect(l.isPaused('P')).toBe(true);
  });

  it('never forms a path outside the paused folder; reads broken files as paused', () => {
    expect(() => pausedFile(root, '.meow', '../x')).toThrow(/not a pattern name/);
    expect(parsePausedFile('P', ': : [').rule).toMatchObject({ pattern: 'P', limit: 'max_jobs' });
    expect(parsePausedFile('P', ': : [').problem).toMatch(/not YAML/);
  });
});
