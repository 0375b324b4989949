/**
 * What in the workgroup counts as a data file, and one walker over it that
 * the watcher, the reconciliation scan and retroactive matching (M10) share,
 * so all three see the same files.
 *
 * Symlink policy (issue 6):
 * - a symlink to a folder is never followed (the watcher watches only real
 *   folders and the walker does not descend): following
 *   `ln -s . h/selfdir` made 40 levels of the same files. Logged once per link.
 * - a symlink to a file is a file when its target, resolved, lies inside the
 *   workgroup (a job may read it; its path is the link's path).
 * - a symlink to a file outside the workgroup is refused with a warning
 *   naming both paths and makes no event: patterns reach only what is in the
 *   workgroup.
 * - dangling and looping links are skipped with a warning.
 *
 * FIFOs, sockets and devices are skipped with a warning, never opened.
 * Names that are not valid UTF-8 cannot be opened by Node (it decodes them
 * with U+FFFD), so they are reported with their bytes escaped and the fix.
 */
import type { Dirent, Stats } from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import { escapeBytes, escapeControl, fileTypeOf, toAbsolute } from '../fsutil';
import type { ILogger } from '../log';
import { isIgnoredPath } from './ignore';

/** How one directory entry is treated. */
export type EntryKind = 'file' | 'dir' | 'skip';

export interface IClassified {
  kind: EntryKind;
  /** Stats of the file (of the link's target for a file symlink), when taken. */
  stats?: Stats;
}

/** Messages said once per logger and key: a scan every minute must not repeat them. */
const said = new WeakMap<ILogger, Set<string>>();

/** Log `message` at `level` unless this logger already got it for `key`. */
export function logOnce(log: ILogger, level: 'warn' | 'info' | 'error', key: string, message: string): void {
  let keys = said.get(log);
  if (!keys) {
    keys = new Set();
    said.set(log, keys);
  }
  if (!keys.has(key)) {
    keys.add(key);
    log[level](message);
  }
}

/** Resolved workgroup roots, so a symlink's target can be compared with it. */
const realRoots = new Map<string, Promise<string>>();

function realRoot(root: string): Promise<string> {
  let real = realRoots.get(root);
  if (!real) {
    real = fs.realpath(root).catch(() => root);
    realRoots.set(root, real);
  }
  return real;
}

/** True when `target` (resolved) is the workgroup or lies below it. */
async function insideWorkgroup(root: string, target: string): Promise<boolean> {
  const real = await realRoot(root);
  return target === real || target.startsWith(real + path.sep);
}

/**
 * Decide what a workgroup-relative path is, applying the policies above.
 * `lstats` may be passed when already known (the monitor's stats are lstat's).
 * Warnings name the path and the fix; each is said once per path.
 */
export async function classifyPath(root: string, rel: string, log: ILogger, lstats?: Stats): Promise<IClassified> {
  const abs = toAbsolute(root, rel);
  let st = lstats;
  if (!st) {
    try {
      st = await fs.lstat(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel.includes('\uFFFD')) {
        await reportBadName(root, rel, log);
      }
      return { kind: 'skip' };
    }
  }
  if (st.isDirectory()) {
    return { kind: 'dir' };
  }
  if (st.isFile()) {
    return { kind: 'file', stats: st };
  }
  if (st.isSymbolicLink()) {
    return classifyLink(root, rel, abs, log);
  }
  logOnce(
    log,
    'warn',
    `special:${rel}`,
    `${escapeControl(rel)} is ${fileTypeOf(st)}, not a regular file: meow does not open it and ` +
      'makes no event for it — move it out of the workgroup, or out of the folders your patterns watch'
  );
  return { kind: 'skip' };
}

async function classifyLink(root: string, rel: string, abs: string, log: ILogger): Promise<IClassified> {
  const name = escapeControl(rel);
  let target: string;
  let st: Stats;
  try {
    target = await fs.realpath(abs);
    st = await fs.stat(target);
  } catch (err) {
    const shown = await fs.readlink(abs).catch(() => '?');
    logOnce(
      log,
      'warn',
      `badlink:${rel}`,
      `symlink ${name} -> ${escapeControl(shown)} cannot be resolved ` +
        `(${(err as NodeJS.ErrnoException).code ?? 'error'}): ignored — fix or remove the link`
    );
    return { kind: 'skip' };
  }
  if (st.isDirectory()) {
    logOnce(
      log,
      'info',
      `dirlink:${rel}`,
      `directory symlink ${name} is not followed (meow watches only real folders of the ` +
        'workgroup); link the files themselves, or move the folder into the workgroup'
    );
    return { kind: 'skip' };
  }
  if (!(await insideWorkgroup(root, target))) {
    logOnce(
      log,
      'warn',
      `outlink:${rel}`,
      `symlink ${name} points to ${escapeControl(target)}, outside the workgroup ` +
        `${escapeControl(root)}: refused, no event — copy the file into the workgroup instead`
    );
    return { kind: 'skip' };
  }
  if (!st.isFile()) {
    logOnce(
      log,
      'warn',
      `special:${rel}`,
      `symlink ${name} points to ${escapeControl(target)}, which is ${fileTypeOf(st)}, not a ` +
        'regular file: meow does not open it and makes no event for it'
    );
    return { kind: 'skip' };
  }
  return { kind: 'file', stats: st };
}

/**
 * Node decodes a name that is not valid UTF-8 with U+FFFD and then cannot
 * open it. Find the real bytes and say how to rename the file.
 */
export async function reportBadName(root: string, rel: string, log: ILogger): Promise<void> {
  const dirRel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
  const base = rel.slice(dirRel ? dirRel.length + 1 : 0);
  let raw: Buffer[] = [];
  try {
    raw = await fs.readdir(toAbsolute(root, dirRel), { encoding: 'buffer' });
  } catch {
    return;
  }
  for (const bytes of raw) {
    if (bytes.toString('utf8') !== base) {
      continue;
    }
    const shown = (dirRel ? escapeControl(dirRel) + '/' : '') + escapeBytes(bytes);
    logOnce(
      log,
      'warn',
      `badname:${shown}`,
      `file name is not valid UTF-8: ${shown} — meow cannot open it and makes no event; ` +
        `rename it, e.g. mv $'${shown}' NEW_NAME`
    );
  }
}

/** A file found by the walker. */
export interface IWalkEntry {
  /** Workgroup-relative POSIX path. */
  rel: string;
  /** Stats when the walker took them (symlinked files); otherwise undefined. */
  stats?: Stats;
}

/**
 * Every data file below the workgroup-relative folder `relDir`, in name
 * order, lazily: ignored paths skipped, folder symlinks not followed, file
 * symlinks only when they resolve inside the workgroup.
 */
export async function* walkEntries(
  root: string,
  relDir: string,
  stateDir: string,
  log: ILogger,
  onDir?: (rel: string) => void
): AsyncGenerator<IWalkEntry> {
  // Before the listing, so a watch set up by `onDir` misses nothing the listing does not show.
  onDir?.(relDir);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(toAbsolute(root, relDir), { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      logOnce(
        log,
        'warn',
        `unreadable:${relDir}`,
        `folder ${escapeControl(relDir || '.')} cannot be listed (${code}): files in it get no ` +
          'events — fix its permissions'
      );
    }
    return; // the folder does not exist (any more)
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    if (isIgnoredPath(rel, stateDir)) {
      continue;
    }
    if (entry.isDirectory()) {
      yield* walkEntries(root, rel, stateDir, log, onDir);
    } else if (entry.isFile() && !entry.name.includes('\uFFFD')) {
      yield { rel };
    } else {
      const what = await classifyPath(root, rel, log);
      if (what.kind === 'file') {
        yield { rel, stats: what.stats };
      }
    }
  }
}

/**
 * Every data file below `relDir` as a workgroup-relative path (see
 * `walkEntries`): the one walker for retroactive matching (M10).
 */
export async function* walkWorkgroup(
  root: string,
  relDir: string,
  stateDir: string,
  log: ILogger
): AsyncGenerator<string> {
  for await (const entry of walkEntries(root, relDir, stateDir, log)) {
    yield entry.rel;
  }
}
