/**
 * Timer triggers: `schedule: "<cron>"` and `every: 30s`. Each firing is a
 * small YAML file under `.meow/incoming/schedule/<pattern>/`, named after
 * the scheduled time and recording it, which is the job's trigger path.
 *
 * When each pattern last fired is kept in `.meow/triggers/timers.json`, so
 * firings missed while meow was down follow the pattern's `missed:` policy:
 * `once` (default) runs one job for the latest missed time on start, `skip`
 * only logs them. A firing recorded twice (a crash between the job and the
 * state) is the same file with the same content, so it makes no second job.
 */
import { formatDuration, missedFirings, nextFiring, scheduleText } from '../../core/timers';
import type { IRule, IScheduleTrigger } from '../../core/types';
import type { ITrigger, ITriggerContext } from './trigger';
import { syncRules, TriggerState } from './triggerState';

/** Longest delay setTimeout accepts; later firings re-arm on the way. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface ITimerState {
  /** The trigger as text: a changed schedule starts afresh. */
  spec: string;
  /** When `every` intervals are counted from (ms). */
  anchor: number;
  /** The scheduled time of the last firing (ms). */
  last: number;
}

export class TimerTrigger implements ITrigger {
  constructor(options: TimerTrigger.IOptions) {
    this._c = options.context;
    this._state = new TriggerState<ITimerState>({
      root: this._c.root,
      stateDir: this._c.stateDir,
      name: 'timers.json',
      log: this._c.log
    });
  }

  readonly kinds = ['schedule'] as const;

  async update(rules: IRule[]): Promise<void> {
    await this._state.load();
    await syncRules(this._armed, rules, rule => this._start(rule), this._c.log, 'timer');
  }

  async stop(): Promise<void> {
    this._stopped = true;
    for (const armed of this._armed.values()) {
      clearTimeout(armed.timer);
    }
    this._armed.clear();
    await Promise.allSettled([...this._firing]);
  }

  /** When a pattern fires next (ms), for status and tests. */
  nextFiring(pattern: string): number | undefined {
    return this._armed.get(pattern)?.next;
  }

  /** Catch up on firings missed while meow was down, then arm the timer. */
  private async _start(rule: IRule): Promise<void> {
    const t = rule.pattern.trigger as IScheduleTrigger;
    const name = rule.pattern.name;
    const now = this._c.now();
    const spec = TimerTrigger.describe(t);
    let state = this._state.get(name);
    if (state && state.spec === spec) {
      const missed = missedFirings(t, state.last, now, state.anchor);
      if (missed.count > 0 && missed.latest !== undefined) {
        const what = `${missed.count}${missed.capped ? '+' : ''} firing(s) of pattern ${name} (${spec}) were missed while meow was not running`;
        if (t.missed === 'skip') {
          this._c.log.info(`${what}; skipped (missed: skip)`);
        } else {
          this._c.log.info(`${what}; running once now for ${new Date(missed.latest).toISOString()} (missed: once)`);
          await this._fire(rule, missed.latest);
        }
        state = { ...state, last: missed.latest };
        await this._state.set(name, state);
      }
    } else {
      state = { spec, anchor: now, last: now };
      await this._state.set(name, state);
    }
    this._arm(rule, state);
  }

  private _arm(rule: IRule, state: ITimerState): void {
    if (this._stopped) {
      return;
    }
    const t = rule.pattern.trigger as IScheduleTrigger;
    const name = rule.pattern.name;
    const next = nextFiring(t, Math.max(state.last, this._c.now()), state.anchor);
    if (next === undefined) {
      this._c.log.warn(`pattern ${name}: the schedule ${TimerTrigger.describe(t)} never fires again`);
      this._armed.delete(name);
      return;
    }
    const timer = setTimeout(() => this._tick(rule, next), Math.min(Math.max(0, next - this._c.now()), MAX_DELAY_MS));
    this._armed.set(name, { rule, timer, next });
    this._c.log.debug(`pattern ${name} fires next at ${new Date(next).toISOString()}`);
  }

  private _tick(rule: IRule, at: number): void {
    const name = rule.pattern.name;
    if (this._armed.get(name)?.rule.id !== rule.id || this._stopped) {
      return;
    }
    const state = this._state.get(name) ?? {
      spec: TimerTrigger.describe(rule.pattern.trigger as IScheduleTrigger),
      anchor: at,
      last: at
    };
    if (this._c.now() < at) {
      this._arm(rule, state); // a long delay was cut to setTimeout's limit, or the clock moved
      return;
    }
    const work = this._fire(rule, at)
      .then(() => this._state.set(name, { ...state, last: at }))
      .catch(err =>
        this._c.log.error(
          `pattern ${name}: timer firing at ${new Date(at).toISOString()} failed: ${(err as Error).message}`
        )
      )
      .finally(() => {
        this._firing.delete(work);
        if (this._armed.get(name)?.rule.id === rule.id) {
          this._afterFiring(rule, { ...state, last: at });
        }
      });
    this._firing.add(work);
  }

  /**
   * Arm the next firing. Firings that came due while this one was being
   * made (a busy machine, a slow disk) were passing unseen: they follow the
   * pattern's `missed:` policy, as after a restart, and are said.
   */
  private _afterFiring(rule: IRule, state: ITimerState): void {
    const t = rule.pattern.trigger as IScheduleTrigger;
    const name = rule.pattern.name;
    const missed = missedFirings(t, state.last, this._c.now(), state.anchor);
    if (this._stopped || missed.count === 0 || missed.latest === undefined) {
      this._arm(rule, state);
      return;
    }
    const what =
      `${missed.count}${missed.capped ? '+' : ''} firing(s) of pattern ${name} (${TimerTrigger.describe(t)}) ` +
      `came due while its firing for ${new Date(state.last).toISOString()} was being made`;
    if (t.missed === 'skip') {
      this._c.log.warn(`${what}; skipped (missed: skip)`);
      this._arm(rule, { ...state, last: missed.latest });
      return;
    }
    const latest = missed.latest;
    this._c.log.warn(`${what}; running once now for ${new Date(latest).toISOString()} (missed: once)`);
    this._armed.set(name, { rule, timer: setTimeout(() => this._tick(rule, latest), 0), next: latest });
  }

  /** Write the firing's file and make its jobs. */
  private async _fire(rule: IRule, at: number): Promise<void> {
    const t = rule.pattern.trigger as IScheduleTrigger;
    const iso = new Date(at).toISOString();
    const name = `${iso.replace(/[-:.]/g, '')}.yaml`;
    const text =
      `# A timer firing of pattern ${rule.pattern.name}; this file is deleted when its jobs end.\n` +
      `pattern: ${JSON.stringify(rule.pattern.name)}\n` +
      (t.cron !== undefined ? `schedule: ${JSON.stringify(t.cron)}\n` : `every: ${formatDuration(t.everyMs ?? 0)}\n`) +
      `scheduled: ${iso}\n`;
    const rel = await this._c.incoming.write('schedule', rule.pattern.name, name, text);
    this._c.incoming.pin(rel);
    try {
      await this._c.fire([rule], { kind: 'schedule', path: rel, time: at, source: TimerTrigger.describe(t) });
    } finally {
      this._c.incoming.unpin(rel);
    }
  }

  private readonly _c: ITriggerContext;
  private readonly _state: TriggerState<ITimerState>;
  private readonly _armed = new Map<string, { rule: IRule; timer: ReturnType<typeof setTimeout>; next: number }>();
  private readonly _firing = new Set<Promise<void>>();
  private _stopped = false;
}

export namespace TimerTrigger {
  export interface IOptions {
    context: ITriggerContext;
  }

  /** A timer as people write it: `every 30s`, `cron "0 * * * *" (Europe/Copenhagen)`. */
  export const describe = scheduleText;
}
