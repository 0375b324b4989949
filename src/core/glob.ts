/**
 * Globs over workgroup-relative POSIX paths (pattern triggers, P3).
 *
 * Semantics (picomatch, bash-like):
 * - `*` matches within one path segment: `dir/*` matches `dir/file` but not
 *   `dir/sub/file` nor `dir` itself;
 * - `**` matches any number of segments: `dir/**` matches `dir/a/b/c`;
 * - `?`, `[abc]`, `{a,b}` and extglobs `@(a|b)` work as in bash;
 * - dot files and dot folders are matched only when the glob names the dot:
 *   `dir/*` does not match `dir/.hidden`, `dir/.*` does; `**` does not
 *   descend into `.meow/`;
 * - `dir/*` matches files with or without an extension; `dir/*.*` only
 *   files whose name contains a dot after its first character.
 */

import picomatch from 'picomatch/posix';
import type { IValidationIssue } from './validation';
import { issue } from './validation';

/** A compiled glob: call it with a workgroup-relative path. */
export type GlobMatcher = (relPath: string) => boolean;

const OPTIONS: picomatch.PicomatchOptions = { dot: false };

// Compiling is the expensive part and the same globs are matched over and
// over; the set of globs in use is small (one per pattern).
const cache = new Map<string, GlobMatcher>();
const MAX_CACHE = 10000;

/** Compile a glob (cached). @throws Error when picomatch cannot parse it. */
export function compileGlob(glob: string): GlobMatcher {
  let matcher = cache.get(glob);
  if (!matcher) {
    // picomatch's `.` stops at line terminators; with the `s` flag a file
    // whose name holds `\n` or `\r` matches like any other.
    const re = picomatch.makeRe(glob, OPTIONS);
    const all = new RegExp(re.source, re.flags.includes('s') ? re.flags : re.flags + 's');
    matcher = (relPath: string) => all.test(relPath);
    if (cache.size >= MAX_CACHE) {
      cache.clear();
    }
    cache.set(glob, matcher);
  }
  return matcher;
}

/** True when the workgroup-relative `relPath` matches `glob`. */
export function globMatches(glob: string, relPath: string): boolean {
  return compileGlob(glob)(relPath);
}

/** True when the string contains glob syntax (is not a literal path). */
export function isGlob(glob: string): boolean {
  return picomatch.scan(glob).isGlob;
}

/**
 * The literal leading directory of a glob: every file it can match lies in
 * or below it. `start/*` → `start`, `a/b/**\/*.txt` → `a/b`, `*.txt` → `''`,
 * `data/x.csv` (no glob syntax) → `data`. Used to index rules and to limit
 * the walk of retroactive matching (M10).
 */
export function globBase(glob: string): string {
  const scan = picomatch.scan(glob);
  let base = scan.isGlob ? scan.base : dirOf(glob);
  // An escaped character (`a\*b`) is literal in the file name but not in
  // the text: stop before the first segment that has one.
  if (base.includes('\\')) {
    const segs = base.split('/');
    const i = segs.findIndex(seg => seg.includes('\\'));
    base = segs.slice(0, i).join('/');
  }
  return base.replace(/\/+$/, '');
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/**
 * Issues for a trigger glob: non-empty, relative to the workgroup (no
 * leading `/`, no `.`/`..`/empty segments, no trailing `/`), not negated,
 * and parseable.
 */
export function validateGlob(field: string, glob: unknown): IValidationIssue[] {
  const example = 'e.g. "start/*"';
  if (typeof glob !== 'string' || glob.trim() === '') {
    return [issue(field, 'must be a non-empty glob string', `give a glob relative to the workgroup, ${example}`)];
  }
  if (glob !== glob.trim()) {
    return [issue(field, `has leading or trailing spaces (got "${glob}")`, `remove them: "${glob.trim()}"`)];
  }
  if (glob.startsWith('/')) {
    return [
      issue(
        field,
        `must be relative to the workgroup, not absolute (got "${glob}")`,
        `drop the leading "/" and any workgroup prefix, ${example}`
      )
    ];
  }
  if (glob.startsWith('!')) {
    return [issue(field, `must not be a negated glob (got "${glob}")`, `name the files to match, ${example}`)];
  }
  if (glob.endsWith('/')) {
    return [issue(field, `ends with "/", so it matches no file (got "${glob}")`, `add a file part, e.g. "${glob}*"`)];
  }
  const segs = glob.split('/');
  if (segs.some(seg => seg === '..')) {
    return [
      issue(
        field,
        `must stay inside the workgroup; ".." is not allowed (got "${glob}")`,
        `write the path from the workgroup root, ${example}`
      )
    ];
  }
  if (segs.some(seg => seg === '.' || seg === '')) {
    const clean = segs.filter(seg => seg !== '.' && seg !== '').join('/');
    return [
      issue(field, `has an empty or "." path segment, which never matches (got "${glob}")`, `write it as "${clean}"`)
    ];
  }
  try {
    // strictBrackets: an unclosed "[", "{" or "(" is a typo, not a literal.
    picomatch.makeRe(glob, { ...OPTIONS, strictBrackets: true });
  } catch (err) {
    return [issue(field, `is not a valid glob: ${(err as Error).message}`, `check brackets and braces, ${example}`)];
  }
  return [];
}
