/**
 * One job in full: parameters, trigger event and hash, timestamps, error and
 * traceback, files written, parent and children; where it runs (executor,
 * its id and state there, resources asked); and its actions.
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import type { IJobDetail } from '../../core/api';
import { isFinalStatus } from '../../core/jobs';
import type { IJob } from '../../core/types';
import { jobDuration } from '../format';
import { IMeow } from '../tokens';
import { useNow, useSignal } from './hooks';
import { JobActions, JobError, JobFacts, JobFiles, JobLineage, JobParameters } from './jobDetailParts';

export function StatusBadge(props: { job: Pick<IJob, 'status' | 'progress'> }): JSX.Element {
  const { status, progress } = props.job;
  return (
    <span className={`jp-meow-status jp-meow-status-${status}`} data-meow-job-status={status}>
      {status}
      {status === 'running' && progress ? ` ${progress.done}/${progress.total}` : ''}
    </span>
  );
}

export interface IJobDetailProps {
  meow: IMeow;
  commands: CommandRegistry;
  jobId: string;
  onSelectJob: (id: string) => void;
  onClose?: () => void;
}

export function JobDetail(props: IJobDetailProps): JSX.Element {
  const { meow, commands, jobId, onSelectJob } = props;
  useSignal(meow.jobs.changed);
  const now = useNow(1);
  const live = meow.jobs.get(jobId);
  const [detail, setDetail] = React.useState<IJobDetail | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const version = live ? `${live.status}|${live.finished ?? ''}|${live.filesWritten?.length ?? 0}` : '';

  React.useEffect(() => {
    let cancelled = false;
    meow.client
      .getJob(jobId)
      .then(d => {
        if (!cancelled) {
          setDetail(d);
          setError(null);
        }
      })
      .catch(err => {
        if (!cancelled) {
          setError((err as Error).message);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [jobId, version]);

  const job: IJob | undefined = live ?? detail?.job;
  if (!job) {
    return (
      <div className="jp-meow-JobDetail" data-testid="meow-job-detail">
        {error ?? 'Loading…'}
      </div>
    );
  }
  const children = [...new Set([...(detail?.children ?? []), ...meow.jobs.children(job.id)])].sort();
  const final = isFinalStatus(job.status);
  const duration = jobDuration(job, now);
  const openFile = (path: string) => () =>
    void commands.execute('docmanager:open', { path: meow.contentsPath(path) }).catch(() => undefined);

  return (
    <div className="jp-meow-JobDetail" data-testid="meow-job-detail" data-meow-job-id={job.id}>
      <div className="jp-meow-detailHeader">
        <h3 title={job.id}>{job.id}</h3>
        <StatusBadge job={job} />
        {props.onClose && (
          <button className="jp-Button jp-mod-minimal" title="Close" onClick={props.onClose}>
            ✕
          </button>
        )}
      </div>
      {job.status === 'running' && job.progress && job.progress.total > 0 && (
        <div className="jp-meow-progress" title={`${job.progress.done} of ${job.progress.total} code cells done`}>
          <div style={{ width: `${(100 * job.progress.done) / job.progress.total}%` }} />
          <span>
            cells {job.progress.done}/{job.progress.total}
          </span>
        </div>
      )}
      <JobActions job={job} final={final} result={detail?.result} commands={commands} />
      {error && <div className="jp-meow-serverError">{error}</div>}
      <JobFacts job={job} duration={duration} folder={detail?.folder} openFile={openFile} onSelectJob={onSelectJob} />
      <JobParameters job={job} />
      <JobError job={job} />
      <JobFiles job={job} openFile={openFile} />
      <JobLineage job={job} children={children} onSelectJob={onSelectJob} />
    </div>
  );
}
