/**
 * "Nothing happened" triggers (thesis §27.3): `absent: {path: GLOB, for: 10m}`
 * fires once when no file matching GLOB has appeared or changed for that
 * long, and again only after matching files resumed and went silent again.
 *
 * The silence is measured from the latest matching file event or, on start,
 * from the newest modification time of the matching files (so data that
 * arrived while meow was down counts). Whether the current silence already
 * fired is kept in `.meow/triggers/absent.json`. Each firing is a small YAML
 * file under `.meow/incoming/absent/<pattern>/` named after the start of the
 * silence, so a silence recorded twice makes no second job.
 */
import { promises as fs } from 'fs';
import { triggerGlobBase, triggerMatcher } from '../../core/glob';
import type { GlobMatcher, IGlobbed } from '../../core/glob';
import { formatDuration } from '../../core/timers';
import type { IAbsentTrigger, IFileEvent, IRule } from '../../core/types';
import { toAbsolute } from '../fsutil';
import type { ITrigger, ITriggerContext } from './trigger';
import { syncRules, TriggerState } from './triggerState';

const MAX_DELAY_MS = 2 ** 31 - 1;

interface IAbsentState {
  /** The trigger as text: a changed pattern starts afresh. */
  spec: string;
  /** Latest matching activity (ms). */
  last: number;
  /** The matching file seen last, if known. */
  lastPath?: string;
  /** Whether this silence (since `last`) has fired. */
  fired: boolean;
}

interface IWatch {
  rule: IRule;
  matcher: GlobMatcher;
  timer?: ReturnType<typeof setTimeout>;
}

export class AbsenceTrigger implements ITrigger {
  constructor(options: AbsenceTrigger.IOptions) {
    this._c = options.context;
    this._state = new TriggerState<IAbsentState>({
      root: this._c.root,
      stateDir: this._c.stateDir,
      name: 'absent.json',
      log: this._c.log
    });
  }

  readonly kinds = ['absent'] as const;

  async update(rules: IRule[]): Promise<void> {
    await this._state.load();
    await syncRules(this._watches, rules, rule => this._start(rule), this._c.log, 'absence trigger');
  }

  onFileEvent(event: IFileEvent): void {
    if (event.kind === 'deleted') {
      return; // a deletion is not data arriving
    }
    for (const [name, w] of this._watches) {
      if (!w.matcher(event.path)) {
        continue;
      }
      const state = this._state.get(name);
      const time = Math.max(event.time, state?.last ?? 0);
      const next: IAbsentState = {
        spec: AbsenceTrigger.describe(w.rule),
        last: time,
        lastPath: event.path,
        fired: false
      };
      if (state?.fired) {
        this._c.log.info(
          `pattern ${name}: ${event.path} arrived; watching for the next silence of ${this._forText(w.rule)}`
        );
      }
      void this._state.set(name, next);
      this._arm(w, next);
    }
  }

  async stop(): Promise<void> {
    this._stopped = true;
    for (const w of this._watches.values()) {
      clearTimeout(w.timer);
    }
    this._watches.clear();
    await Promise.allSettled([...this._firing]);
  }

  private async _start(rule: IRule): Promise<void> {
    const t = rule.pattern.trigger as IAbsentTrigger;
    const name = rule.pattern.name;
    const w: IWatch = { rule, matcher: triggerMatcher(t) };
    this._watches.set(name, w);
    const spec = AbsenceTrigger.describe(rule);
    const known = this._state.get(name);
    const newest = await this._newest(t, w.matcher);
    let state: IAbsentState;
    if (known && known.spec === spec) {
      state =
        newest && newest.time > known.last ? { spec, last: newest.time, lastPath: newest.path, fired: false } : known;
    } else {
      state = { spec, last: newest?.time ?? this._c.now(), lastPath: newest?.path, fired: false };
    }
    await this._state.set(name, state);
    this._arm(w, state);
  }

  /** The newest matching file by modification time (data that came while meow was down). */
  private async _newest(glob: IGlobbed, matcher: GlobMatcher): Promise<{ path: string; time: number } | undefined> {
    let newest: { path: string; time: number } | undefined;
    for await (const rel of this._c.walk(triggerGlobBase(glob))) {
      if (!matcher(rel)) {
        continue;
      }
      const st = await fs.stat(toAbsolute(this._c.root, rel)).catch(() => undefined);
      if (st && (!newest || st.mtimeMs > newest.time)) {
        newest = { path: rel, time: st.mtimeMs };
      }
    }
    return newest;
  }

  private _arm(w: IWatch, state: IAbsentState): void {
    clearTimeout(w.timer);
    w.timer = undefined;
    if (state.fired || this._stopped) {
      return;
    }
    const due = state.last + (w.rule.pattern.trigger as IAbsentTrigger).forMs;
    w.timer = setTimeout(() => this._tick(w, due), Math.min(Math.max(0, due - this._c.now()), MAX_DELAY_MS));
  }

  private _tick(w: IWatch, due: number): void {
    const name = w.rule.pattern.name;
    const state = this._state.get(name);
    if (this._watches.get(name) !== w || !state || state.fired) {
      return;
    }
    if (this._c.now() < due) {
      this._arm(w, state);
      return;
    }
    const work = this._fire(w.rule, state)
      .then(() => this._state.set(name, { ...state, fired: true }))
      .catch(err => this._c.log.error(`pattern ${name}: absence firing failed: ${(err as Error).message}`))
      .finally(() => this._firing.delete(work));
    this._firing.add(work);
  }

  private async _fire(rule: IRule, state: IAbsentState): Promise<void> {
    const t = rule.pattern.trigger as IAbsentTrigger;
    const since = new Date(state.last).toISOString();
    const text =
      `# Pattern ${rule.pattern.name}: nothing matching ${t.path} arrived for ${formatDuration(t.forMs)}.\n` +
      `# This file is deleted when its jobs end.\n` +
      `pattern: ${JSON.stringify(rule.pattern.name)}\n` +
      `path: ${JSON.stringify(t.path)}\n` +
      `for: ${formatDuration(t.forMs)}\n` +
      `silent_since: ${since}\n` +
      (state.lastPath ? `last_file: ${JSON.stringify(state.lastPath)}\n` : '');
    const rel = await this._c.incoming.write('absent', rule.pattern.name, `${since.replace(/[-:.]/g, '')}.yaml`, text);
    this._c.log.info(
      `pattern ${rule.pattern.name}: nothing matching ${t.path} for ${formatDuration(t.forMs)} (since ${since}); firing`
    );
    this._c.incoming.pin(rel);
    try {
      await this._c.fire([rule], {
        kind: 'absent',
        path: rel,
        time: state.last + t.forMs,
        source: `no ${t.path} for ${formatDuration(t.forMs)}`
      });
    } finally {
      this._c.incoming.unpin(rel);
    }
  }

  private _forText(rule: IRule): string {
    return formatDuration((rule.pattern.trigger as IAbsentTrigger).forMs);
  }

  private readonly _c: ITriggerContext;
  private readonly _state: TriggerState<IAbsentState>;
  private readonly _watches = new Map<string, IWatch>();
  private readonly _firing = new Set<Promise<void>>();
  private _stopped = false;
}

export namespace AbsenceTrigger {
  export interface IOptions {
    context: ITriggerContext;
  }

  export function describe(rule: IRule): string {
    const t = rule.pattern.trigger as IAbsentTrigger;
    return `${t.path} for ${formatDuration(t.forMs)}`;
  }
}
