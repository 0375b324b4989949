/**
 * `meow send HOST:PORT FILE|-`: send a file (or standard input) to a network
 * pattern's port, for people and scripts. The protocol is plain enough for
 * any TCP client (see triggers/network.ts): an optional secret line, the
 * payload, a half-close; the listener answers one line, `ok <bytes> <path>`
 * or `error: <why>`. The file is streamed, never read whole.
 */
import { Command, InvalidArgumentError } from 'commander';
import { promises as fs } from 'fs';
import * as net from 'net';
import type { Readable } from 'stream';
import * as tls from 'tls';
import type { ICliOutput } from './cliLimits';

export interface ISendOptions {
  /** First line the listener requires (default $MEOW_SECRET). */
  secret?: string;
  tls?: boolean;
  /** PEM certificate(s) to trust (implies TLS). */
  ca?: string;
  /** TLS without checking the certificate (implies TLS). */
  insecure?: boolean;
  /** Seconds without progress before giving up (default 60). */
  timeout?: number;
}

/** Where `send` writes and reads; tests pass their own. */
export interface ISendIO extends ICliOutput {
  /** Read for FILE `-` (default: the process's standard input). */
  stdin?: Readable;
}

const processIO: ISendIO = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text)
};

/** Longest reply line kept. */
const MAX_REPLY = 64 * 1024;

/** `HOST:PORT`, `[v6]:PORT` or a bare `PORT` (this machine). */
export function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(target) ?? /^()()(\d+)$/.exec(target);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`expected HOST:PORT (e.g. localhost:9000) or a port number, got "${target}"`);
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/**
 * Send `file` (`-`: standard input) to `target`; returns the exit code:
 * 0 once the listener answered `ok`, 1 on its error or a connection
 * problem, 2 on a usage error.
 */
export async function send(
  target: string,
  file: string,
  options: ISendOptions = {},
  io: ISendIO = processIO
): Promise<number> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseTarget(target));
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    return 2;
  }
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const secret = options.secret ?? process.env.MEOW_SECRET;
  if (secret !== undefined && /[\r\n]/.test(secret)) {
    io.err('error: the secret must be one line\n');
    return 2;
  }
  const useTls = !!(options.tls || options.ca || options.insecure);
  const timeoutMs = (options.timeout ?? 60) * 1000;

  // Open the input first: a typo should not reach the listener as a message.
  let source: Readable;
  if (file === '-') {
    source = io.stdin ?? process.stdin;
  } else {
    try {
      const handle = await fs.open(file, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        io.err(`error: ${file} is not a regular file\n`);
        return 1;
      }
      source = handle.createReadStream();
    } catch (err) {
      io.err(`error: cannot read ${file} (${(err as Error).message})\n`);
      return 1;
    }
  }
  let ca: Buffer | undefined;
  if (options.ca) {
    try {
      ca = await fs.readFile(options.ca);
    } catch (err) {
      source.destroy();
      io.err(`error: cannot read the certificate ${options.ca} (${(err as Error).message})\n`);
      return 1;
    }
  }

  const socket: net.Socket = useTls
    ? tls.connect({
        host,
        port,
        ca,
        rejectUnauthorized: !options.insecure,
        servername: net.isIP(host) ? undefined : host
      })
    : net.connect({ host, port });
  socket.setTimeout(timeoutMs);

  let reply = '';
  let connected = false;
  let timedOut = false;
  let socketError: NodeJS.ErrnoException | undefined;
  let readError: Error | undefined;
  const stdinUsed = file === '-';
  await new Promise<void>(resolve => {
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (secret !== undefined) {
        socket.write(`${secret}\n`);
      }
      source.pipe(socket); // ends (half-closes) the socket when the input ends
    });
    source.on('error', err => {
      readError = err;
      socket.destroy();
    });
    socket.on('data', chunk => {
      if (reply.length < MAX_REPLY) {
        reply += chunk.toString('utf8');
      }
    });
    socket.on('timeout', () => {
      timedOut = true;
      socket.destroy();
    });
    // A listener that refuses early (busy, too large) closes while we still
    // send: the write fails, but its reply line has usually arrived.
    socket.on('error', err => (socketError ??= err));
    socket.on('close', () => {
      if (!stdinUsed) {
        source.destroy();
      } else {
        source.unpipe(socket);
      }
      resolve();
    });
  });

  const line = reply.split('\n')[0].trim();
  if (line.startsWith('ok ')) {
    io.out(`${line}\n`);
    return 0;
  }
  if (line) {
    io.err(`${line.startsWith('error') ? line : `error: unexpected reply from ${where}: ${line}`}\n`);
    return 1;
  }
  io.err(`error: ${failure()}\n`);
  return 1;

  function failure(): string {
    if (readError) {
      return `cannot read ${file === '-' ? 'standard input' : file} (${readError.message})`;
    }
    if (timedOut) {
      return (
        `no reply from ${where} within ${timeoutMs / 1000} s` +
        (useTls && !connected
          ? ' (the TLS handshake did not finish: does the listener use TLS? Drop --tls for a plain one)'
          : '')
      );
    }
    const code = socketError?.code ?? '';
    switch (code) {
      case 'ECONNREFUSED':
        return `nothing listens on ${where}; is a pattern with port: ${port} loaded and meow running?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `the host name ${host} cannot be resolved`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `${where} cannot be reached (${code}); check the host, and that a firewall lets port ${port} through`;
      case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      case 'SELF_SIGNED_CERT_IN_CHAIN':
      case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      case 'CERT_HAS_EXPIRED':
        return (
          `the certificate of ${where} is not trusted (${socketError!.message}); pass --ca FILE with the listener's ` +
          'certificate (or --insecure to skip the check, which gives no protection against impostors)'
        );
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return `the certificate of ${where} is for another name (${socketError!.message}); connect by the name in the certificate, or pass --insecure`;
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
      case 'EPROTO':
        return `${where} did not answer in TLS (${socketError!.message}); drop --tls if its pattern has no tls`;
    }
    if (socketError && connected && !useTls) {
      return `the connection to ${where} broke (${code || socketError.message}) without a reply; if its pattern has tls, add --tls`;
    }
    if (socketError) {
      return `cannot send to ${where} (${socketError.message})`;
    }
    return `${where} closed the connection without a reply` + (useTls ? '' : '; if its pattern has tls, add --tls');
  }
}

/** Add `send` to `program` (the `meow` command). */
export function addSendCommand(program: Command, io: ISendIO = processIO): Command {
  program
    .command('send')
    .description(
      "send FILE (or standard input) to a network pattern's port: it becomes the triggering file of a job of " +
        'every pattern on that port; prints "ok <bytes> <path>" (exit 0) or the error (exit 1)'
    )
    .argument('<target>', 'HOST:PORT of the listener (or just PORT for this machine)')
    .argument('[file]', 'the file to send; - (the default) reads standard input', '-')
    .option('--secret <secret>', "the listener's secret (default: $MEOW_SECRET, which keeps it out of `ps`)")
    .option('--tls', 'connect with TLS (the pattern has tls: {cert, key})')
    .option('--ca <file>', "trust this PEM certificate (e.g. the listener's self-signed one); implies --tls")
    .option('--insecure', 'TLS without checking the certificate (no protection against impostors); implies --tls')
    .option(
      '--timeout <seconds>',
      'give up after this many seconds without progress',
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) {
          throw new InvalidArgumentError(`--timeout must be a number of seconds > 0, got "${v}"`);
        }
        return n;
      },
      60
    )
    .action(async (target: string, file: string, opts: ISendOptions) => {
      process.exitCode = await send(target, file, opts, io);
    });
  return program;
}
