/** What the benchmarks share: a conductor that runs nothing, and a one-cell recipe. */
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import type { IConductor, IExecutionResult } from '../src/service/tokens';

/** Measures only meow's own work: every job is done at once. */
export class NoopConductor implements IConductor {
  readonly name = 'noop';
  async start(): Promise<void> {}
  async execute(): Promise<IExecutionResult> {
    return { status: 'done', filesWritten: [] };
  }
  async dispose(): Promise<void> {}
}

/** A recipe notebook with one code cell assigning the given source. */
export function recipe(source: string): string {
  return JSON.stringify({
    cells: [{ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 4
  });
}

/** Several measurements of one thing, and their min / median / max. */
export interface IStats {
  values: number[];
  min: number;
  median: number;
  max: number;
}

export function stats(values: number[]): IStats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { values, min: s[0], median, max: s[s.length - 1] };
}

/**
 * The Python of the benchmark-only venv (never the project's .venv), with
 * `packages` installed there when `probe` (Python code) fails to import them.
 */
export function benchVenv(venv: string, probe: string, packages: string[]): string {
  const py = path.join(venv, 'bin', 'python');
  const has = () => {
    try {
      execFileSync(py, ['-c', probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(py) && has()) {
    return py;
  }
  console.log(`installing ${packages.join(', ')} into the benchmark venv ${venv}`);
  if (!existsSync(py)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  execFileSync(py, ['-m', 'pip', 'install', '--quiet', ...packages], { stdio: 'inherit' });
  if (!has()) {
    throw new Error(`${probe} still fails with ${py}`);
  }
  return py;
}
