/**
 * Turn a watcher error into one clear message, and tell whether it means the
 * watcher is (partly) blind — then the monitor falls back to scanning.
 */
import { readFileSync } from 'fs';
import { escapeControl } from '../fsutil';

export interface IWatchErrorInfo {
  /** True when folders may be left unwatched: scan at a short interval. */
  blind: boolean;
  /** A stable key so the message is logged once. */
  key: string;
  message: string;
}

/** A system setting, or '?' when it cannot be read (not Linux). */
function sysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Explain an fs.watch (or chokidar) error. */
export function describeWatchError(err: unknown, scanMs: number): IWatchErrorInfo {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code;
  const raw = escapeControl(String(e?.message ?? err));
  const every =
    `meow keeps working by scanning the workgroup every ${scanMs / 1000} s ` + '(slower and costlier than watching)';
  if (code === 'ENOSPC') {
    const now = sysctl('fs.inotify.max_user_watches');
    return {
      blind: true,
      key: 'ENOSPC',
      message:
        `file monitor: the system limit for inotify file watchers is reached ` +
        `(fs.inotify.max_user_watches = ${now}; meow needs one per folder): ${raw}. ` +
        `${every}. Fix: sudo sysctl fs.inotify.max_user_watches=1048576 (and put ` +
        "'fs.inotify.max_user_watches=1048576' in /etc/sysctl.d/90-meow.conf to keep it), then restart meow"
    };
  }
  if (code === 'EMFILE' || code === 'ENFILE') {
    const instances = sysctl('fs.inotify.max_user_instances');
    return {
      blind: true,
      key: 'EMFILE',
      message:
        `file monitor: too many open files or inotify instances ` +
        `(fs.inotify.max_user_instances = ${instances}): ${raw}. ${every}. Fix: raise the limit ` +
        '(sudo sysctl fs.inotify.max_user_instances=1024, or ulimit -n 65536 before starting meow), ' +
        'then restart meow'
    };
  }
  return {
    blind: false,
    key: `other:${code ?? raw}`,
    message: `file monitor: the watcher reported an error (${raw}); scanning the workgroup for anything it missed`
  };
}
