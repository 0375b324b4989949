/**
 * Status-bar item: whether the service is up, queued / running / done /
 * failed job counts, and how many rules a runaway limit paused. Clicking it opens the
 * Monitor (whose banner has the Resume buttons).
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { JobStatus } from '../../core/types';
import type { IMeow } from '../tokens';
import { useSignal } from './hooks';

/** Counts shown: from the loaded jobs when complete, else from the service. */
export function statusCounts(meow: IMeow): Record<'queued' | 'running' | 'done' | 'failed', number> {
  const fromJobs = meow.jobs.size > 0 && meow.jobs.size < meow.settings.maxJobs;
  const get = (s: JobStatus) => (fromJobs ? meow.jobs.counts[s] : meow.status.count(s));
  return { queued: get('queued'), running: get('running'), done: get('done'), failed: get('failed') };
}

function StatusView(props: { meow: IMeow; onClick: () => void }): JSX.Element {
  const { meow } = props;
  useSignal(meow.status.changed);
  useSignal(meow.jobs.changed);
  useSignal(meow.paused.changed);
  const up = meow.status.up;
  const c = statusCounts(meow);
  const paused = meow.paused.paused;
  const title = up
    ? `meow service ${meow.status.status?.version ?? ''} on ${meow.status.status?.workgroup ?? ''}` +
      (meow.status.connection === 'connected' ? ' — live' : ' — reconnecting to live updates') +
      (paused.length
        ? `\npaused by a runaway limit: ${paused.map(r => `${r.pattern} (${r.limit})`).join(', ')} — open the Monitor to resume`
        : '')
    : `meow service down: ${meow.status.error ?? 'not reachable'}`;
  return (
    <div
      className="jp-meow-StatusItem"
      data-testid="meow-status"
      data-meow-service={up ? 'up' : 'down'}
      title={title}
      onClick={props.onClick}
    >
      <span className={`jp-meow-dot jp-meow-dot-${up ? 'up' : 'down'}`} />
      <span>meow{up ? (meow.status.status?.state === 'starting' ? ' starting' : '') : ' down'}</span>
      {up && (
        <>
          <span className="jp-meow-count" data-meow-count="queued">
            {c.queued} queued
          </span>
          <span className="jp-meow-count" data-meow-count="running">
            {c.running} running
          </span>
          <span className="jp-meow-count" data-meow-count="done">
            {c.done} done
          </span>
          <span className={`jp-meow-count${c.failed ? ' jp-meow-count-failed' : ''}`} data-meow-count="failed">
            {c.failed} failed
          </span>
          {paused.length > 0 && (
            <span className="jp-meow-count jp-meow-count-paused" data-meow-count="paused">
              {paused.length} paused
            </span>
          )}
        </>
      )}
    </div>
  );
}

export class MeowStatusItem extends ReactWidget {
  constructor(
    private readonly _meow: IMeow,
    private readonly _onClick: () => void
  ) {
    super();
    this.addClass('jp-meow-StatusBar');
  }

  protected render(): JSX.Element {
    return <StatusView meow={this._meow} onClick={this._onClick} />;
  }
}
