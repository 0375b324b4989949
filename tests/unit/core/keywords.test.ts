import { KEYWORDS, keywordIssues, keywordValues, substituteKeywords } from '../../../src/core/keywords';
import { PyDict, PyFloat } from '../../../src/core/pyvalue';

const ROOT = '/home/u/workgroup';

describe('keywords (spec §3, thesis table 10.1)', () => {
  it('every keyword for workgroup/dir1/dir2/file.ext', () => {
    expect(keywordValues({ root: ROOT, path: 'dir1/dir2/file.ext', jobId: 'J1' })).toEqual({
      PATH: '/home/u/workgroup/dir1/dir2/file.ext',
      VGRID: '/home/u/workgroup',
      BASE: '/home/u/workgroup',
      REL_PATH: 'dir1/dir2/file.ext',
      DIR: '/home/u/workgroup/dir1/dir2',
      REL_DIR: 'dir1/dir2',
      FILENAME: 'file.ext',
      PREFIX: 'file',
      EXTENSION: '.ext',
      JOB: 'J1'
    });
    expect(KEYWORDS).toHaveLength(10);
  });

  it.each([
    ['PATH', '{PATH}', '/home/u/workgroup/dir1/dir2/file.ext'],
    ['VGRID', '{VGRID}/first/x', '/home/u/workgroup/first/x'],
    ['BASE', '{BASE}', '/home/u/workgroup'],
    ['REL_PATH', 'r={REL_PATH}', 'r=dir1/dir2/file.ext'],
    ['DIR', '{DIR}/out', '/home/u/workgroup/dir1/dir2/out'],
    ['REL_DIR', '{REL_DIR}', 'dir1/dir2'],
    ['FILENAME', 'first/{FILENAME}', 'first/file.ext'],
    ['PREFIX', '{PREFIX}.csv', 'file.csv'],
    ['EXTENSION', 'x{EXTENSION}', 'x.ext'],
    ['JOB', 'jobs/{JOB}', 'jobs/J1']
  ])('{%s} is substituted', (_k, text, expected) => {
    expect(substituteKeywords(text, { root: ROOT, path: 'dir1/dir2/file.ext', jobId: 'J1' })).toBe(expected);
  });

  it('file without extension: EXTENSION is empty', () => {
    const v = keywordValues({ root: ROOT, path: 'data/README', jobId: 'j' });
    expect(v.EXTENSION).toBe('');
    expect(v.PREFIX).toBe('README');
    expect(v.FILENAME).toBe('README');
  });

  it('dot file: PREFIX is the whole name, EXTENSION empty', () => {
    const v = keywordValues({ root: ROOT, path: 'data/.hidden', jobId: 'j' });
    expect(v.PREFIX).toBe('.hidden');
    expect(v.EXTENSION).toBe('');
    const w = keywordValues({ root: ROOT, path: 'data/.hidden.txt', jobId: 'j' });
    expect(w.PREFIX).toBe('.hidden');
    expect(w.EXTENSION).toBe('.txt');
  });

  it('a.tar.gz: EXTENSION is the last one', () => {
    const v = keywordValues({ root: ROOT, path: 'a.tar.gz', jobId: 'j' });
    expect(v.EXTENSION).toBe('.gz');
    expect(v.PREFIX).toBe('a.tar');
  });

  it('file at the workgroup root: REL_DIR empty, DIR is the root', () => {
    const v = keywordValues({ root: ROOT + '/', path: 'file1.txt', jobId: 'j' });
    expect(v.REL_DIR).toBe('');
    expect(v.DIR).toBe(ROOT);
    expect(v.VGRID).toBe(ROOT);
    expect(v.PATH).toBe(ROOT + '/file1.txt');
    // Thesis listing 26.1: '{VGRID}/file2.txt' sits next to file1.txt.
    expect(substituteKeywords('{VGRID}/file2.txt', { root: ROOT, path: 'file1.txt', jobId: 'j' })).toBe(
      ROOT + '/file2.txt'
    );
  });

  it('no trigger file (timer, manual): file keywords are empty', () => {
    const v = keywordValues({ root: ROOT, path: '', jobId: 'j' });
    expect(v).toMatchObject({
      PATH: '',
      REL_PATH: '',
      FILENAME: '',
      PREFIX: '',
      EXTENSION: '',
      REL_DIR: '',
      DIR: ROOT
    });
  });

  it('substitutes recursively, leaves other values and unknown words alone, does not mutate', () => {
    const input = {
      out: '{VGRID}/first/{FILENAME}',
      list: ['{PREFIX}', 3, { deep: '{REL_DIR}' }],
      n: 1,
      f: new PyFloat(2),
      b: true,
      z: null,
      unknown: '{NOT_A_KEYWORD} {path} {PATH',
      twice: '{FILENAME}-{FILENAME}'
    };
    const copy = JSON.parse(JSON.stringify(input));
    const out = substituteKeywords(input, { root: ROOT, path: 'start/Alpha.txt', jobId: 'j' });
    expect(out).toEqual({
      out: ROOT + '/first/Alpha.txt',
      list: ['Alpha', 3, { deep: 'start' }],
      n: 1,
      f: new PyFloat(2),
      b: true,
      z: null,
      unknown: '{NOT_A_KEYWORD} {path} {PATH',
      twice: 'Alpha.txt-Alpha.txt'
    });
    expect(out.f).toBe(input.f);
    expect(JSON.parse(JSON.stringify(input))).toEqual(copy);
  });

  it('a substituted value is not substituted again', () => {
    expect(substituteKeywords('{FILENAME}', { root: ROOT, path: 'a/{JOB}.txt', jobId: 'j' })).toBe('{JOB}.txt');
  });
});

describe('keywords inside dicts with typed keys (issue 11.2)', () => {
  it('substitutes in PyDict values, keeps keys and their types', () => {
    const value = {
      d: new PyDict([
        [1, '{FILENAME}'],
        ['k', ['{PREFIX}', new PyDict([[true, '{EXTENSION}']])]]
      ])
    };
    const out = substituteKeywords(value, { root: '/w', path: 'in/a.txt', jobId: 'j' });
    expect(out).toEqual({
      d: new PyDict([
        [1, 'a.txt'],
        ['k', ['a', new PyDict([[true, '.txt']])]]
      ])
    });
    expect(value.d.entries[0][1]).toBe('{FILENAME}'); // the input is not changed
  });

  it('finds keyword typos in PyDict values, naming the key', () => {
    const issues = keywordIssues({ d: new PyDict([[1, '{FILENAM}']]) }, 'parameters');
    expect(issues.map(i => i.field)).toEqual(['parameters.d.1']);
  });
});
