/**
 * Compare the workgroup with the file index and report what the watcher
 * missed: on start (what changed while meow was down), periodically, when
 * the watcher errs, and per folder after activity (`relistFolder`).
 *
 * Cheap by design: a stat per file, a hash only when size, mtime or inode
 * changed and a hash is known (an unchanged content is then not an event).
 * Paths with notifications still settling are left to the settler.
 */
import type { Dirent, Stats } from 'fs';
import { promises as fs } from 'fs';
import { forEachLimit, sha256File, toAbsolute } from '../fsutil';
import type { ILogger } from '../log';
import type { FileIndex } from './fileIndex';
import { sameVersion } from './fileIndex';
import { isIgnoredPath } from './ignore';
import type { IRawEvent } from './settle';
import type { IWalkEntry } from './walk';
import { classifyPath, walkEntries } from './walk';

/** Files a scan stats at the same time. */
const STAT_AT_ONCE = 64;

/** What a scan works on. */
export interface IScanTarget {
  root: string;
  stateDir: string;
  log: ILogger;
  index: FileIndex;
  /** True while the settler holds notifications for the path. */
  isBusy(rel: string): boolean;
  /** Hand a raw notification to the settler. */
  push(raw: IRawEvent): void;
  /** True once the monitor is stopping: scans end early. */
  stopped(): boolean;
  /** A folder was found (the watcher must cover it); true when it was not watched before. */
  onFolder?(rel: string, known: boolean): boolean;
}

/** One file seen by a scan, not yet reported. */
interface IFound {
  rel: string;
  stats: Stats;
  kind: 'add' | 'change';
}

/**
 * Walk the whole workgroup and report every difference from the index.
 * With `baseline` (no stored index yet) files are recorded, not reported:
 * files that were there before meow's first start are retroactive
 * matching's (M10), not events. Resolves the number of notifications pushed.
 */
export async function reconcile(target: IScanTarget, baseline = false): Promise<number> {
  const { index } = target;
  const seen = new Set<string>();
  const found: IFound[] = [];
  // Files are stat'ed (and hashed when touched) a batch at a time: one at a
  // time, a scan of 10,000 files waited 10,000 round trips to the thread pool.
  let batch: IWalkEntry[] = [];
  const check = async () => {
    const entries = batch;
    batch = [];
    const stats = await Promise.all(entries.map(e => e.stats ?? statFile(target, e.rel)));
    const changes = await Promise.all(
      entries.map((e, i) => (stats[i] ? compare(target, e.rel, stats[i]!) : undefined))
    );
    entries.forEach((entry, i) => {
      const change = changes[i];
      if (change && baseline) {
        index.set(entry.rel, stats[i]!);
      } else if (change) {
        found.push({ rel: entry.rel, stats: stats[i]!, kind: change });
      }
    });
  };
  for await (const entry of walkEntries(target.root, '', target.stateDir, target.log, dir =>
    target.onFolder?.(dir, true)
  )) {
    if (target.stopped()) {
      return 0;
    }
    seen.add(entry.rel);
    if (target.isBusy(entry.rel)) {
      continue;
    }
    batch.push(entry);
    if (batch.length >= STAT_AT_ONCE) {
      await check();
    }
  }
  await check();
  if (target.stopped()) {
    return 0;
  }
  const gone: string[] = [];
  for (const rel of index.paths()) {
    if (!seen.has(rel) && !target.isBusy(rel)) {
      gone.push(rel);
    }
  }
  let pushed = 0;
  // Deletions first, in the same tick as additions: the settler pairs an
  // unlink and an add of one inode into a move.
  for (const rel of gone) {
    if (target.stopped()) {
      return pushed;
    }
    if (await isGone(target, rel)) {
      if (baseline) {
        index.delete(rel);
      } else {
        target.push({ kind: 'unlink', path: rel, ino: index.get(rel)?.ino });
        pushed++;
      }
    }
  }
  for (const f of found) {
    if (!target.isBusy(f.rel)) {
      target.push(rawOf(f.kind, f.rel, f.stats));
      pushed++;
    }
  }
  return pushed;
}

/**
 * List one folder and report files the watcher missed in it: new names not
 * in the index and indexed names that are gone. Known files are not
 * stat'ed, so a listing costs one readdir plus a stat per new file.
 * Resolves how many things the watcher had missed: files reported and
 * folders that were not watched yet.
 */
export async function relistFolder(target: IScanTarget, dir: string): Promise<number> {
  if (isIgnoredPath(dir, target.stateDir) || target.stopped()) {
    return 0;
  }
  let entries: Dirent[];
  try {
    entries = await fs.readdir(toAbsolute(target.root, dir), { withFileTypes: true });
  } catch {
    entries = []; // gone: its indexed files are reported deleted below
  }
  const names = new Set<string>();
  const unknown: string[] = [];
  let newFolders = 0;
  for (const entry of entries) {
    names.add(entry.name);
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (isIgnoredPath(rel, target.stateDir) || target.isBusy(rel)) {
      continue;
    }
    if (entry.isDirectory()) {
      if (target.onFolder?.(rel, false)) {
        newFolders++;
      }
      continue;
    }
    if (!target.index.has(rel)) {
      unknown.push(rel);
    }
  }
  // Classified several at a time: after a burst the watcher missed, a
  // folder may hold thousands of unknown files, and one lstat after another
  // made its listing (and so the files' jobs) wait seconds.
  const found: IFound[] = [];
  await forEachLimit(unknown, CLASSIFY_AT_ONCE, async rel => {
    const what = await classifyPath(target.root, rel, target.log);
    if (what.kind === 'file' && what.stats && !target.index.has(rel)) {
      found.push({ rel, stats: what.stats, kind: 'add' });
    }
  });
  if (target.stopped()) {
    return 0;
  }
  let pushed = 0;
  for (const name of target.index.filesIn(dir)) {
    const rel = dir ? `${dir}/${name}` : name;
    if (!names.has(name) && !target.isBusy(rel) && (await isGone(target, rel))) {
      target.push({ kind: 'unlink', path: rel, ino: target.index.get(rel)?.ino });
      pushed++;
    }
  }
  for (const f of found) {
    if (!target.isBusy(f.rel) && !target.index.has(f.rel)) {
      target.log.debug(`file monitor: ${f.rel} was missed by the watcher; found by listing ${dir || '.'}`);
      target.push(rawOf('add', f.rel, f.stats));
      pushed++;
    }
  }
  return pushed + newFolders;
}

/** Unknown entries of a listing classified at the same time. */
const CLASSIFY_AT_ONCE = 32;

/** 'add' for a file not in the index, 'change' for a new version, else undefined. */
async function compare(target: IScanTarget, rel: string, stats: Stats): Promise<'add' | 'change' | undefined> {
  const known = target.index.get(rel);
  if (!known) {
    return 'add';
  }
  if (sameVersion(known, stats)) {
    known.checked = true;
    return undefined;
  }
  if (known.hash) {
    // Touched but maybe not changed (a copy that kept the content): only a
    // new content is an event.
    const hash = await sha256File(toAbsolute(target.root, rel)).catch(() => undefined);
    if (hash === known.hash) {
      target.index.set(rel, stats, hash);
      return undefined;
    }
  }
  return 'change';
}

async function statFile(target: IScanTarget, rel: string): Promise<Stats | undefined> {
  try {
    const stats = await fs.stat(toAbsolute(target.root, rel));
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined; // removed meanwhile: the watcher or the next scan reports it
  }
}

/** Confirm a deletion: the walk may simply have passed before the file came. */
async function isGone(target: IScanTarget, rel: string): Promise<boolean> {
  try {
    await fs.lstat(toAbsolute(target.root, rel));
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

function rawOf(kind: 'add' | 'change', rel: string, stats: Stats): IRawEvent {
  return { kind, path: rel, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}
