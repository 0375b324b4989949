/**
 * The Monitor panel (main area): a live, filtered, windowed table of jobs and
 * the detail of the selected one. Rows come straight from `JobsModel`; only
 * the rows in view are rendered, so 10,000 jobs cost what 30 do.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { JOB_STATUSES } from '../../core/jobs';
import { EXECUTOR_KINDS } from '../../core/types';
import type { ExecutorKind, IJob, JobStatus } from '../../core/types';
import { formatElapsed, formatRelative, formatTime, jobDuration, localInputToIso, shortJobId } from '../format';
import type { IJobsFilter } from '../models';
import type { IMeow } from '../tokens';
import { EXECUTOR_HELP } from '../executors';
import { TRIGGER_GROUPS, TRIGGER_GROUP_HELP, TRIGGER_GROUP_LABEL, TriggerGroup } from '../triggers';
import { visibleRows } from '../virtual';
import { useNow, useSignal } from './hooks';
import { ExecutorLabel } from './executorLabel';
import { JobDetail, StatusBadge } from './jobDetail';
import { TriggerKindLabel } from './triggerLabel';
import { PausedBanner } from './paused';

export const ROW_HEIGHT = 26;

function isoToLocalInput(iso: string | number | undefined): string {
  if (iso === undefined || iso === '') {
    return '';
  }
  const d = new Date(iso);
  if (isNaN(d.getTime())) {
    return '';
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function Filters(props: { meow: IMeow }): JSX.Element {
  const { jobs, workflow } = props.meow;
  useSignal(jobs.filterChanged);
  useSignal(jobs.changed); // status counts on the chips
  useSignal(workflow.changed);
  const filter = jobs.filter;
  const counts = jobs.counts;
  const triggerCounts = jobs.triggerCounts;
  const executorCounts = jobs.executorCounts;
  const [text, setText] = React.useState(filter.text ?? '');
  const set = (patch: Partial<IJobsFilter>) => jobs.setFilter({ ...jobs.filter, ...patch });
  React.useEffect(() => {
    const t = setTimeout(() => {
      if ((jobs.filter.text ?? '') !== text) {
        set({ text });
      }
    }, 200);
    return () => clearTimeout(t);
  }, [text]);
  const statuses = filter.status ?? [];
  const toggle = (s: JobStatus) => set({ status: statuses.includes(s) ? statuses.filter(x => x !== s) : [...statuses, s] });
  const patterns = [...new Set([...workflow.patterns.map(p => p.name), ...jobs.patterns])].sort();
  const recipes = [...new Set([...workflow.recipes.map(r => r.name), ...jobs.recipes])].sort();
  return (
    <div className="jp-meow-filters" data-testid="meow-monitor-filters">
      <div className="jp-meow-statusChips" role="group" aria-label="Status filter">
        {JOB_STATUSES.map(s => (
          <button
            key={s}
            className={`jp-meow-chip jp-meow-status-${s}${statuses.includes(s) ? ' jp-mod-active' : ''}`}
            aria-pressed={statuses.includes(s)}
            data-meow-filter-status={s}
            onClick={() => toggle(s)}
          >
            {s} <b>{counts[s] ?? 0}</b>
          </button>
        ))}
      </div>
      <select className="jp-mod-styled" aria-label="Pattern" data-testid="meow-filter-pattern" value={filter.pattern ?? ''} onChange={e => set({ pattern: e.target.value || undefined })}>
        <option value="">all patterns</option>
        {patterns.map(p => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <select className="jp-mod-styled" aria-label="Recipe" data-testid="meow-filter-recipe" value={filter.recipe ?? ''} onChange={e => set({ recipe: e.target.value || undefined })}>
        <option value="">all recipes</option>
        {recipes.map(r => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <select
        className="jp-mod-styled"
        aria-label="Trigger"
        title="What fired the jobs"
        data-testid="meow-filter-trigger"
        value={filter.trigger ?? ''}
        onChange={e => set({ trigger: (e.target.value || undefined) as TriggerGroup | undefined })}
      >
        <option value="">all triggers</option>
        {TRIGGER_GROUPS.map(g => (
          <option key={g} value={g} title={TRIGGER_GROUP_HELP[g]}>
            {TRIGGER_GROUP_LABEL[g]} ({triggerCounts[g] ?? 0})
          </option>
        ))}
      </select>
      <select
        className="jp-mod-styled"
        aria-label="Executor"
        title="Where the jobs run (jobs recorded without an executor ran locally)"
        data-testid="meow-filter-executor"
        value={filter.executor ?? ''}
        onChange={e => set({ executor: (e.target.value || undefined) as ExecutorKind | undefined })}
      >
        <option value="">all executors</option>
        {EXECUTOR_KINDS.map(k => (
          <option key={k} value={k} title={EXECUTOR_HELP[k]}>
            {k} ({executorCounts[k] ?? 0})
          </option>
        ))}
      </select>
      <label className="jp-meow-time">
        after
        <input
          type="datetime-local"
          className="jp-mod-styled"
          data-testid="meow-filter-after"
          value={isoToLocalInput(filter.after)}
          onChange={e => set({ after: localInputToIso(e.target.value) })}
        />
      </label>
      <label className="jp-meow-time">
        before
        <input
          type="datetime-local"
          className="jp-mod-styled"
          data-testid="meow-filter-before"
          value={isoToLocalInput(filter.before)}
          onChange={e => set({ before: localInputToIso(e.target.value) })}
        />
      </label>
      <input
        className="jp-mod-styled jp-meow-search"
        type="search"
        placeholder="Search id, path, error, Slurm id…"
        data-testid="meow-filter-text"
        value={text}
        onChange={e => setText(e.target.value)}
      />
      <button
        className="jp-Button jp-mod-minimal"
        onClick={() => {
          setText('');
          jobs.setFilter({});
        }}
      >
        Clear
      </button>
    </div>
  );
}

const COLUMNS = ['Job', 'Pattern', 'Recipe', 'Trigger', 'Trigger path', 'Executor', 'Status', 'Created', 'Duration'];

function JobRow(props: { job: IJob; now: number; selected: boolean; onSelect: (id: string) => void }): JSX.Element {
  const { job, now, selected } = props;
  const duration = jobDuration(job, now);
  return (
    <div
      className={`jp-meow-jobRow${selected ? ' jp-mod-selected' : ''}`}
      role="row"
      aria-selected={selected}
      data-meow-job-id={job.id}
      data-meow-job-status={job.status}
      style={{ height: ROW_HEIGHT }}
      onClick={() => props.onSelect(job.id)}
    >
      <span className="jp-meow-mono" title={job.id}>
        {shortJobId(job.id)}
      </span>
      <span title={job.pattern}>{job.pattern}</span>
      <span title={job.recipe}>{job.recipe}</span>
      <span>
        <TriggerKindLabel trigger={job.trigger} />
      </span>
      <span title={job.trigger?.path}>{job.trigger?.path}</span>
      <span>
        <ExecutorLabel job={job} />
      </span>
      <span>
        <StatusBadge job={job} />
      </span>
      <span title={formatTime(job.created)}>{formatRelative(job.created, now)}</span>
      <span>{duration !== undefined ? formatElapsed(duration) : ''}</span>
    </div>
  );
}

function JobTable(props: { meow: IMeow; selected: string | null; onSelect: (id: string) => void }): JSX.Element {
  const { jobs, settings } = props.meow;
  useSignal(jobs.changed);
  const now = useNow(settings.relativeTimeRefresh);
  const scroller = React.useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = React.useState({ top: 0, height: 600 });
  React.useEffect(() => {
    const el = scroller.current;
    if (!el) {
      return;
    }
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight || 600 });
    measure();
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);
  const total = jobs.filteredSize;
  const win = visibleRows(scroll.top, scroll.height, ROW_HEIGHT, total);
  const rows = jobs.slice(win.start, win.end);
  return (
    <div className="jp-meow-jobTable" role="table" data-testid="meow-job-table" data-meow-total={total}>
      <div className="jp-meow-jobRow jp-meow-jobHeader" role="row">
        {COLUMNS.map(c => (
          <span key={c} role="columnheader">
            {c}
          </span>
        ))}
      </div>
      <div
        className="jp-meow-jobScroll"
        ref={scroller}
        onScroll={e => setScroll({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight || 600 })}
      >
        {total === 0 ? (
          <div className="jp-meow-empty">
            {jobs.size === 0 ? 'No jobs yet. Jobs appear here as soon as a pattern matches a file.' : 'No job matches the filters.'}
          </div>
        ) : (
          <div style={{ paddingTop: win.before, paddingBottom: win.after }}>
            {rows.map(job => (
              <JobRow key={job.id} job={job} now={now} selected={job.id === props.selected} onSelect={props.onSelect} />
            ))}
          </div>
        )}
      </div>
      <div className="jp-meow-tableFooter">
        {total === jobs.size ? `${total} job${total === 1 ? '' : 's'}` : `${total} of ${jobs.size} jobs`}
      </div>
    </div>
  );
}

function MonitorView(props: { panel: MonitorPanel }): JSX.Element {
  const { panel } = props;
  const { meow } = panel;
  const [selected, setSelected] = React.useState<string | null>(panel.selected);
  React.useEffect(() => {
    const onSelect = (_: MonitorPanel, id: string | null) => setSelected(id);
    panel.selectionChanged.connect(onSelect);
    return () => {
      panel.selectionChanged.disconnect(onSelect);
    };
  }, [panel]);
  return (
    <div className="jp-meow-monitorBody">
      <PausedBanner meow={meow} />
      <Filters meow={meow} />
      <div className="jp-meow-split">
        <JobTable meow={meow} selected={selected} onSelect={id => panel.showJob(id)} />
        {selected && (
          <JobDetail meow={meow} commands={panel.commands} jobId={selected} onSelectJob={id => panel.showJob(id)} onClose={() => panel.showJob(null)} />
        )}
      </div>
    </div>
  );
}

/** The Monitor panel's content (wrap it in a MainAreaWidget). */
export class MonitorPanel extends ReactWidget {
  constructor(readonly meow: IMeow, readonly commands: CommandRegistry) {
    super();
    this.addClass('jp-meow-MonitorPanel');
    this.node.setAttribute('data-testid', 'meow-monitor-panel');
  }

  get selected(): string | null {
    return this._selected;
  }

  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /** Select a job (and show its detail); clears filters that hide it. */
  showJob(id: string | null): void {
    if (id && this.meow.jobs.get(id) && this.meow.jobs.indexOf(id) < 0) {
      this.meow.jobs.setFilter({});
    }
    this._selected = id;
    this._selectionChanged.emit(id);
  }

  protected render(): JSX.Element {
    return <MonitorView panel={this} />;
  }

  private _selected: string | null = null;
  private _selectionChanged = new Signal<this, string | null>(this);
}
