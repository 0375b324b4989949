/**
 * Rules paused by a runaway limit (`max_jobs`, `max_rate`, `max_depth`):
 * fetched once, then kept current by `paused` events, which carry the whole
 * list. Resuming goes through the service, which deletes the pause file.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IServiceEvent } from '../../core/api';
import type { IPausedRule } from '../../core/types';
import type { MeowClient } from '../client';

export class PausedModel implements IDisposable {
  constructor(options: PausedModel.IOptions = {}) {
    this._client = options.client ?? null;
    if (this._client) {
      this._client.eventReceived.connect(this._onEvent, this);
      this._client.connectionChanged.connect((_, state) => {
        // Pauses or resumes may have been missed while disconnected.
        if (state === 'connected' && this._loaded) {
          void this.refresh();
        }
      }, this);
    }
  }

  /** The list changed, or a refresh failed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Paused rules, sorted by pattern. */
  get paused(): readonly IPausedRule[] {
    return this._paused;
  }

  get count(): number {
    return this._paused.length;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** The last refresh or resume error. */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The pause of `pattern`, if it is paused. */
  get(pattern: string): IPausedRule | undefined {
    return this._paused.find(r => r.pattern === pattern);
  }

  /** Take the whole list (from an event, a request, or a test). */
  set(paused: IPausedRule[]): void {
    this._paused = [...paused].sort((a, b) => a.pattern.localeCompare(b.pattern));
    this._loaded = true;
    this._error = null;
    this._changed.emit();
  }

  async refresh(): Promise<void> {
    if (!this._client) {
      return;
    }
    try {
      this.set(await this._client.paused());
    } catch (err) {
      this._error = (err as Error).message;
      this._changed.emit();
    }
  }

  /**
   * Resume `pattern`. The list is updated at once rather than waiting for
   * the `paused` event, so the button does not linger. Errors are thrown for
   * the view to show.
   */
  async resume(pattern: string): Promise<boolean> {
    if (!this._client) {
      return false;
    }
    const resumed = await this._client.resume(pattern);
    if (this.get(pattern)) {
      this.set(this._paused.filter(r => r.pattern !== pattern));
    }
    return resumed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type === 'paused' && Array.isArray(event.paused)) {
      this.set(event.paused);
    }
  }

  private _client: MeowClient | null;
  private _paused: IPausedRule[] = [];
  private _loaded = false;
  private _error: string | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace PausedModel {
  export interface IOptions {
    client?: MeowClient;
  }
}
