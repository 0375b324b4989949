/**
 * A timer firing that takes longer than the interval (a busy machine: the
 * CI saw `every: 1s` jobs 2 s apart) must not let the firings that came due
 * meanwhile pass unseen: they follow the pattern's `missed:` policy, as
 * after a restart, with a warning.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IRule, MissedFiringPolicy } from '../../../../src/core/types';
import { RecordingLogger } from '../../../../src/service/log';
import type { IncomingFiles } from '../../../../src/service/triggers/incoming';
import { TimerTrigger } from '../../../../src/service/triggers/timer';
import type { IFiring } from '../../../../src/service/triggers/trigger';
import { until } from '../../../helpers/workgroup';

const EVERY_MS = 200;

function rule(missed: MissedFiringPolicy): IRule {
  return {
    id: `Tick/Copy#${missed}`,
    pattern: { name: 'Tick', recipe: 'Copy', trigger: { kind: 'schedule', everyMs: EVERY_MS, missed } }
  } as unknown as IRule;
}

describe('TimerTrigger when a firing is slow', () => {
  let root: string;
  let timer: TimerTrigger | undefined;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-timer-'));
  });
  afterEach(async () => {
    await timer?.stop();
    timer = undefined;
    await fs.rm(root, { recursive: true, force: true });
  });

  async function run(missed: MissedFiringPolicy) {
    const log = new RecordingLogger();
    const firings: IFiring[] = [];
    let release!: () => void;
    const slow = new Promise<void>(resolve => (release = resolve));
    const incoming = {
      write: async (_kind: string, _pattern: string, name: string) => `.meow/incoming/schedule/Tick/${name}`,
      pin: () => undefined,
      unpin: () => undefined
    } as unknown as IncomingFiles;
    timer = new TimerTrigger({
      context: {
        root,
        stateDir: '.meow',
        log,
        incoming,
        walk: async function* () {},
        now: () => Date.now(),
        fire: async (_rules, firing) => {
          firings.push(firing);
          if (firings.length === 1) {
            await slow; // the first firing takes 3.5 intervals to make
          }
          return [];
        }
      }
    });
    await timer.update([rule(missed)]);
    await until(() => firings.length === 1, 5000, 'the first firing');
    await new Promise(r => setTimeout(r, 3.5 * EVERY_MS));
    release();
    return { log, firings };
  }

  it('missed: once runs one firing at once for the latest time that came due, and says so', async () => {
    const { log, firings } = await run('once');
    await until(() => firings.length >= 2, 5000, 'the catch-up firing');
    const gap = firings[1].time - firings[0].time;
    expect(gap % EVERY_MS).toBe(0);
    expect(gap).toBeGreaterThanOrEqual(3 * EVERY_MS);
    const warning = log.lines.find(l => l.level === 'warn')?.message ?? '';
    expect(warning).toMatch(
      /[345] firing\(s\) of pattern Tick \(every 200ms\) came due while its firing for .* was being made; running once now for/
    );
    await until(() => firings.length >= 3, 5000, 'the next regular firing');
    expect(firings[2].time - firings[1].time).toBe(EVERY_MS);
  });

  it('missed: skip skips them, says so, and goes on from the next interval', async () => {
    const { log, firings } = await run('skip');
    await until(() => firings.length >= 2, 5000, 'the next firing');
    expect(log.lines.find(l => l.level === 'warn')?.message).toMatch(
      /came due while its firing .* was being made; skipped \(missed: skip\)/
    );
    expect(firings[1].time - firings[0].time).toBeGreaterThanOrEqual(4 * EVERY_MS);
  });
});
