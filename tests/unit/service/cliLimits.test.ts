import { Command } from 'commander';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IPattern } from '../../../src/core/types';
import { addLimitCommands } from '../../../src/service/cliLimits';
import { RuleLimits, pausedFile } from '../../../src/service/jobs/limits';

function pattern(name: string, maxJobs: number): IPattern {
  return {
    name,
    recipe: 'r',
    trigger: { kind: 'file', path: 'in/*', events: ['created'] } as any,
    parameters: {},
    outputs: {},
    sweep: {},
    format: 'native',
    limits: { maxJobs }
  };
}

describe('meow paused / meow resume', () => {
  let root: string;
  let out: string;
  let err: string;
  const limitsList: RuleLimits[] = [];

  async function meow(...args: string[]): Promise<number> {
    out = '';
    err = '';
    process.exitCode = undefined;
    const program = addLimitCommands(new Command('meow').exitOverride(), {
      out: t => (out += t),
      err: t => (err += t)
    });
    await program.parseAsync(['node', 'meow', ...args]);
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  }

  /** Pause `name` the way the service does. */
  async function trip(name: string, service?: RuleLimits): Promise<RuleLimits> {
    const limits = service ?? new RuleLimits({ root, stateDir: '.meow' });
    limitsList.push(limits);
    limits.admit(pattern(name, 1), 1, `in/${name}.txt`);
    limits.admit(pattern(name, 1), 1, `in/${name}.txt`);
    await limits.settled();
    return limits;
  }

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-cli-limits-'));
  });
  afterEach(async () => {
    for (const l of limitsList.splice(0)) {
      await l.settled();
      l.dispose();
    }
    await fs.rm(root, { recursive: true, force: true });
  });

  it('lists nothing, then the paused rules with limit, since and reason', async () => {
    expect(await meow('paused', root)).toBe(0);
    expect(out).toBe('no paused patterns\n');
    await trip('Beta');
    await trip('Alpha');
    expect(await meow('paused', root)).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^PATTERN\s+LIMIT\s+SINCE\s+REASON$/);
    expect(lines[1]).toMatch(
      /^Alpha\s+max_jobs\s+\d{4}-\d\d-\d\dT.*it has created 1 jobs .*max_jobs is 1 \(trigger "in\/Alpha.txt"\)$/
    );
    expect(lines[2]).toMatch(/^Beta\s+max_jobs/);
    expect(out).toContain(`meow resume ${root} PATTERN`);
    expect(await meow('paused', root, '--format', 'json')).toBe(0);
    expect(JSON.parse(out).paused.map((r: any) => [r.pattern, r.limit])).toEqual([
      ['Alpha', 'max_jobs'],
      ['Beta', 'max_jobs']
    ]);
  });

  it('resume deletes the file when the service is not running; a clear error when not paused', async () => {
    const service = await trip('Alpha');
    service.dispose();
    expect(await meow('resume', root, 'Alpha')).toBe(0);
    expect(out).toContain('resumed pattern "Alpha"');
    await expect(fs.access(pausedFile(root, '.meow', 'Alpha'))).rejects.toThrow();
    // A restarted service sees it resumed.
    const restarted = new RuleLimits({ root, stateDir: '.meow' });
    limitsList.push(restarted);
    await restarted.load();
    expect(restarted.isPaused('Alpha')).toBe(false);

    expect(await meow('resume', root, 'Alpha')).toBe(1);
    expect(err).toBe(
      'error: pattern "Alpha" is not paused (there is no .meow/paused/Alpha.yaml); no pattern is paused\n'
    );
    await trip('Beta');
    expect(await meow('resume', root, 'Alpha')).toBe(1);
    expect(err).toContain('paused patterns: Beta');
    expect(await meow('resume', root, '../../etc/passwd')).toBe(1);
    expect(err).toMatch(/is not a pattern name/);
    expect(await meow('paused', path.join(root, 'nope'))).toBe(1);
    expect(err).toMatch(/is not a folder/);
  });

  it('resume reaches a running service, which resumes the rule at once', async () => {
    const service = new RuleLimits({ root, stateDir: '.meow' });
    await service.load();
    await trip('Alpha', service);
    expect(service.isPaused('Alpha')).toBe(true);
    const changes: RuleLimits.IChange[] = [];
    service.changed.connect((_, c) => changes.push(c));
    // At once: right after the file was written, before any watcher settled.
    expect(await meow('resume', root, 'Alpha')).toBe(0);
    const end = Date.now() + 5000;
    while (!changes.length && Date.now() < end) {
      await new Promise(r => setTimeout(r, 20));
    }
    expect(changes).toEqual([{ pattern: 'Alpha' }]);
    expect(service.isPaused('Alpha')).toBe(false);
  });
});
