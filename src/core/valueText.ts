/**
 * Values read from YAML as text: how one is named in a message ("got the
 * text "x"", "got a list"), and sizes (`100MB`). Shared by the pattern and
 * trigger readers.
 */
import { PyDict, PyFloat, clipText, isPlainObject, pyKeyText } from './pyvalue';

/** The number a YAML value holds (`1.0` included), or NaN. */
export function toNumber(v: unknown): number {
  if (v instanceof PyFloat) {
    return v.value;
  }
  return typeof v === 'number' ? v : NaN;
}

/** What kind of value it is, for "(got …)": `the number 5`, `a list`, `the text "x"`. */
export function typeName(v: unknown): string {
  if (v === null) {
    return 'null';
  }
  if (Array.isArray(v)) {
    return 'a list';
  }
  if (v instanceof PyFloat || typeof v === 'number' || typeof v === 'bigint') {
    return `the number ${String(v)}`;
  }
  if (typeof v === 'string') {
    return `the text "${clipText(v)}"`;
  }
  if (typeof v === 'boolean') {
    return `${v}`;
  }
  if (v instanceof PyDict) {
    // Where a mapping is expected its keys are names: say which one is not.
    const key = v.entries.find(([k]) => typeof k !== 'string');
    return key ? `a mapping with the key ${pyKeyText(key[0])}, which is not text` : 'a mapping';
  }
  return isPlainObject(v) ? 'a mapping' : typeof v;
}

/** The value itself, briefly: `"x"`, `5`, `a list`, `nothing`. */
export function show(v: unknown): string {
  return typeof v === 'string'
    ? `"${clipText(v)}"`
    : v === undefined
      ? 'nothing'
      : typeName(v).replace(/^the (number|text) /, '');
}

/** Byte multiples, largest first (binary before decimal of the same prefix). */
const SIZE_UNITS: [string, number][] = [
  ['TiB', 2 ** 40],
  ['TB', 1e12],
  ['GiB', 2 ** 30],
  ['GB', 1e9],
  ['MiB', 2 ** 20],
  ['MB', 1e6],
  ['KiB', 2 ** 10],
  ['KB', 1e3],
  ['B', 1]
];

/**
 * Bytes of a size: a whole number, or text like `500KB`, `100 MB`, `2GB`,
 * `1.5GiB` (KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024; units
 * in any case). `undefined` unless a positive whole number of bytes.
 */
export function parseSize(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number' || v instanceof PyFloat) {
    n = toNumber(v);
  } else if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
    const unit =
      m &&
      (m[2] === ''
        ? SIZE_UNITS[SIZE_UNITS.length - 1]
        : SIZE_UNITS.find(([u]) => u.toLowerCase() === m[2].toLowerCase()));
    if (!m || !unit) {
      return undefined;
    }
    // A fraction of a unit is fine (1.5GiB); of a byte it is not.
    n = unit[1] === 1 ? Number(m[1]) : Math.round(Number(m[1]) * unit[1]);
  } else {
    return undefined;
  }
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** The shortest exact text of a size: 1073741824 → `1GiB`, 100000000 → `100MB`, 1500 → `1500B`. */
export function formatSize(bytes: number): string {
  const [unit, size] = SIZE_UNITS.find(([, s]) => bytes % s === 0) ?? ['B', 1];
  return `${bytes / size}${unit}`;
}
