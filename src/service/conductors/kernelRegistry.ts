/**
 * The ids of the kernels a conductor has started, kept in a small file so a
 * service that was killed (kill -9, a crash) can shut them down when it
 * starts again. Inside JupyterLab the server outlives the service, and every
 * crash used to leak the idle pool kernels.
 */
import { promises as fsp } from 'fs';
import { writeFileAtomic } from '../fsutil';
import { ILogSink } from '../jupyter/log';
import { errorMessage } from './util';

interface IKernelsFile {
  /** Base URL of the server the kernels run on: ids of another server mean nothing. */
  server: string;
  kernels: string[];
}

export class KernelRegistry {
  constructor(
    readonly file: string | undefined,
    private readonly log: ILogSink
  ) {}

  /** Kernel ids left by an earlier run on `server` (empty when none or unreadable). */
  async leftovers(server: string): Promise<string[]> {
    if (!this.file) {
      return [];
    }
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn(`[kernel] could not read ${this.file}: ${errorMessage(err)}`);
      }
      return [];
    }
    try {
      const data = JSON.parse(text) as IKernelsFile;
      if (data.server !== server || !Array.isArray(data.kernels)) {
        return [];
      }
      return data.kernels.filter(k => typeof k === 'string');
    } catch (err) {
      this.log.warn(`[kernel] ignoring ${this.file}, which is not valid JSON: ${errorMessage(err)}`);
      return [];
    }
  }

  /** Record the kernels now owned (written in order, atomically; never rejects). */
  save(server: string, kernels: string[]): Promise<void> {
    if (!this.file) {
      return Promise.resolve();
    }
    const file = this.file;
    const text = JSON.stringify({ server, kernels } as IKernelsFile) + '\n';
    this._chain = this._chain.then(async () => {
      try {
        // Not fsynced: losing the last change in a power cut leaks at most a kernel.
        await writeFileAtomic(file, text, { fsync: false });
      } catch (err) {
        this.log.warn(`[kernel] could not write ${file}: ${errorMessage(err)}`);
      }
    });
    return this._chain;
  }

  private _chain: Promise<void> = Promise.resolve();
}
