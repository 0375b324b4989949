/**
 * The network trigger with real sockets, a real IncomingFiles and job store,
 * and a fake runner context that records firings.
 */
import { execFileSync, spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Readable } from 'stream';
import * as tls from 'tls';
import type { INetworkTrigger, IRecipe, IRule } from '../../../../src/core/types';
import { Command } from 'commander';
import { addSendCommand, parseTarget, send } from '../../../../src/service/cliSend';
import { JobStore } from '../../../../src/service/jobs/jobStore';
import { freePort } from '../../../helpers/net';
import { RecordingLogger } from '../../../../src/service/log';
import { IncomingFiles, PART_SUFFIX } from '../../../../src/service/triggers/incoming';
import { NetworkTrigger } from '../../../../src/service/triggers/network';
import type { IFiring, ITriggerContext } from '../../../../src/service/triggers/trigger';
import { makeWorkgroup, removeWorkgroup, until } from '../../../helpers/workgroup';

interface IRecorded {
  rules: string[];
  firing: IFiring;
}

let seq = 0;
function rule(name: string, trigger: Partial<INetworkTrigger> & { port: number }): IRule {
  return {
    id: `${name}#${++seq}`,
    pattern: {
      name,
      recipe: 'r',
      trigger: { kind: 'network', host: '127.0.0.1', maxBytes: 1 << 30, maxConnections: 64, ...trigger },
      parameters: {},
      outputs: {},
      sweep: {},
      format: 'native'
    },
    recipe: { name: 'r' } as unknown as IRecipe,
    contentKey: `${name}-key`
  };
}

/** Send a payload as `meow send` does (data, half-close) and return the reply. */
function sendRaw(
  port: number,
  data: Buffer | string | Readable,
  options: { connect?: () => net.Socket; halfClose?: boolean } = {}
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = options.connect ? options.connect() : net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.on('data', c => (reply += c.toString()));
    socket.on('error', err => (reply ? resolve(reply) : reject(err)));
    socket.on('close', () => resolve(reply));
    const event = options.connect ? 'secureConnect' : 'connect';
    socket.once(event, () => {
      if (data instanceof Readable) {
        data.pipe(socket);
      } else {
        socket.end(data);
      }
    });
  });
}

describe('NetworkTrigger', () => {
  let root: string;
  let log: RecordingLogger;
  let store: JobStore;
  let incoming: IncomingFiles;
  let fired: IRecorded[];
  let fireHook: ((firing: IFiring) => Promise<void>) | undefined;
  let trigger: NetworkTrigger;

  function context(): ITriggerContext {
    return {
      root,
      stateDir: '.meow',
      log,
      incoming,
      fire: async (rules, firing) => {
        fired.push({ rules: rules.map(r => r.pattern.name), firing });
        await fireHook?.(firing);
        return [];
      },
      walk: async function* () {},
      now: () => Date.now()
    };
  }

  beforeEach(async () => {
    root = await makeWorkgroup();
    log = new RecordingLogger();
    store = new JobStore({ jobsDir: path.join(root, '.meow', 'jobs') });
    await store.load();
    incoming = new IncomingFiles({ root, stateDir: '.meow', store, log });
    await incoming.start();
    fired = [];
    fireHook = undefined;
    trigger = new NetworkTrigger({ context: context(), retryMs: 200, idleMs: 2000 });
  });

  afterEach(async () => {
    await trigger.stop();
    await store.close();
    await removeWorkgroup(root);
  });

  const read = (rel: string) => fs.readFile(path.join(root, rel));
  const channelFiles = async (port: number) =>
    fs.readdir(path.join(root, '.meow', 'incoming', 'network', String(port))).catch(() => [] as string[]);

  it('receives 50 concurrent messages, each intact in its own file, and fires each once', async () => {
    const port = await freePort();
    await trigger.update([rule('a', { port })]);
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(1 + ((i * 7919) % 200_000)));
    const replies = await Promise.all(payloads.map(p => sendRaw(port, p)));
    await trigger.settled();
    expect(fired).toHaveLength(50);
    const paths = new Set<string>();
    for (const [i, reply] of replies.entries()) {
      const m = /^ok (\d+) (\S+)\n$/.exec(reply);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(payloads[i].length);
      expect((await read(m![2])).equals(payloads[i])).toBe(true);
      paths.add(m![2]);
    }
    expect(paths.size).toBe(50);
    expect(new Set(fired.map(f => f.firing.path))).toEqual(paths);
    for (const f of fired) {
      expect(f.firing.kind).toBe('network');
      expect(f.firing.path.startsWith(`.meow/incoming/network/${port}/`)).toBe(true);
      expect(f.firing.source).toMatch(/^127\.0\.0\.1:\d+$/);
      // The content hash, computed while receiving, is the file's.
      const hash = (f.firing as IFiring & { hash?: string }).hash;
      expect(hash).toBe(
        createHash('sha256')
          .update(await read(f.firing.path))
          .digest('hex')
      );
    }
    expect((await channelFiles(port)).filter(n => n.endsWith(PART_SUFFIX))).toEqual([]);
    expect(log.text('info')).toContain(`port ${port}: listening on 127.0.0.1:${port} for pattern(s) a`);
  });

  it('fires every pattern on a shared port with one listener', async () => {
    const port = await freePort();
    await trigger.update([rule('b', { port }), rule('a', { port })]);
    expect(await sendRaw(port, 'hello')).toMatch(/^ok 5 /);
    await trigger.settled();
    expect(fired).toHaveLength(1);
    expect(fired[0].rules).toEqual(['a', 'b']);
  });

  it('opens and closes ports as rules come and go at runtime', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const a = rule('a', { port: p1 });
    await trigger.update([a]);
    expect(trigger.ports).toEqual([p1]);
    const b = rule('b', { port: p2 });
    await trigger.update([a, b]);
    expect(trigger.ports.sort()).toEqual([p1, p2].sort());
    expect(await sendRaw(p2, 'to b')).toMatch(/^ok 4 /);
    await trigger.update([b]);
    expect(trigger.ports).toEqual([p2]);
    await expect(sendRaw(p1, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(log.text('info')).toContain(`port ${p1}: closed (its pattern(s) a were removed`);
    await trigger.update([]);
    await expect(sendRaw(p2, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await trigger.update([a]);
    expect(await sendRaw(p1, 'again')).toMatch(/^ok 5 /);
    await trigger.settled();
    expect(fired.map(f => f.rules.join())).toEqual(['b', 'a']);
  });

  it('refuses a payload over max_bytes, keeps nothing, and says which limit', async () => {
    const port = await freePort();
    await trigger.update([rule('small', { port, maxBytes: 1000 })]);
    const reply = await sendRaw(port, randomBytes(100_000));
    expect(reply).toMatch(/^error: payload larger than 1000 bytes \(max_bytes/);
    expect(await sendRaw(port, randomBytes(1000))).toMatch(/^ok 1000 /);
    await trigger.settled();
    expect(fired).toHaveLength(1);
    expect(await channelFiles(port)).toHaveLength(1);
    expect(log.text('warn')).toContain('max_bytes');
  });

  it('answers "busy" beyond max_connections at once, and serves the others', async () => {
    const port = await freePort();
    await trigger.update([rule('few', { port, maxConnections: 2 })]);
    const open = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<net.Socket>(resolve => {
            const s = net.connect({ port, host: '127.0.0.1' }, () => {
              s.write('part one, ');
              resolve(s);
            });
          })
      )
    );
    // Both are being received once their .part files exist.
    await until(async () => (await channelFiles(port)).length === 2, 5000, 'two connections being received');
    expect(await sendRaw(port, 'third')).toBe('error: busy: 2 connections at once (max_connections), try again\n');
    const replies = open.map(
      s =>
        new Promise<string>(resolve => {
          let reply = '';
          s.on('data', c => (reply += c));
          s.on('close', () => resolve(reply));
          s.end('part two');
        })
    );
    for (const reply of await Promise.all(replies)) {
      expect(reply).toMatch(/^ok 18 /);
    }
    await trigger.settled();
    expect(fired).toHaveLength(2);
    expect(log.text('warn')).toMatch(/busy, 2 connections at once \(max_connections of pattern few/);
  });

  it('requires the secret as the first line, strips it, and never logs it', async () => {
    const port = await freePort();
    await trigger.update([rule('s', { port, secret: 'open sesame' })]);
    const ok = await sendRaw(port, 'open sesame\nline 1\nline 2\n');
    const rel = /^ok 14 (\S+)\n$/.exec(ok)![1];
    expect((await read(rel)).toString()).toBe('line 1\nline 2\n');
    expect(await sendRaw(port, 'open sesame\r\ncrlf')).toMatch(/^ok 4 /);
    expect(await sendRaw(port, 'open says me\npayload')).toMatch(/^error: wrong or missing secret/);
    expect(await sendRaw(port, 'no secret line at all')).toMatch(/^error: wrong or missing secret/);
    expect(await sendRaw(port, 'x'.repeat(5000) + '\n')).toMatch(/^error: wrong or missing secret/);
    await trigger.settled();
    expect(fired).toHaveLength(2);
    expect(log.text('warn')).toMatch(/connection from 127\.0\.0\.1:\d+: wrong or missing secret/);
    expect(log.lines.some(l => l.message.includes('sesame'))).toBe(false);
    expect((await channelFiles(port)).length).toBe(2);
  });

  it('keeps the payload of a plain client that closes without half-closing (Python socket)', async () => {
    const port = await freePort();
    await trigger.update([rule('py', { port })]);
    const py = spawnSync(
      'python3',
      [
        '-c',
        `import socket\ns = socket.create_connection(("127.0.0.1", ${port}))\ns.sendall(b"x" * 100000)\ns.close()\n`
      ],
      { encoding: 'utf8' }
    );
    if (py.error) {
      // No Python: the same with a Node socket that closes both ways at once.
      await new Promise<void>(resolve => {
        const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(Buffer.alloc(100000, 'x'), () => s.destroy()));
        s.on('close', () => resolve());
      });
    }
    await until(() => fired.length === 1, 5000, 'the firing');
    expect((await read(fired[0].firing.path)).equals(Buffer.alloc(100000, 'x'))).toBe(true);
  });

  it('makes no file for a connection that sends nothing, and refuses one gone idle', async () => {
    const port = await freePort();
    await trigger.update([rule('quiet', { port })]);
    expect(await sendRaw(port, '')).toMatch(/^error: nothing was received/);
    const reply = await new Promise<string>(resolve => {
      let text = '';
      const s = net.connect({ port, host: '127.0.0.1' }, () => s.write('a start, then silence'));
      s.on('data', c => (text += c));
      s.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^error: no data for 2 s/);
    await trigger.settled();
    expect(fired).toEqual([]);
    expect(await channelFiles(port)).toEqual([]);
    expect(log.text('debug')).toContain('sent nothing');
    expect(log.text('warn')).toContain('no data for 2 s');
  });

  it('streams a 50 MB payload to disk without holding it in memory', async () => {
    const port = await freePort();
    await trigger.update([rule('big', { port })]);
    const total = 50 * 1024 * 1024;
    const chunk = 64 * 1024;
    const hash = createHash('sha256');
    let sent = 0;
    let n = 0;
    const source = new Readable({
      read() {
        if (sent >= total) {
          this.push(null);
          return;
        }
        const block = createHash('sha512').update(String(n++)).digest();
        const data = Buffer.alloc(chunk);
        for (let i = 0; i < chunk; i += block.length) {
          block.copy(data, i);
        }
        sent += chunk;
        hash.update(data);
        this.push(data);
      }
    });
    const reply = await sendRaw(port, source);
    expect(reply).toMatch(new RegExp(`^ok ${total} `));
    const rel = reply.trim().split(' ')[2];
    const onDisk = createHash('sha256')
      .update(await read(rel))
      .digest('hex');
    expect(onDisk).toBe(hash.digest('hex'));
    // What the receiver held at once: its write queue, paused at 1 MiB.
    await trigger.settled();
    const kib = Number(/at most (\d+) KiB of it in memory/.exec(log.text('debug'))![1]);
    expect(kib).toBeLessThanOrEqual(2048);
  });

  it('serves TLS with a certificate given relative to the workgroup', async () => {
    const openssl = spawnSync('openssl', ['version']);
    if (openssl.error) {
      console.warn('openssl not found: TLS test skipped');
      return;
    }
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(root, 'key.pem'),
        '-out',
        path.join(root, 'cert.pem')
      ],
      { stdio: 'ignore' }
    );
    const port = await freePort();
    await trigger.update([
      rule('secure', { port, secret: 'k', tls: { cert: 'cert.pem', key: path.join(root, 'key.pem') } })
    ]);
    expect(log.text('info')).toContain(`port ${port}: listening on 127.0.0.1:${port} (TLS), secret required`);
    const ca = await fs.readFile(path.join(root, 'cert.pem'));
    const reply = await sendRaw(port, 'k\nencrypted payload', {
      connect: () => tls.connect({ port, host: '127.0.0.1', ca })
    });
    const rel = /^ok 17 (\S+)\n$/.exec(reply)![1];
    expect((await read(rel)).toString()).toBe('encrypted payload');
    // A plain client's bytes are not a TLS handshake: nothing is kept.
    await sendRaw(port, 'k\nplain text').catch(() => '');
    // meow send --ca, and without trusting the certificate.
    await fs.writeFile(path.join(root, 'msg.txt'), 'via meow send');
    const io = {
      outText: '',
      errText: '',
      out(t: string) {
        this.outText += t;
      },
      err(t: string) {
        this.errText += t;
      }
    };
    expect(
      await send(`localhost:${port}`, path.join(root, 'msg.txt'), { secret: 'k', ca: path.join(root, 'cert.pem') }, io)
    ).toBe(0);
    expect(io.outText).toMatch(/^ok 13 \.meow\/incoming\/network\//);
    expect(await send(`127.0.0.1:${port}`, path.join(root, 'msg.txt'), { secret: 'k', tls: true }, io)).toBe(1);
    expect(io.errText).toContain('is not trusted');
    await trigger.settled();
    expect(fired.map(f => f.rules.join())).toEqual(['secure', 'secure']);
  });

  it("fires payloads received before a restart when the port's rules appear, and on resume", async () => {
    const port = await freePort();
    const dir = path.join(root, '.meow', 'incoming', 'network', String(port));
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, '20260101T000000000Z-000001-abcdef'), 'from before');
    const a = rule('a', { port });
    await trigger.update([a]);
    await trigger.settled();
    expect(fired.map(f => f.firing.path)).toEqual([`.meow/incoming/network/${port}/20260101T000000000Z-000001-abcdef`]);
    await trigger.resumed(a);
    expect(fired).toHaveLength(2);
    // A pattern added at runtime gets them too (as files do retroactively); a is not fired again.
    await trigger.update([a, rule('b', { port })]);
    await trigger.settled();
    expect(fired.map(f => f.rules.join())).toEqual(['a', 'a', 'b']);
  });

  it('keeps the incoming file pinned until its firing is scheduled', async () => {
    const port = await freePort();
    await trigger.update([rule('a', { port })]);
    let release!: () => void;
    const gate = new Promise<void>(r => (release = r));
    const pins: string[] = [];
    const unpin = incoming.unpin.bind(incoming);
    incoming.unpin = (rel: string) => {
      pins.push(`unpin ${rel}`);
      unpin(rel);
    };
    fireHook = () => gate;
    const reply = await sendRaw(port, 'pinned');
    const rel = reply.trim().split(' ')[2];
    await until(() => fired.length === 1, 5000, 'the firing');
    expect(pins).toEqual([]);
    release();
    await trigger.settled();
    expect(pins).toEqual([`unpin ${rel}`]);
  });

  it('logs a rule whose listener settings disagree, naming both patterns and the field; the others fire', async () => {
    const port = await freePort();
    const [a, b, c] = [
      rule('a', { port, maxBytes: 100 }),
      rule('b', { port, maxBytes: 200 }),
      rule('c', { port, maxBytes: 100 })
    ];
    await trigger.update([a, b, c]);
    const error = log.text('error');
    expect(error).toContain(
      `pattern b: its trigger on port ${port} differs from pattern a's in max_bytes (200B vs 100B)`
    );
    expect(error).toContain('make max_bytes the same in both');
    expect(await sendRaw(port, 'x')).toMatch(/^ok 1 /);
    await trigger.settled();
    expect(fired[0].rules).toEqual(['a', 'c']);
    // Logged once, not on every update.
    await trigger.update([a, b]);
    expect(log.lines.filter(l => l.level === 'error')).toHaveLength(1);
    // Once the others agree with b, b's settings win and a is the odd one.
    await trigger.update([b]);
    expect(await sendRaw(port, 'y'.repeat(150))).toMatch(/^ok 150 /);
  });

  it('applies changed limits in place and re-opens on a changed host', async () => {
    const port = await freePort();
    await trigger.update([rule('a', { port, maxBytes: 10 })]);
    expect(await sendRaw(port, 'x'.repeat(20))).toMatch(/^error: payload larger than 10 bytes/);
    await trigger.update([rule('a', { port, maxBytes: 100 })]);
    expect(await sendRaw(port, 'x'.repeat(20))).toMatch(/^ok 20 /);
    expect(log.text('info')).toContain(`port ${port}: new max_bytes from pattern(s) a`);
    await trigger.update([rule('a', { port, host: '127.0.0.2' })]);
    expect(log.text('info')).toContain(`port ${port}: re-opening with the new host`);
    if (trigger.ports.includes(port)) {
      // 127.0.0.2 is a loopback address on Linux.
      await expect(sendRaw(port, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
  });

  it('retries a port in use until it is free, logging the pattern, the port and the fix', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>(r => squatter.listen(port, '127.0.0.1', r));
    await trigger.update([rule('late', { port })]);
    expect(trigger.ports).toEqual([]);
    expect(log.text('error')).toContain(
      `port ${port}: cannot listen on 127.0.0.1:${port} for pattern(s) late: another program (or another meow) already listens on port ${port}`
    );
    await new Promise(r => squatter.close(r));
    await until(() => trigger.ports.includes(port), 5000, 'the retry');
    expect(log.text('info')).toContain('after 1 failed attempt');
    expect(await sendRaw(port, 'x')).toMatch(/^ok 1 /);
  });

  it('reports missing certificate files and keeps the service going', async () => {
    const port = await freePort();
    await trigger.update([rule('t', { port, tls: { cert: 'nope/cert.pem', key: 'nope/key.pem' } })]);
    expect(log.text('error')).toContain(`the TLS certificate file ${path.join(root, 'nope/cert.pem')} does not exist`);
    expect(trigger.ports).toEqual([]);
  });

  it('cuts connections still being received when it stops', async () => {
    const port = await freePort();
    await trigger.update([rule('a', { port })]);
    const closed = new Promise<string>(resolve => {
      let text = '';
      const s = net.connect({ port, host: '127.0.0.1' }, () => s.write('half a message'));
      s.on('data', c => (text += c));
      s.on('error', () => undefined);
      s.on('close', () => resolve(text));
    });
    await until(async () => (await channelFiles(port)).length === 1, 5000, 'the .part file');
    await trigger.stop();
    await closed;
    expect(await channelFiles(port)).toEqual([]);
    expect(fired).toEqual([]);
  });
});

describe('meow send', () => {
  const io = () => ({
    outText: '',
    errText: '',
    out(t: string) {
      this.outText += t;
    },
    err(t: string) {
      this.errText += t;
    }
  });

  it('streams a file or standard input with the secret, and prints the reply', async () => {
    const root = await makeWorkgroup({ 'data.csv': 'a,b\n1,2\n' });
    const log = new RecordingLogger();
    const store = new JobStore({ jobsDir: path.join(root, '.meow', 'jobs') });
    await store.load();
    const incoming = new IncomingFiles({ root, stateDir: '.meow', store, log });
    const fired: IFiring[] = [];
    const trigger = new NetworkTrigger({
      context: {
        root,
        stateDir: '.meow',
        log,
        incoming,
        fire: async (_, f) => (fired.push(f), []),
        walk: async function* () {},
        now: Date.now
      }
    });
    try {
      const port = await freePort();
      await trigger.update([rule('s', { port, secret: 'hush' })]);
      const out = io();
      expect(await send(`127.0.0.1:${port}`, path.join(root, 'data.csv'), { secret: 'hush' }, out)).toBe(0);
      expect(out.outText).toMatch(/^ok 8 \.meow\/incoming\/network\/\d+\/\S+\n$/);
      const fromStdin = io();
      process.env.MEOW_SECRET = 'hush';
      try {
        expect(await send(String(port), '-', {}, { ...fromStdin, stdin: Readable.from([Buffer.from('piped')]) })).toBe(
          0
        );
      } finally {
        delete process.env.MEOW_SECRET;
      }
      const wrong = io();
      expect(await send(`localhost:${port}`, path.join(root, 'data.csv'), { secret: 'loud' }, wrong)).toBe(1);
      expect(wrong.errText).toMatch(/^error: wrong or missing secret/);
      await trigger.settled();
      expect(fired).toHaveLength(2);
      expect((await fs.readFile(path.join(root, fired[1].path))).toString()).toBe('piped');
    } finally {
      await trigger.stop();
      await store.close();
      await removeWorkgroup(root);
    }
  });

  it('explains a refused connection, a missing file and a bad target', async () => {
    const port = await freePort();
    const out = io();
    expect(await send(`127.0.0.1:${port}`, __filename, {}, out)).toBe(1);
    expect(out.errText).toBe(
      `error: nothing listens on 127.0.0.1:${port}; is a pattern with port: ${port} loaded and meow running?\n`
    );
    const missing = io();
    expect(await send(`127.0.0.1:${port}`, '/no/such/file', {}, missing)).toBe(1);
    expect(missing.errText).toMatch(/^error: cannot read \/no\/such\/file/);
    const bad = io();
    expect(await send('host:port', '-', {}, bad)).toBe(2);
    expect(bad.errText).toContain('expected HOST:PORT');
    expect(parseTarget('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseTarget('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseTarget('data.example.org:70')).toEqual({ host: 'data.example.org', port: 70 });
    expect(() => parseTarget('localhost:70000')).toThrow('expected HOST:PORT');
  });

  it('is the `send` command of the meow program', async () => {
    const port = await freePort();
    const out = io();
    const program = addSendCommand(new Command('meow').exitOverride(), out);
    const saved = process.exitCode;
    try {
      await program.parseAsync(['send', `127.0.0.1:${port}`, __filename, '--timeout', '5', '--secret', 's'], {
        from: 'user'
      });
      expect(process.exitCode).toBe(1);
      expect(out.errText).toContain(`nothing listens on 127.0.0.1:${port}`);
    } finally {
      process.exitCode = saved;
    }
  });
});
