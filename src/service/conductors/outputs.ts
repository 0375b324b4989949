/**
 * Pure helpers for building a result notebook from kernel messages, the way
 * nbclient does: no I/O, no kernel, so they can be unit-tested.
 */
import type { INotebook, INotebookCell } from '../../core/types';

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and
// the few single-character escapes terminals understand.
const ANSI_RE =
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
export namespace OutputCollector {
  export interface IOptions {
    /**
     * Most bytes of output kept in the notebook (stream text and display
     * data; error outputs are always kept). Output past it is dropped and one
     * stream note says what was cut. Default: no cap.
     */
    maxBytes?: number;
  }
}

/** What was cut from a job's outputs (the job result's `outputsTruncated`). */
export interface IOutputsTruncated {
  message: string;
  droppedBytes: number;
}

/** The notice jupyter_server writes in place of outputs it drops (its IOPub rate limit). */
const RATE_LIMIT_RE = /^IOPub (data|message) rate exceeded\./;

export class OutputCollector {
  constructor(
    readonly notebook: INotebook,
    options: OutputCollector.IOptions = {}
  ) {
    this.maxBytes = options.maxBytes && options.maxBytes > 0 ? options.maxBytes : Infinity;
  }

  readonly maxBytes: number;

  /** Bytes of output currently kept. */
  get keptBytes(): number {
    return this._total;
  }

  /**
   * What was cut, by the cap or by the Jupyter server's IOPub rate limit,
   * or undefined when nothing was. Call `finalize()` first for final numbers.
   */
  get truncated(): IOutputsTruncated | undefined {
    const parts: string[] = [];
    if (this._cut) {
      parts.push(
        `outputs past the per-job cap of ${formatBytes(this.maxBytes)} were dropped from result.ipynb: ` +
          `${formatBytes(this._dropped)} cut from cell ${this._cut.cell + 1} on ` +
          `(raise the output cap, maxOutputBytes, to keep more)`
      );
    }
    if (this._rateLimited) {
      parts.push(
        `the Jupyter server dropped outputs (IOPub ${this._rateLimited} rate exceeded, from cell ` +
          `${this._rateLimitedCell + 1} on): raise its limit, e.g. start it with ` +
          `--ZMQChannelsWebsocketConnection.iopub_${this._rateLimited === 'data' ? 'data' : 'msg'}_rate_limit=0 ` +
          `or --ZMQChannelsWebsocketConnection.limit_rate=False ` +
          `(ServerApp.iopub_${this._rateLimited === 'data' ? 'data' : 'msg'}_rate_limit before jupyter_server 2)`
      );
    }
    return parts.length ? { message: parts.join('; '), droppedBytes: this._dropped } : undefined;
  }

  /** Bring the truncation note up to date (and back, if a clear_output removed it). */
  finalize(): void {
    const cut = this._cut;
    if (!cut) {
      return;
    }
    cut.note.text =
      `[meow] output cut here: this job's outputs reached the cap of ${formatBytes(this.maxBytes)}; ` +
      `${formatBytes(this._dropped)} of later output ${this._dropped ? 'was' : 'is'} dropped from this notebook.\n`;
    const cell = this.notebook.cells[cut.cell];
    if (cell && cell.cell_type === 'code') {
      const outputs = this._outputs(cell);
      if (!outputs.includes(cut.note)) {
        outputs.push(cut.note);
      }
    }
  }

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
        const note = this._cut?.note;
        const mergeable = last && last.output_type === 'stream' && last.name === content.name && last !== note;
        let text = joinText(content.text);
        if (!this._rateLimited && content.name === 'stderr' && RATE_LIMIT_RE.test(text)) {
          this._rateLimited = /^IOPub data/.test(text) ? 'data' : 'message';
          this._rateLimitedCell = this._cell;
        }
        const size = byteLength(text);
        if (this._cut || this._total + size > this.maxBytes) {
          const room = this._cut ? 0 : this.maxBytes - this._total;
          text = truncateUtf8(text, room);
          this._dropped += size - byteLength(text);
          this._add(byteLength(text));
          if (text && mergeable) {
            last.text = joinText(last.text) + text;
          } else if (text) {
            outputs.push({ output_type: 'stream', name: content.name ?? 'stdout', text });
          }
          return this._cutHere() || text !== '';
        }
        this._add(size);
        if (mergeable) {
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
        const size = dataBytes(content);
        if (this._cut || this._total + size > this.maxBytes) {
          this._dropped += size;
          return this._cutHere();
        }
        this._add(size);
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
        // Kept even past the cap: a failed job's traceback is what people need.
        this._add(byteLength(JSON.stringify(content.traceback ?? [])));
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
    this._total -= this._cellBytes.get(this._cell) ?? 0;
    this._cellBytes.delete(this._cell);
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
    const size = dataBytes(content);
    const growth = refs.reduce((sum, ref) => sum + size - dataBytes(ref.output), 0);
    if (growth > 0 && this._total + growth > this.maxBytes) {
      this._dropped += size * refs.length;
      return this._cutHere();
    }
    for (const ref of refs) {
      this._add(size - dataBytes(ref.output), ref.cell);
      ref.output.data = content.data ?? {};
      ref.output.metadata = content.metadata ?? {};
    }
    return true;
  }

  /** Count `bytes` of kept output against `cell` (default: the current one). */
  private _add(bytes: number, cell = this._cell): void {
    this._total += bytes;
    this._cellBytes.set(cell, (this._cellBytes.get(cell) ?? 0) + bytes);
  }

  /** The cap was reached: put the note where the cut starts (once). True when it was added. */
  private _cutHere(): boolean {
    if (this._cut) {
      return false;
    }
    const note: NbOutput = { output_type: 'stream', name: 'stderr', text: '' };
    this._cut = { cell: this._cell, note };
    this.finalize();
    return true;
  }

  private _cell = -1;
  private _total = 0;
  private _dropped = 0;
  private _cellBytes = new Map<number, number>();
  private _cut: { cell: number; note: NbOutput } | undefined;
  private _rateLimited: 'data' | 'message' | undefined;
  private _rateLimitedCell = -1;
  private _clearOnNext = false;
  private _displays = new Map<string, { cell: number; output: NbOutput }[]>();
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Size of an output's data and metadata as stored. */
function dataBytes(content: any): number {
  return byteLength(JSON.stringify(content?.data ?? {})) + byteLength(JSON.stringify(content?.metadata ?? {}));
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, bytes: number): string {
  if (bytes <= 0) {
    return '';
  }
  if (byteLength(text) <= bytes) {
    return text;
  }
  let cut = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
  // A character cut in half decodes as U+FFFD: drop it.
  while (cut.endsWith('\uFFFD') && !text.startsWith(cut)) {
    cut = cut.slice(0, -1);
  }
  return cut;
}

/** `512 B`, `1.5 MB` for messages. */
export function formatBytes(n: number): string {
  if (n < 1000) {
    return `${n} B`;
  }
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1000) {
      break;
    }
    v /= 1000;
    unit = u;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
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
