/**
 * Views of rules paused by a runaway limit, shared by the Workflow panel and
 * the Monitor: the Resume button and the banner listing every pause.
 */
import * as React from 'react';

import type { IPausedRule, LimitKind } from '../../core/types';
import { formatTime } from '../format';
import type { IMeow } from '../tokens';
import { useSignal } from './hooks';

/** What each limit means, for tooltips. */
export const LIMIT_HELP: Record<LimitKind, string> = {
  max_jobs: 'max_jobs: most jobs the pattern may create until it is resumed or edited',
  max_rate: 'max_rate: most jobs the pattern may create per minute',
  max_depth:
    'max_depth: longest chain of jobs, each triggered by the output of the previous one, a job of this pattern may end'
};

/** One line for a pause: `max_rate — 61 jobs in the last minute; ...`. */
export function describePause(rule: IPausedRule): string {
  return `${rule.limit} — ${rule.reason}${rule.path ? ` (trigger ${rule.path})` : ''}`;
}

export function ResumeButton(props: { meow: IMeow; pattern: string }): JSX.Element {
  const { meow, pattern } = props;
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState('');
  const resume = async () => {
    setBusy(true);
    setError('');
    try {
      await meow.paused.resume(pattern);
    } catch (err) {
      setError((err as Error).message);
    }
    setBusy(false);
  };
  return (
    <>
      <button
        className="jp-Button jp-mod-styled jp-mod-accept jp-meow-resume"
        title={`Resume ${pattern}: its files are processed again (already processed ones are not run twice)`}
        data-testid="meow-resume-pattern"
        data-meow-pattern={pattern}
        disabled={busy}
        onClick={() => void resume()}
      >
        Resume
      </button>
      {error && (
        <span className="jp-meow-error" data-testid="meow-resume-error">
          {error}
        </span>
      )}
    </>
  );
}

/** The paused state under a pattern's name in the Workflow panel. */
export function PauseNotice(props: { meow: IMeow; rule: IPausedRule }): JSX.Element {
  const { meow, rule } = props;
  return (
    <div
      className="jp-meow-pauseNotice"
      data-testid="meow-pause-notice"
      data-meow-limit={rule.limit}
      title={LIMIT_HELP[rule.limit]}
    >
      <span className="jp-meow-pauseText">
        <b>Paused</b> since {formatTime(rule.since)}: {describePause(rule)}
      </span>
      <ResumeButton meow={meow} pattern={rule.pattern} />
    </div>
  );
}

/** The Monitor's banner: every paused pattern, with its limit, reason and Resume. */
export function PausedBanner(props: { meow: IMeow }): JSX.Element | null {
  const { meow } = props;
  useSignal(meow.paused.changed);
  const rules = meow.paused.paused;
  if (!rules.length) {
    return null;
  }
  return (
    <div className="jp-meow-pausedBanner" role="alert" data-testid="meow-paused-banner">
      <div className="jp-meow-pausedTitle">
        {rules.length === 1 ? 'A pattern is paused' : `${rules.length} patterns are paused`} by a runaway limit. Their
        events are kept and processed when resumed.
      </div>
      <ul className="jp-meow-pausedList">
        {rules.map(rule => (
          <li
            key={rule.pattern}
            data-meow-pattern={rule.pattern}
            data-meow-limit={rule.limit}
            title={LIMIT_HELP[rule.limit]}
          >
            <span className="jp-meow-pauseText">
              <b>{rule.pattern}</b> since {formatTime(rule.since)}: {describePause(rule)}
            </span>
            <ResumeButton meow={meow} pattern={rule.pattern} />
          </li>
        ))}
      </ul>
    </div>
  );
}
