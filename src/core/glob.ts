/**
 * Globs over workgroup-relative POSIX paths (pattern triggers, P3), in one
 * of two syntaxes (`GlobSyntax`), chosen by the pattern:
 *
 * Native (picomatch, bash-like) — native-format patterns:
 * - `*` matches within one path segment: `dir/*` matches `dir/file` but not
 *   `dir/sub/file` nor `dir` itself;
 * - `**` matches any number of segments: `dir/**` matches `dir/a/b/c`;
 * - `?`, `[abc]`, `[!a]`/`[^a]` (negation), `{a,b}` and extglobs `@(a|b)`
 *   work as in bash;
 * - dot files and dot folders are matched only when the glob names the dot:
 *   `dir/*` does not match `dir/.hidden`, `dir/.*` does;
 * - `dir/*` matches files with or without an extension; `dir/*.*` only
 *   files whose name contains a dot after its first character.
 *
 * fnmatch (Python's, see `fnmatch.ts`) — thesis-format patterns, as
 * mig_meow matched them, and native ones with `glob: fnmatch`: `*` and `?`
 * cross `/` and match dots (`deep/*` matches `deep/a/b/c.txt` and
 * `deep/.hidden`), `[!a]` negates, nothing else is special.
 *
 * Whatever the syntax, nothing under meow's state folder `.meow/` ever
 * matches: a thesis `*` must not fire on job folders.
 */

import picomatch from 'picomatch/posix';
import { fnmatchRegExp } from './fnmatch';
import type { GlobSyntax } from './types';
import type { IValidationIssue } from './validation';
import { issue } from './validation';

export type { GlobSyntax };

export const GLOB_SYNTAXES: readonly GlobSyntax[] = ['native', 'fnmatch'];

/** Anything with a glob: a file, manual or absence trigger. */
export interface IGlobbed {
  path: string;
  /** Absent means `native`. */
  glob?: GlobSyntax;
}

/** The state folder no glob ever matches (the service's default `--state-dir`). */
export const STATE_FOLDER = '.meow';

/** The syntax in a few words, for the graph, lists and `meow validate`. */
export function globSyntaxText(syntax: GlobSyntax | undefined): string {
  return syntax === 'fnmatch'
    ? 'fnmatch: * and ? also match "/" and dot files'
    : 'native: * stays within a folder, dot files only when named';
}

/** A compiled glob: call it with a workgroup-relative path. */
export type GlobMatcher = (relPath: string) => boolean;

// `posix: true` makes `[!a]` a negated class, as in bash and fnmatch;
// without it picomatch reads `[!a]` as the class of `!` and `a`.
const OPTIONS: picomatch.PicomatchOptions = { dot: false, posix: true };

// Compiling is the expensive part and the same globs are matched over and
// over; the set of globs in use is small (one per pattern).
const cache = new Map<string, GlobMatcher>();
const MAX_CACHE = 10000;

/**
 * Compile a glob (cached). Paths under `.meow/` never match.
 * @throws Error when the glob cannot be parsed.
 */
export function compileGlob(glob: string, syntax: GlobSyntax = 'native'): GlobMatcher {
  const key = `${syntax}:${glob}`;
  let matcher = cache.get(key);
  if (!matcher) {
    const re = syntax === 'fnmatch' ? fnmatchRegExp(glob) : nativeRegExp(glob);
    matcher = (relPath: string) => !inStateFolder(relPath) && re.test(relPath);
    if (cache.size >= MAX_CACHE) {
      cache.clear();
    }
    cache.set(key, matcher);
  }
  return matcher;
}

function nativeRegExp(glob: string): RegExp {
  // picomatch's `.` stops at line terminators; with the `s` flag a file
  // whose name holds `\n` or `\r` matches like any other.
  const re = picomatch.makeRe(glob, OPTIONS);
  return new RegExp(re.source, re.flags.includes('s') ? re.flags : re.flags + 's');
}

function inStateFolder(relPath: string): boolean {
  return relPath === STATE_FOLDER || relPath.startsWith(STATE_FOLDER + '/');
}

/** True when the workgroup-relative `relPath` matches `glob`. */
export function globMatches(glob: string, relPath: string, syntax: GlobSyntax = 'native'): boolean {
  return compileGlob(glob, syntax)(relPath);
}

/** The matcher of a trigger's glob, in the trigger's syntax: every call site uses this. */
export function triggerMatcher(t: IGlobbed): GlobMatcher {
  return compileGlob(t.path, t.glob ?? 'native');
}

/** The literal leading folder of a trigger's glob, in its syntax (see `globBase`). */
export function triggerGlobBase(t: IGlobbed): string {
  return globBase(t.path, t.glob ?? 'native');
}

/** fnmatch's special characters; everything else is literal. */
const FNMATCH_SPECIAL = /[*?[]/;

/** True when the string contains glob syntax (is not a literal path). */
export function isGlob(glob: string, syntax: GlobSyntax = 'native'): boolean {
  return syntax === 'fnmatch' ? FNMATCH_SPECIAL.test(glob) : picomatch.scan(glob).isGlob;
}

/**
 * The literal leading directory of a glob: every file it can match lies in
 * or below it. `start/*` → `start`, `a/b/**\/*.txt` → `a/b`, `*.txt` → `''`,
 * `data/x.csv` (no glob syntax) → `data`. Used to index rules and to limit
 * the walk of retroactive matching (M10). For fnmatch it is the folders
 * before the first segment with `*`, `?` or `[` (`deep/*` → `deep`: its
 * `*` matches `a/b/c.txt` too, which lies below `deep`).
 */
export function globBase(glob: string, syntax: GlobSyntax = 'native'): string {
  if (syntax === 'fnmatch') {
    const segs = glob.split('/');
    const i = segs.findIndex(seg => FNMATCH_SPECIAL.test(seg));
    return (i < 0 ? segs.slice(0, -1) : segs.slice(0, i)).join('/');
  }
  if (glob.startsWith('!')) {
    return ''; // negation to picomatch (refused in a trigger), literal to fnmatch
  }
  const scan = picomatch.scan(glob);
  let base = scan.isGlob ? scan.base : dirOf(glob);
  // An escaped character (`a\*b`) is literal in the file name but not in
  // the text: stop before the first segment that has one. picomatch takes
  // an unbalanced `[` as literal text; stopping before any segment with
  // `*`, `?` or `[` too changes nothing for a valid native glob, and keeps
  // this base safe for the same text read as fnmatch (callers that only
  // have the text, e.g. the scheduler's retroactive walk).
  const segs = base.split('/');
  const i = segs.findIndex(seg => seg.includes('\\') || FNMATCH_SPECIAL.test(seg));
  if (i >= 0) {
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
 * leading `/`, no `.`/`..`/empty segments, no trailing `/`), not inside
 * `.meow/`, not negated (native; in fnmatch a leading `!` is a literal
 * character), and parseable.
 */
export function validateGlob(field: string, glob: unknown, syntax: GlobSyntax = 'native'): IValidationIssue[] {
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
  if (glob.startsWith('!') && syntax === 'native') {
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
  if (segs[0] === STATE_FOLDER) {
    return [
      issue(
        field,
        `names meow's state folder "${STATE_FOLDER}/", whose files no pattern ever matches (got "${glob}")`,
        `watch a folder of your own data, ${example}`
      )
    ];
  }
  try {
    if (syntax === 'fnmatch') {
      // An unclosed "[" is a literal to fnmatch; only a bad range fails.
      fnmatchRegExp(glob);
    } else {
      // strictBrackets: an unclosed "[", "{" or "(" is a typo, not a literal.
      picomatch.makeRe(glob, { ...OPTIONS, strictBrackets: true });
    }
  } catch (err) {
    return [issue(field, `is not a valid glob: ${(err as Error).message}`, `check brackets and braces, ${example}`)];
  }
  return [];
}
