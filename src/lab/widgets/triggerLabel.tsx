/**
 * A job's trigger kind as the Monitor shows it: an icon per kind (file
 * event, network, timer, manual, absence, rerun), its name, and who or what
 * fired it when the service recorded that.
 */
import * as React from 'react';

import type { IJob } from '../../core/types';
import { triggerIcons } from '../icons';
import { TRIGGER_GROUP_HELP, jobTriggerLabel, triggerGroup } from '../triggers';

/** What fired a job: its kind's icon and name, and who or what fired it when known. */
export function TriggerKindLabel(props: { trigger: IJob['trigger'] | undefined; withSource?: boolean }): JSX.Element {
  const { trigger } = props;
  const group = triggerGroup(trigger?.kind);
  const Icon = triggerIcons[group];
  const label = jobTriggerLabel(trigger?.kind);
  const source = props.withSource !== false ? trigger?.source : undefined;
  return (
    <span
      className={`jp-meow-triggerKind jp-meow-trigger-${group}`}
      data-meow-trigger-kind={trigger?.kind}
      title={`${label}: ${TRIGGER_GROUP_HELP[group]}${trigger?.source ? ` (${trigger.source})` : ''}`}
    >
      <Icon.react tag="span" className="jp-meow-triggerIcon" />
      {label}
      {source ? <span className="jp-meow-triggerSource"> · {source}</span> : null}
    </span>
  );
}
