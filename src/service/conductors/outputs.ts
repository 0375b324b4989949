/**
 * Pure helpers for building a result notebook from kernel messages, the way
 * nbclient does: no I/O, no kernel, so they can be unit-tested.
 */
import type { INotebook, INotebookCell } from '../../core/types';

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and
// the few single-character escapes terminals understand.
const ANSI_RE =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;

/** Remove terminal escape codes (IPython colours tracebacks with them). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/** nbformat allows multi-line strings as a list of lines; join them. */
export function joinText(text: string | string[] | undefined | null): string {
  if (text === undefined || text === null) {
    return '';
  }
  return Array.isArray(text) ? text.join('') : String(text);
}

/** A notebook output as stored in nbformat 4 JSON. */
export type NbOutput = Record<string, any> & { output_type: string };

/** A deep copy of `nb` ready to be executed: code cells have empty outputs. */
export function prepareResultNotebook(nb: INotebook): INotebook {
  const copy: INotebook = JSON.parse(JSON.stringify(nb));
  copy.cells = (copy.cells ?? []).map(cell => {
    if (cell.cell_type === 'code') {
      const metadata = { ...(cell.metadata ?? {}) };
      delete metadata.execution;
      delete metadata.meow;
      return { ...cell, metadata, outputs: [], execution_count: null };
    }
    return cell;
  });
  copy.metadata = copy.metadata ?? {};
  copy.nbformat = copy.nbformat ?? 4;
  copy.nbformat_minor = copy.nbformat_minor ?? 5;
  return copy;
}

/** The source of a cell as one string. */
export function cellSource(cell: INotebookCell): string {
  return joinText(cell.source);
}

/**
 * Turns iopub messages into nbformat outputs on the cells of one notebook.
 * Handles stream merging, `clear_output` (with and without `wait`),
 * `display_id` updates across cells (`update_display_data`, and a new
 * display with a known id updating the older ones), like nbclient.
 */
export class OutputCollector {
  constructor(readonly notebook: INotebook) {}

  /** Start collecting for the cell at `cellIndex` (index among all cells). */
  begin(cellIndex: number): void {
    this._cell = cellIndex;
    this._clearOnNext = false;
  }

  /**
   * Apply one iopub message (by type and content) to the current cell.
   * Returns true when the notebook changed.
   */
  handle(msgType: string, content: any): boolean {
    const cell = this.notebook.cells[this._cell];
    if (!cell || cell.cell_type !== 'code') {
      return false;
    }
    content = content ?? {};
    switch (msgType) {
      case 'stream': {
        this._clearIfPending(cell);
        const outputs = this._outputs(cell);
        const last = outputs[outputs.length - 1];
        const text = joinText(content.text);
        if (last && last.output_type === 'stream' && last.name === content.name) {
          last.text = joinText(last.text) + text;
        } else {
          outputs.push({ output_type: 'stream', name: content.name ?? 'stdout', text });
        }
        return true;
      }
      case 'display_data':
      case 'execute_result': {
        const displayId = content.transient?.display_id;
        if (displayId) {
          this._updateDisplay(displayId, content);
        }
        this._clearIfPending(cell);
        const out: NbOutput =
          msgType === 'execute_result'
            ? {
                output_type: 'execute_result',
                execution_count: content.execution_count ?? null,
                data: content.data ?? {},
                metadata: content.metadata ?? {}
              }
            : {
                output_type: 'display_data',
                data: content.data ?? {},
                metadata: content.metadata ?? {}
              };
        this._outputs(cell).push(out);
        if (displayId) {
          const refs = this._displays.get(displayId) ?? [];
          refs.push({ cell: this._cell, output: out });
          this._displays.set(displayId, refs);
        }
        return true;
      }
      case 'update_display_data': {
        const displayId = content.transient?.display_id;
        return displayId ? this._updateDisplay(displayId, content) : false;
      }
      case 'error': {
        this._clearIfPending(cell);
        this._outputs(cell).push({
          output_type: 'error',
          ename: String(content.ename ?? ''),
          evalue: String(content.evalue ?? ''),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : []
        });
        return true;
      }
      case 'clear_output': {
        if (content.wait) {
          this._clearOnNext = true;
          return false;
        }
        this._clear(cell);
        return true;
      }
      default:
        return false;
    }
  }

  private _outputs(cell: INotebookCell): NbOutput[] {
    if (!Array.isArray(cell.outputs)) {
      cell.outputs = [];
    }
    return cell.outputs as NbOutput[];
  }

  private _clearIfPending(cell: INotebookCell): void {
    if (this._clearOnNext) {
      this._clearOnNext = false;
      this._clear(cell);
    }
  }

  private _clear(cell: INotebookCell): void {
    cell.outputs = [];
    for (const [id, refs] of this._displays) {
      const kept = refs.filter(r => r.cell !== this._cell);
      if (kept.length) {
        this._displays.set(id, kept);
      } else {
        this._displays.delete(id);
      }
    }
  }

  private _updateDisplay(displayId: string, content: any): boolean {
    const refs = this._displays.get(displayId);
    if (!refs?.length) {
      return false;
    }
    for (const ref of refs) {
      ref.output.data = content.data ?? {};
      ref.output.metadata = content.metadata ?? {};
    }
    return true;
  }

  private _cell = -1;
  private _clearOnNext = false;
  private _displays = new Map<string, { cell: number; output: NbOutput }[]>();
}

/** Parse the writes log: absolute paths, one a line, deduplicated in order. */
export function parseWritesLog(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const absolute = line.startsWith('/') || /^[A-Za-z]:[\\/]/.test(line);
    if (!absolute || seen.has(line)) {
      continue;
    }
    seen.add(line);
    out.push(line);
  }
  return out;
}

/** `2 s`, `1.5 s`, `90 s` for messages. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
