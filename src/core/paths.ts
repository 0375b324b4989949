/**
 * Small POSIX path helpers.
 *
 * The core runs in the browser too, so it cannot use Node's `path`. These
 * follow `path.posix` semantics (e.g. `dirname('a') === '.'`,
 * `extname('.hidden') === ''`) so that code moving between the service and
 * the core does not change behaviour.
 */

/** True for paths starting at the root (`/...`). */
export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/**
 * Collapse `//`, `.` and `..` segments.
 *
 * `..` above the root of an absolute path is dropped, as in `path.posix`;
 * leading `..` of a relative path is kept. The empty path becomes `.`.
 * A trailing slash is kept.
 */
export function normalise(p: string): string {
  if (p === '') {
    return '.';
  }
  const absolute = isAbsolute(p);
  const trailing = p.endsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') {
      continue;
    }
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') {
        out.pop();
      } else if (!absolute) {
        out.push('..');
      }
      continue;
    }
    out.push(seg);
  }
  let result = out.join('/');
  if (absolute) {
    result = '/' + result;
  }
  if (result === '') {
    return trailing ? './' : '.';
  }
  if (trailing && result !== '/') {
    result += '/';
  }
  return result;
}

/** Join segments with `/` and normalise; empty segments are skipped. */
export function join(...parts: string[]): string {
  const kept = parts.filter(part => part !== '');
  if (kept.length === 0) {
    return '.';
  }
  return normalise(kept.join('/'));
}

/** Remove trailing slashes, keeping a lone `/`. */
function stripTrailing(p: string): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') {
    end--;
  }
  return p.slice(0, end);
}

/** The directory part: `dirname('a/b/c') === 'a/b'`, `dirname('c') === '.'`. */
export function dirname(p: string): string {
  if (p === '') {
    return '.';
  }
  const s = stripTrailing(p);
  if (s === '/') {
    return '/';
  }
  const i = s.lastIndexOf('/');
  if (i < 0) {
    return '.';
  }
  if (i === 0) {
    return '/';
  }
  return stripTrailing(s.slice(0, i));
}

/** The last segment; `ext`, when given and a proper suffix, is removed. */
export function basename(p: string, ext?: string): string {
  const s = stripTrailing(p);
  if (s === '/') {
    return '';
  }
  const base = s.slice(s.lastIndexOf('/') + 1);
  if (ext && base !== ext && base.endsWith(ext)) {
    return base.slice(0, base.length - ext.length);
  }
  return base;
}

/**
 * The extension including the dot, from the last dot of the basename:
 * `a.tar.gz` → `.gz`, `.hidden` → `''` (a leading dot names the file, it is
 * not an extension), `noext` → `''`, `file.` → `.`.
 */
export function extname(p: string): string {
  const base = basename(p);
  const i = base.lastIndexOf('.');
  // A dot at position 0 starts the name (`.hidden`), as does `..`.
  if (i <= 0 || base === '..') {
    return '';
  }
  return base.slice(i);
}

/** The segments of a path, without empty ones. */
export function segments(p: string): string[] {
  return p.split('/').filter(seg => seg !== '' && seg !== '.');
}

/**
 * True when `p` is `dir` itself or lies below it, after normalising both.
 * Both must be absolute, or both relative; `isInside('a', '.')` is true for
 * any relative path that does not climb out with `..`.
 */
export function isInside(p: string, dir: string): boolean {
  const child = stripTrailing(normalise(p));
  const parent = stripTrailing(normalise(dir));
  if (isAbsolute(child) !== isAbsolute(parent)) {
    return false;
  }
  if (parent === '.') {
    return child !== '..' && !child.startsWith('../');
  }
  if (child === parent) {
    return true;
  }
  const prefix = parent === '/' ? '/' : parent + '/';
  return child.startsWith(prefix);
}

/**
 * The path of `to` relative to `from` (both absolute or both relative),
 * as in `path.posix.relative`; `''` when they are the same.
 */
export function relative(from: string, to: string): string {
  const a = segments(normalise(from));
  const b = segments(normalise(to));
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) {
    i++;
  }
  const up = a.slice(i).map(() => '..');
  return up.concat(b.slice(i)).join('/');
}

/**
 * The ancestors of a relative path, from the root down, excluding the path
 * itself: `ancestors('a/b/c') → ['', 'a', 'a/b']`. Used by the rule index.
 */
export function ancestors(relPath: string): string[] {
  const segs = relPath.split('/');
  const out = [''];
  for (let i = 1; i < segs.length; i++) {
    out.push(segs.slice(0, i).join('/'));
  }
  return out;
}
