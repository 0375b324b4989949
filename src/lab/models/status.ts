/**
 * Whether the service is up, and its job counts. Fed by `status` events;
 * polled while the websocket is down so "service down" shows quickly and
 * "back up" is noticed.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IServiceEvent, IStatus } from '../../core/api';
import type { JobStatus } from '../../core/types';
import type { ConnectionState, MeowClient } from '../client';

export class StatusModel implements IDisposable {
  constructor(options: StatusModel.IOptions = {}) {
    this._client = options.client ?? null;
    this._pollInterval = options.pollInterval ?? 10000;
    if (this._client) {
      this._client.eventReceived.connect(this._onEvent, this);
      this._client.connectionChanged.connect(this._onConnection, this);
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The last status the service reported. */
  get status(): IStatus | null {
    return this._status;
  }

  /** True when the service answered the last request or the websocket is open. */
  get up(): boolean {
    return this._up;
  }

  get connection(): ConnectionState {
    return this._client?.connectionState ?? 'disconnected';
  }

  /** Why the service is considered down. */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  count(status: JobStatus): number {
    return this._status?.counts?.[status] ?? 0;
  }

  /** Take a status (from an event or a request). */
  update(status: IStatus): void {
    this._status = status;
    this._up = true;
    this._error = null;
    this._changed.emit();
  }

  /** Mark the service down. */
  setDown(reason: string): void {
    const changed = this._up || this._error !== reason;
    this._up = false;
    this._error = reason;
    if (changed) {
      this._changed.emit();
    }
  }

  /** Ask the service for its status. */
  async refresh(): Promise<void> {
    if (!this._client) {
      return;
    }
    try {
      this.update(await this._client.getStatus());
    } catch (err) {
      this.setDown((err as Error).message);
    }
  }

  /** Start polling until the websocket is connected. */
  startPolling(): void {
    if (this._poll !== null || this._disposed) {
      return;
    }
    this._poll = setInterval(() => void this.refresh(), this._pollInterval);
  }

  stopPolling(): void {
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this.stopPolling();
    Signal.clearData(this);
  }

  private _onEvent(_: MeowClient, event: IServiceEvent): void {
    if (event.type === 'status') {
      this.update(event.status);
    }
  }

  private _onConnection(_: MeowClient, state: ConnectionState): void {
    if (state === 'connected') {
      this.stopPolling();
      void this.refresh();
    } else if (state === 'disconnected') {
      this.startPolling();
      void this.refresh();
    }
    this._changed.emit();
  }

  private _client: MeowClient | null;
  private _pollInterval: number;
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _status: IStatus | null = null;
  private _up = false;
  private _error: string | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace StatusModel {
  export interface IOptions {
    client?: MeowClient;
    /** Milliseconds between status requests while the websocket is down (default 10000). */
    pollInterval?: number;
  }
}
