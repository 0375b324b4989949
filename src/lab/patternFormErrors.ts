/**
 * Where the pattern form shows the core's issues: which form field an issue
 * belongs to, the form's own words where the core's fix is YAML beside a
 * dropdown, and which errors show at all (touched fields, or all after a
 * save attempt).
 */
import type { IRecipeInfo } from '../core/api';
import { RESOURCE_KEYS } from '../core/executor';
import { FILE_FIELD, IValidationIssue } from '../core/validation';

/** The form's resource fields, in the order of the core's `RESOURCE_KEYS`. */
export const RESOURCE_FIELDS = ['cpus', 'memory', 'gpus', 'time', 'partition', 'extraArgs'] as const;
export type ResourceField = (typeof RESOURCE_FIELDS)[number];

/** `resources.<file key>` (the core's field names) → form field. */
const RESOURCE_FIELD_OF: Record<string, ResourceField> = Object.fromEntries(
  RESOURCE_KEYS.map((k, i) => [k, RESOURCE_FIELDS[i]])
);

/** Which form field an issue belongs to (`parameters.x`, `sweep.f`, `path`, ...). */
export function formFieldOf(field: string): string {
  if (field === FILE_FIELD || field === '') {
    return 'form';
  }
  const head = field.split(/[.[]/)[0];
  const rest = field.slice(head.length + 1).split(/[.[]/)[0];
  switch (head) {
    case 'name':
      return 'name';
    case 'recipe':
    case 'recipes':
      return 'recipe';
    case 'trigger':
      return triggerFieldOf(field.split(/[.[]/).slice(1));
    case 'input':
    case 'input_file':
      return 'input';
    case 'input_paths':
      return 'path';
    case 'parameters':
    case 'variables':
      return rest ? `parameters.${rest}` : 'parameters';
    case 'outputs':
    case 'output':
      return rest ? `outputs.${rest}` : 'outputs';
    case 'sweep':
    case 'parameterize_over':
      return rest ? `sweep.${rest}` : 'sweep';
    case 'executor':
      return 'executor';
    case 'resources':
      return RESOURCE_FIELD_OF[rest] ?? 'resources';
  }
  return 'form';
}

/** Core field names under `trigger` (YAML spelling) → form fields. */
const TRIGGER_FIELDS: Record<string, string> = {
  path: 'path',
  events: 'events',
  port: 'port',
  host: 'host',
  secret: 'secret',
  max_bytes: 'maxBytes',
  maxBytes: 'maxBytes',
  max_connections: 'maxConnections',
  maxConnections: 'maxConnections',
  schedule: 'schedule',
  cron: 'schedule',
  timezone: 'timezone',
  every: 'every',
  missed: 'missed',
  manual: 'trigger'
};

/** `trigger.tls.key` → `tlsKey`, `trigger.absent.for` → `absentFor`, `trigger.max_bytes` → `maxBytes`. */
function triggerFieldOf(parts: string[]): string {
  const [first, second] = parts;
  if (!first) {
    return 'trigger';
  }
  if (first === 'tls') {
    return second === 'key' ? 'tlsKey' : 'tlsCert';
  }
  if (first === 'absent') {
    return second === 'for' ? 'absentFor' : second === 'path' || !second ? 'path' : 'trigger';
  }
  return TRIGGER_FIELDS[first] ?? 'trigger';
}

/**
 * The form's own words for issues whose core fix is YAML syntax
 * (`recipe: append`) beside a control that is not typed into: a dropdown
 * or checkboxes. Undefined: the core's message and fix as they are.
 */
export function formMessage(key: string, i: IValidationIssue, recipes?: readonly IRecipeInfo[]): string | undefined {
  if (key === 'recipe' && i.message === 'is missing') {
    return recipes && recipes.length === 0
      ? 'choose a recipe; none is registered yet: register a notebook as a recipe first'
      : 'choose a recipe';
  }
  if (key === 'events' && i.field === 'trigger.events') {
    return 'tick at least one event';
  }
  return undefined;
}

/**
 * Errors the form shows: those of fields the user changed (`touched`, form
 * field names), or all of them after a save attempt (`all`), so a fresh form
 * does not open covered in red. Row errors (`outputs.outfile`) belong to their
 * section; `resources` to any resource field; `form` to any change.
 */
export function visibleErrors(
  byField: Readonly<Record<string, string[]>>,
  touched: ReadonlySet<string>,
  all: boolean
): Record<string, string[]> {
  if (all) {
    return { ...byField };
  }
  const shown = (key: string): boolean => {
    if (key === 'form') {
      return touched.size > 0;
    }
    if (key === 'resources') {
      return RESOURCE_FIELDS.some(k => touched.has(k));
    }
    return touched.has(key.split('.')[0]);
  };
  return Object.fromEntries(Object.entries(byField).filter(([key]) => shown(key)));
}
