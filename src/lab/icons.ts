import { LabIcon } from '@jupyterlab/ui-components';
import { TRIGGER_ICON_PATHS, TriggerGroup } from './triggers';

const catSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <path class="jp-icon3" fill="#616161" d="M4 3l4 4.5h8L20 3v10.5c0 4.1-3.6 7.5-8 7.5s-8-3.4-8-7.5V3zm5 8.2a1.2 1.2 0 100 2.4 1.2 1.2 0 000-2.4zm6 0a1.2 1.2 0 100 2.4 1.2 1.2 0 000-2.4zM12 15l-1.2 1h2.4L12 15z"/>
</svg>`;

export const meowIcon = new LabIcon({ name: 'jupyterlab-meow:meow', svgstr: catSvg });

/** One icon per kind of trigger (`triggers.ts`): Monitor rows, job detail, pattern list. */
export const triggerIcons: Record<TriggerGroup, LabIcon> = Object.fromEntries(
  (Object.keys(TRIGGER_ICON_PATHS) as TriggerGroup[]).map(group => [
    group,
    new LabIcon({
      name: `jupyterlab-meow:trigger-${group}`,
      svgstr: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16"><path class="jp-icon3" fill="#616161" d="${TRIGGER_ICON_PATHS[group]}"/></svg>`
    })
  ])
) as Record<TriggerGroup, LabIcon>;
