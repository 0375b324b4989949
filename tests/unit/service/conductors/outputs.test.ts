import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { INotebook } from '../../../../src/core/types';
import {
  OutputCollector,
  formatSeconds,
  parseWritesLog,
  prepareResultNotebook,
  stripAnsi
} from '../../../../src/service/conductors/outputs';
import { pythonSetupCode } from '../../../../src/service/conductors/setup';
import { NotebookWriter, serializeNotebook } from '../../../../src/service/conductors/writer';
import { parseJupyterUrl } from '../../../../src/service/jupyter/settings';

function notebook(): INotebook {
  return {
    cells: [
      { cell_type: 'markdown', source: '# title', metadata: {} },
      {
        cell_type: 'code',
        source: ['print(1)\n', 'x = 2'],
        metadata: { tags: ['a'], execution: { old: 1 } },
        outputs: [{ output_type: 'stream', name: 'stdout', text: 'stale' }],
        execution_count: 7
      },
      { cell_type: 'code', source: 'y', metadata: {}, outputs: [], execution_count: null }
    ],
    metadata: { kernelspec: { name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

describe('stripAnsi', () => {
  it('removes colour and cursor codes from IPython tracebacks', () => {
    const tb =
      '\u001b[0;31m---------------------------------------------------------------------------\u001b[0m\n' +
      '\u001b[0;31mZeroDivisionError\u001b[0m                         Traceback (most recent call last)';
    expect(stripAnsi(tb)).toBe(
      '---------------------------------------------------------------------------\n' +
        'ZeroDivisionError                         Traceback (most recent call last)'
    );
    expect(stripAnsi('\u001b[1;32mok\u001b[39;49m \u001b[2K\u001b[1Gdone')).toBe('ok done');
    expect(stripAnsi('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe('link');
    expect(stripAnsi('plain text')).toBe('plain text');
  });
});

describe('prepareResultNotebook', () => {
  it('copies the notebook and clears code cell outputs and timing', () => {
    const nb = notebook();
    const copy = prepareResultNotebook(nb);
    expect(copy).not.toBe(nb);
    expect(copy.cells[0]).toEqual(nb.cells[0]);
    expect(copy.cells[1].outputs).toEqual([]);
    expect(copy.cells[1].execution_count).toBeNull();
    expect(copy.cells[1].metadata).toEqual({ tags: ['a'] });
    // the input is untouched
    expect(nb.cells[1].outputs).toHaveLength(1);
    expect(nb.cells[1].execution_count).toBe(7);
  });
});

describe('OutputCollector', () => {
  const setup = () => {
    const nb = prepareResultNotebook(notebook());
    const c = new OutputCollector(nb);
    return { nb, c };
  };

  it('merges consecutive stream outputs of the same name only', () => {
    const { nb, c } = setup();
    c.begin(1);
    c.handle('stream', { name: 'stdout', text: 'a\n' });
    c.handle('stream', { name: 'stdout', text: 'b\n' });
    c.handle('stream', { name: 'stderr', text: 'e\n' });
    c.handle('stream', { name: 'stdout', text: 'c\n' });
    expect(nb.cells[1].outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'a\nb\n' },
      { output_type: 'stream', name: 'stderr', text: 'e\n' },
      { output_type: 'stream', name: 'stdout', text: 'c\n' }
    ]);
  });

  it('records execute_result, display_data and error outputs in nbformat shape', () => {
    const { nb, c } = setup();
    c.begin(2);
    c.handle('display_data', { data: { 'text/plain': 'd' }, metadata: {}, transient: {} });
    c.handle('execute_result', { data: { 'text/plain': '2' }, metadata: {}, execution_count: 3 });
    c.handle('error', { ename: 'E', evalue: 'v', traceback: ['t1', 't2'] });
    expect(nb.cells[2].outputs).toEqual([
      { output_type: 'display_data', data: { 'text/plain': 'd' }, metadata: {} },
      { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': '2' }, metadata: {} },
      { output_type: 'error', ename: 'E', evalue: 'v', traceback: ['t1', 't2'] }
    ]);
    // nothing transient is stored
    expect(JSON.stringify(nb)).not.toContain('transient');
  });

  it('handles clear_output with and without wait', () => {
    const { nb, c } = setup();
    c.begin(1);
    c.handle('stream', { name: 'stdout', text: '1' });
    expect(c.handle('clear_output', { wait: true })).toBe(false);
    expect(nb.cells[1].outputs).toHaveLength(1);
    c.handle('stream', { name: 'stdout', text: '2' });
    expect(nb.cells[1].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '2' }]);
    c.handle('clear_output', { wait: false });
    expect(nb.cells[1].outputs).toEqual([]);
  });

  it('applies update_display_data to earlier outputs, across cells', () => {
    const { nb, c } = setup();
    c.begin(1);
    c.handle('display_data', { data: { 'text/plain': 'old' }, metadata: {}, transient: { display_id: 'd1' } });
    c.begin(2);
    expect(
      c.handle('update_display_data', {
        data: { 'text/plain': 'new' },
        metadata: { m: 1 },
        transient: { display_id: 'd1' }
      })
    ).toBe(true);
    expect(nb.cells[1].outputs![0]).toEqual({
      output_type: 'display_data',
      data: { 'text/plain': 'new' },
      metadata: { m: 1 }
    });
    expect(nb.cells[2].outputs).toEqual([]);
    // a new display with a known id updates the old ones too
    c.handle('display_data', { data: { 'text/plain': 'newer' }, metadata: {}, transient: { display_id: 'd1' } });
    expect(nb.cells[1].outputs![0].data).toEqual({ 'text/plain': 'newer' });
    expect(nb.cells[2].outputs).toHaveLength(1);
    // unknown ids change nothing
    expect(c.handle('update_display_data', { data: {}, metadata: {}, transient: { display_id: 'zz' } })).toBe(false);
  });

  it('ignores messages for non-code cells', () => {
    const { nb, c } = setup();
    c.begin(0);
    expect(c.handle('stream', { name: 'stdout', text: 'x' })).toBe(false);
    expect(nb.cells[0]).toEqual(notebook().cells[0]);
  });
});

describe('parseWritesLog', () => {
  it('keeps absolute paths once, in order', () => {
    expect(parseWritesLog('/a/b\n/c\n\nrelative\n/a/b\r\n/d')).toEqual(['/a/b', '/c', '/d']);
    expect(parseWritesLog('')).toEqual([]);
  });
});

describe('formatSeconds', () => {
  it('formats whole and fractional seconds', () => {
    expect(formatSeconds(2000)).toBe('2 s');
    expect(formatSeconds(1500)).toBe('1.5 s');
  });
});

describe('pythonSetupCode', () => {
  it('embeds paths as string literals and cleans up after itself', () => {
    const code = pythonSetupCode('/work/with "quotes"', "/log/it's.txt");
    expect(code).toContain('__meow_setup__("/work/with \\"quotes\\"", "/log/it\'s.txt")');
    expect(code).toContain('del __meow_setup__');
    expect(code).toContain('sys.addaudithook');
  });
});

describe('parseJupyterUrl', () => {
  it('normalises pasted URLs and finds the token', () => {
    expect(parseJupyterUrl('http://127.0.0.1:8888/lab?token=abc')).toEqual({
      baseUrl: 'http://127.0.0.1:8888/',
      token: 'abc'
    });
    expect(parseJupyterUrl('http://host:8888')).toEqual({ baseUrl: 'http://host:8888/', token: undefined });
    expect(parseJupyterUrl('https://hub/user/me/lab/tree/x.ipynb').baseUrl).toBe('https://hub/user/me/');
    expect(() => parseJupyterUrl('ftp://x')).toThrow(/http/);
  });
});

describe('NotebookWriter', () => {
  it('writes valid JSON atomically, throttled, and a final state on close', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'meow-writer-'));
    try {
      const file = path.join(dir, 'sub', 'result.ipynb');
      const nb = prepareResultNotebook(notebook());
      const w = new NotebookWriter(file, nb, { minIntervalMs: 200 });
      await w.flush();
      expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual(nb);
      for (let i = 0; i < 20; i++) {
        nb.cells[1].outputs!.push({ output_type: 'stream', name: 'stdout', text: String(i) });
        w.markDirty();
      }
      await new Promise(r => setTimeout(r, 350));
      expect(w.writes).toBe(2);
      await w.close();
      expect(await fsp.readFile(file, 'utf8')).toBe(serializeNotebook(nb));
      expect(await fsp.readdir(path.dirname(file))).toEqual(['result.ipynb']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
