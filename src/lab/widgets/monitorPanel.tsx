/**
 * The Monitor panel (main area): the filter bar, the live job table and the
 * detail of the selected job. The panel keeps the selection and the column
 * widths (remembered in the browser's local storage); the rows, their
 * filter and order come from `JobsModel`.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import type { IMeow } from '../tokens';
import { JobDetail } from './jobDetail';
import { MonitorFilters } from './monitorFilters';
import { ColumnWidths, JobTable, MONITOR_COLUMNS, defaultColumnWidths } from './monitorTable';
import { PausedBanner } from './paused';

export { ROW_HEIGHT } from './monitorTable';

/** Where the column widths are remembered. */
const WIDTHS_KEY = 'jupyterlab-meow:monitor-column-widths';

function MonitorView(props: { panel: MonitorPanel }): JSX.Element {
  const { panel } = props;
  const { meow } = panel;
  const [selected, setSelected] = React.useState<string | null>(panel.selected);
  const [widths, setWidths] = React.useState<ColumnWidths>(panel.columnWidths);
  React.useEffect(() => {
    const onSelect = (_: MonitorPanel, id: string | null) => setSelected(id);
    const onWidths = (_: MonitorPanel, w: ColumnWidths) => setWidths(w);
    panel.selectionChanged.connect(onSelect);
    panel.columnWidthsChanged.connect(onWidths);
    return () => {
      panel.selectionChanged.disconnect(onSelect);
      panel.columnWidthsChanged.disconnect(onWidths);
    };
  }, [panel]);
  return (
    <div className="jp-meow-monitorBody">
      <PausedBanner meow={meow} />
      <MonitorFilters meow={meow} />
      <div className="jp-meow-split">
        <JobTable
          meow={meow}
          selected={selected}
          widths={widths}
          onSelect={id => panel.showJob(id)}
          onResize={(id, w) => panel.setColumnWidth(id, w)}
        />
        {selected && (
          <JobDetail
            meow={meow}
            commands={panel.commands}
            jobId={selected}
            onSelectJob={id => panel.showJob(id)}
            onClose={() => panel.showJob(null)}
          />
        )}
      </div>
    </div>
  );
}

/** The Monitor panel's content (wrap it in a MainAreaWidget). */
export class MonitorPanel extends ReactWidget {
  constructor(
    readonly meow: IMeow,
    readonly commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-meow-MonitorPanel');
    this.node.setAttribute('data-testid', 'meow-monitor-panel');
    this._widths = { ...defaultColumnWidths(), ...Private.loadWidths() };
  }

  get selected(): string | null {
    return this._selected;
  }

  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /** Width of each column in px, by column id. */
  get columnWidths(): ColumnWidths {
    return { ...this._widths };
  }

  get columnWidthsChanged(): ISignal<this, ColumnWidths> {
    return this._columnWidthsChanged;
  }

  /** Set a column's width (not below its minimum) and remember it. */
  setColumnWidth(id: string, width: number): void {
    const column = MONITOR_COLUMNS.find(c => c.id === id);
    if (!column || !Number.isFinite(width)) {
      return;
    }
    const w = Math.max(column.minWidth, Math.round(width));
    if (this._widths[id] === w) {
      return;
    }
    this._widths = { ...this._widths, [id]: w };
    Private.saveWidths(this._widths);
    this._columnWidthsChanged.emit(this.columnWidths);
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
  private _widths: ColumnWidths;
  private _selectionChanged = new Signal<this, string | null>(this);
  private _columnWidthsChanged = new Signal<this, ColumnWidths>(this);
}

namespace Private {
  /** Widths saved earlier; only known columns with numeric widths. */
  export function loadWidths(): ColumnWidths {
    try {
      const saved = JSON.parse(window.localStorage.getItem(WIDTHS_KEY) ?? '{}');
      const out: ColumnWidths = {};
      for (const c of MONITOR_COLUMNS) {
        if (typeof saved?.[c.id] === 'number' && saved[c.id] >= c.minWidth) {
          out[c.id] = saved[c.id];
        }
      }
      return out;
    } catch {
      return {}; // storage unavailable (private mode) or unreadable: defaults
    }
  }

  export function saveWidths(widths: ColumnWidths): void {
    try {
      window.localStorage.setItem(WIDTHS_KEY, JSON.stringify(widths));
    } catch {
      // Not remembered across reloads; this session keeps them.
    }
  }
}
