/** TCP helpers for tests of the network trigger. */
import * as net from 'net';

/** A port nothing listens on just now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Send one message as any plain TCP client does: the payload, a half-close,
 * then read the reply line until the listener ends. Rejects when the
 * connection fails or no reply comes in `timeoutMs`.
 */
export function sendMessage(port: number, payload: string | Buffer, timeoutMs = 30000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no reply within ${timeoutMs / 1000} s`)));
    socket.on('connect', () => socket.end(payload));
    socket.on('data', chunk => (reply += chunk));
    socket.on('end', () => {
      resolve(reply.trim());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}
