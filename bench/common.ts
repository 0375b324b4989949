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
