import {
  ancestors,
  basename,
  dirname,
  extname,
  isAbsolute,
  isInside,
  join,
  normalise,
  relative,
  segments
} from '../../../src/core/paths';

describe('POSIX path helpers (path.posix semantics)', () => {
  it('normalise collapses //, . and ..', () => {
    expect(normalise('a//b/./c/../d')).toBe('a/b/d');
    expect(normalise('/a/../../b')).toBe('/b');
    expect(normalise('../a/../../b')).toBe('../../b');
    expect(normalise('')).toBe('.');
    expect(normalise('./')).toBe('./');
    expect(normalise('a/b/')).toBe('a/b/');
    expect(normalise('/')).toBe('/');
  });

  it('join joins and normalises', () => {
    expect(join('/w', 'start', 'a.txt')).toBe('/w/start/a.txt');
    expect(join('/w/', '/x')).toBe('/w/x');
    expect(join('a', '..')).toBe('.');
    expect(join('', 'a')).toBe('a');
    expect(join()).toBe('.');
  });

  it('dirname, basename, extname', () => {
    expect(dirname('a/b/c')).toBe('a/b');
    expect(dirname('c')).toBe('.');
    expect(dirname('/c')).toBe('/');
    expect(dirname('/')).toBe('/');
    expect(dirname('a/b/')).toBe('a');
    expect(basename('a/b/c.txt')).toBe('c.txt');
    expect(basename('a/b/c.txt', '.txt')).toBe('c');
    expect(basename('a/b/')).toBe('b');
    expect(extname('a.tar.gz')).toBe('.gz');
    expect(extname('.hidden')).toBe('');
    expect(extname('.hidden.txt')).toBe('.txt');
    expect(extname('noext')).toBe('');
    expect(extname('file.')).toBe('.');
    expect(extname('dir.d/file')).toBe('');
    expect(extname('..')).toBe('');
  });

  it('isInside, isAbsolute, relative, segments, ancestors', () => {
    expect(isInside('/w/a/b', '/w')).toBe(true);
    expect(isInside('/w', '/w')).toBe(true);
    expect(isInside('/wx/a', '/w')).toBe(false);
    expect(isInside('/w/../etc', '/w')).toBe(false);
    expect(isInside('a/b', '.')).toBe(true);
    expect(isInside('../a', '.')).toBe(false);
    expect(isInside('a', '/w')).toBe(false);
    expect(isInside('/anything', '/')).toBe(true);
    expect(isAbsolute('/a')).toBe(true);
    expect(isAbsolute('a')).toBe(false);
    expect(relative('/w/a', '/w/b/c')).toBe('../b/c');
    expect(relative('/w', '/w')).toBe('');
    expect(segments('/a//b/./c')).toEqual(['a', 'b', 'c']);
    expect(ancestors('a/b/c.txt')).toEqual(['', 'a', 'a/b']);
    expect(ancestors('c.txt')).toEqual(['']);
  });
});
