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
import { PyDict, PyFloat, isPlainObject, pyKeyText, setKey } from './pyvalue';
import { IValidationIssue, closest, issue } from './validation';

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

/**
 * Text shaped like a keyword: `{`, an upper-case word, `}`. Such a word that
 * is not a keyword is refused (`keywordIssues`). Other braces are literal
 * text and pass through unchanged: lower-case or mixed-case words
 * (`{name}`, Python format fields), `{}`, `{0:.2f}`, JSON, spaces
 * (`{ NOTE }`).
 */
const KEYWORD_SHAPED = /\{([A-Z][A-Z0-9_]*)\}/g;

/** A `{word}` that is a keyword except for its case (`{filename}`). */
const WRONG_CASE = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

const isKeyword = (word: string): word is Keyword => (KEYWORDS as readonly string[]).includes(word);

const KEYWORD_LIST = KEYWORDS.map(k => `{${k}}`).join(', ');

/**
 * Errors for keyword-shaped words that are not keywords (`{FILENAM}`) in
 * every string inside `value` (a pattern's `parameters` or `outputs`), each
 * naming its field (`outputs.outfile`, `parameters.list[1]`) and the nearest
 * keyword. Without this a typo is passed on literally: every job writes the
 * same file `data/out/{FILENAM}`.
 */
export function keywordIssues(value: unknown, field: string): IValidationIssue[] {
  const out: IValidationIssue[] = [];
  forEachString(value, field, (at, text) => {
    const seen = new Set<string>();
    for (const m of text.matchAll(KEYWORD_SHAPED)) {
      if (isKeyword(m[1]) || seen.has(m[1])) {
        continue;
      }
      seen.add(m[1]);
      const guess = closest(m[1], KEYWORDS);
      out.push(
        issue(
          at,
          `uses {${m[1]}}, which is not a keyword (it would be passed on as written, the same for every job)`,
          guess ? `did you mean {${guess}}? Keywords are ${KEYWORD_LIST}` : `keywords are ${KEYWORD_LIST}`
        )
      );
    }
  });
  return out;
}

/**
 * Warnings for a keyword in the wrong case (`{filename}`): lower- and
 * mixed-case braces are literal text (a Python format string may mean
 * `{path}`), so this is not refused, only pointed out.
 */
export function keywordCaseWarnings(value: unknown, field: string): IValidationIssue[] {
  const out: IValidationIssue[] = [];
  forEachString(value, field, (at, text) => {
    for (const m of text.matchAll(WRONG_CASE)) {
      const upper = m[1].toUpperCase();
      if (m[1] !== upper && isKeyword(upper)) {
        out.push(
          issue(
            at,
            `contains "{${m[1]}}", which is passed on as written: keywords are upper case`,
            `did you mean {${upper}}? If the braces are meant literally, ignore this`
          )
        );
      }
    }
  });
  return out;
}

/** Call `visit` for every string inside `value`, with its field path. */
export function forEachString(value: unknown, field: string, visit: (field: string, text: string) => void): void {
  if (typeof value === 'string') {
    visit(field, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => forEachString(item, `${field}[${i}]`, visit));
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      forEachString(value[key], `${field}.${key}`, visit);
    }
  } else if (value instanceof PyDict) {
    for (const [key, item] of value.entries) {
      forEachString(item, `${field}.${pyKeyText(key)}`, visit);
    }
  }
}

const KEYWORD_RE = new RegExp(`\\{(${KEYWORDS.join('|')})\\}`, 'g');

/**
 * Replace keywords in one string; unknown `{WORDS}` are left alone (a
 * pattern refuses keyword-shaped ones, see `keywordIssues`).
 */
export function substituteString(text: string, values: Record<Keyword, string>): string {
  // One pass: a file name containing `{JOB}` is not substituted again.
  return text.replace(KEYWORD_RE, (_m, word: Keyword) => values[word]);
}

/**
 * Replace keywords in every string inside `value` (recursively in arrays,
 * plain objects and `PyDict`s; keys are left as they are). Numbers, booleans, null,
 * `PyFloat` and other objects are returned untouched. The input is not
 * modified.
 */
export function substituteKeywords<T>(value: T, ctx: IKeywordContext): T {
  // The values are worked out only if a string holds a brace: most jobs'
  // parameters have no keyword, and this runs for every job made.
  let values: Record<Keyword, string> | undefined;
  return substitute(value, () => (values ??= keywordValues(ctx))) as T;
}

function substitute(value: unknown, values: () => Record<Keyword, string>): unknown {
  if (typeof value === 'string') {
    return value.includes('{') ? substituteString(value, values()) : value;
  }
  if (Array.isArray(value)) {
    return value.map(item => substitute(item, values));
  }
  if (value instanceof PyDict) {
    return new PyDict(value.entries.map(([key, item]) => [key, substitute(item, values)] as const));
  }
  if (value instanceof PyFloat || !isPlainObject(value)) {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    setKey(out, key, substitute(value[key], values));
  }
  return out;
}
