/**
 * What a timer or absence trigger must remember across restarts (when it
 * last fired, when files were last seen), per pattern, in one small JSON file
 * under `.meow/triggers/`. Writes are atomic and serialised, so a crash
 * leaves the previous or the new state, never a torn one.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { readIfExists, writeFileAtomic } from '../fsutil';
import type { IRule } from '../../core/types';
import type { ILogger } from '../log';

export class TriggerState<T extends object> {
  constructor(options: TriggerState.IOptions) {
    this.file = path.join(options.root, options.stateDir, 'triggers', options.name);
    this._log = options.log;
  }

  /** Absolute path of the state file. */
  readonly file: string;

  /** Read the file once (a missing or unreadable one starts empty, with a warning for the latter). */
  load(): Promise<void> {
    this._loading ??= this._load();
    return this._loading;
  }

  private async _load(): Promise<void> {
    const text = await readIfExists(this.file).catch(err => {
      this._log.warn(`${this.file} cannot be read (${(err as Error).message}); starting from no trigger state`);
      return undefined;
    });
    if (text === undefined) {
      return;
    }
    try {
      const data = JSON.parse(text) as Record<string, T>;
      for (const [name, value] of Object.entries(data)) {
        if (value && typeof value === 'object') {
          this._data.set(name, value);
        }
      }
    } catch (err) {
      this._log.warn(`${this.file} is not valid JSON (${(err as Error).message}); starting from no trigger state`);
    }
  }

  get(pattern: string): T | undefined {
    return this._data.get(pattern);
  }

  /** Remember and write through (resolves when durable). */
  async set(pattern: string, value: T): Promise<void> {
    this._data.set(pattern, value);
    await this._save();
  }

  async delete(pattern: string): Promise<void> {
    if (this._data.delete(pattern)) {
      await this._save();
    }
  }

  /**
   * Writes are chained, and one that has not started yet serves every change
   * made meanwhile (it reads the state when it starts): a burst of file
   * events seen by an absence trigger is one write, not thousands.
   */
  private _save(): Promise<void> {
    if (!this._queued) {
      const write = this._writing
        .catch(() => undefined)
        .then(async () => {
          this._queued = undefined;
          const text = JSON.stringify(Object.fromEntries(this._data), null, 1) + '\n';
          await fs.mkdir(path.dirname(this.file), { recursive: true });
          await writeFileAtomic(this.file, text);
        });
      this._queued = write.catch(err => {
        this._log.error(
          `${this.file} could not be written (${(err as Error).message}); a restart may repeat or miss one firing`
        );
      });
      this._writing = write;
    }
    return this._queued;
  }

  private readonly _log: ILogger;
  private readonly _data = new Map<string, T>();
  private _writing: Promise<void> = Promise.resolve();
  private _queued: Promise<void> | undefined;
  private _loading: Promise<void> | undefined;
}

export namespace TriggerState {
  export interface IOptions {
    root: string;
    stateDir: string;
    /** File name under `.meow/triggers/`, e.g. `timers.json`. */
    name: string;
    log: ILogger;
  }
}

/**
 * Bring a trigger's per-pattern entries up to date with its rules: entries
 * whose rule is gone are stopped (their timer cleared), and rules that are
 * new or changed (a new rule id) are started; a rule that cannot start is
 * logged and never stops the others.
 */
export async function syncRules<E extends { rule: IRule; timer?: ReturnType<typeof setTimeout> }>(
  entries: Map<string, E>,
  rules: IRule[],
  start: (rule: IRule) => Promise<void>,
  log: ILogger,
  what: string
): Promise<void> {
  const live = new Set(rules.map(r => r.id));
  for (const [name, entry] of [...entries]) {
    if (!live.has(entry.rule.id)) {
      clearTimeout(entry.timer);
      entries.delete(name);
      log.info(`${what} of pattern ${name} stopped`);
    }
  }
  for (const rule of rules) {
    if (entries.get(rule.pattern.name)?.rule.id === rule.id) {
      continue;
    }
    try {
      await start(rule);
    } catch (err) {
      log.error(`${what} of pattern ${rule.pattern.name} could not start: ${(err as Error).message}`);
    }
  }
}
