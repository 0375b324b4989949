import { compileGlob, globBase, globMatches, isGlob, validateGlob } from '../../../src/core/glob';

describe('glob semantics', () => {
  it.each([
    // * does not cross /
    ['dir/*', 'dir/file', true],
    ['dir/*', 'dir/sub/file', false],
    ['dir/*', 'dir', false],
    ['dir/*', 'other/file', false],
    // ** matches nested
    ['dir/**', 'dir/sub/deeper/file', true],
    ['dir/**/*.txt', 'dir/a/b/c.txt', true],
    ['dir/**/*.txt', 'dir/c.txt', true],
    ['**/*.txt', 'a/b.txt', true],
    // dot files only when named
    ['dir/*', 'dir/.hidden', false],
    ['dir/.*', 'dir/.hidden', true],
    ['**', '.meow/patterns/p.yaml', false],
    ['**/*.yaml', 'a/.meow/p.yaml', false],
    ['.meow/patterns/*', '.meow/patterns/p.yaml', true],
    // extensions
    ['dir/*', 'dir/noext', true],
    ['dir/*.*', 'dir/noext', false],
    ['dir/*.*', 'dir/a.b', true],
    ['data/*.jpg', 'data/Patch.jpg', true],
    ['data/*.jpg', 'data/Patch.JPG', false],
    // other syntax
    ['start/?.txt', 'start/a.txt', true],
    ['{a,b}/*', 'b/x', true],
    ['x/[ab].txt', 'x/b.txt', true],
    ['file1.txt', 'file1.txt', true],
    ['file1.txt', 'file1.txtx', false]
  ])('%s vs %s → %s', (glob, p, expected) => {
    expect(globMatches(glob, p)).toBe(expected);
  });

  it('compiles once per glob', () => {
    expect(compileGlob('start/*')).toBe(compileGlob('start/*'));
  });

  it('isGlob tells globs from literal paths', () => {
    expect(isGlob('start/*')).toBe(true);
    expect(isGlob('start/a.txt')).toBe(false);
  });
});

describe('globBase: the literal leading directory', () => {
  it.each([
    ['start/*', 'start'],
    ['a/b/**/*.txt', 'a/b'],
    ['*.txt', ''],
    ['**', ''],
    ['data/x.csv', 'data'],
    ['x.csv', ''],
    ['data/{a,b}/*', 'data'],
    ['{a,b}/*', ''],
    ['a/st*r/x', 'a'],
    ['a\\*b/c/*', '']
  ])('%s → %j', (glob, base) => {
    expect(globBase(glob)).toBe(base);
  });
});

describe('validateGlob', () => {
  it('accepts relative globs', () => {
    expect(validateGlob('trigger.path', 'start/*')).toEqual([]);
    expect(validateGlob('trigger.path', 'a/**/b.txt')).toEqual([]);
  });

  it.each([
    ['', /non-empty glob/],
    [' start/*', /spaces/],
    ['/abs/*', /relative/],
    ['../up/*', /"\.\."/],
    ['a/../b', /"\.\."/],
    ['./start/*', /"\."/],
    ['a//b', /empty/],
    ['start/', /matches no file/],
    ['!start/*', /negated/]
  ])('rejects %j', (glob, message) => {
    const issues = validateGlob('trigger.path', glob);
    expect(issues).toHaveLength(1);
    expect(issues[0].field).toBe('trigger.path');
    expect(issues[0].message).toMatch(message);
  });

  it('rejects non-strings', () => {
    expect(validateGlob('input_paths[0]', 3)[0].message).toBe('must be a non-empty glob string');
  });
});

describe('file names with line breaks', () => {
  it('match like any other name (picomatch alone does not: its `.` stops at \\n)', () => {
    for (const name of ['a\nb.dat', 'x\r.dat', '\n', 'tab\there.dat', 'u\u2028v.dat']) {
      expect([name, globMatches('h/*', `h/${name}`)]).toEqual([name, true]);
      expect([name, globMatches('h/**', `h/sub/${name}`)]).toEqual([name, true]);
    }
    expect(globMatches('h/*', 'h/.hidden\n')).toBe(false);
  });
});
