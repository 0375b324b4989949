/**
 * Values handed from YAML to Python.
 *
 * JavaScript has one number type, Python has int and float, and a recipe can
 * tell `1` from `1.0` (`range(x)` fails on a float, `x / 2` differs in
 * meaning for users reading the notebook). So YAML is read with two
 * refinements kept through to the literal written into the notebook:
 *
 * - a float whose value is integral (`1.0`, `2e3`) becomes a `PyFloat`;
 * - an int outside the safe integer range becomes a `bigint` (exact);
 * - a mapping with a key that is not text (`{1: a, true: b}`) becomes a
 *   `PyDict`, so `d[1]` works in the notebook (keys all text: a plain object).
 *
 * Note: `JSON.stringify` cannot serialise a `bigint`; use `toJSONValue`
 * (or `jsonReplacer`) before sending values as JSON.
 */

import * as YAML from 'yaml';
import { Scalar } from 'yaml';
import type { ScalarTag, Tags } from 'yaml';
import { PyDict, PyFloat, isPlainObject, pyFloatRepr, pyKeyText, setKey, yamlFloatText } from './pytypes';
import type { PyKey } from './pytypes';
import { clipText, controlCharProblem, duplicateKeys, MAX_YAML_DEPTH, nestingProblem } from './yamlGuards';

export { clipText, MAX_YAML_DEPTH } from './yamlGuards';
export * from './pytypes';

// ---------------------------------------------------------------------------
// Python literals

/** Python int literal text for an integral number or bigint. */
function pyIntRepr(n: number | bigint): string {
  // BigInt avoids `1e+21` (a float in Python) for large integral numbers.
  return BigInt(n).toString();
}

/**
 * Characters Python's `str.isprintable()` rejects: control, format,
 * surrogate, private-use, unassigned, and separators other than the space.
 * Escaping them keeps the literal on one line (U+2028 etc. would split a
 * cell in editors) and visible.
 */
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * A Python string literal that evaluates to `s`, in the style of `repr`:
 * single quotes unless the text contains `'` and no `"`; backslash, the
 * quote, newline, carriage return and tab escaped; other non-printable
 * characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`. Iteration is by code point,
 * so an emoji (a surrogate pair in JavaScript) stays one character, and a
 * lone surrogate becomes `\udXXX` rather than invalid UTF-8.
 */
export function pyStringLiteral(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case quote:
        out += '\\' + quote;
        continue;
    }
    if (ch !== ' ' && (NON_PRINTABLE.test(ch) || (cp >= 0xd800 && cp <= 0xdfff))) {
      if (cp < 0x100) {
        out += '\\x' + hex(cp, 2);
      } else if (cp < 0x10000) {
        out += '\\u' + hex(cp, 4);
      } else {
        out += '\\U' + hex(cp, 8);
      }
      continue;
    }
    out += ch;
  }
  return out + quote;
}

/**
 * The Python literal for a YAML/JSON value:
 *
 * - string → `'...'` (see `pyStringLiteral`)
 * - integral number, bigint → int; other number, `PyFloat` → float, with
 *   `float('inf')`, `-float('inf')`, `float('nan')` and `-0.0`
 * - boolean → `True`/`False`; null, undefined → `None`
 * - array → list; plain object, `PyDict`, Map → dict (a `PyDict`'s keys
 *   keep their type: `{1: 1, True: 'b', None: 'c'}`); Date → ISO 8601 string
 *
 * A plain JavaScript `-0` is written `-0.0`: the sign is the only thing
 * that distinguishes it, and only floats have one.
 *
 * @throws TypeError for anything else (functions, class instances, cycles).
 */
export function toPythonLiteral(v: unknown): string {
  return literal(v, new Set());
}

function literal(v: unknown, seen: Set<object>): string {
  if (v === null || v === undefined) {
    return 'None';
  }
  switch (typeof v) {
    case 'string':
      return pyStringLiteral(v);
    case 'boolean':
      return v ? 'True' : 'False';
    case 'bigint':
      return pyIntRepr(v);
    case 'number':
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        return pyIntRepr(v);
      }
      return pyFloatRepr(v);
  }
  if (v instanceof PyFloat) {
    return pyFloatRepr(v.value);
  }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) {
      throw new TypeError('cannot write an invalid Date as a Python literal');
    }
    return pyStringLiteral(v.toISOString());
  }
  if (typeof v !== 'object') {
    throw new TypeError(`cannot write a ${typeof v} as a Python literal`);
  }
  if (seen.has(v)) {
    throw new TypeError('cannot write a value that contains itself as a Python literal');
  }
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      return '[' + v.map(item => literal(item, seen)).join(', ') + ']';
    }
    if (v instanceof PyDict || v instanceof Map) {
      const items: string[] = [];
      for (const [key, value] of v instanceof PyDict ? v.entries : v) {
        if (!isPyKey(key)) {
          throw new TypeError('a dict key must be a string, number, boolean or null');
        }
        items.push(`${literal(key, seen)}: ${literal(value, seen)}`);
      }
      return '{' + items.join(', ') + '}';
    }
    if (isPlainObject(v)) {
      const items = Object.keys(v).map(key => `${pyStringLiteral(key)}: ${literal(v[key], seen)}`);
      return '{' + items.join(', ') + '}';
    }
  } finally {
    seen.delete(v);
  }
  const ctor = (v as { constructor?: { name?: string } }).constructor?.name;
  throw new TypeError(`cannot write a ${ctor ?? 'object'} as a Python literal`);
}

/** A value Python can use as a dict key and YAML can write as a plain key. */
export function isPyKey(k: unknown): k is PyKey {
  return k === null || (typeof k !== 'object' && typeof k !== 'function' && k !== undefined) || k instanceof PyFloat;
}

/**
 * A JSON-safe copy: `PyFloat` → number, `bigint` → number (nearest), Date →
 * ISO string, `PyDict` and Map → object keyed by each key's YAML text (`1`,
 * `1.0`, `true`, `null`; see `PyDict.toJSON`). Everything else is copied as is.
 */
export function toJSONValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return Number(v);
  }
  if (v instanceof PyFloat) {
    return v.value;
  }
  if (v instanceof Date) {
    return v.toISOString();
  }
  if (Array.isArray(v)) {
    return v.map(toJSONValue);
  }
  if (v instanceof PyDict || v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of v instanceof PyDict ? v.entries : v) {
      setKey(out, isPyKey(key) ? pyKeyText(key) : String(key), toJSONValue(value));
    }
    return out;
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      setKey(out, key, toJSONValue(v[key]));
    }
    return out;
  }
  return v;
}

/** A `JSON.stringify` replacer that writes bigints as numbers. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

// ---------------------------------------------------------------------------
// YAML

const FLOAT_TAG = 'tag:yaml.org,2002:float';
const INT_TAG = 'tag:yaml.org,2002:int';

/** A float value as MEOW keeps it: PyFloat when integral. */
function keepFloat(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

/** An int value as MEOW keeps it: a number when exact, else a bigint. */
function keepInt(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function unwrap(v: unknown): unknown {
  return v instanceof Scalar ? v.value : v;
}

/** Parse the text of an explicitly tagged `!!float`, e.g. `!!float 3`. */
function parseExplicitFloat(src: string): number {
  const s = src.trim();
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) {
    return s.startsWith('-') ? -Infinity : Infinity;
  }
  if (/^\.(nan|NaN|NAN)$/.test(s)) {
    return NaN;
  }
  return Number(s);
}

/**
 * The YAML 1.2 core schema, with floats and ints refined as described at the
 * top of this file. Timestamps stay strings (the core schema has none), so
 * `date: 2024-01-01` reaches the recipe exactly as written.
 */
const readTags = (tags: Tags): Tags => {
  const out: Tags = tags.map(tag => {
    if (typeof tag !== 'object' || !('test' in tag) || !tag.test) {
      return tag;
    }
    const scalar = tag as ScalarTag;
    if (scalar.tag === FLOAT_TAG) {
      return {
        ...scalar,
        resolve: (str, onError, opts) => keepFloat(Number(unwrap(scalar.resolve(str, onError, opts)))) as any
      } as ScalarTag;
    }
    if (scalar.tag === INT_TAG) {
      return {
        ...scalar,
        resolve: (str, onError, opts) =>
          keepInt(BigInt(unwrap(scalar.resolve(str, onError, { ...opts, intAsBigInt: true })) as bigint)) as any
      } as ScalarTag;
    }
    return tag;
  });
  // Explicit `!!float 3` and `!!int "7"` (the stock tags only match the
  // implicit forms). Tags without `test` are used only for explicit tags.
  out.push({
    tag: FLOAT_TAG,
    identify: () => false,
    resolve: (str: string, onError: (msg: string) => void) => {
      const n = parseExplicitFloat(str);
      if (Number.isNaN(n) && !/^\s*\.(nan|NaN|NAN)\s*$/.test(str)) {
        onError(`"${str}" is not a float`);
        return str;
      }
      return keepFloat(n) as any;
    }
  } as ScalarTag);
  out.push({
    tag: INT_TAG,
    identify: () => false,
    resolve: (str: string, onError: (msg: string) => void) => {
      try {
        return keepInt(BigInt(str.trim())) as any;
      } catch {
        onError(`"${str}" is not an integer`);
        return str;
      }
    }
  } as ScalarTag);
  return out;
};

/** A YAML problem with its position (1-based), when known. */
export interface IYamlProblem {
  message: string;
  line?: number;
  column?: number;
}

/** The result of reading YAML text. */
export interface IYamlResult {
  value: unknown;
  /** Syntax errors and unsupported constructs (unknown tags, ...). */
  problems: IYamlProblem[];
}

function problemOf(err: YAML.YAMLError): IYamlProblem {
  // yaml's messages end with ` at line L, column C:` and a code frame.
  let message = err.message.split('\n')[0].replace(/:\s*$/, '');
  message = message.replace(/ at line \d+, column \d+$/, '');
  message = tooDeep(new Error(message)) ?? clipText(message, 300);
  const pos = err.linePos?.[0];
  return pos ? { message, line: pos.line, column: pos.col } : { message };
}

/** `line 2, column 5: message`, or just the message. */
export function formatYamlProblem(p: IYamlProblem): string {
  return p.line !== undefined ? `line ${p.line}, column ${p.column}: ${p.message}` : p.message;
}

/** Most alias expansions in one document (YAML bombs expand exponentially). */
export const MAX_YAML_ALIASES = 1000;

/** Options of `parseYaml`. */
export interface IYamlOptions {
  /**
   * Read with yaml's stock core schema (no `PyFloat`/`bigint` refinement),
   * for data that is not handed to Python, e.g. notebook JSON in a recipe.
   */
  plain?: boolean;
}

/**
 * Read one YAML document into plain values (objects, arrays, strings,
 * numbers, booleans, null), with `PyFloat` for integral floats, `bigint`
 * for ints beyond 2^53 and `PyDict` for mappings with a key that is not
 * text (`{1: a}`; a key that is a list or mapping is a problem). Warnings (e.g. an unknown `!!tag`) are reported as
 * problems too: they mean the value is not what the author intended.
 *
 * Hostile text is refused in time linear in its length, before yaml sees
 * it where yaml would not cope: control characters (binary files), nesting
 * deeper than `MAX_YAML_DEPTH` (yaml recurses and overflows the stack), and
 * alias expansion beyond `MAX_YAML_ALIASES` (billion laughs). Duplicate keys
 * are found with one set per mapping: yaml's own `uniqueKeys` check
 * compares every key with every other, which made a file with 240,000
 * parameters take many minutes.
 */
export function parseYaml(text: string, options: IYamlOptions = {}): IYamlResult {
  text = stripBom(text);
  const early = controlCharProblem(text) ?? nestingProblem(text);
  if (early) {
    return { value: undefined, problems: [early] };
  }
  const lineCounter = new YAML.LineCounter();
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, {
      ...(options.plain ? {} : { customTags: readTags }),
      prettyErrors: true,
      uniqueKeys: false,
      lineCounter
    });
  } catch (err) {
    return { value: undefined, problems: [{ message: tooDeep(err) ?? (err as Error).message }] };
  }
  const problems = [...doc.errors, ...doc.warnings].map(problemOf);
  problems.push(...duplicateKeys(doc, lineCounter));
  if (doc.errors.length > 0 || problems.length > 0) {
    return { value: undefined, problems };
  }
  try {
    if (options.plain) {
      return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }), problems };
    }
    // As Maps, so keys keep their type (yaml's objects make every key text).
    const maps = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES, mapAsMap: true });
    return { value: fromMaps(maps, new Map()), problems };
  } catch (err) {
    const message = /alias count/i.test((err as Error).message)
      ? `expands its aliases (*name) more than ${MAX_YAML_ALIASES} times, which looks like a "billion laughs" YAML bomb; write the values out instead of aliasing aliases`
      : (tooDeep(err) ?? (err as Error).message);
    problems.push({ message });
    return { value: undefined, problems };
  }
}

/**
 * yaml's Maps as MEOW's values: a mapping whose keys are all text becomes a
 * plain object, any other a `PyDict`. `done` converts each aliased node
 * once, so aliases stay as cheap as yaml made them.
 */
function fromMaps(v: unknown, done: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null || v instanceof PyFloat) {
    return v;
  }
  const known = done.get(v);
  if (known !== undefined) {
    return known;
  }
  let out: unknown = v;
  if (Array.isArray(v)) {
    out = v.map(item => fromMaps(item, done));
  } else if (v instanceof Map) {
    let textKeys = true;
    for (const key of v.keys()) {
      if (!isPyKey(key)) {
        throw new Error('a mapping key must be text, a number, true/false or null (not a list or mapping)');
      }
      textKeys &&= typeof key === 'string';
    }
    if (textKeys) {
      const obj: Record<string, unknown> = {};
      for (const [key, value] of v) {
        setKey(obj, key as string, fromMaps(value, done));
      }
      out = obj;
    } else {
      out = new PyDict([...v].map(([key, value]) => [key as PyKey, fromMaps(value, done)] as const));
    }
  }
  done.set(v, out);
  return out;
}

/** Text without a leading byte order mark (editors on Windows add one). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function tooDeep(err: unknown): string | undefined {
  return err instanceof RangeError || /call stack/i.test(String((err as Error)?.message))
    ? `nests too deeply to read (more than ${MAX_YAML_DEPTH} levels)`
    : undefined;
}

/** Like `parseYaml`, but throws an Error listing the problems. */
export function parseYamlValues(text: string): unknown {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0) {
    throw new Error(problems.map(formatYamlProblem).join('\n'));
  }
  return value;
}

// `test` never matches (these are only used for writing), but yaml prefers
// tags that have one when several identify a value.
const NEVER = /(?!)/;

const writeTags: ScalarTag[] = [
  {
    test: NEVER,
    tag: FLOAT_TAG,
    identify: v => v instanceof PyFloat || Object.is(v, -0),
    default: true,
    resolve: (str: string) => Number(str) as any,
    stringify: item => {
      const v = (item as Scalar).value;
      return yamlFloatText(v instanceof PyFloat ? v.value : (v as number));
    }
  },
  {
    // Large integral numbers: digits, not `1e+21` (which reads back as float).
    test: NEVER,
    tag: INT_TAG,
    identify: v => typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v),
    default: true,
    resolve: (str: string) => BigInt(str) as any,
    stringify: item => BigInt((item as Scalar).value as number).toString()
  }
];

/**
 * Write values as YAML so that `parseYaml` reads back the same values
 * (`PyFloat` as `1.0`, bigints as digits, strings that look like numbers
 * quoted).
 */
export function stringifyYamlValues(value: unknown): string {
  const doc = new YAML.Document(toMaps(value), {
    // Ours first: the stock int tag would claim -0 and 1e21.
    customTags: (tags: Tags) => [...writeTags, ...tags],
    aliasDuplicateObjects: false
  });
  return doc.toString({ lineWidth: 0 });
}

/** `PyDict`s as Maps, which yaml writes with their keys' own types. */
function toMaps(v: unknown): unknown {
  if (v instanceof PyDict) {
    return new Map(v.entries.map(([key, value]) => [key, toMaps(value)]));
  }
  if (Array.isArray(v)) {
    return v.map(toMaps);
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      setKey(out, key, toMaps(v[key]));
    }
    return out;
  }
  return v;
}
