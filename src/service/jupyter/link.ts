/**
 * What the kernel conductor needs to know about "its" Jupyter server: the
 * settings to reach it now, and a way to wait until it is up. The conductor
 * does not know who starts or restarts the server: the private server
 * (`PrivateJupyterServer`) restarts itself and hands out new settings; a
 * server we do not own (`--jupyter-url`) keeps its settings and may just be
 * unreachable for a while.
 */
import type { ServerConnection } from '@jupyterlab/services';
import { formatSeconds } from '../conductors/outputs';

export interface IJupyterServerLink {
  /** Settings that reach the server as it is now (a new object after a restart). */
  readonly serverSettings: ServerConnection.ISettings;
  /**
   * Resolve when the server is up, waiting through a restart; reject with a
   * clear message after `timeoutMs`.
   */
  ready(timeoutMs: number): Promise<void>;
}

/** GET api/status within `ms`; resolves with its JSON, rejects when unreachable. */
export async function fetchServerStatus(
  settings: ServerConnection.ISettings,
  ms = 3000
): Promise<{ started?: string }> {
  const url = `${settings.baseUrl}api/status`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: settings.token ? { Authorization: `token ${settings.token}` } : {},
      signal: AbortSignal.timeout(ms)
    });
  } catch (err) {
    // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED…) is the cause.
    const cause = (err as any)?.cause;
    const timedOut = (err as Error)?.name === 'TimeoutError';
    const why = timedOut
      ? `no answer within ${ms / 1000} s`
      : (cause?.code ?? cause?.message ?? (err as Error).message);
    const error = new Error(`cannot reach ${settings.baseUrl}: ${why}`) as Error & { timedOut?: boolean };
    // A slow answer is a busy server, not a dead one.
    error.timedOut = timedOut;
    throw error;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${url} answered ${res.status}`);
  }
  return (await res.json()) as { started?: string };
}

/** A server we do not own: fixed settings; `ready` polls until it answers. */
export function fixedServerLink(settings: ServerConnection.ISettings): IJupyterServerLink {
  return {
    serverSettings: settings,
    async ready(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          await fetchServerStatus(settings, Math.min(3000, Math.max(500, deadline - Date.now())));
          return;
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `the Jupyter server at ${settings.baseUrl} did not answer within ${formatSeconds(timeoutMs)} ` +
              `(${last}); check that it is running and that the URL and token are right`
          );
        }
        await new Promise(r => setTimeout(r, 500));
      }
    }
  };
}
