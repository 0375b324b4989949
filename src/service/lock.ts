/**
 * One service per workgroup: two services appending to one job journal
 * would run every job twice. The lock is a file holding the owner's pid,
 * made with O_EXCL; a lock whose process is gone (kill -9) is taken over.
 */
import { promises as fs } from 'fs';
import * as path from 'path';

export class WorkgroupLock {
  constructor(readonly file: string) {}

  /** @throws Error naming the other service's pid and the fix when it is alive. */
  async acquire(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.writeFile(this.file, `${process.pid}\n`, { flag: 'wx' });
        this._held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw err;
        }
      }
      const owner = Number((await fs.readFile(this.file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(
          `another meow service (pid ${owner}) is running on this workgroup (lock ${this.file}); ` +
            'stop it first — two services would run every job twice'
        );
      }
      await fs.rm(this.file, { force: true }); // stale: its owner is gone
    }
    throw new Error(`could not take the workgroup lock ${this.file}`);
  }

  /** The pid of the live service holding the lock, if any (for commands that talk to it). */
  static async owner(file: string): Promise<number | undefined> {
    const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  }

  async release(): Promise<void> {
    if (this._held) {
      this._held = false;
      await fs.rm(this.file, { force: true });
    }
  }

  private _held = false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
