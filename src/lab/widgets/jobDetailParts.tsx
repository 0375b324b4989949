/**
 * The parts of a job's detail view (jobDetail.tsx): its actions, its facts
 * (trigger, times, where it runs), parameters, error, files written and
 * provenance. Each renders what it is given; JobDetail fetches and lays out.
 */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { describeResources } from '../../core/executor';
import { shortJobId } from '../../core/jobs';
import { toPythonLiteral } from '../../core/pyvalue';
import { typedParameters } from '../../core/typedParameters';
import type { IJob } from '../../core/types';
import { EXECUTOR_HELP, externalIdLabel, jobExecutor } from '../executors';
import { formatElapsed, formatTime } from '../format';
import { CommandIDs } from '../tokens';
import { TriggerKindLabel } from './triggerLabel';

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * A parameter whose JSON form loses its Python type (`1.0` is 1 in JSON,
 * `{1: 1}` is `{"1": 1}`) as the Python literal the notebook received.
 */
function showTyped(v: unknown): string {
  try {
    return toPythonLiteral(v);
  } catch {
    return show(v);
  }
}

/** Cancel, rerun, open the result, show the folder. */
export function JobActions(props: {
  job: IJob;
  final: boolean;
  result?: string;
  commands: CommandRegistry;
}): JSX.Element {
  const { job, final, result, commands } = props;
  const exec = (id: string) => () => void commands.execute(id, { id: job.id });
  return (
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
        disabled={!result && job.status !== 'running'}
        title={result ?? 'result.ipynb'}
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
  );
}

/** What triggered the job, when, and where it runs. */
export function JobFacts(props: {
  job: IJob;
  duration: number | undefined;
  folder?: string;
  openFile: (path: string) => () => void;
  onSelectJob: (id: string) => void;
}): JSX.Element {
  const { job, duration, folder, openFile, onSelectJob } = props;
  const executor = jobExecutor(job);
  const external = job.external;
  return (
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
        {folder && (
          <tr>
            <th>Folder</th>
            <td className="jp-meow-mono">{folder}</td>
          </tr>
        )}
        {job.rerunOf && (
          <tr>
            <th>Rerun of</th>
            <td>
              <a className="jp-meow-link" title={job.rerunOf} onClick={() => onSelectJob(job.rerunOf!)}>
                {shortJobId(job.rerunOf)}
              </a>
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** The parameters the job ran with. */
export function JobParameters(props: { job: IJob }): JSX.Element {
  const { job } = props;
  const texts = job.typedParameters ?? {};
  const values = typedParameters(job.parameters ?? {}, job.typedParameters);
  return (
    <>
      <h4>Parameters</h4>
      <table className="jp-meow-kv" data-testid="meow-job-parameters">
        <tbody>
          {Object.entries(values).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td className="jp-meow-mono">
                {Object.prototype.hasOwnProperty.call(texts, k) ? showTyped(v) : show(v)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The job's error: message, exception, traceback (nothing when it has none). */
export function JobError(props: { job: IJob }): JSX.Element | null {
  const { job } = props;
  if (!job.error) {
    return null;
  }
  return (
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
  );
}

/** Files the job wrote, each opening in the Lab. */
export function JobFiles(props: { job: IJob; openFile: (path: string) => () => void }): JSX.Element {
  const { job, openFile } = props;
  return (
    <>
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
    </>
  );
}

/** The job that wrote its trigger, and the jobs its files triggered. */
export function JobLineage(props: { job: IJob; children: string[]; onSelectJob: (id: string) => void }): JSX.Element {
  const { job, children, onSelectJob } = props;
  return (
    <>
      <h4>Provenance</h4>
      <div className="jp-meow-lineage">
        <div>
          Parent:{' '}
          {job.parent ? (
            <a
              className="jp-meow-link"
              data-testid="meow-job-parent"
              title={job.parent}
              onClick={() => onSelectJob(job.parent!)}
            >
              {shortJobId(job.parent)}
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
                <a key={c} className="jp-meow-link jp-meow-child" title={c} onClick={() => onSelectJob(c)}>
                  {shortJobId(c)}
                </a>
              ))}
        </div>
      </div>
    </>
  );
}
