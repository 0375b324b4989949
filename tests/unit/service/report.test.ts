import { provenanceGraph } from '../../../src/core/provenance';
import type { IJob } from '../../../src/core/types';
import { formatReport } from '../../../src/service/cliInspect';

function job(id: string, pattern: string, trigger: string, wrote: string[], parent?: string): IJob {
  return {
    id,
    pattern,
    recipe: 'Append',
    rule: `${pattern}/Append#1`,
    ruleKey: 'k',
    status: 'done',
    trigger: { kind: 'created', path: trigger, time: '2026-11-22T00:00:00.000Z' },
    parameters: {},
    filesWritten: wrote,
    created: '2026-11-22T00:00:00.000Z',
    started: '2026-11-22T00:00:01.000Z',
    finished: '2026-11-22T00:00:01.500Z',
    ...(parent ? { parent } : {})
  };
}

describe('meow report (text)', () => {
  it('draws each chain from the file that started it: start → first → second', () => {
    const jobs = [
      job('j1', 'Pattern_One', 'start/Alpha.txt', ['first/Alpha.txt']),
      job('j2', 'Pattern_Two', 'first/Alpha.txt', ['second/Alpha.txt'], 'j1')
    ];
    expect(formatReport(provenanceGraph(jobs)).split('\n')).toEqual([
      '2 job(s), 1 edge(s)',
      'start/Alpha.txt',
      '└─ Pattern_One → Append  done 0.50 s  job j1  wrote first/Alpha.txt',
      '   └─ Pattern_Two → Append  done 0.50 s  job j2  wrote second/Alpha.txt'
    ]);
  });
});
