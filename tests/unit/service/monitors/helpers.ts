/** Shared set-up for the file monitor tests: a real monitor on a temp workgroup. */
import type { IFileEvent } from '../../../../src/core/types';
import { RecordingLogger } from '../../../../src/service/log';
import { FileMonitor } from '../../../../src/service/monitors/fileMonitor';
import type { FolderWatcher } from '../../../../src/service/monitors/folderWatcher';

export interface IRunning {
  monitor: FileMonitor;
  events: IFileEvent[];
  log: RecordingLogger;
  /** `kind path` of every event so far, sorted. */
  seen(): string[];
}

export async function startMonitor(root: string, options: Partial<FileMonitor.IOptions> = {}): Promise<IRunning> {
  const events: IFileEvent[] = [];
  const log = new RecordingLogger();
  const monitor = new FileMonitor({ root, settleMs: 30, log, onEvent: e => events.push(e), ...options });
  await monitor.start();
  return {
    monitor,
    events,
    log,
    seen: () => events.map(e => `${e.kind} ${e.from ? e.from + ' -> ' : ''}${e.path}`).sort()
  };
}

/** Wait until the monitor has nothing left that could still report an event. */
export async function quiet(monitor: FileMonitor, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  let calm = 0;
  while (Date.now() < end) {
    calm = monitor.pending === 0 ? calm + 1 : 0;
    if (calm >= 5) {
      return;
    }
    await new Promise(r => setTimeout(r, 40));
  }
  throw new Error(`monitor still busy after ${ms} ms (pending ${monitor.pending})`);
}

/** Stop the monitor's watch of one folder, as a lost notification would blind it. */
export function unwatchFolder(monitor: FileMonitor, rel: string): void {
  (monitor as unknown as { _folders: FolderWatcher })._folders.unwatchTree(rel);
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
