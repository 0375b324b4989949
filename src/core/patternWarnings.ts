/**
 * Warnings about a valid pattern: things that load and run but are likely
 * mistakes, reported with the file and field without refusing the pattern.
 *
 * - an output that resolves outside the workgroup (`{VGRID}/../../tmp/x`,
 *   `/tmp/x`): jobs would write where meow does not watch or track;
 * - an upper-case `{WORD}` that is not a keyword (`{VGIRD}`): it is passed
 *   through literally, which is almost never what was meant;
 * - a network trigger reachable from other machines without a secret.
 */
import { globBase } from './glob';
import { KEYWORDS, substituteString, keywordValues } from './keywords';
import { isAbsolute, isInside, join, normalise } from './paths';
import { isPlainObject } from './pyvalue';
import type { IPattern } from './types';
import { IValidationIssue, closest, issue } from './validation';

/** A stand-in workgroup root, deep enough that `..` stays visible. */
const ROOT = '/meow-workgroup-root/a/b/workgroup';

/** Field names used for the sections (they differ between formats). */
export interface ISectionFields {
  parameters: string;
  outputs: string;
}

/** Warnings for a pattern that validated. */
export function patternWarnings(p: IPattern, fields: ISectionFields): IValidationIssue[] {
  const warnings: IValidationIssue[] = [];
  // The shallowest trigger file the glob allows: `{REL_DIR}/..` climbs out
  // soonest there. Other triggers' files are made by meow under the state
  // folder; they are treated as no file (every file keyword '').
  const t = p.trigger;
  const glob = t.kind === 'file' || t.kind === 'manual' ? t.path : undefined;
  const trigger = glob !== undefined ? join(globBase(glob), 'file.ext').replace(/^\.\//, '') : '';
  const values = keywordValues({ root: ROOT, path: trigger === '.' ? '' : trigger, jobId: 'job' });
  strings(p.outputs, fields.outputs, (field, text) => {
    const resolved = normalise(substituteString(text, values));
    const inside = isAbsolute(resolved) ? isInside(resolved, ROOT) : isInside(resolved, '.');
    if (!inside) {
      const how = text.includes('..') ? 'climbs out of the workgroup with ".."' : 'is an absolute path outside the workgroup';
      const dependsOnFile = /\{(PATH|REL_PATH|DIR|REL_DIR|FILENAME|PREFIX|EXTENSION)\}/.test(text);
      const example = trigger && dependsOnFile ? ` for a trigger file "${trigger}"` : '';
      warnings.push(
        issue(
          field,
          `resolves outside the workgroup: "${text}" ${how}${example}; meow does not watch or record files written there`,
          'keep outputs inside the workgroup, e.g. "{VGRID}/results/{FILENAME}"'
        )
      );
    }
  });
  if (t.kind === 'network' && t.secret === undefined && !isLoopback(t.host)) {
    warnings.push(
      issue(
        'trigger.host',
        `listens on "${t.host}" without a secret: anyone who can reach port ${t.port} on this machine can start jobs`,
        'add secret: "a-long-random-text" (and tls to encrypt), or listen on host: "127.0.0.1"'
      )
    );
  }
  for (const [section, field] of [
    [p.parameters, fields.parameters],
    [p.outputs, fields.outputs]
  ] as const) {
    strings(section, field, (at, text) => {
      for (const m of text.matchAll(/\{([A-Z][A-Z_]*)\}/g)) {
        if ((KEYWORDS as readonly string[]).includes(m[1])) {
          continue;
        }
        const guess = closest(m[1], KEYWORDS);
        warnings.push(
          issue(
            at,
            `contains "{${m[1]}}", which is not a keyword and is passed on as written`,
            guess ? `did you mean "{${guess}}"?` : `keywords are ${KEYWORDS.map(k => `{${k}}`).join(', ')}`
          )
        );
      }
    });
  }
  return warnings;
}

/** Only this machine can connect. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Call `visit` for every string inside a section, with its field path. */
function strings(value: unknown, field: string, visit: (field: string, text: string) => void): void {
  if (typeof value === 'string') {
    visit(field, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => strings(item, `${field}[${i}]`, visit));
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      strings(value[key], `${field}.${key}`, visit);
    }
  }
}
