/**
 * Python's `fnmatch` in JavaScript, for thesis-format (mig_meow) patterns.
 *
 * mig_meow matches an event's workgroup-relative path against each
 * `input_paths` entry with `re.match(fnmatch.translate(glob), path)`
 * (localrunner.py, `handle_event`), so a thesis glob means exactly what
 * CPython's `fnmatch.translate` makes of it:
 *
 * - `*` matches any text, `/` and leading dots included (`deep/*` matches
 *   `deep/a/b/c.txt` and `deep/.hidden`); `?` matches any one character;
 * - `[abc]`, `[a-z]` and `[!a]` (negation) are classes; `[^a]` is the class
 *   of `^` and `a`, not a negation; a `]` right after `[` or `[!` is part of
 *   the class; an unclosed `[` is a literal `[`;
 * - everything else is literal: no braces, no `**`, no escapes (`\` is a
 *   character), and matching is case-sensitive (POSIX).
 *
 * This is a port of `translate` (CPython 3.11), class ranges included, to a
 * JavaScript RegExp over code points (`u`) with `.` matching line breaks (`s`).
 */

/** The RegExp that matches what `fnmatch.fnmatchcase(path, glob)` matches. */
export function fnmatchRegExp(glob: string): RegExp {
  const pat = Array.from(glob); // code points, as Python indexes a str
  const parts: (string | typeof STAR)[] = [];
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const c = pat[i++];
    if (c === '*') {
      if (parts[parts.length - 1] !== STAR) {
        parts.push(STAR);
      }
    } else if (c === '?') {
      parts.push('.');
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') {
        j++;
      }
      if (j < n && pat[j] === ']') {
        j++;
      }
      while (j < n && pat[j] !== ']') {
        j++;
      }
      if (j >= n) {
        parts.push(literal('['));
      } else {
        parts.push(bracket(pat.slice(i, j)));
        i = j + 1;
      }
    } else {
      parts.push(literal(c));
    }
  }
  // `*fixed*`: like Python's atomic `(?>.*?fixed)`, emulated with a
  // lookahead and a back-reference, so many stars cannot backtrack badly.
  let source = '';
  let k = 0;
  let group = 0;
  while (k < parts.length && parts[k] !== STAR) {
    source += parts[k++] as string;
  }
  while (k < parts.length) {
    k++; // a STAR
    let fixed = '';
    while (k < parts.length && parts[k] !== STAR) {
      fixed += parts[k++] as string;
    }
    if (k === parts.length) {
      source += '.*' + fixed;
    } else {
      group++;
      source += `(?=(.*?${fixed}))\\${group}`;
    }
  }
  return new RegExp(`^(?:${source})$`, 'su');
}

const STAR = Symbol('star');

function literal(c: string): string {
  return /^[A-Za-z0-9_]$/.test(c) ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/**
 * The RegExp of a closed `[...]`, `body` being what is between the
 * brackets. Python first rewrites the body (`stuff`) and then lets `re`
 * read it as a class; both steps are followed here.
 */
function bracket(body: string[]): string {
  let stuff: string;
  if (!body.includes('-')) {
    stuff = body.join('').replace(/\\/g, '\\\\');
  } else {
    const chunks: string[] = [];
    let i = 0;
    let k = body[0] === '!' ? 2 : 1;
    for (;;) {
      k = body.indexOf('-', k);
      if (k < 0) {
        break;
      }
      chunks.push(body.slice(i, k).join(''));
      i = k + 1;
      k = k + 3;
    }
    const chunk = body.slice(i).join('');
    if (chunk) {
      chunks.push(chunk);
    } else {
      chunks[chunks.length - 1] += '-';
    }
    // Remove empty ranges (`z-a`), as Python does.
    for (let m = chunks.length - 1; m > 0; m--) {
      const prev = Array.from(chunks[m - 1]);
      const next = Array.from(chunks[m]);
      if (prev.length && next.length && prev[prev.length - 1].codePointAt(0)! > next[0].codePointAt(0)!) {
        chunks[m - 1] = prev.slice(0, -1).join('') + next.slice(1).join('');
        chunks.splice(m, 1);
      }
    }
    stuff = chunks.map(s => s.replace(/\\/g, '\\\\').replace(/-/g, '\\-')).join('-');
  }
  stuff = stuff.replace(/([&~|])/g, '\\$1');
  if (stuff === '') {
    return '(?!)'; // an empty class never matches
  }
  if (stuff === '!') {
    return '.'; // a negated empty class matches any character
  }
  let negate = false;
  if (stuff[0] === '!') {
    negate = true;
    stuff = stuff.slice(1);
  } else if (stuff[0] === '^' || stuff[0] === '[') {
    stuff = '\\' + stuff;
  }
  return classOf(Array.from(stuff), negate);
}

/**
 * Read a Python regex class body (`re`'s rules: `\x` is the literal `x`
 * here, `a-b` is a range, a trailing `-` is literal) and write it for
 * JavaScript with every character escaped.
 */
function classOf(s: string[], negate: boolean): string {
  let out = '';
  let i = 0;
  const next = (): string => (s[i] === '\\' && i + 1 < s.length ? ((i += 2), s[i - 1]) : s[i++]);
  while (i < s.length) {
    const lo = next();
    if (s[i] === '-' && i + 1 < s.length) {
      i++;
      const hi = next();
      if (lo.codePointAt(0)! > hi.codePointAt(0)!) {
        throw new Error(`bad character range ${lo}-${hi}`);
      }
      out += `${literal(lo)}-${literal(hi)}`;
    } else {
      out += literal(lo);
    }
  }
  return `[${negate ? '^' : ''}${out}]`;
}
