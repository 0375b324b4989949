/**
 * Validation issues shared by patterns, recipes and the UI forms.
 *
 * Every issue names the field and says how to fix it, because the person
 * reading it is usually looking at a YAML file or a form, not at our code.
 */

/** One problem with a definition. */
export interface IValidationIssue {
  /**
   * Dotted path of the offending field, e.g. `trigger.path` or
   * `parameterize_over.x.increment`; `FILE_FIELD` (or `''`) for the file as
   * a whole.
   */
  field: string;
  /** What is wrong, phrased to follow `field "<field>"`. */
  message: string;
  /** How to fix it. */
  fix: string;
}

/** The `field` of an issue about the whole file (syntax, empty file). */
export const FILE_FIELD = '(file)';

/** Kinds of definition that have names. */
export type DefinitionKind = 'pattern' | 'recipe';

/** Longest field path kept in an issue; a hostile 1 MB key must not make a 1 MB message. */
export const MAX_FIELD_LENGTH = 120;

/** Build an issue. */
export function issue(field: string, message: string, fix: string): IValidationIssue {
  if (field.length > MAX_FIELD_LENGTH) {
    field = `${field.slice(0, MAX_FIELD_LENGTH)}… (${field.length} characters)`;
  }
  return { field, message, fix };
}

/**
 * The candidate closest to a mistyped word (edit distance at most 2, or a
 * case-only difference), for "did you mean" hints; `undefined` when none is.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 40) {
    return undefined; // no typo is that long, and distance is quadratic
  }
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** One issue as a single line: `pattern "P": field "x" <message>; <fix>`. */
export function formatIssue(kind: DefinitionKind, name: string, item: IValidationIssue): string {
  const whole = item.field === '' || item.field === FILE_FIELD;
  const where = whole ? '' : ` field "${item.field}"`;
  const fix = item.fix ? `; ${item.fix}` : '';
  return `${kind} "${name}":${where} ${item.message}${fix}`;
}

/** All issues, one line each. */
export function formatIssues(kind: DefinitionKind, name: string, issues: readonly IValidationIssue[]): string {
  return issues.map(item => formatIssue(kind, name, item)).join('\n');
}

/** Thrown by APIs that cannot return issues, e.g. when loading into a Workflow. */
export class ValidationError extends Error {
  constructor(
    readonly kind: DefinitionKind,
    readonly definition: string,
    readonly issues: IValidationIssue[]
  ) {
    super(formatIssues(kind, definition, issues));
    this.name = 'ValidationError';
  }
}

/** Longest accepted name, to stay well inside file-name limits. */
export const MAX_NAME_LENGTH = 200;

const NAME_CHARS = /^[A-Za-z0-9_.-]+$/;

/**
 * Names are file stems (`patterns/<name>.yaml`, `recipes/<name>.ipynb`):
 * non-empty, letters, digits, `_`, `-` and `.`, no leading dot (that would
 * hide the file), no `/`.
 */
export function validateName(kind: DefinitionKind, name: unknown, field = 'name'): IValidationIssue[] {
  const example = kind === 'pattern' ? 'Pattern_One' : 'append';
  if (typeof name !== 'string' || name === '') {
    const got =
      typeof name === 'string'
        ? ''
        : ` (got ${name === null ? 'null' : typeof name === 'object' ? 'a ' + (Array.isArray(name) ? 'list' : 'mapping') : String(name)})`;
    return [
      issue(field, `must be a non-empty ${kind} name${got}`, `use letters, digits, "_", "-" or ".", e.g. "${example}"`)
    ];
  }
  if (name.length > MAX_NAME_LENGTH) {
    // Only this issue: the others would quote the whole (maybe huge) name.
    return [issue(field, `is ${name.length} characters long`, `shorten it to at most ${MAX_NAME_LENGTH} characters`)];
  }
  const issues: IValidationIssue[] = [];
  if (name.includes('/')) {
    issues.push(
      issue(
        field,
        `must not contain "/" (got "${name}")`,
        `a ${kind} name is a file stem; use "_" instead, e.g. "${name.replace(/\//g, '_')}"`
      )
    );
  } else if (!NAME_CHARS.test(name)) {
    issues.push(
      issue(
        field,
        `contains characters other than letters, digits, "_", "-" and "." (got "${name}")`,
        `rename it, e.g. "${name.replace(/[^A-Za-z0-9_.-]/g, '_')}"`
      )
    );
  }
  if (name.startsWith('.')) {
    issues.push(
      issue(
        field,
        `must not start with "." (got "${name}")`,
        `a leading dot hides the file; rename it, e.g. "${name.replace(/^\.+/, '') || example}"`
      )
    );
  }
  return issues;
}

/** Python keywords: not usable as variable names. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield'
]);

const PY_IDENTIFIER = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;

/**
 * True for a valid Python variable name. Non-NFKC names are refused because
 * Python normalises them, so the name in the notebook would differ.
 */
export function isPythonIdentifier(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    PY_IDENTIFIER.test(name) &&
    !PYTHON_KEYWORDS.has(name) &&
    name.normalize('NFKC') === name
  );
}

/** Issues for a recipe variable name (input, parameters, outputs, sweep). */
export function validateIdentifier(field: string, name: unknown): IValidationIssue[] {
  if (isPythonIdentifier(name)) {
    return [];
  }
  if (typeof name === 'string' && name.length > MAX_NAME_LENGTH) {
    return [
      issue(
        field,
        `is a variable name ${name.length} characters long`,
        `shorten it to at most ${MAX_NAME_LENGTH} characters`
      )
    ];
  }
  const shown = typeof name === 'string' ? `"${name}"` : String(name);
  if (typeof name === 'string' && PYTHON_KEYWORDS.has(name)) {
    return [
      issue(
        field,
        `is the Python keyword ${shown}, which cannot be a variable`,
        `rename the variable in the recipe and here, e.g. "${name}_"`
      )
    ];
  }
  const suggestion =
    typeof name === 'string' ? name.replace(/[^\p{XID_Continue}]/gu, '_').replace(/^(?=\d)/, '_') : 'infile';
  return [
    issue(
      field,
      `must be a Python variable name (got ${shown})`,
      `use letters, digits and "_", not starting with a digit, e.g. "${suggestion || 'infile'}"`
    )
  ];
}
