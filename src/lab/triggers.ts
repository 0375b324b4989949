/**
 * How the panels name and draw the kinds of trigger: a pattern's trigger
 * (file, network, timer, manual, absence) and what fired a job (a file
 * event, a network message, a timer, a person, a silence, a rerun). Pure:
 * the icons are SVG path data (24×24), drawn by the graph and by the
 * LabIcons of `icons.ts`.
 */
import { formatDuration } from '../core/timers';
import { DEFAULT_NETWORK_HOST, FILE_EVENT_KINDS, JobTriggerKind, Trigger, TriggerKind } from '../core/types';

/** What fired a job, grouped: every file event kind is `file`. */
export type TriggerGroup = TriggerKind | 'rerun';

export const TRIGGER_GROUPS: readonly TriggerGroup[] = ['file', 'network', 'schedule', 'manual', 'absent', 'rerun'];

/** Short names of the groups, as the panels show them. */
export const TRIGGER_GROUP_LABEL: Record<TriggerGroup, string> = {
  file: 'file',
  network: 'network',
  schedule: 'timer',
  manual: 'manual',
  absent: 'absence',
  rerun: 'rerun'
};

/** One line on what each group means (tooltips, legends). */
export const TRIGGER_GROUP_HELP: Record<TriggerGroup, string> = {
  file: 'a file was created, modified, moved or deleted',
  network: 'a message arrived on a network port',
  schedule: 'a timer fired (cron schedule or fixed interval)',
  manual: 'a person ran it (Run / Approve, the API or meow trigger)',
  absent: 'no matching file arrived or changed for the set time',
  rerun: 'a person reran an earlier job'
};

/**
 * 24×24 SVG path data of each group's icon (Material Design icons, Apache
 * 2.0): a document, a plug, a clock, a person, a "no" sign, a replay arrow.
 */
export const TRIGGER_ICON_PATHS: Record<TriggerGroup, string> = {
  file: 'M6 2c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6H6zm7 7V3.5L18.5 9H13z',
  network: 'M16.01 7L16 3h-2v4h-4V3H8v4h-.01C7 6.99 6 7.99 6 8.99v5.49L9.5 18v3h5v-3l3.5-3.51v-5.5c0-1-1-2-1.99-1.99z',
  schedule:
    'M11.99 2C6.47 2 2 6.48 2 12s4.47 10 9.99 10C17.52 22 22 17.52 22 12S17.52 2 11.99 2zM12 20c-4.42 0-8-3.58-8-8s3.58-8 8-8 8 3.58 8 8-3.58 8-8 8zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z',
  manual:
    'M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z',
  absent:
    'M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zM4 12c0-4.42 3.58-8 8-8 1.85 0 3.55.63 4.9 1.69L5.69 16.9C4.63 15.55 4 13.85 4 12zm8 8c-1.85 0-3.55-.63-4.9-1.69L18.31 7.1C19.37 8.45 20 10.15 20 12c0 4.42-3.58 8-8 8z',
  rerun: 'M12 5V1L7 6l5 5V7c3.31 0 6 2.69 6 6s-2.69 6-6 6-6-2.69-6-6H4c0 4.42 3.58 8 8 8s8-3.58 8-8-3.58-8-8-8z'
};

/** The group of a job's trigger kind (`created` → `file`). */
export function triggerGroup(kind: JobTriggerKind | string | undefined): TriggerGroup {
  if ((FILE_EVENT_KINDS as readonly string[]).includes(kind as string)) {
    return 'file';
  }
  return (TRIGGER_GROUPS as readonly string[]).includes(kind as string) ? (kind as TriggerGroup) : 'file';
}

/** A job's trigger kind in words: `file created`, `network`, `timer`, ... */
export function jobTriggerLabel(kind: JobTriggerKind | string | undefined): string {
  if ((FILE_EVENT_KINDS as readonly string[]).includes(kind as string)) {
    return `file ${kind}`;
  }
  const group = (TRIGGER_GROUPS as readonly string[]).includes(kind as string) ? (kind as TriggerGroup) : undefined;
  return group ? TRIGGER_GROUP_LABEL[group] : String(kind ?? 'unknown');
}

/** A timer's text: its cron expression, or `every 30s`. */
export function scheduleText(t: { cron?: string; everyMs?: number }): string {
  return t.everyMs !== undefined ? `every ${formatDuration(t.everyMs)}` : (t.cron ?? '');
}

/** A network trigger's address: `:9000`, or `0.0.0.0:9000` off the default host. */
export function portText(t: { port: number; host?: string }): string {
  return t.host && t.host !== DEFAULT_NETWORK_HOST ? `${t.host}:${t.port}` : `:${t.port}`;
}

/**
 * What fires a pattern, in a few words: its glob, `:9000`, `*\/10 * * * *`,
 * `every 30s`, `approve review/*`, `run by hand`, `no in/* for 10m`.
 */
export function triggerSummary(t: Trigger): string {
  switch (t.kind) {
    case 'file':
      return t.path;
    case 'network':
      return portText(t);
    case 'schedule':
      return scheduleText(t);
    case 'manual':
      return t.path ? `approve ${t.path}` : 'run by hand';
    case 'absent':
      return `no ${t.path} for ${formatDuration(t.forMs)}`;
  }
  return (t as { kind: string }).kind;
}

/** `512 B`, `1.5 KB`, `20 MB` (powers of 1000, as the core's sizes). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)} ${units[i]}`;
}
