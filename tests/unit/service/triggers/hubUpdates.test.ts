/**
 * TriggerHub.rulesChanged: only the triggers of a changed rule's kind are
 * updated, and rule changes that come while an update waits to start share
 * that update (it reads the rules when it starts), so loading 100,000 file
 * patterns one by one no longer makes 100,000 updates of every trigger over
 * all rules; a change after an update started still gets an update of its
 * own.
 */
import { Signal } from '@lumino/signaling';
import type { IRule } from '../../../../src/core/types';
import type { Workflow } from '../../../../src/core/workflow';
import type { JobStore } from '../../../../src/service/jobs/jobStore';
import { RecordingLogger } from '../../../../src/service/log';
import { TriggerHub } from '../../../../src/service/triggers/hub';
import type { ITrigger } from '../../../../src/service/triggers/trigger';

/** A trigger of file rules whose updates wait until the test lets them go. */
class GatedTrigger implements ITrigger {
  readonly kinds = ['file'] as const;
  /** The number of rules each update was given, in order. */
  readonly seen: number[] = [];
  private _gate: (() => void) | null = null;

  async update(rules: IRule[]): Promise<void> {
    this.seen.push(rules.length);
    await new Promise<void>(resolve => (this._gate = resolve));
  }

  /** Let the running update finish. */
  release(): void {
    this._gate?.();
    this._gate = null;
  }

  async stop(): Promise<void> {}
}

/** A trigger of schedule rules that counts its updates. */
class CountingTrigger implements ITrigger {
  readonly kinds = ['schedule'] as const;
  updates = 0;
  async update(): Promise<void> {
    this.updates++;
  }
  async stop(): Promise<void> {}
}

const fileRule = (i: number) =>
  ({ id: `r${i}`, pattern: { name: `p${i}`, trigger: { kind: 'file' } } }) as unknown as IRule;

async function ticks(n = 5) {
  for (let i = 0; i < n; i++) {
    await new Promise(resolve => setImmediate(resolve));
  }
}

describe('TriggerHub.rulesChanged', () => {
  let rules: Map<string, IRule>;
  let gated: GatedTrigger;
  let counting: CountingTrigger;
  let hub: TriggerHub;

  beforeEach(() => {
    rules = new Map();
    gated = new GatedTrigger();
    counting = new CountingTrigger();
    const store = { changed: new Signal<unknown, unknown>({}) } as unknown as JobStore;
    hub = new TriggerHub({
      root: '/nonexistent',
      stateDir: '.meow',
      log: new RecordingLogger(),
      store,
      workflow: { rules } as unknown as Workflow,
      fire: async () => [],
      walk: async function* () {},
      isPaused: () => false,
      isHeld: () => false,
      extra: () => [gated, counting]
    });
  });

  afterEach(async () => {
    // Let any update still waiting finish, then stop every trigger.
    const releasing = setInterval(() => gated.release(), 1);
    await hub.stop();
    clearInterval(releasing);
  });

  it('shares one queued update among the changes that come while another runs', async () => {
    rules.set('r0', fileRule(0));
    const first = hub.rulesChanged([rules.get(`r${rules.size - 1}`)!]);
    await ticks();
    expect(gated.seen).toEqual([1]);

    // 1,000 patterns arrive one by one while the first update runs.
    const queued: Promise<void>[] = [];
    for (let i = 1; i <= 1000; i++) {
      rules.set(`r${i}`, fileRule(i));
      queued.push(hub.rulesChanged([rules.get(`r${rules.size - 1}`)!]));
    }
    expect(new Set(queued).size).toBe(1);
    gated.release();
    await first;
    await ticks();
    // One more update, with every rule.
    expect(gated.seen).toEqual([1, 1001]);
    gated.release();
    await queued[0];
    expect(gated.seen).toEqual([1, 1001]);
  });

  it('gives a change after an update started an update of its own', async () => {
    rules.set('r0', fileRule(0));
    const first = hub.rulesChanged([rules.get(`r${rules.size - 1}`)!]);
    await ticks();
    rules.set('r1', fileRule(1));
    const second = hub.rulesChanged([rules.get(`r${rules.size - 1}`)!]);
    gated.release();
    await first;
    await ticks();
    expect(gated.seen).toEqual([1, 2]);
    // The second update is running: a change now must not join it.
    rules.set('r2', fileRule(2));
    const third = hub.rulesChanged([rules.get(`r${rules.size - 1}`)!]);
    expect(third).not.toBe(second);
    gated.release();
    await second;
    await ticks();
    expect(gated.seen).toEqual([1, 2, 3]);
    gated.release();
    await third;
    // None of these changes was a schedule rule.
    expect(counting.updates).toBe(0);
  });

  it('updates only the triggers of the changed kinds; every trigger without a list', async () => {
    rules.set('r0', fileRule(0));
    const fileChange = hub.rulesChanged([fileRule(0)]);
    await ticks();
    gated.release();
    await fileChange;
    expect(gated.seen).toEqual([1]);
    expect(counting.updates).toBe(0);

    const timed = { id: 't0', pattern: { name: 't0', trigger: { kind: 'schedule' } } } as unknown as IRule;
    await hub.rulesChanged([timed]);
    expect(counting.updates).toBe(1);
    expect(gated.seen).toEqual([1]);

    const all = hub.rulesChanged();
    await ticks();
    gated.release();
    await all;
    expect(counting.updates).toBe(2);
    expect(gated.seen).toEqual([1, 1]);
  });
});
