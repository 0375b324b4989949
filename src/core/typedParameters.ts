/**
 * Reading back the exact parameter values a job record carries as YAML
 * texts (`IJob.typedParameters`, written by the service's jobYaml.ts): the
 * journal and the API are JSON, which has no `1.0` and no `{1: 1}`.
 */
import { parseYaml } from './pyvalue';
import { PyFloat, setKey } from './pytypes';

/** Decoded texts of `typedParameters`, shared: thousands of jobs repeat a few. */
const typedCache = new Map<string, unknown>();
const TYPED_CACHE_SIZE = 1000;
/** `1.0`, `-2.0e3` (what jobYaml writes for a PyFloat): read without yaml. */
const SIMPLE_FLOAT = /^-?\d+\.\d+(?:e[-+]?\d+)?\n?$/;

/**
 * A job's parameters with the exact values of `IJob.typedParameters` (YAML
 * texts) in place of their JSON forms. Returns `parameters` itself when
 * there are none, else a new object. A text that does not read (a
 * hand-edited journal) leaves the JSON form.
 */
export function typedParameters(
  parameters: Record<string, unknown>,
  texts: Record<string, string> | undefined
): Record<string, unknown> {
  if (!texts) {
    return parameters;
  }
  const out = { ...parameters };
  for (const name of Object.keys(texts)) {
    const value = typedValue(texts[name]);
    if (value !== undefined) {
      setKey(out, name, value);
    }
  }
  return out;
}

function typedValue(text: string): unknown {
  if (typeof text !== 'string') {
    return undefined;
  }
  if (SIMPLE_FLOAT.test(text)) {
    const n = Number(text);
    return Number.isInteger(n) ? new PyFloat(n) : n;
  }
  if (typedCache.has(text)) {
    return typedCache.get(text);
  }
  const { value, problems } = parseYaml(text);
  const result = problems.length ? undefined : value;
  if (typedCache.size >= TYPED_CACHE_SIZE) {
    typedCache.clear();
  }
  typedCache.set(text, result);
  return result;
}
