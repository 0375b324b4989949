/**
 * Patterns, recipes and rules of the workgroup, refreshed whenever the
 * service says definitions changed (a pattern file edited on disk, a recipe
 * registered, ...). The service sends one `definitions` event per applied
 * change, its own writes included, so a write here refreshes once: with
 * that event's refresh, not one of its own besides.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IPatternCheck, IPatternInfo, IRecipeInfo, IRuleInfo, IServiceEvent } from '../../core/api';
import type { MeowClient } from '../client';

/** How long a write waits for the service's `definitions` event before refreshing without it. */
const WRITE_EVENT_WAIT_MS = 2000;

export class WorkflowModel implements IDisposable {
  constructor(options: WorkflowModel.IOptions = {}) {
    this._client = options.client ?? null;
    this._debounce = options.debounce ?? 100;
    if (this._client) {
      this._client.eventReceived.connect(this._onEvent, this);
      this._client.connectionChanged.connect((_, state) => {
        if (state === 'connected' && this._loaded) {
          this.scheduleRefresh();
        }
      }, this);
    }
  }

  /** Patterns, recipes or rules changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get patterns(): readonly IPatternInfo[] {
    return this._patterns;
  }

  get recipes(): readonly IRecipeInfo[] {
    return this._recipes;
  }

  get rules(): readonly IRuleInfo[] {
    return this._rules;
  }

  /** The last refresh error, if the last refresh failed. */
  get error(): string | null {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  pattern(name: string): IPatternInfo | undefined {
    return this._patterns.find(p => p.name === name);
  }

  recipe(name: string): IRecipeInfo | undefined {
    return this._recipes.find(r => r.name === name);
  }

  hasRecipe(name: string): boolean {
    return this._recipes.some(r => r.name === name && !r.problem);
  }

  /** Set the lists directly (tests, or a view fed by other means). */
  set(patterns: IPatternInfo[], recipes: IRecipeInfo[], rules: IRuleInfo[] = []): void {
    this._patterns = [...patterns].sort((a, b) => a.name.localeCompare(b.name));
    this._recipes = [...recipes].sort((a, b) => a.name.localeCompare(b.name));
    this._rules = [...rules];
    this._loaded = true;
    this._changed.emit();
  }

  /** Fetch everything from the service. */
  async refresh(): Promise<void> {
    const fetching = this._fetch();
    this._refreshing = fetching;
    try {
      await fetching;
    } finally {
      if (this._refreshing === fetching) {
        this._refreshing = null;
      }
    }
  }

  private async _fetch(): Promise<void> {
    if (!this._client) {
      return;
    }
    try {
      const [patterns, recipes, rules] = await Promise.all([
        this._client.listPatterns(),
        this._client.listRecipes(),
        this._client.listRules()
      ]);
      this._error = null;
      this.set(patterns, recipes, rules);
    } catch (err) {
      this._error = (err as Error).message;
      this._changed.emit();
      throw err;
    }
  }

  /** Refresh soon, coalescing bursts of change events into one fetch. */
  scheduleRefresh(): void {
    if (this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this.refresh().catch(err => console.warn('meow: cannot load definitions', err));
    }, this._debounce);
  }

  /** Save a pattern; resolves once the model shows it. */
  savePattern(name: string, text: string): Promise<IPatternInfo> {
    return this._write(() => this._client!.savePattern(name, text));
  }

  /** Validate a pattern's text on the service and learn what saving it would do to jobs (nothing is saved). */
  checkPattern(name: string, text: string): Promise<IPatternCheck> {
    return this._client!.checkPattern(name, text);
  }

  deletePattern(name: string): Promise<void> {
    return this._write(() => this._client!.deletePattern(name));
  }

  deleteRecipe(name: string): Promise<void> {
    return this._write(() => this._client!.deleteRecipe(name));
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._eventWaiters.forEach(wake => wake());
    Signal.clearData(this);
  }

  /**
   * Write, then refresh once. The service sends the write's `definitions`
   * event before it answers, but the event may still arrive after the
   * answer: wait for it (bounded) when connected. Its debounced refresh
   * then runs at once; with no event (no websocket), refresh directly.
   */
  private async _write<T>(write: () => Promise<T>): Promise<T> {
    const seen = this._events;
    const result = await write();
    if (this._events === seen && this._client?.connectionState === 'connected') {
      await this._nextEvent(WRITE_EVENT_WAIT_MS);
    }
    if (this._events === seen || this._timer !== null) {
      if (this._timer !== null) {
        clearTimeout(this._timer);
        this._timer = null;
      }
      await this.refresh();
    } else {
      // The event's refresh has started already.
      await this._refreshing?.catch(() => undefined);
    }
    return result;
  }

  /** Resolves at the next `definitions` event, or after `ms`. */
  private _nextEvent(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = () => {
        clearTimeout(timer);
        this._eventWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this._eventWaiters.add(wake);
    });
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type === 'definitions') {
      this._events++;
      this.scheduleRefresh();
      this._eventWaiters.forEach(wake => wake());
    }
  }

  private _client: MeowClient | null;
  private _debounce: number;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  /** `definitions` events received so far. */
  private _events = 0;
  private _eventWaiters = new Set<() => void>();
  private _refreshing: Promise<void> | null = null;
  private _patterns: IPatternInfo[] = [];
  private _recipes: IRecipeInfo[] = [];
  private _rules: IRuleInfo[] = [];
  private _error: string | null = null;
  private _loaded = false;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace WorkflowModel {
  export interface IOptions {
    client?: MeowClient;
    /** Milliseconds to coalesce `definitions` events (default 100). */
    debounce?: number;
  }
}
