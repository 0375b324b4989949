import {
  compileGlob,
  globBase,
  globMatches,
  isGlob,
  triggerGlobBase,
  triggerMatcher,
  validateGlob
} from '../../../src/core/glob';

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
    // nothing under .meow/ ever matches, even when named
    ['.meow/patterns/*', '.meow/patterns/p.yaml', false],
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
    ['a\\*b/c/*', ''],
    // picomatch keeps an unbalanced "[" as text; the base stops before it, so
    // it is also safe for the same text read as fnmatch (scheduler's walk)
    ['x/a[b/y?/*', 'x'],
    ['x/a[b/*', 'x']
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

describe('[!…] negates, as in bash and fnmatch (issue 11.1)', () => {
  const files = ['cls/a.txt', 'cls/b.txt', 'cls/c.txt'];
  it.each(['native', 'fnmatch'] as const)('%s: cls/[!a].txt matches b and c, not a', syntax => {
    expect(files.filter(f => globMatches('cls/[!a].txt', f, syntax))).toEqual(['cls/b.txt', 'cls/c.txt']);
    // "!" is not "a": bash (echo cls/[!a].txt) and Python's fnmatch list cls/!.txt too.
    expect(globMatches('cls/[!a].txt', 'cls/!.txt', syntax)).toBe(true);
    expect(globMatches('cls/[!!]', 'cls/!', syntax)).toBe(false);
  });

  it('native [^a] still negates; data_[!0]*.npy selects what bash selects', () => {
    expect(files.filter(f => globMatches('cls/[^a].txt', f))).toEqual(['cls/b.txt', 'cls/c.txt']);
    const data = ['data_0.npy', 'data_1.npy', 'data_10.npy', 'data_01.npy'];
    expect(data.filter(f => globMatches('data_[!0]*.npy', f))).toEqual(['data_1.npy', 'data_10.npy']);
  });
});

describe('fnmatch globs (thesis format, as mig_meow)', () => {
  it.each([
    // * crosses / and matches dot files
    ['deep/*', 'deep/a/b/c.txt', true],
    ['deep/*', 'deep/.hidden', true],
    ['deep/*', 'deep/.x/y', true],
    ['deep/*', 'deep', false],
    ['deep/*', 'deeper/a', false],
    ['*.txt', 'a/b.txt', true],
    ['start/*.txt', 'start/sub/x.txt', true],
    // ? is any one character, / included
    ['a?b', 'a/b', true],
    ['start/?.txt', 'start/ab.txt', false],
    // classes: [!x] negates, [^x] does not, ] first is literal
    ['cls/[^a].txt', 'cls/^.txt', true],
    ['cls/[^a].txt', 'cls/b.txt', false],
    ['x/[]a].txt', 'x/].txt', true],
    ['x/[a-c].txt', 'x/b.txt', true],
    ['x/[!a-c].txt', 'x/b.txt', false],
    // the rest is literal: braces, unclosed [, backslash, **
    ['{a,b}/*', 'a/x', false],
    ['{a,b}/*', '{a,b}/x', true],
    ['a[b', 'a[b', true],
    ['a\\b', 'a\\b', true],
    ['a/**', 'a/b', true],
    // case-sensitive, as on POSIX
    ['data/*.jpg', 'data/x.JPG', false],
    // line breaks in names
    ['h/*', 'h/a\nb', true]
  ])('%s vs %j → %s', (glob, p, expected) => {
    expect(globMatches(glob, p, 'fnmatch')).toBe(expected);
  });

  it('nothing under .meow/ ever matches, whatever the syntax', () => {
    for (const syntax of ['native', 'fnmatch'] as const) {
      for (const glob of ['*', '**', '*/*', '**/*.yaml', '.meow/*', '.meow/**', '?meow/*']) {
        for (const p of ['.meow/jobs/j1/job.yaml', '.meow/patterns/p.yaml', '.meow']) {
          expect([syntax, glob, p, globMatches(glob, p, syntax)]).toEqual([syntax, glob, p, false]);
        }
      }
    }
    expect(globMatches('*', 'a/.meow/x', 'fnmatch')).toBe(true); // only the workgroup's own
    expect(globMatches('*', '.meowx/y', 'fnmatch')).toBe(true);
  });

  it('triggerMatcher and triggerGlobBase follow the trigger', () => {
    expect(triggerMatcher({ path: 'deep/*' })('deep/a/b')).toBe(false);
    expect(triggerMatcher({ path: 'deep/*', glob: 'fnmatch' })('deep/a/b')).toBe(true);
    expect(triggerGlobBase({ path: 'a/b/*.txt', glob: 'fnmatch' })).toBe('a/b');
  });

  it.each([
    ['deep/*', 'deep'],
    ['a/b/c.txt', 'a/b'],
    ['x.csv', ''],
    ['*', ''],
    ['a/x?/*', 'a'],
    ['a/[!b]/c', 'a'],
    ['{a,b}/x/*', '{a,b}/x'],
    ['a\\b/*', 'a\\b']
  ])('globBase(%j, fnmatch) → %j', (glob, base) => {
    expect(globBase(glob, 'fnmatch')).toBe(base);
    expect(isGlob(glob, 'fnmatch')).toBe(/[*?[]/.test(glob));
  });

  it('validates as mig_meow reads: a leading "!" and an unclosed "[" are literal', () => {
    expect(validateGlob('input_paths[0]', '!x/*', 'fnmatch')).toEqual([]);
    expect(validateGlob('input_paths[0]', 'a[b/*', 'fnmatch')).toEqual([]);
    expect(validateGlob('input_paths[0]', 'a[b/*')[0].message).toMatch(/not a valid glob/);
    expect(validateGlob('input_paths[0]', '/abs/*', 'fnmatch')[0].message).toMatch(/relative/);
  });
});

describe('validateGlob: the state folder', () => {
  it.each(['native', 'fnmatch'] as const)('%s: a glob inside .meow/ is refused (it never matches)', syntax => {
    const [i] = validateGlob('trigger.path', '.meow/incoming/*', syntax);
    expect(i.field).toBe('trigger.path');
    expect(i.message).toMatch(/state folder ".meow\/"/);
    expect(validateGlob('trigger.path', '.meowdata/*', syntax)).toEqual([]);
  });
});
