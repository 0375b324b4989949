/**
 * A conductor for runner tests that need no Jupyter: each recipe name maps
 * to a JavaScript function standing in for the notebook. It writes files
 * the way a kernel would (and logs them like the audit hook does), so the
 * runner's matching, chaining, provenance and cancellation are exercised
 * for real.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IConductor, IExecutionRequest, IExecutionResult } from '../../src/service/tokens';

export type Script = (
  params: Record<string, any>,
  io: { write(file: string, text: string): Promise<void>; signal: AbortSignal }
) => Promise<void> | void;

export class ScriptedConductor implements IConductor {
  readonly name = 'scripted';
  readonly executed: string[] = [];
  constructor(private readonly scripts: Record<string, Script>) {}

  async start(): Promise<void> {
    /* nothing to prepare */
  }

  async execute(request: IExecutionRequest): Promise<IExecutionResult> {
    this.executed.push(request.job.id);
    const script = this.scripts[request.job.recipe];
    const written: string[] = [];
    const write = async (file: string, text: string) => {
      const abs = path.resolve(request.cwd, file);
      await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.appendFile(request.writesLogPath, abs + '\n');
      written.push(abs);
      await fs.writeFile(abs, text);
    };
    await fs.writeFile(request.resultPath, JSON.stringify(request.notebook));
    if (!script) {
      return { status: 'failed', error: { message: `no script for ${request.job.recipe}` }, filesWritten: [] };
    }
    try {
      await script(request.job.parameters, { write, signal: request.signal });
    } catch (err) {
      if (request.signal.aborted) {
        return { status: 'cancelled', filesWritten: written };
      }
      return {
        status: 'failed',
        error: { message: (err as Error).message, ename: 'Error', evalue: (err as Error).message },
        filesWritten: written
      };
    }
    if (request.signal.aborted) {
      return { status: 'cancelled', filesWritten: written };
    }
    return { status: 'done', filesWritten: written };
  }

  async dispose(): Promise<void> {
    /* nothing to release */
  }
}

/** Wait for an abort or a time, whichever first (a long-running recipe). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted')); // cancelled before it got here: no abort event will come
      return;
    }
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });
}
