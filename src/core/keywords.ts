/**
 * Keywords in parameter and output values, replaced per job (spec §3,
 * thesis table 10.1). For a trigger `<root>/dir1/dir2/file.ext`:
 *
 * | keyword       | value                        |
 * |---------------|------------------------------|
 * | `{PATH}`      | `<root>/dir1/dir2/file.ext`  |
 * | `{VGRID}`     | `<root>`                     |
 * | `{BASE}`      | `<root>`                     |
 * | `{REL_PATH}`  | `dir1/dir2/file.ext`         |
 * | `{DIR}`       | `<root>/dir1/dir2`           |
 * | `{REL_DIR}`   | `dir1/dir2`                  |
 * | `{FILENAME}`  | `file.ext`                   |
 * | `{PREFIX}`    | `file`                       |
 * | `{EXTENSION}` | `.ext`                       |
 * | `{JOB}`       | the job id                   |
 *
 * Edge cases: a file at the root has `REL_DIR` `''` and `DIR` = root; a file
 * without extension has `EXTENSION` `''`; a dot file `.hidden` has `PREFIX`
 * `.hidden` and `EXTENSION` `''`; `a.tar.gz` has `PREFIX` `a.tar` and
 * `EXTENSION` `.gz`. Without a trigger file (timer, manual) `path` is `''`
 * and every file keyword is `''`, except `DIR` (the root).
 */

import { basename, dirname, extname, join, normalise } from './paths';
import { PyFloat, isPlainObject } from './pyvalue';

/** The keywords, in the order of the table above. */
export const KEYWORDS = [
  'PATH',
  'VGRID',
  'BASE',
  'REL_PATH',
  'DIR',
  'REL_DIR',
  'FILENAME',
  'PREFIX',
  'EXTENSION',
  'JOB'
] as const;

export type Keyword = (typeof KEYWORDS)[number];

/** What a job knows when its variables are made. */
export interface IKeywordContext {
  /** Absolute path of the workgroup root. */
  root: string;
  /** Workgroup-relative POSIX path of the triggering file, `''` if none. */
  path: string;
  /** The job id. */
  jobId: string;
}

function stripSlashes(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** The value of every keyword for one job. */
export function keywordValues(ctx: IKeywordContext): Record<Keyword, string> {
  const root = stripSlashes(ctx.root);
  const rel = ctx.path === '' ? '' : normalise(ctx.path).replace(/\/+$/, '');
  if (rel === '' || rel === '.') {
    return {
      PATH: '',
      VGRID: root,
      BASE: root,
      REL_PATH: '',
      DIR: root,
      REL_DIR: '',
      FILENAME: '',
      PREFIX: '',
      EXTENSION: '',
      JOB: ctx.jobId
    };
  }
  const relDir = dirname(rel) === '.' ? '' : dirname(rel);
  const filename = basename(rel);
  const extension = extname(filename);
  return {
    PATH: join(root, rel),
    VGRID: root,
    BASE: root,
    REL_PATH: rel,
    DIR: relDir === '' ? root : join(root, relDir),
    REL_DIR: relDir,
    FILENAME: filename,
    PREFIX: filename.slice(0, filename.length - extension.length),
    EXTENSION: extension,
    JOB: ctx.jobId
  };
}

const KEYWORD_RE = new RegExp(`\\{(${KEYWORDS.join('|')})\\}`, 'g');

/** Replace keywords in one string; unknown `{WORDS}` are left alone. */
export function substituteString(
  text: string,
  values: Record<Keyword, string>
): string {
  // One pass: a file name containing `{JOB}` is not substituted again.
  return text.replace(KEYWORD_RE, (_m, word: Keyword) => values[word]);
}

/**
 * Replace keywords in every string inside `value` (recursively in arrays
 * and plain objects; keys are left as they are). Numbers, booleans, null,
 * `PyFloat` and other objects are returned untouched. The input is not
 * modified.
 */
export function substituteKeywords<T>(value: T, ctx: IKeywordContext): T {
  return substitute(value, keywordValues(ctx)) as T;
}

function substitute(value: unknown, values: Record<Keyword, string>): unknown {
  if (typeof value === 'string') {
    return substituteString(value, values);
  }
  if (Array.isArray(value)) {
    return value.map(item => substitute(item, values));
  }
  if (value instanceof PyFloat || !isPlainObject(value)) {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    out[key] = substitute(value[key], values);
  }
  return out;
}
