/**
 * File names with control characters get events; names that are not valid
 * UTF-8 are reported with their bytes escaped and the fix; every message
 * escapes control characters.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { escapeBytes, escapeControl } from '../../../../src/service/fsutil';
import { makeWorkgroup, removeWorkgroup, until, writeFile } from '../../../helpers/workgroup';
import { IRunning, quiet, startMonitor } from './helpers';

describe('escapeControl and escapeBytes', () => {
  it('make control characters visible and leave other text alone', () => {
    expect(escapeControl('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(escapeControl('\x1b[2Jcleared')).toBe('\\x1b[2Jcleared');
    expect(escapeControl('nul\0 del\x7f c1\x9b')).toBe('nul\\x00 del\\x7f c1\\x9b');
    expect(escapeControl('rlo\u202Eevil')).toBe('rlo\\u202eevil');
    expect(escapeControl('café/ünïcode ✓')).toBe('café/ünïcode ✓');
  });

  it('shows bytes that are not UTF-8 as \\xNN, keeping valid characters', () => {
    expect(escapeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x64]))).toBe('caf\\xe9.d');
    expect(escapeBytes(Buffer.from('café\n', 'utf8'))).toBe('café\\n');
    expect(escapeBytes(Buffer.from([0xc3]))).toBe('\\xc3');
  });
});

describe('FileMonitor and odd file names', () => {
  let root: string;
  let run: IRunning | undefined;
  afterEach(async () => {
    await run?.monitor.stop();
    run = undefined;
    await removeWorkgroup(root);
  });

  it('reports files whose names hold newlines, carriage returns and escapes', async () => {
    root = await makeWorkgroup({ 'h/.keep': '' });
    run = await startMonitor(root);
    const names = ['h/a\nb.txt', 'h/c\rd.txt', 'h/\x1b[2J.txt', 'h/tab\there.txt'];
    for (const n of names) {
      await writeFile(root, n, n);
    }
    await until(() => run!.events.length >= names.length, 5000, 'events for odd names');
    await quiet(run.monitor);
    expect(run.events.map(e => e.path).sort()).toEqual([...names].sort());
    expect(run.events.every(e => e.kind === 'created')).toBe(true);
  });

  it('reports a name that is not valid UTF-8 with its bytes escaped and the fix, once', async () => {
    root = await makeWorkgroup({ 'h/.keep': '' });
    run = await startMonitor(root);
    const bad = Buffer.concat([Buffer.from(path.join(root, 'h/caf')), Buffer.from([0xe9]), Buffer.from('\n.dat')]);
    await fs.writeFile(bad, 'x');
    await writeFile(root, 'h/ok.dat', 'ok');
    await until(() => /not valid UTF-8/.test(run!.log.text('warn')), 5000, 'the warning');
    await quiet(run.monitor);
    await run.monitor.scan();
    await quiet(run.monitor);
    expect(run.seen()).toEqual(['created h/ok.dat']);
    const warn = run.log.text('warn');
    expect(warn).toContain('file name is not valid UTF-8: h/caf\\xe9\\n.dat');
    expect(warn).toContain("rename it, e.g. mv $'h/caf\\xe9\\n.dat' NEW_NAME");
    expect(warn.match(/not valid UTF-8/g)).toHaveLength(1);
    expect(warn).not.toMatch(/[\n\r\x1b]/);
  });
});
