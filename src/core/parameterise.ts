/**
 * Parameterising a recipe notebook (spec §4).
 *
 * Without a `parameters`-tagged cell, no preparation of the notebook is
 * needed: the first top-level assignment of each variable is rewritten in
 * place, so the value lands exactly where the author defined it. With one,
 * the papermill convention applies: a cell tagged `injected-parameters` is
 * added after it and nothing is rewritten.
 *
 * Finding assignments uses a small Python scanner (strings, comments,
 * brackets, backslash continuations), not a line regex, so multi-line
 * values are replaced whole and text inside strings is never touched.
 */

import { toPythonLiteral } from './pyvalue';
import type { INotebook, INotebookCell } from './types';
import { isPythonIdentifier } from './validation';

/** Tag of the cell papermill (and MEOW) reads parameters after. */
export const PARAMETERS_TAG = 'parameters';
/** Tag of the cell MEOW adds. */
export const INJECTED_TAG = 'injected-parameters';

/** What `parameteriseNotebook` did. */
export interface IParameterised {
  /** A new notebook; the input is left unchanged. */
  notebook: INotebook;
  /** Variables whose assignment was rewritten in place. */
  rewritten: string[];
  /** Variables written into an injected cell. */
  injected: string[];
  /** `parameters-cell` when the notebook has a `parameters`-tagged cell. */
  mode: 'assignments' | 'parameters-cell';
}

/**
 * Give a notebook new values for its variables. Outputs and execution
 * counts of all cells are cleared in the result.
 *
 * @throws Error if a variable name is not a Python identifier, or a value
 * has no Python literal.
 */
export function parameteriseNotebook(nb: INotebook, values: Record<string, unknown>): IParameterised {
  const names = Object.keys(values);
  const literals = new Map<string, string>();
  for (const name of names) {
    if (!isPythonIdentifier(name)) {
      throw new Error(`cannot parameterise "${name}": it is not a Python variable name`);
    }
    literals.set(name, toPythonLiteral(values[name]));
  }
  const notebook = JSON.parse(JSON.stringify(nb)) as INotebook;
  for (const cell of notebook.cells) {
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  const tagged = notebook.cells.findIndex(c => c.cell_type === 'code' && hasTag(c, PARAMETERS_TAG));
  if (tagged >= 0) {
    // papermill replaces an earlier injection rather than stacking them.
    const paramsCell = notebook.cells[tagged];
    notebook.cells = notebook.cells.filter(c => !hasTag(c, INJECTED_TAG));
    const at = notebook.cells.indexOf(paramsCell) + 1;
    if (names.length > 0) {
      notebook.cells.splice(
        at,
        0,
        injectedCell(notebook, literals, names, '# Parameters', Array.isArray(paramsCell.source))
      );
    }
    return { notebook, rewritten: [], injected: names, mode: 'parameters-cell' };
  }
  const wanted = new Set(names);
  const rewritten: string[] = [];
  for (const cell of notebook.cells) {
    if (wanted.size === 0) {
      break;
    }
    if (cell.cell_type !== 'code') {
      continue;
    }
    const text = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    if (isCellMagic(text)) {
      continue;
    }
    const edits = findAssignments(text, wanted);
    if (edits.length === 0) {
      continue;
    }
    let out = text;
    for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
      out = out.slice(0, edit.start) + edit.render(literals.get(edit.name)!) + out.slice(edit.end);
      wanted.delete(edit.name);
    }
    for (const edit of edits) {
      rewritten.push(edit.name);
    }
    cell.source = Array.isArray(cell.source) ? splitLines(out) : out;
  }
  const missing = names.filter(n => wanted.has(n));
  if (missing.length > 0) {
    const listForm = notebook.cells.length === 0 || Array.isArray(notebook.cells[0].source);
    notebook.cells.unshift(
      injectedCell(notebook, literals, missing, '# Parameters not assigned in the notebook, injected by MEOW', listForm)
    );
  }
  return {
    notebook,
    rewritten: names.filter(n => rewritten.includes(n)),
    injected: missing,
    mode: 'assignments'
  };
}

function hasTag(cell: INotebookCell, tag: string): boolean {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) && tags.includes(tag);
}

/** Cell magics such as `%%bash` make the cell something other than Python. */
function isCellMagic(text: string): boolean {
  const m = /^\s*%%(\w+)/.exec(text);
  return m !== null && !['time', 'timeit', 'capture'].includes(m[1]);
}

/** Split after each newline, as nbformat stores `source` lists. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function injectedCell(
  nb: INotebook,
  literals: Map<string, string>,
  names: string[],
  comment: string,
  listForm: boolean
): INotebookCell {
  const text = [comment, ...names.map(n => `${n} = ${literals.get(n)}`)].join('\n') + '\n';
  const cell: INotebookCell = {
    cell_type: 'code',
    execution_count: null,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    source: listForm ? splitLines(text) : text
  };
  // Cell ids exist from nbformat 4.5 on and must be unique.
  if (nb.nbformat > 4 || (nb.nbformat === 4 && nb.nbformat_minor >= 5)) {
    const used = new Set(nb.cells.map(c => c.id));
    let id = INJECTED_TAG;
    for (let n = 2; used.has(id); n++) {
      id = `${INJECTED_TAG}-${n}`;
    }
    cell.id = id;
  }
  return cell;
}

// ---------------------------------------------------------------------------
// A small Python scanner

/** What a source character is, for finding statement structure. */
const Mark = {
  /** Code outside any bracket. */
  Top: 0,
  /** Code inside (), [] or {} (including comments there). */
  Nested: 1,
  /** Inside a string literal. */
  String: 2,
  /** A comment (or IPython `%magic` / `!shell` line) outside brackets. */
  Comment: 3
} as const;

/** A logical line: `[start, end)`, `end` at its newline or the text's end. */
export interface ILogicalLine {
  start: number;
  end: number;
}

/** The scanner's result: a mark per character (see `Mark`), and the lines. */
export interface IPythonScan {
  marks: Uint8Array;
  lines: ILogicalLine[];
}

const QUOTES = `'"`;

/**
 * Mark every character and split the text into logical lines (a newline
 * inside brackets, a string or after a backslash does not end one).
 */
export function scanPython(src: string): IPythonScan {
  const n = src.length;
  const marks = new Uint8Array(n);
  const lines: ILogicalLine[] = [];
  let depth = 0;
  let lineStart = 0;
  let atStart = true;
  let i = 0;
  while (i < n) {
    const c = src[i];
    if (atStart && c !== ' ' && c !== '\t') {
      atStart = false;
      if ((c === '%' || c === '!') && depth === 0) {
        // IPython line magic / shell escape: not Python, may hold stray quotes.
        while (i < n && src[i] !== '\n') {
          marks[i++] = Mark.Comment;
        }
        continue;
      }
    }
    if (c === '#') {
      const mark = depth === 0 ? Mark.Comment : Mark.Nested;
      while (i < n && src[i] !== '\n') {
        marks[i++] = mark;
      }
      continue;
    }
    if (QUOTES.includes(c)) {
      i = scanString(src, i, marks);
      continue;
    }
    if (c === '\\' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) {
      // Explicit line joining: the logical line goes on.
      const len = src[i + 1] === '\n' ? 2 : 3;
      for (let k = 0; k < len; k++) {
        marks[i + k] = depth === 0 ? Mark.Top : Mark.Nested;
      }
      i += len;
      continue;
    }
    if ('([{'.includes(c)) {
      marks[i] = depth === 0 ? Mark.Top : Mark.Nested;
      depth++;
      i++;
      continue;
    }
    if (')]}'.includes(c)) {
      depth = Math.max(0, depth - 1);
      marks[i] = depth === 0 ? Mark.Top : Mark.Nested;
      i++;
      continue;
    }
    marks[i] = depth === 0 ? Mark.Top : Mark.Nested;
    if (c === '\n' && depth === 0) {
      lines.push({ start: lineStart, end: i });
      lineStart = i + 1;
      atStart = true;
    }
    i++;
  }
  if (lineStart < n) {
    lines.push({ start: lineStart, end: n });
  }
  return { marks, lines };
}

/** Mark a string literal starting at the quote `i`; returns the index after it. */
function scanString(src: string, i: number, marks: Uint8Array): number {
  const q = src[i];
  const triple = src.startsWith(q + q + q, i);
  const close = triple ? q + q + q : q;
  let k = i + close.length;
  while (k < src.length) {
    if (src[k] === '\\') {
      k += 2; // an escaped character (also in raw strings, for tokenising)
      continue;
    }
    if (src.startsWith(close, k)) {
      k += close.length;
      break;
    }
    if (!triple && src[k] === '\n') {
      break; // unterminated: Python would fail; don't swallow the cell
    }
    k++;
  }
  k = Math.min(k, src.length);
  marks.fill(Mark.String, i, k);
  return k;
}

/** One assignment to rewrite: `[start, end)` is replaced by `render(literal)`. */
export interface IAssignmentEdit {
  name: string;
  start: number;
  end: number;
  render: (literal: string) => string;
}

const LINE_START_NAME = /^[\p{XID_Start}_]\p{XID_Continue}*/u;
const ID_CHAR = /[\p{XID_Continue}]/u;

/**
 * The first top-level assignment of each wanted name, in one scan of a
 * cell's text. Top-level means the statement starts in column 0 (so not in
 * a def/class/if body) on a logical line of its own.
 */
export function findAssignments(src: string, wanted: ReadonlySet<string>): IAssignmentEdit[] {
  const { marks, lines } = scanPython(src);
  const edits: IAssignmentEdit[] = [];
  const found = new Set<string>();
  for (const line of lines) {
    const m = LINE_START_NAME.exec(src.slice(line.start, Math.min(line.end, line.start + 200)));
    if (!m || !wanted.has(m[0]) || found.has(m[0]) || marks[line.start] !== Mark.Top) {
      continue;
    }
    const name = m[0];
    const edit = assignmentAt(src, marks, line, name);
    if (edit) {
      edits.push(edit);
      found.add(name);
    }
  }
  return edits;
}

const AUGMENT_BEFORE = '=!<>+-*/%&|^@:';

/** Index of a top-level plain `=` (not `==`, `<=`, `+=`, ...) in `[from, to)`. */
function findEquals(src: string, marks: Uint8Array, from: number, to: number): number {
  for (let k = from; k < to; k++) {
    if (marks[k] !== Mark.Top) {
      continue;
    }
    if (src[k] === '=' && src[k + 1] !== '=' && !AUGMENT_BEFORE.includes(src[k - 1] ?? '')) {
      return k;
    }
    if (src[k] === ';' || marks[k] === Mark.Comment) {
      return -1;
    }
  }
  return -1;
}

function assignmentAt(src: string, marks: Uint8Array, line: ILogicalLine, name: string): IAssignmentEdit | undefined {
  let j = line.start + name.length;
  if (j < line.end && ID_CHAR.test(src[j])) {
    return undefined;
  }
  while (src[j] === ' ' || src[j] === '\t') {
    j++;
  }
  let eq: number;
  let annotation: string | undefined;
  if (src[j] === ':' && src[j + 1] !== '=') {
    // `name: T = value`; `name: T` alone assigns nothing.
    eq = findEquals(src, marks, j + 1, line.end);
    if (eq < 0) {
      return undefined;
    }
    annotation = src.slice(j + 1, eq).trim();
  } else if (src[j] === '=' && src[j + 1] !== '=') {
    eq = j;
  } else {
    return undefined; // `name == 1`, `name += 1`, `name.x = 1`, `name, b = ...`
  }
  // The value runs to a top-level `;` or comment, or the end of the line.
  let end = line.end;
  for (let k = eq + 1; k < line.end; k++) {
    if (marks[k] === Mark.Comment || (marks[k] === Mark.Top && src[k] === ';')) {
      end = k;
      break;
    }
  }
  while (end > eq + 1 && ' \t\r'.includes(src[end - 1])) {
    end--;
  }
  if (annotation === undefined) {
    const chained = chainedAssignment(src, marks, eq + 1, end);
    if (chained !== undefined) {
      // `name = other = v` → keep `other = v`, then set name.
      return { name, start: line.start, end, render: lit => `${chained}\n${name} = ${lit}` };
    }
  }
  const target = annotation === undefined ? name : `${name}: ${annotation}`;
  return { name, start: line.start, end, render: lit => `${target} = ${lit}` };
}

/** For `name = a = v`, the text `a = v`; undefined for a plain assignment. */
function chainedAssignment(src: string, marks: Uint8Array, from: number, to: number): string | undefined {
  const eq = findEquals(src, marks, from, to);
  if (eq < 0) {
    return undefined;
  }
  // `lambda x=1: x` has a top-level `=` that is a default, not a target.
  const before = src.slice(from, eq);
  if (/(^|[^\p{XID_Continue}])lambda([^\p{XID_Continue}]|$)/u.test(before)) {
    return undefined;
  }
  return src.slice(from, to).trim();
}
