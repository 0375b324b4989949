/**
 * YAML text of job records, written fast.
 *
 * Why not `YAML.stringify`: it builds a document tree per call, ~0.8 ms for
 * one job record, and `job.yaml` is written at least twice per job — in a
 * burst of 10,000 files that was the service's largest single cost. Job
 * records are plain JSON data (objects, arrays, strings, numbers, booleans,
 * null), so block YAML is emitted directly: strings that could read as
 * anything but themselves are double-quoted with JSON escapes (a JSON string
 * is a valid YAML double-quoted scalar). `tests/unit/service/jobYaml.test.ts`
 * checks that the `yaml` library parses the text back to the same data.
 */

/** Block YAML for a JSON value (the result of `JSON.parse(JSON.stringify(x))`). */
export function jsonToYaml(value: unknown): string {
  if (isCollection(value) && !isEmpty(value)) {
    return block(value, '');
  }
  return scalar(value) + '\n';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isCollection(v: unknown): v is Json[] | { [key: string]: Json } {
  return typeof v === 'object' && v !== null;
}

function isEmpty(v: Json[] | { [key: string]: Json }): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

function block(value: Json[] | { [key: string]: Json }, indent: string): string {
  let out = '';
  if (Array.isArray(value)) {
    for (const item of value) {
      out += `${indent}-` + child(item, indent + '  ', true);
    }
    return out;
  }
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (item === undefined) {
      continue;
    }
    out += `${indent}${string(key)}:` + child(item, indent + '  ', false);
  }
  return out;
}

/** A value after `key:` or `-`: inline when scalar or empty, else on the lines below. */
function child(item: Json, indent: string, inList: boolean): string {
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
    return Number.isFinite(v) ? String(v) : 'null';
  }
  if (typeof v === 'boolean') {
    return v ? 'true' : 'false';
  }
  return string(String(v));
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
