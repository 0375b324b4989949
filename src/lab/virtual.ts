/**
 * Windowing for long lists: which rows to render for a scroll position, so
 * the table costs the same with 100 or 100,000 jobs.
 */
export interface IRowWindow {
  /** First row to render (inclusive). */
  start: number;
  /** Last row to render (exclusive). */
  end: number;
  /** Space above the first rendered row, in px. */
  before: number;
  /** Space below the last rendered row, in px. */
  after: number;
}

export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 10
): IRowWindow {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total, first - overscan));
  const end = Math.max(start, Math.min(total, first + count + overscan));
  return { start, end, before: start * rowHeight, after: (total - end) * rowHeight };
}
