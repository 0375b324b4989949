/**
 * Waiting on a condition in the lab tests, instead of sleeping a fixed time:
 * timers, fetches and React renders run between checks (each inside `act`).
 */
import { act } from 'react';

/**
 * Resolve with `condition()`'s value once it is truthy (a throw counts as
 * "not yet"); fail naming `what` after `timeout` ms.
 */
export async function waitFor<T>(condition: () => T, what = 'the condition', timeout = 3000): Promise<NonNullable<T>> {
  const end = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    // Let pending promises and React updates settle before each look.
    await act(async () => undefined);
    try {
      const value = condition();
      if (value) {
        return value as NonNullable<T>;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, 5));
    });
  }
}
