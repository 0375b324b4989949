/**
 * Small helpers shared by the kernel conductor's parts: bounded waits,
 * deferreds, error text.
 */
import { formatSeconds } from './outputs';

export const sleep = (ms: number): Promise<void> => new Promise<void>(r => setTimeout(r, ms));

/** Reject with a clear message if `p` takes longer than `ms`. */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${formatSeconds(ms)}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Deferred<T> {
  constructor() {
    this.promise = new Promise<T>(resolve => (this.resolve = resolve));
  }
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
}

/** Bound for single REST calls (interrupt, shutdown, model, kernelspecs). */
export const REST_TIMEOUT_MS = 15_000;
