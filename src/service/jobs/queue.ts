/**
 * The queue of job ids waiting for a worker: first in, first out, each id
 * at most once, removable (cancellation), and awaitable by idle workers.
 */
export class JobQueue {
  get size(): number {
    return this._ids.size;
  }

  /** Add an id at the back; an id already waiting is not added twice. */
  push(id: string): void {
    if (this._ids.has(id)) {
      return;
    }
    this._ids.add(id);
    this.wake();
  }

  /** Take the oldest id, or undefined when empty. */
  shift(): string | undefined {
    // A Set iterates in insertion order, so its first element is the oldest.
    for (const id of this._ids) {
      this._ids.delete(id);
      return id;
    }
    return undefined;
  }

  /** Remove a waiting id; true if it was waiting. */
  remove(id: string): boolean {
    return this._ids.delete(id);
  }

  /** Resolves when something is pushed or `wake` is called. */
  wait(): Promise<void> {
    return new Promise(resolve => this._waiters.push(resolve));
  }

  /** Release every waiting worker (new work, or shutting down). */
  wake(): void {
    const waiters = this._waiters;
    this._waiters = [];
    waiters.forEach(w => w());
  }

  private readonly _ids = new Set<string>();
  private _waiters: (() => void)[] = [];
}
