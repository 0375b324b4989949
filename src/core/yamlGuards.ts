/**
 * Checks that keep hostile YAML from costing more than linear time or
 * overflowing the stack: control characters (binary files), nesting depth,
 * and duplicate keys found with one set per mapping. Used by `parseYaml`.
 */
import * as YAML from 'yaml';
import type { IYamlProblem } from './pyvalue';

/** Deepest nesting of mappings and lists a definition may have. */
export const MAX_YAML_DEPTH = 100;

/** `text`, cut to `max` characters with a note of the full length. */
export function clipText(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** 1-based line and column of an offset, counting in one pass up to it. */
function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * YAML allows tab, newline and carriage return among the C0 controls; any
 * other (NUL above all) means the file is binary or corrupt, and yaml's own
 * message for it is confusing.
 */
export function controlCharProblem(text: string): IYamlProblem | undefined {
  const m = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]/.exec(text);
  if (!m) {
    return undefined;
  }
  const code = m[0].charCodeAt(0);
  const hexCode = code.toString(16).toUpperCase().padStart(4, '0');
  return {
    message: `contains the control character U+${hexCode}, which YAML does not allow; is it a binary file?`,
    ...position(text, m.index)
  };
}

/**
 * The deepest nesting, estimated in one pass: flow brackets outside quotes
 * and comments, plus block indentation levels. Block scalars can confuse
 * the estimate only upwards, and only for text far beyond real definitions.
 */
export function nestingProblem(text: string): IYamlProblem | undefined {
  let flow = 0;
  const indents: number[] = [];
  let lineStart = true;
  let indent = 0;
  let lead = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      lead = 0;
      continue;
    }
    if (lineStart) {
      if (c === ' ') {
        indent++;
        continue;
      }
      if ((c === '-' || c === '?' || c === ':') && /\s/.test(text[i + 1] ?? '\n')) {
        // "- - - x" nests one level per indicator, like indentation.
        lead++;
        indent++;
        continue;
      }
      lineStart = false;
      if (c !== '#' && c !== '\r') {
        while (indents.length && indents[indents.length - 1] >= indent) {
          indents.pop();
        }
        indents.push(indent);
      }
    }
    const after = i === 0 || /[\s[{,:]/.test(text[i - 1]);
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      i = (end === -1 ? text.length : end) - 1;
      continue;
    } else if ((c === '"' || c === "'") && after) {
      i = closingQuote(text, i);
    } else if (c === '[' || c === '{') {
      flow++;
    } else if (c === ']' || c === '}') {
      flow = Math.max(0, flow - 1);
    }
    if (flow + indents.length + lead > MAX_YAML_DEPTH) {
      return {
        message: `nests mappings and lists more than ${MAX_YAML_DEPTH} levels deep`,
        ...position(text, i)
      };
    }
  }
  return undefined;
}

/** Index of the quote closing the one at `i` (or the end of the text). */
function closingQuote(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (q === '"' && text[j] === '\\') {
      j++;
    } else if (text[j] === q) {
      if (q === "'" && text[j + 1] === "'") {
        j++; // '' is an escaped quote
        continue;
      }
      return j;
    }
  }
  return text.length;
}

/** Keys given twice in one mapping, found with one set per mapping. */
export function duplicateKeys(doc: YAML.Document.Parsed, lines: YAML.LineCounter): IYamlProblem[] {
  const problems: IYamlProblem[] = [];
  YAML.visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!YAML.isScalar(pair.key)) {
          continue;
        }
        const k = pair.key.value;
        if (seen.has(k)) {
          const pos = pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
          const shown = clipText(String(k), 60);
          problems.push({
            message: `the key "${shown}" appears twice in one mapping (map keys must be unique)`,
            ...(pos ? { line: pos.line, column: pos.col } : {})
          });
        }
        seen.add(k);
      }
    }
  });
  return problems;
}
