/** What the benchmarks share: a conductor that runs nothing, and a one-cell recipe. */
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
