/**
 * Running a pattern by hand from the Workflow panel: the "Run now" box (a
 * workgroup file, an upload, or nothing), the outcome of the last run (its
 * jobs, linked to the Monitor, or the service's error and fix), and a manual
 * pattern's "Waiting for approval" list with an Approve button per file.
 * The views only render `ManualModel` (`meow.manual`) and call it.
 */
import * as React from 'react';

import { triggerGlobBase } from '../../core/glob';
import type { IPattern } from '../../core/types';
import { formatRelative, formatTime, shortJobId } from '../format';
import type { IRunOutcome } from '../models';
import type { IMeow } from '../tokens';
import { formatBytes, triggerGroup } from '../triggers';
import { useNow } from './hooks';

/** The label of a pattern's run button: `Run` for manual patterns, else `Run now`. */
export function runLabel(pattern: IPattern): string {
  return pattern.trigger.kind === 'manual' ? 'Run' : 'Run now';
}

/**
 * The path a file pattern is offered to run on: the file of its latest
 * file-event job, else the folder its glob starts with.
 */
export function defaultRunPath(meow: IMeow, pattern: IPattern): string {
  if (pattern.trigger.kind !== 'file') {
    return '';
  }
  const jobs = meow.jobs.all();
  for (let i = jobs.length - 1; i >= 0; i--) {
    const job = jobs[i];
    if (job.pattern === pattern.name && triggerGroup(job.trigger?.kind) === 'file' && job.trigger.path) {
      return job.trigger.path;
    }
  }
  const base = triggerGlobBase(pattern.trigger).replace(/\/+$/, '');
  return base ? `${base}/` : '';
}

/** The box under a pattern after pressing Run now: what to run it on. */
export function RunBox(props: { meow: IMeow; pattern: IPattern; onClose: () => void }): JSX.Element {
  const { meow, pattern, onClose } = props;
  const isFile = pattern.trigger.kind === 'file';
  const [path, setPath] = React.useState(() => defaultRunPath(meow, pattern));
  const upload = React.useRef<HTMLInputElement>(null);
  const busy = meow.manual.isBusy(pattern.name);
  const run = async (input: Parameters<IMeow['manual']['run']>[1]) => {
    try {
      await meow.manual.run(pattern.name, input);
      onClose();
    } catch {
      // The outcome below the pattern shows the error; the box stays open.
    }
  };
  const runPath = () => void run({ path: path.trim() });
  const pathOk = path.trim() !== '' && !path.trim().endsWith('/');
  return (
    <div className="jp-meow-runBox" data-testid="meow-run-box" data-meow-pattern={pattern.name}>
      <div className="jp-meow-runTitle">
        {isFile
          ? `Run ${pattern.name} on a workgroup file or on an uploaded file:`
          : `Run ${pattern.name} now, without a file, on an uploaded file, or on a workgroup file:`}
      </div>
      {!isFile && (
        <div className="jp-meow-runRow">
          <button
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="meow-run-empty"
            disabled={busy}
            title="The job's trigger file records who ran it and when"
            onClick={() => void run({})}
          >
            Run without a file
          </button>
        </div>
      )}
      <div className="jp-meow-runRow">
        <input
          className="jp-mod-styled jp-meow-runPath"
          data-testid="meow-run-path"
          aria-label="Workgroup file to run on"
          placeholder={
            isFile
              ? `a file matching ${pattern.trigger.kind === 'file' ? pattern.trigger.path : ''}`
              : 'optional: a workgroup file'
          }
          value={path}
          spellCheck={false}
          onChange={e => setPath(e.target.value)}
          onKeyDown={e => {
            if (e.key === 'Enter' && pathOk && !busy) {
              runPath();
            }
          }}
        />
        <button
          className={`jp-Button jp-mod-styled ${isFile ? 'jp-mod-accept' : 'jp-mod-reject'}`}
          data-testid="meow-run-on-path"
          disabled={busy || !pathOk}
          onClick={runPath}
        >
          Run on this file
        </button>
      </div>
      <div className="jp-meow-runRow">
        <button
          className="jp-Button jp-mod-styled jp-mod-reject"
          data-testid="meow-run-upload"
          disabled={busy}
          onClick={() => upload.current?.click()}
        >
          Upload a file…
        </button>
        <input
          ref={upload}
          type="file"
          style={{ display: 'none' }}
          data-testid="meow-run-upload-input"
          onChange={e => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) {
              void run({ file, filename: file.name });
            }
          }}
        />
        <span className="jp-meow-spacer" />
        <button className="jp-Button jp-mod-styled jp-mod-reject" data-testid="meow-run-cancel" onClick={onClose}>
          Cancel
        </button>
      </div>
      <div className="jp-meow-fieldHelp">
        {isFile
          ? 'The file must be inside the workgroup; an upload is stored under .meow/incoming/manual/ and becomes the trigger file.'
          : "An upload is stored under .meow/incoming/manual/ and becomes the job's trigger file (its input variable)."}
      </div>
    </div>
  );
}

/** The last run of a pattern: running, its jobs (linked to the Monitor), or the error and its fix. */
export function RunOutcomeView(props: {
  meow: IMeow;
  pattern: string;
  outcome: IRunOutcome;
  onShowJob?: (id: string) => void;
}): JSX.Element {
  const { meow, pattern, outcome, onShowJob } = props;
  const close = (
    <button
      className="jp-Button jp-mod-minimal jp-meow-runClose"
      title="Dismiss"
      onClick={() => meow.manual.clearOutcome(pattern)}
    >
      ✕
    </button>
  );
  if (outcome.busy) {
    return (
      <div className="jp-meow-runOutcome" data-testid="meow-run-busy">
        Running {pattern} on {outcome.what}…
      </div>
    );
  }
  if (outcome.error) {
    return (
      <div className="jp-meow-runOutcome jp-meow-runError" role="alert" data-testid="meow-run-error">
        <div className="jp-meow-runOutcomeText">
          <div>
            Could not run {pattern} on {outcome.what}: {outcome.error.message}
          </div>
          {outcome.error.fixes.map((f, i) => (
            <div key={i} className="jp-meow-runFix">
              Fix: {f}
            </div>
          ))}
        </div>
        {close}
      </div>
    );
  }
  const jobs = outcome.result?.jobs ?? [];
  return (
    <div className="jp-meow-runOutcome jp-meow-runOk" data-testid="meow-run-result">
      <div className="jp-meow-runOutcomeText">
        {jobs.length === 0
          ? `${pattern} made no job on ${outcome.result?.path ?? outcome.what}.`
          : `${jobs.length === 1 ? 'Job' : `${jobs.length} jobs`} of ${pattern} on ${outcome.result?.path ?? outcome.what}: `}
        {jobs.map(job =>
          onShowJob ? (
            <a
              key={job.id}
              className="jp-meow-link jp-meow-runJob"
              data-meow-job-id={job.id}
              title={`${job.id}: show in the Monitor`}
              onClick={() => onShowJob(job.id)}
            >
              {shortJobId(job.id)}
            </a>
          ) : (
            <span key={job.id} className="jp-meow-mono jp-meow-runJob" data-meow-job-id={job.id}>
              {shortJobId(job.id)}
            </span>
          )
        )}
      </div>
      {close}
    </div>
  );
}

/**
 * A manual pattern's files waiting for approval (path, age, size), each
 * with Approve. Kept current while shown and `visible`.
 */
export function WaitingList(props: { meow: IMeow; pattern: IPattern; visible: boolean }): JSX.Element {
  const { meow, pattern, visible } = props;
  const name = pattern.name;
  const glob = pattern.trigger.kind === 'manual' ? (pattern.trigger.path ?? '') : '';
  const now = useNow(Math.min(30, meow.settings.relativeTimeRefresh));
  React.useEffect(() => {
    if (!visible) {
      return;
    }
    const watch = meow.manual.watch(name);
    return () => watch.dispose();
  }, [name, visible]);
  const state = meow.manual.waiting(name);
  const files = state?.files ?? [];
  const approve = (path: string) => {
    meow.manual.approve(name, path).catch(() => undefined /* shown as the outcome */);
  };
  return (
    <div className="jp-meow-waiting" data-testid="meow-waiting" data-meow-pattern={name} data-meow-count={files.length}>
      <div className="jp-meow-waitingTitle">
        Waiting for approval{state?.loaded ? ` (${files.length}${state.truncated ? '+' : ''})` : ''}
        <span className="jp-meow-muted"> · {glob}</span>
      </div>
      {state?.error && <div className="jp-meow-fieldError">{state.error}</div>}
      {!state?.loaded && !state?.error && <div className="jp-meow-muted">Loading…</div>}
      {state?.loaded && files.length === 0 && (
        <div className="jp-meow-muted" data-testid="meow-waiting-empty">
          No file in {glob} waits for approval.
        </div>
      )}
      {files.length > 0 && (
        <ul className="jp-meow-waitingList">
          {files.map(f => (
            <li key={f.path} data-meow-waiting-path={f.path}>
              <span className="jp-meow-waitingPath" title={f.path}>
                {f.path}
              </span>
              <span className="jp-meow-waitingAge" title={`modified ${formatTime(f.modified)}`}>
                {formatRelative(f.modified, now)}
              </span>
              <span className="jp-meow-waitingSize">{formatBytes(f.size)}</span>
              <button
                className="jp-Button jp-mod-styled jp-mod-accept jp-meow-approve"
                data-testid="meow-approve"
                data-meow-path={f.path}
                title={`Run ${name} on ${f.path}`}
                disabled={meow.manual.isBusy(name, f.path)}
                onClick={() => approve(f.path)}
              >
                Approve
              </button>
            </li>
          ))}
        </ul>
      )}
      {state?.truncated && <div className="jp-meow-muted">More files wait; approve these first to see the rest.</div>}
    </div>
  );
}
