/**
 * One job in full: parameters, trigger event and hash, timestamps, error and
 * traceback, files written, parent and children; where it runs (executor,
 * its id and state there, resources asked); and its actions.
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import type { IJobDetail } from '../../core/api';
import { describeResources } from '../../core/executor';
import { isFinalStatus } from '../../core/jobs';
import type { IJob } from '../../core/types';
import { EXECUTOR_HELP, externalIdLabel, jobExecutor } from '../executors';
import { formatElapsed, formatTime, jobDuration } from '../format';
import { CommandIDs, IMeow } from '../tokens';
import { useNow, useSignal } from './hooks';
import { TriggerKindLabel } from './triggerLabel';

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

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
  const executor = jobExecutor(job);
  const external = job.external;
  const exec = (id: string) => () => void commands.execute(id, { id: job.id });
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
      <div className="jp-meow-actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-warn"
          data-testid="meow-job-cancel"
          disabled={final}
          onClick={exec(CommandIDs.cancelJob)}
        >
          Cancel
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          data-testid="meow-job-rerun"
          disabled={!final}
          onClick={exec(CommandIDs.rerunJob)}
        >
          Rerun
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="meow-job-open-result"
          disabled={!detail?.result && job.status !== 'running'}
          title={detail?.result ?? 'result.ipynb'}
          onClick={exec(CommandIDs.openResult)}
        >
          Open result
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          data-testid="meow-job-reveal"
          onClick={exec(CommandIDs.revealJob)}
        >
          Show folder
        </button>
      </div>
      {error && <div className="jp-meow-serverError">{error}</div>}
      <table className="jp-meow-kv">
        <tbody>
          <tr>
            <th>Pattern</th>
            <td>{job.pattern}</td>
          </tr>
          <tr>
            <th>Recipe</th>
            <td>{job.recipe}</td>
          </tr>
          <tr>
            <th>Rule</th>
            <td>{job.rule}</td>
          </tr>
          <tr>
            <th>Trigger</th>
            <td data-testid="meow-job-trigger" data-meow-trigger-kind={job.trigger.kind}>
              <TriggerKindLabel trigger={job.trigger} withSource={false} />
              {job.trigger.retroactive ? ' (existing file, retroactive)' : ''}:{' '}
              <a className="jp-meow-link" onClick={openFile(job.trigger.path)}>
                {job.trigger.path}
              </a>
            </td>
          </tr>
          {job.trigger.source && (
            <tr>
              <th>Fired by</th>
              <td data-testid="meow-job-source">{job.trigger.source}</td>
            </tr>
          )}
          <tr>
            <th>Trigger hash</th>
            <td className="jp-meow-mono" data-testid="meow-job-hash">
              {job.trigger.hash ?? '—'}
            </td>
          </tr>
          <tr>
            <th>Event time</th>
            <td>{formatTime(job.trigger.time)}</td>
          </tr>
          <tr>
            <th>Created</th>
            <td>{formatTime(job.created)}</td>
          </tr>
          <tr>
            <th>Started</th>
            <td>{formatTime(job.started) || '—'}</td>
          </tr>
          <tr>
            <th>Finished</th>
            <td>{formatTime(job.finished) || '—'}</td>
          </tr>
          <tr>
            <th>Duration</th>
            <td>{duration !== undefined ? formatElapsed(duration) : '—'}</td>
          </tr>
          {job.kernel && (
            <tr>
              <th>Kernel</th>
              <td>
                {job.kernel}
                {job.conductor ? ` (${job.conductor})` : ''}
              </td>
            </tr>
          )}
          <tr>
            <th>Executor</th>
            <td data-testid="meow-job-executor" data-meow-executor={executor} title={EXECUTOR_HELP[executor]}>
              {executor}
              {job.executor ? '' : ' (not recorded)'}
            </td>
          </tr>
          {external && (
            <tr>
              <th>{externalIdLabel(executor)}</th>
              <td className="jp-meow-mono" data-testid="meow-job-external-id">
                {external.id}
              </td>
            </tr>
          )}
          {external?.state && (
            <tr>
              <th>{executor === 'slurm' ? 'Slurm state' : 'State'}</th>
              <td data-testid="meow-job-external-state">{external.state}</td>
            </tr>
          )}
          {external?.reason && (
            <tr>
              <th>Reason</th>
              <td data-testid="meow-job-external-reason">{external.reason}</td>
            </tr>
          )}
          {external?.host && (
            <tr>
              <th>{executor === 'slurm' ? 'Node' : 'Host'}</th>
              <td data-testid="meow-job-external-host">{external.host}</td>
            </tr>
          )}
          <tr>
            <th>Resources</th>
            <td data-testid="meow-job-resources">{describeResources(job.resources) || '—'}</td>
          </tr>
          {detail?.folder && (
            <tr>
              <th>Folder</th>
              <td className="jp-meow-mono">{detail.folder}</td>
            </tr>
          )}
          {job.rerunOf && (
            <tr>
              <th>Rerun of</th>
              <td>
                <a className="jp-meow-link" onClick={() => onSelectJob(job.rerunOf!)}>
                  {job.rerunOf}
                </a>
              </td>
            </tr>
          )}
        </tbody>
      </table>

      <h4>Parameters</h4>
      <table className="jp-meow-kv" data-testid="meow-job-parameters">
        <tbody>
          {Object.entries(job.parameters ?? {}).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td className="jp-meow-mono">{show(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {job.error && (
        <>
          <h4>Error</h4>
          <div className="jp-meow-error" data-testid="meow-job-error">
            <div>{job.error.message}</div>
            {job.error.ename && (
              <div className="jp-meow-mono">
                {job.error.ename}: {job.error.evalue}
                {job.error.cell !== undefined ? ` (cell ${job.error.cell + 1} of the result notebook)` : ''}
              </div>
            )}
            {job.error.traceback && job.error.traceback.length > 0 && (
              <pre className="jp-meow-traceback">{job.error.traceback.join('\n')}</pre>
            )}
          </div>
        </>
      )}

      <h4>Files written ({job.filesWritten?.length ?? 0})</h4>
      <ul className="jp-meow-files" data-testid="meow-job-files">
        {(job.filesWritten ?? []).map(f => (
          <li key={f}>
            <a className="jp-meow-link" onClick={openFile(f)}>
              {f}
            </a>
          </li>
        ))}
      </ul>

      <h4>Provenance</h4>
      <div className="jp-meow-lineage">
        <div>
          Parent:{' '}
          {job.parent ? (
            <a className="jp-meow-link" data-testid="meow-job-parent" onClick={() => onSelectJob(job.parent!)}>
              {job.parent}
            </a>
          ) : (
            '— (triggered from outside meow)'
          )}
        </div>
        <div>
          Children:{' '}
          {children.length === 0
            ? '—'
            : children.map(c => (
                <a key={c} className="jp-meow-link jp-meow-child" onClick={() => onSelectJob(c)}>
                  {c}
                </a>
              ))}
        </div>
      </div>
    </div>
  );
}
