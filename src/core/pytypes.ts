/**
 * The two Python types JavaScript values cannot stand for on their own:
 * a float whose value is integral (`PyFloat`: YAML `1.0`) and a dict whose
 * keys are not all text (`PyDict`: YAML `{1: a, true: b}`). Mappings with
 * text keys only stay plain objects. `pyvalue.ts` reads YAML into these and
 * writes them as Python literals; it re-exports everything here.
 */

/** A Python float whose value happens to be integral, e.g. YAML `1.0`. */
export class PyFloat {
  constructor(readonly value: number) {}

  /** JSON has no int/float distinction, so JSON gets the plain number. */
  toJSON(): number {
    return this.value;
  }

  toString(): string {
    return pyFloatRepr(this.value);
  }
}

/** A dict key as YAML can write one: text, int, float, bool or null. */
export type PyKey = string | number | bigint | boolean | null | PyFloat;

/**
 * A Python dict with at least one key that is not text (`{1: 1, 2: 2}`),
 * in the order written. A JavaScript object would turn the keys into text
 * (`{'1': 1}` in Python, so `d[1]` fails); a `Map` would vanish from JSON
 * (`{}`) and from sorted-key digests. The entries are the one own field, so
 * code that walks an object's keys still sees every key and value.
 */
export class PyDict {
  constructor(readonly entries: ReadonlyArray<readonly [PyKey, unknown]>) {}

  /**
   * JSON has only text keys: each key as YAML writes it (`1`, `1.0`,
   * `true`, `null`). Where two keys write the same (`1` and `'1'`), the
   * later wins; the exact dict travels as YAML text (`typedParameterTexts`).
   */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of this.entries) {
      setKey(out, pyKeyText(key), value);
    }
    return out;
  }

  /** The value of a key, compared as Python does (`1 == 1.0 == True`). */
  get(key: PyKey): unknown {
    let found: unknown;
    for (const [k, v] of this.entries) {
      if (pyKeysEqual(k, key)) {
        found = v; // the last duplicate wins, as in a Python dict literal
      }
    }
    return found;
  }
}

/** A key's YAML text: `1`, `1.0`, `true`, `null`; text as it is. */
export function pyKeyText(key: PyKey): string {
  if (key === null) {
    return 'null';
  }
  if (key instanceof PyFloat) {
    return yamlFloatText(key.value);
  }
  if (typeof key === 'number' && (!Number.isInteger(key) || Object.is(key, -0))) {
    return yamlFloatText(key);
  }
  return typeof key === 'number' ? BigInt(key).toString() : String(key);
}

/** A float as YAML 1.2 writes it: `1.0`, `1e-7`, `.inf`, `-.inf`, `.nan`. */
export function yamlFloatText(n: number): string {
  if (Number.isNaN(n)) {
    return '.nan';
  }
  if (!Number.isFinite(n)) {
    return n > 0 ? '.inf' : '-.inf';
  }
  return pyFloatRepr(n);
}

function pyKeysEqual(a: PyKey, b: PyKey): boolean {
  const num = (k: PyKey): number | bigint | undefined =>
    k instanceof PyFloat
      ? k.value
      : typeof k === 'boolean'
        ? Number(k)
        : typeof k === 'string' || k === null
          ? undefined
          : k;
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) {
    return a === b;
  }
  // eslint-disable-next-line eqeqeq -- loose on purpose: 1n == 1 is true
  return x == y;
}

/** Set `out[key]`; a key `__proto__` stays a key instead of setting the prototype. */
export function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/** True for `{...}` objects (not arrays, class instances, dates, ...). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) {
    return false;
  }
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Python float literal text for a number (always reads back as a float).
 * JavaScript's shortest round-trip formatting is exact, and Python accepts
 * its exponent forms (`1e-7`, `1e+21`).
 */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) {
    return "float('nan')";
  }
  if (n === Infinity) {
    return "float('inf')";
  }
  if (n === -Infinity) {
    return "-float('inf')";
  }
  if (Object.is(n, -0)) {
    return '-0.0';
  }
  const s = String(n);
  return /[.e]/.test(s) ? s : s + '.0';
}

/**
 * Whether JSON loses something of this value that Python would see: an
 * integral float (`1.0` → 1), a non-text dict key, a bigint (an int beyond
 * 2^53), `-0.0`, `inf` or `nan` (JSON writes null).
 */
export function losesTypeInJson(v: unknown): boolean {
  if (v === null || typeof v !== 'object') {
    return typeof v === 'bigint' || (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)));
  }
  if (v instanceof PyFloat || v instanceof PyDict) {
    return true;
  }
  if (Array.isArray(v)) {
    return v.some(losesTypeInJson);
  }
  if (isPlainObject(v)) {
    for (const key in v) {
      if (losesTypeInJson(v[key])) {
        return true;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Passing values between threads

/**
 * A structured-clone-safe form of a value that may hold `PyFloat`s and
 * `PyDict`s (which a worker thread's message would turn into plain objects):
 * lists become `['a', items]`, plain objects `['o', [key, value, ...]]`,
 * `PyFloat` `['f', n]`, `PyDict` `['d', [key, value, ...]]` (keys passed
 * the same way); other values are left as they are. `fromTransfer` undoes it.
 */
export function toTransfer(v: unknown): unknown {
  if (v instanceof PyFloat) {
    return ['f', v.value];
  }
  if (v instanceof PyDict) {
    const flat: unknown[] = [];
    for (const [key, value] of v.entries) {
      flat.push(toTransfer(key), toTransfer(value));
    }
    return ['d', flat];
  }
  if (Array.isArray(v)) {
    return ['a', v.map(toTransfer)];
  }
  if (isPlainObject(v)) {
    const flat: unknown[] = [];
    for (const key of Object.keys(v)) {
      flat.push(key, toTransfer(v[key]));
    }
    return ['o', flat];
  }
  return v;
}

/** The value `toTransfer` was given. */
export function fromTransfer(v: unknown): unknown {
  if (!Array.isArray(v)) {
    return v;
  }
  const [tag, body] = v as [string, any];
  if (tag === 'f') {
    return new PyFloat(body as number);
  }
  if (tag === 'a') {
    return (body as unknown[]).map(fromTransfer);
  }
  const flat = body as unknown[];
  if (tag === 'd') {
    const entries: [PyKey, unknown][] = [];
    for (let i = 0; i < flat.length; i += 2) {
      entries.push([fromTransfer(flat[i]) as PyKey, fromTransfer(flat[i + 1])]);
    }
    return new PyDict(entries);
  }
  const out: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) {
    setKey(out, flat[i] as string, fromTransfer(flat[i + 1]));
  }
  return out;
}
