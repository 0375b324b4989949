/**
 * Warnings about a valid pattern: things that load and run but are likely
 * mistakes, reported with the file and field without refusing the pattern.
 *
 * - an output that resolves outside the workgroup (`{VGRID}/../../tmp/x`,
 *   `/tmp/x`): jobs would write where meow does not watch or track;
 * - a keyword in the wrong case (`{filename}`): it is passed through
 *   literally (upper-case non-keywords such as `{VGIRD}` are errors, see
 *   `keywordIssues`);
 * - a network trigger reachable from other machines without a secret;
 * - a native pattern whose trigger brings a file (file events, a network
 *   payload, an approved file) with no `input` and no keyword naming that
 *   file: its jobs never learn which file they are for (thesis-format
 *   patterns without `input_file` are errors, see pattern.ts);
 * - (`recipeVariableWarnings`, when the recipe is known) a variable name the
 *   recipe never assigns, with the nearest one it does.
 */
import { triggerGlobBase } from './glob';
import { forEachString, keywordCaseWarnings, keywordValues, substituteString } from './keywords';
import { isAbsolute, isInside, join, normalise } from './paths';
import type { IPattern } from './types';
import { IValidationIssue, closest, issue } from './validation';

/** A stand-in workgroup root, deep enough that `..` stays visible. */
const ROOT = '/meow-workgroup-root/a/b/workgroup';

/** Field names used for the sections (they differ between formats). */
export interface ISectionFields {
  parameters: string;
  outputs: string;
}

/** Every variable section's field name in a pattern file's format. */
export interface IVariableFields extends ISectionFields {
  input: string;
  sweep: string;
}

/** The field names of a format: native `input`, `parameters`, ...; thesis `input_file`, `variables`, ... */
export function variableFields(format: 'native' | 'thesis' | undefined): IVariableFields {
  return format === 'thesis'
    ? { input: 'input_file', parameters: 'variables', outputs: 'output', sweep: 'parameterize_over' }
    : { input: 'input', parameters: 'parameters', outputs: 'outputs', sweep: 'sweep' };
}

/** Warnings for a pattern that validated. */
export function patternWarnings(p: IPattern, fields: ISectionFields): IValidationIssue[] {
  const warnings: IValidationIssue[] = [];
  // The shallowest trigger file the glob allows: `{REL_DIR}/..` climbs out
  // soonest there. Other triggers' files are made by meow under the state
  // folder; they are treated as no file (every file keyword '').
  const t = p.trigger;
  const globbed = t.kind === 'file' || (t.kind === 'manual' && t.path !== undefined) ? t : undefined;
  const trigger = globbed ? join(triggerGlobBase(globbed as { path: string }), 'file.ext').replace(/^\.\//, '') : '';
  const values = keywordValues({ root: ROOT, path: trigger === '.' ? '' : trigger, jobId: 'job' });
  forEachString(p.outputs, fields.outputs, (field, text) => {
    const resolved = normalise(substituteString(text, values));
    const inside = isAbsolute(resolved) ? isInside(resolved, ROOT) : isInside(resolved, '.');
    if (!inside) {
      const how = text.includes('..')
        ? 'climbs out of the workgroup with ".."'
        : 'is an absolute path outside the workgroup';
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
  warnings.push(...inputWarnings(p));
  // Upper-case typos (`{FILENAM}`) are errors (`keywordIssues`, in
  // pattern.ts); a keyword in the wrong case is only pointed out.
  warnings.push(
    ...keywordCaseWarnings(p.parameters, fields.parameters),
    ...keywordCaseWarnings(p.outputs, fields.outputs)
  );
  return warnings;
}

/** Keywords that name the triggering file (a job can find the file with them). */
const FILE_KEYWORDS = /\{(PATH|REL_PATH|FILENAME)\}/;

/**
 * `input` may be left out where the trigger brings no file of interest: a
 * timer (its file only records the time), a manual run on nothing, an
 * absence (a record of the silence). File events, a network payload and
 * an approved file are the job's data: without `input` (or a keyword such
 * as `{PATH}` in a parameter) the job cannot find it. Still only a warning:
 * "something changed in data/, rebuild" is a fair use of a file trigger.
 */
function inputWarnings(p: IPattern): IValidationIssue[] {
  const t = p.trigger;
  const bringsFile = t.kind === 'file' || t.kind === 'network' || (t.kind === 'manual' && t.path !== undefined);
  if (p.input !== undefined || !bringsFile || p.format === 'thesis') {
    return [];
  }
  let named = false;
  for (const section of [p.parameters, p.outputs]) {
    forEachString(section, '', (_field, text) => {
      named ||= FILE_KEYWORDS.test(text);
    });
  }
  if (named) {
    return [];
  }
  const what =
    t.kind === 'network'
      ? 'the received payload file'
      : t.kind === 'manual'
        ? 'the approved file'
        : 'the triggering file';
  return [
    issue(
      'input',
      `is not set, so the jobs never receive ${what}'s path (a ${t.kind} trigger; only timers, manual runs without "path" and absence triggers need no input)`,
      'add "input: infile", naming the recipe variable that receives the path, or pass it with a keyword, e.g. parameters: {infile: "{PATH}"}'
    )
  ];
}

/** Only this machine can connect. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Warnings for names in `input`, `parameters`, `outputs` and `sweep` that
 * the recipe's code never assigns (`variables`, see `recipeVariables`), with
 * the nearest name it does ("did you mean"). Such a variable is not an
 * error: it is injected in a cell at the top of the notebook, which a recipe
 * may rely on; but a typo (`outfle`) leaves the recipe's own `outfile` at its
 * default, so every job writes the same place. A recipe that assigns
 * nothing gives no warnings (it reads only injected variables).
 */
export function recipeVariableWarnings(
  p: Pick<IPattern, 'recipe' | 'input' | 'parameters' | 'outputs' | 'sweep' | 'format'>,
  variables: readonly string[]
): IValidationIssue[] {
  if (!variables.length) {
    return [];
  }
  const fields = variableFields(p.format);
  const names: [string, string][] = [];
  if (p.input !== undefined) {
    names.push([fields.input, p.input]);
  }
  for (const [section, field] of [
    [p.parameters, fields.parameters],
    [p.outputs, fields.outputs],
    [p.sweep, fields.sweep]
  ] as const) {
    for (const key of Object.keys(section ?? {})) {
      names.push([`${field}.${key}`, key]);
    }
  }
  const known = new Set(variables);
  const shown = variables.length > 12 ? `${variables.slice(0, 12).join(', ')}, …` : variables.join(', ');
  const warnings: IValidationIssue[] = [];
  for (const [field, name] of names) {
    if (known.has(name)) {
      continue;
    }
    const guess = closest(name, variables);
    warnings.push(
      issue(
        field,
        `names "${name}", which recipe "${p.recipe}" does not assign (it assigns ${shown}); it is injected in a cell at the top of the notebook`,
        guess ? `did you mean "${guess}"?` : "rename it to one of the recipe's variables, or assign it in the recipe"
      )
    );
  }
  return warnings;
}
