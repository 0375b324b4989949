/** Notebooks, requests and results for the conductor tests. */
import { execFileSync } from 'child_process';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { IJob, INotebook, INotebookCell } from '../../../src/core/types';
import type { IExecutionRequest } from '../../../src/service/tokens';

export type CellSpec = string | { markdown: string };

export function notebook(cells: CellSpec[], kernel = 'python3'): INotebook {
  return {
    cells: cells.map((c, i): INotebookCell =>
      typeof c === 'string'
        ? { cell_type: 'code', id: `c${i}`, source: c, metadata: {}, outputs: [], execution_count: null }
        : { cell_type: 'markdown', id: `c${i}`, source: c.markdown, metadata: {} }
    ),
    metadata: { kernelspec: { name: kernel, display_name: kernel, language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

let counter = 0;

export function request(workgroup: string, nb: INotebook, extra: Partial<IExecutionRequest> = {}): IExecutionRequest {
  const id = `job-${process.pid}-${++counter}`;
  const dir = path.join(workgroup, '.meow', 'jobs', id);
  return {
    job: { id } as IJob,
    notebook: nb,
    resultPath: path.join(dir, 'result.ipynb'),
    writesLogPath: path.join(dir, 'writes.log'),
    cwd: workgroup,
    timeoutMs: 0,
    signal: new AbortController().signal,
    ...extra
  };
}

export async function readResult(req: IExecutionRequest): Promise<INotebook> {
  return JSON.parse(await fsp.readFile(req.resultPath, 'utf8'));
}

export function text(output: any): string {
  const t = output.text ?? output.data?.['text/plain'] ?? '';
  return Array.isArray(t) ? t.join('') : t;
}

/** Wait until `cond()` is true (polling), or throw after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Pids of the kernel processes of kernel `id` (ipykernel is started with `kernel-<id>.json`). */
export function kernelPids(id: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `kernel-${id}.json`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter(pid => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Is a process alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
