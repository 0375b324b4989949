/**
 * `meow run` and `meow serve` start the same engine (engine.ts): both print
 * the counts line and warn about a pattern whose recipe does not exist (serve
 * used not to). Jobs would run on a stand-in Jupyter server (status and one
 * non-Python kernelspec), so no kernel starts.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { makeProgram } from '../../../src/service/cli';
import type { IEngineProcess } from '../../../src/service/engine';
import { RecordingLogger } from '../../../src/service/log';
import { makeWorkgroup, removeWorkgroup, until } from '../../helpers/workgroup';

const ORPHAN = 'recipe: Missing\ntrigger:\n  path: "data/*"\ninput: infile\n';
const WARNING = /pattern Orphan names recipe "Missing", which does not exist yet: no rule until it is registered/;

/** A Jupyter server that answers what the engine asks at start. */
async function fakeJupyter(): Promise<{ url: string; close: () => Promise<void> }> {
  const specs = {
    default: 'other',
    kernelspecs: {
      other: { name: 'other', resources: {}, spec: { language: 'other', display_name: 'Other', argv: ['x'] } }
    }
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = path === '/api/status' ? {} : path === '/api/kernelspecs' ? specs : undefined;
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? { message: 'not found' }));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  };
}

/** The process around the command, recorded: no handlers on the real process, no exit. */
function testProcess() {
  const log = new RecordingLogger();
  const exits: number[] = [];
  let stop: ((signal: 'SIGINT' | 'SIGTERM') => void) | undefined;
  const env: IEngineProcess = {
    logger: () => log,
    setUp: () => undefined,
    onSignal: s => (stop = s),
    exit: code => void exits.push(code)
  };
  return { env, log, exits, signal: (s: 'SIGINT' | 'SIGTERM') => stop!(s) };
}

describe('meow run and meow serve share one engine', () => {
  let root: string;
  let jupyter: { url: string; close: () => Promise<void> };
  const savedSecret = process.env.MEOW_SERVICE_SECRET;

  beforeEach(async () => {
    root = await makeWorkgroup({ '.meow/patterns/Orphan.yaml': ORPHAN, '.meow/recipes/.keep': '' });
    jupyter = await fakeJupyter();
  });
  afterEach(async () => {
    await jupyter.close();
    await removeWorkgroup(root);
    process.exitCode = undefined;
    if (savedSecret === undefined) {
      delete process.env.MEOW_SERVICE_SECRET;
    } else {
      process.env.MEOW_SERVICE_SECRET = savedSecret;
    }
  });

  it('run warns about a pattern without a recipe', async () => {
    const { env, log } = testProcess();
    await makeProgram(env)
      .exitOverride()
      .parseAsync(['node', 'meow', 'run', root, '--until-idle', '--settle', '10', '--jupyter-url', jupyter.url]);
    expect(log.text('error')).toBe('');
    expect(process.exitCode).toBe(0);
    expect(log.text('info')).toMatch(/watching .*: 1 pattern\(s\), 0 recipe\(s\), 0 rule\(s\), 1 worker\(s\)/);
    expect(log.text('warn')).toMatch(WARNING);
    expect(log.text('info')).toMatch(/idle — jobs: no jobs/);
  });

  it('serve warns about it too, then stops on SIGTERM', async () => {
    const { env, log, exits, signal } = testProcess();
    delete process.env.MEOW_SERVICE_SECRET;
    // serve runs until a signal: not awaited.
    void makeProgram(env)
      .exitOverride()
      .parseAsync(['node', 'meow', 'serve', root, '--port', '0', '--settle', '10', '--jupyter-url', jupyter.url]);
    await until(() => /watching /.test(log.text('info')), 30000, 'the start-up report');
    expect(log.text('error')).toBe('');
    expect(log.text('info')).toMatch(/meow API listening on http:\/\/127\.0\.0\.1:\d+\//);
    expect(log.text('info')).toMatch(/watching .*: 1 pattern\(s\), 0 recipe\(s\), 0 rule\(s\), 1 worker\(s\)/);
    expect(log.text('warn')).toMatch(WARNING);
    signal('SIGTERM');
    await until(() => exits.length > 0, 10000, 'the exit');
    expect(exits).toEqual([143]);
    expect(log.text('info')).toMatch(/stopped — jobs: no jobs/);
  });
});
