/**
 * Where a job runs, as the Monitor's Executor column shows it: compact
 * (`slurm 1234 (PENDING)`), with the external id, state, reason, host and
 * the resources asked for on hover.
 */
import * as React from 'react';

import type { IJob } from '../../core/types';
import { executorDetails, executorSummary, jobExecutor } from '../executors';

export function ExecutorLabel(props: { job: Pick<IJob, 'executor' | 'external' | 'resources'> }): JSX.Element {
  const { job } = props;
  const executor = jobExecutor(job);
  return (
    <span
      className={`jp-meow-executor jp-meow-executor-${executor}`}
      data-meow-executor={executor}
      data-meow-external-id={job.external?.id}
      data-meow-external-state={job.external?.state}
      title={executorDetails(job).join('\n')}
    >
      {executorSummary(job)}
    </span>
  );
}
