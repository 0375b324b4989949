/**
 * A `KernelConnection` that cannot take the service down.
 *
 * @jupyterlab/services was written for a browser tab, where an unhandled
 * rejection is a console line; in Node it terminates the process. The
 * library starts some promises it never awaits:
 *
 * - after the websocket (re)connects it calls `requestKernelInfo()` and
 *   chains `.then()` on it without a catch: when the kernel restarts or the
 *   connection drops before the reply, the future is disposed and that
 *   rejects ("Canceled future for kernel_info_request message before
 *   replies were done") — the crash seen under load;
 * - after a server-side auto-restart it calls `reconnect()`, which rejects
 *   with "Kernel connection disconnected" when the connection is disposed or
 *   the kernel is gone for good;
 * - `info` is rejected when the kernel_info reply is an error, whether or
 *   not anyone listens;
 * - message validation errors are thrown from the websocket handler.
 *
 * A kernel that died or restarted is never used again here (the job ends,
 * the kernel is shut down), so there is nothing to reconnect to; every other
 * failure is reported to `onError` and seen by the job through the kernel's
 * status.
 */
import { Kernel, KernelConnection, KernelMessage } from '@jupyterlab/services';
import { errorMessage } from './util';

export class SafeKernelConnection extends KernelConnection {
  constructor(options: Kernel.IKernelConnection.IOptions, onError: (message: string) => void) {
    super(options);
    this._onError = onError;
    this.info.catch(() => undefined);
    // Private in the library: wrap the message handler so a malformed
    // message fails that message, not the process. The first socket was
    // made in the constructor with the unwrapped handler: rewire it too.
    const self = this as any;
    const original = self._onWSMessage;
    if (typeof original === 'function') {
      self._onWSMessage = (evt: unknown) => {
        try {
          original(evt);
        } catch (err) {
          this._onError(`ignored a bad message from kernel ${this.id}: ${errorMessage(err)}`);
        }
      };
      if (self._ws) {
        self._ws.onmessage = self._onWSMessage;
      }
    }
  }

  reconnect(): Promise<void> {
    return Promise.resolve();
  }

  async requestKernelInfo(): Promise<KernelMessage.IInfoReplyMsg | undefined> {
    try {
      return await super.requestKernelInfo();
    } catch (err) {
      if (!this.isDisposed) {
        this._onError(`kernel_info to kernel ${this.id} failed: ${errorMessage(err)}`);
      }
      return undefined;
    }
  }

  private _onError: (message: string) => void;
}
