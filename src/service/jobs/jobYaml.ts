/**
 * YAML text of job records, written fast.
 *
 * Why not `YAML.stringify`: it builds a document tree per call, ~0.8 ms for
 * one job record, and `job.yaml` is written at least twice per job — in a
 * burst of 10,000 files that was the service's largest single cost. Job
 * records are plain data (objects, arrays, strings, numbers, booleans,
 * null) plus the Python types of parameters (`PyFloat`, `PyDict`, bigint),
 * so block YAML is emitted directly: strings that could read as anything
 * but themselves are double-quoted with JSON escapes (a JSON string is a
 * valid YAML double-quoted scalar); floats keep their point (`1.0`), dict
 * keys their type (`1: a`, `true: b`, `null: c`). `parseYaml` reads it back
 * to the same values; `tests/unit/service/jobYaml.test.ts` checks both that
 * and that the `yaml` library reads the same data as from `YAML.stringify`.
 */
import { PyDict, PyFloat, losesTypeInJson, pyKeyText, yamlFloatText } from '../../core/pyvalue';
import type { PyKey } from '../../core/pyvalue';

/**
 * Block YAML for a record. Values with `toJSON` (other than `PyFloat` and
 * `PyDict`) are written as their JSON form; `undefined` fields are left out
 * and `undefined` list items written as null, as `JSON.stringify` does.
 */
export function jsonToYaml(value: unknown): string {
  value = normal(value);
  if (isCollection(value) && !isEmpty(value)) {
    return block(value, '');
  }
  return scalar(value) + '\n';
}

/**
 * The YAML text of each parameter whose JSON form would lose its Python
 * type (`1.0`, `{1: 1}`, `.nan`, see `losesTypeInJson`), by name; undefined
 * when there is none. Kept in a job's record (`IJob.typedParameters`) so
 * the journal and the API, which speak JSON, carry the exact values.
 */
export function typedParameterTexts(parameters: Record<string, unknown>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of Object.keys(parameters)) {
    const value = parameters[name];
    if (typeof value !== 'string' && losesTypeInJson(value)) {
      (out ??= {})[name] = jsonToYaml(value);
    }
  }
  return out;
}

type Collection = unknown[] | Record<string, unknown> | PyDict;

function isCollection(v: unknown): v is Collection {
  return typeof v === 'object' && v !== null && !(v instanceof PyFloat);
}

function isEmpty(v: Collection): boolean {
  if (v instanceof PyDict) {
    return v.entries.length === 0;
  }
  if (Array.isArray(v)) {
    return v.length === 0;
  }
  for (const key in v) {
    if (v[key] !== undefined) {
      return false;
    }
  }
  return true;
}

/** A value with `toJSON` (a Date, ...) as its JSON form; ours as they are. */
function normal(v: unknown): unknown {
  if (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof PyFloat) &&
    !(v instanceof PyDict) &&
    typeof (v as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return (v as { toJSON: () => unknown }).toJSON();
  }
  return v;
}

function block(value: Collection, indent: string): string {
  let out = '';
  if (Array.isArray(value)) {
    for (const item of value) {
      out += `${indent}-` + child(normal(item), indent + '  ', true);
    }
    return out;
  }
  if (value instanceof PyDict) {
    for (const [key, item] of value.entries) {
      out += `${indent}${keyScalar(key)}:` + child(normal(item), indent + '  ', false);
    }
    return out;
  }
  for (const key of Object.keys(value)) {
    const item = normal(value[key]);
    if (item === undefined) {
      continue;
    }
    out += `${indent}${string(key)}:` + child(item, indent + '  ', false);
  }
  return out;
}

/** A value after `key:` or `-`: inline when scalar or empty, else on the lines below. */
function child(item: unknown, indent: string, inList: boolean): string {
  if (!isCollection(item) || isEmpty(item)) {
    return ' ' + (isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)) + '\n';
  }
  if (inList && !Array.isArray(item)) {
    // "- key: value" with the rest of the mapping aligned under the key.
    const text = block(item, indent);
    return ' ' + text.slice(indent.length);
  }
  return '\n' + block(item, indent);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) {
    return 'null';
  }
  if (typeof v === 'number') {
    // Integral: digits (`1e+21` would read back as a float); else a float.
    return Number.isInteger(v) && !Object.is(v, -0) ? BigInt(v).toString() : yamlFloatText(v);
  }
  if (v instanceof PyFloat) {
    return yamlFloatText(v.value);
  }
  if (typeof v === 'bigint') {
    return v.toString();
  }
  if (typeof v === 'boolean') {
    return v ? 'true' : 'false';
  }
  return string(String(v));
}

/** A dict key: text as `string` writes it, anything else in its own type. */
function keyScalar(key: PyKey): string {
  return typeof key === 'string' ? string(key) : pyKeyText(key);
}

/**
 * Plain when the text can only read as this string in YAML 1.2 (letters,
 * digits and a few safe marks, not starting with a mark YAML gives meaning
 * to, not a number, boolean or null); otherwise JSON-quoted.
 */
function string(s: string): string {
  if (PLAIN.test(s) && !RESERVED.test(s) && !NUMBER_LIKE.test(s)) {
    return s;
  }
  return JSON.stringify(s);
}

const PLAIN = /^[A-Za-z_/.][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()-]+)*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|null|y|n|~)$/i;
const NUMBER_LIKE = /^[-+.]?(?:\d|\.(?:inf|nan))/i;
