/** Small formatting helpers shared by the views. */

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = ms / 1000;
  if (s < 60) {
    return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min ${Math.round(s % 60)} s`;
  }
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** How long a job ran, or has been running at `now`. */
export function jobDuration(job: { started?: string; finished?: string }, now = Date.now()): number | undefined {
  if (!job.started) {
    return undefined;
  }
  const start = Date.parse(job.started);
  const end = job.finished ? Date.parse(job.finished) : now;
  return end - start;
}

/** `just now`, `5 s ago`, `3 min ago`, `2 h ago`, else the local date. */
export function formatRelative(iso: string | undefined, now = Date.now()): string {
  if (!iso) {
    return '';
  }
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) {
    return iso;
  }
  const d = (now - t) / 1000;
  if (d < 5) {
    return 'just now';
  }
  if (d < 60) {
    return `${Math.floor(d)} s ago`;
  }
  if (d < 3600) {
    return `${Math.floor(d / 60)} min ago`;
  }
  if (d < 86400) {
    return `${Math.floor(d / 3600)} h ago`;
  }
  return new Date(t).toLocaleString();
}

/** An ISO time as the local time, for tooltips and details. */
export function formatTime(iso: string | undefined): string {
  if (!iso) {
    return '';
  }
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleString() : iso;
}

/** `<input type="datetime-local">` value → ISO string (or undefined). */
export function localInputToIso(value: string): string | undefined {
  if (!value) {
    return undefined;
  }
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/** The last path segment without extension: `a/b/analysis.ipynb` → `analysis`. */
export function fileStem(path: string): string {
  const base = path.split('/').pop() ?? path;
  const i = base.lastIndexOf('.');
  return i > 0 ? base.slice(0, i) : base;
}

export { shortJobId } from '../core/jobs';
