/**
 * The Monitor's filter bar: one line at any panel width. Status chips,
 * pattern, recipe, trigger and executor, the text search and Clear stay in
 * the bar; the two time inputs (the widest controls, the least used) open
 * from a "Time" button. In a narrow panel the chips keep only their counts
 * (style/monitor.css).
 */
import * as React from 'react';

import { JOB_STATUSES } from '../../core/jobs';
import { EXECUTOR_KINDS } from '../../core/types';
import type { ExecutorKind, JobStatus } from '../../core/types';
import { formatTime, localInputToIso } from '../format';
import type { IJobsFilter } from '../models';
import type { IMeow } from '../tokens';
import { EXECUTOR_HELP } from '../executors';
import { TRIGGER_GROUPS, TRIGGER_GROUP_HELP, TRIGGER_GROUP_LABEL, TriggerGroup } from '../triggers';
import { useSignal } from './hooks';

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

/** "after" / "before" inputs in a popover under the Time button. */
function TimeFilter(props: { filter: IJobsFilter; set: (patch: Partial<IJobsFilter>) => void }): JSX.Element {
  const { filter, set } = props;
  const [open, setOpen] = React.useState(false);
  const host = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    if (!open) {
      return;
    }
    const onDown = (e: PointerEvent) => {
      if (host.current && !host.current.contains(e.target as Node)) {
        setOpen(false);
      }
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('pointerdown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  const active = Boolean(filter.after || filter.before);
  const summary = active
    ? [
        filter.after ? `after ${formatTime(String(filter.after))}` : '',
        filter.before ? `before ${formatTime(String(filter.before))}` : ''
      ]
        .filter(Boolean)
        .join(', ')
    : 'Filter by creation time';
  return (
    <div className="jp-meow-timeFilter" ref={host}>
      <button
        className={`jp-Button jp-mod-minimal jp-meow-timeButton${active ? ' jp-mod-active' : ''}`}
        data-testid="meow-filter-time"
        aria-haspopup="true"
        aria-expanded={open}
        title={summary}
        onClick={() => setOpen(!open)}
      >
        Time{active ? ' •' : ''} ▾
      </button>
      {open && (
        <div className="jp-meow-timePopover" role="dialog" aria-label="Creation time filter">
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
        </div>
      )}
    </div>
  );
}

/** A `<select>` of the filter bar: "all …" plus the options. */
function FilterSelect(props: {
  label: string;
  testId: string;
  title?: string;
  value: string | undefined;
  options: { value: string; label: string; title?: string }[];
  onChange: (value: string | undefined) => void;
}): JSX.Element {
  return (
    <select
      className="jp-mod-styled"
      aria-label={props.label}
      title={props.title}
      data-testid={props.testId}
      value={props.value ?? ''}
      onChange={e => props.onChange(e.target.value || undefined)}
    >
      <option value="">all {props.label.toLowerCase()}s</option>
      {props.options.map(o => (
        <option key={o.value} value={o.value} title={o.title}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

export function MonitorFilters(props: { meow: IMeow }): JSX.Element {
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
  const toggle = (s: JobStatus) =>
    set({ status: statuses.includes(s) ? statuses.filter(x => x !== s) : [...statuses, s] });
  const names = (a: string[]) => [...new Set(a)].sort().map(n => ({ value: n, label: n }));
  return (
    <div className="jp-meow-filters jp-meow-monitorFilters" data-testid="meow-monitor-filters">
      <div className="jp-meow-statusChips" role="group" aria-label="Status filter">
        {JOB_STATUSES.map(s => (
          <button
            key={s}
            className={`jp-meow-chip jp-meow-status-${s}${statuses.includes(s) ? ' jp-mod-active' : ''}`}
            aria-pressed={statuses.includes(s)}
            title={`${s}: ${counts[s] ?? 0} jobs`}
            data-meow-filter-status={s}
            data-meow-short={s[0].toUpperCase()}
            onClick={() => toggle(s)}
          >
            <span className="jp-meow-chipLabel">{s} </span>
            <b>{counts[s] ?? 0}</b>
          </button>
        ))}
      </div>
      <FilterSelect
        label="Pattern"
        testId="meow-filter-pattern"
        value={filter.pattern}
        options={names([...workflow.patterns.map(p => p.name), ...jobs.patterns])}
        onChange={pattern => set({ pattern })}
      />
      <FilterSelect
        label="Recipe"
        testId="meow-filter-recipe"
        value={filter.recipe}
        options={names([...workflow.recipes.map(r => r.name), ...jobs.recipes])}
        onChange={recipe => set({ recipe })}
      />
      <FilterSelect
        label="Trigger"
        testId="meow-filter-trigger"
        title="What fired the jobs"
        value={filter.trigger}
        options={TRIGGER_GROUPS.map(g => ({
          value: g,
          label: `${TRIGGER_GROUP_LABEL[g]} (${triggerCounts[g] ?? 0})`,
          title: TRIGGER_GROUP_HELP[g]
        }))}
        onChange={trigger => set({ trigger: trigger as TriggerGroup | undefined })}
      />
      <FilterSelect
        label="Executor"
        testId="meow-filter-executor"
        title="Where the jobs run (jobs recorded without an executor ran locally)"
        value={filter.executor}
        options={EXECUTOR_KINDS.map(k => ({
          value: k,
          label: `${k} (${executorCounts[k] ?? 0})`,
          title: EXECUTOR_HELP[k]
        }))}
        onChange={executor => set({ executor: executor as ExecutorKind | undefined })}
      />
      <input
        className="jp-mod-styled jp-meow-search"
        type="search"
        placeholder="Search id, path, error, Slurm id…"
        aria-label="Search jobs"
        data-testid="meow-filter-text"
        value={text}
        onChange={e => setText(e.target.value)}
      />
      <TimeFilter filter={filter} set={set} />
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
