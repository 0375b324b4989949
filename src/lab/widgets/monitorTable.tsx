/**
 * The Monitor's job table: windowed rows (only those in view are rendered,
 * so 10,000 jobs cost what 30 do), sortable columns (click a header; the
 * order is kept by `JobsModel`) and resizable ones (drag a header's right
 * edge, or focus it and use the arrow keys). Columns keep their widths when
 * the detail pane opens: the table scrolls sideways instead of squeezing
 * them to "Pa…".
 */
import * as React from 'react';

import type { IJobSort, JobSortKey } from '../../core/jobFilter';
import type { IJob } from '../../core/types';
import { formatElapsed, formatRelative, formatTime, jobDuration, shortJobId } from '../format';
import type { IMeow } from '../tokens';
import { visibleRows } from '../virtual';
import { ExecutorLabel } from './executorLabel';
import { StatusBadge } from './jobDetail';
import { TriggerKindLabel } from './triggerLabel';
import { useNow, useSignal } from './hooks';

export const ROW_HEIGHT = 26;

/** One column: what it shows, what it sorts by, how wide it starts and may get. */
export interface IMonitorColumn {
  id: string;
  label: string;
  sort: JobSortKey;
  width: number;
  minWidth: number;
  /** Sorted A→Z first (text) or largest / newest first (times, durations). */
  firstDirection: 'asc' | 'desc';
  cell: (job: IJob, now: number) => React.ReactNode;
  title?: (job: IJob) => string | undefined;
}

export const MONITOR_COLUMNS: readonly IMonitorColumn[] = [
  {
    id: 'job',
    label: 'Job',
    sort: 'id',
    width: 110,
    minWidth: 90,
    firstDirection: 'desc',
    cell: j => shortJobId(j.id),
    title: j => j.id
  },
  {
    id: 'pattern',
    label: 'Pattern',
    sort: 'pattern',
    width: 150,
    minWidth: 70,
    firstDirection: 'asc',
    cell: j => j.pattern,
    title: j => j.pattern
  },
  {
    id: 'recipe',
    label: 'Recipe',
    sort: 'recipe',
    width: 130,
    minWidth: 70,
    firstDirection: 'asc',
    cell: j => j.recipe,
    title: j => j.recipe
  },
  {
    id: 'trigger',
    label: 'Trigger',
    sort: 'trigger',
    width: 100,
    minWidth: 60,
    firstDirection: 'asc',
    cell: j => <TriggerKindLabel trigger={j.trigger} />
  },
  {
    id: 'path',
    label: 'Trigger path',
    sort: 'path',
    width: 200,
    minWidth: 90,
    firstDirection: 'asc',
    cell: j => j.trigger?.path,
    title: j => j.trigger?.path
  },
  {
    id: 'executor',
    label: 'Executor',
    sort: 'executor',
    width: 100,
    minWidth: 60,
    firstDirection: 'asc',
    cell: j => <ExecutorLabel job={j} />
  },
  {
    id: 'status',
    label: 'Status',
    sort: 'status',
    width: 96,
    minWidth: 80,
    firstDirection: 'asc',
    cell: j => <StatusBadge job={j} />
  },
  {
    id: 'created',
    label: 'Created',
    sort: 'created',
    width: 104,
    minWidth: 70,
    firstDirection: 'desc',
    cell: (j, now) => formatRelative(j.created, now),
    title: j => formatTime(j.created)
  },
  {
    id: 'duration',
    label: 'Duration',
    sort: 'duration',
    width: 90,
    minWidth: 64,
    firstDirection: 'desc',
    cell: (j, now) => {
      const d = jobDuration(j, now);
      return d !== undefined ? formatElapsed(d) : '';
    }
  }
];

/** Column widths by column id, in px. */
export type ColumnWidths = Record<string, number>;

export function defaultColumnWidths(): ColumnWidths {
  return Object.fromEntries(MONITOR_COLUMNS.map(c => [c.id, c.width]));
}

/**
 * The grid's columns: each at its width; the trigger path also takes any
 * room left, so a wide panel has no empty strip on the right.
 */
export function gridTemplate(widths: ColumnWidths): string {
  return MONITOR_COLUMNS.map(c => {
    const w = Math.max(c.minWidth, widths[c.id] ?? c.width);
    return c.id === 'path' ? `minmax(${w}px, 1fr)` : `${w}px`;
  }).join(' ');
}

/** The sort after clicking a column's header: the other direction if it is the sort column, else its first one. */
export function nextSort(current: IJobSort, column: IMonitorColumn): IJobSort {
  if (current.key === column.sort) {
    return { key: column.sort, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  }
  return { key: column.sort, direction: column.firstDirection };
}

function HeaderCell(props: {
  column: IMonitorColumn;
  sort: IJobSort;
  width: number;
  onSort: (column: IMonitorColumn) => void;
  onResize: (id: string, width: number) => void;
}): JSX.Element {
  const { column, sort, width } = props;
  const sorted = sort.key === column.sort;
  const ariaSort = sorted ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none';
  const resize = (w: number) => props.onResize(column.id, Math.max(column.minWidth, Math.round(w)));
  const onPointerDown = (e: React.PointerEvent<HTMLSpanElement>) => {
    e.preventDefault();
    e.stopPropagation();
    const handle = e.currentTarget;
    const startX = e.clientX;
    handle.setPointerCapture?.(e.pointerId);
    const move = (ev: PointerEvent) => resize(width + ev.clientX - startX);
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      handle.removeEventListener('pointercancel', up);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
    handle.addEventListener('pointercancel', up);
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    const step = e.shiftKey ? 40 : 10;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      resize(width + (e.key === 'ArrowRight' ? step : -step));
    }
  };
  return (
    <div className="jp-meow-colHeader" role="columnheader" aria-sort={ariaSort} data-meow-column={column.id}>
      <button
        className="jp-meow-sortButton"
        title={`Sort by ${column.label.toLowerCase()}`}
        onClick={() => props.onSort(column)}
      >
        <span className="jp-meow-colLabel">{column.label}</span>
        <span className="jp-meow-sortIndicator" aria-hidden="true">
          {sorted ? (sort.direction === 'asc' ? '▲' : '▼') : ''}
        </span>
      </button>
      <span
        className="jp-meow-colResize"
        role="separator"
        aria-orientation="vertical"
        aria-label={`Resize column ${column.label}`}
        aria-valuenow={width}
        aria-valuemin={column.minWidth}
        tabIndex={0}
        data-meow-resize={column.id}
        onPointerDown={onPointerDown}
        onKeyDown={onKeyDown}
      />
    </div>
  );
}

function JobRow(props: { job: IJob; now: number; selected: boolean; onSelect: (id: string) => void }): JSX.Element {
  const { job, now, selected } = props;
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
      {MONITOR_COLUMNS.map(c => (
        <span key={c.id} role="cell" className={c.id === 'job' ? 'jp-meow-mono' : undefined} title={c.title?.(job)}>
          {c.cell(job, now)}
        </span>
      ))}
    </div>
  );
}

export function JobTable(props: {
  meow: IMeow;
  selected: string | null;
  widths: ColumnWidths;
  onSelect: (id: string) => void;
  onResize: (id: string, width: number) => void;
}): JSX.Element {
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
  // The sticky header is the first row of the scrolled grid.
  const win = visibleRows(Math.max(0, scroll.top - ROW_HEIGHT), scroll.height, ROW_HEIGHT, total);
  const rows = jobs.slice(win.start, win.end);
  const sort = jobs.sort;
  const template = gridTemplate(props.widths);
  const minWidth = MONITOR_COLUMNS.reduce((sum, c) => sum + Math.max(c.minWidth, props.widths[c.id] ?? c.width), 16);
  return (
    <div
      className="jp-meow-jobTable"
      role="table"
      aria-rowcount={total + 1}
      data-testid="meow-job-table"
      data-meow-total={total}
    >
      <div
        className="jp-meow-jobScroll"
        ref={scroller}
        onScroll={e => setScroll({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight || 600 })}
      >
        <div className="jp-meow-jobGrid" style={{ minWidth, ['--jp-meow-job-columns' as string]: template }}>
          <div className="jp-meow-jobRow jp-meow-jobHeader" role="row">
            {MONITOR_COLUMNS.map(c => (
              <HeaderCell
                key={c.id}
                column={c}
                sort={sort}
                width={Math.max(c.minWidth, props.widths[c.id] ?? c.width)}
                onSort={col => jobs.setSort(nextSort(jobs.sort, col))}
                onResize={props.onResize}
              />
            ))}
          </div>
          {total === 0 ? (
            <div className="jp-meow-empty">
              {jobs.size === 0
                ? 'No jobs yet. Jobs appear here as soon as a pattern matches a file.'
                : 'No job matches the filters.'}
            </div>
          ) : (
            <div role="rowgroup" style={{ paddingTop: win.before, paddingBottom: win.after }}>
              {rows.map(job => (
                <JobRow
                  key={job.id}
                  job={job}
                  now={now}
                  selected={job.id === props.selected}
                  onSelect={props.onSelect}
                />
              ))}
            </div>
          )}
        </div>
      </div>
      <div className="jp-meow-tableFooter">
        {total === jobs.size ? `${total} job${total === 1 ? '' : 's'}` : `${total} of ${jobs.size} jobs`}
      </div>
    </div>
  );
}
