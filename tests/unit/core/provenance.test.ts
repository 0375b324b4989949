import { jobMatchesFilter, provenanceGraph, provenanceLineage } from '../../../src/core/provenance';
import type { IJob } from '../../../src/core/types';

function job(
  id: string,
  pattern: string,
  path: string,
  created: string,
  parent?: string,
  extra: Partial<IJob> = {}
): IJob {
  const j: IJob = {
    id,
    pattern,
    recipe: 'Append',
    rule: `${pattern}/Append#1`,
    ruleKey: 'k',
    status: 'done',
    trigger: { kind: 'created', path, time: created },
    parameters: {},
    filesWritten: [],
    created,
    ...extra
  };
  if (parent) {
    j.parent = parent;
  }
  return j;
}

/** The foundational example: 2 files, 2 patterns, 4 jobs. */
const JOBS: IJob[] = [
  job('j4', 'Pattern_Two', 'first/Bravo.txt', '2024-01-01T10:00:04Z', 'j2', { filesWritten: ['second/Bravo.txt'] }),
  job('j1', 'Pattern_One', 'start/Alpha.txt', '2024-01-01T10:00:01Z', undefined, {
    filesWritten: ['first/Alpha.txt'],
    started: '2024-01-01T10:00:01.5Z',
    finished: '2024-01-01T10:00:02Z'
  }),
  job('j2', 'Pattern_One', 'start/Bravo.txt', '2024-01-01T10:00:02Z', undefined, { filesWritten: ['first/Bravo.txt'] }),
  job('j3', 'Pattern_Two', 'first/Alpha.txt', '2024-01-01T10:00:03Z', 'j1', {
    filesWritten: ['second/Alpha.txt'],
    status: 'failed',
    error: { message: 'boom' }
  })
];

describe('provenance graph (spec §7)', () => {
  it('jobs are nodes, files are edges parent → child labelled with the trigger path', () => {
    const g = provenanceGraph(JOBS);
    expect(g.jobs.map(n => n.id)).toEqual(['j1', 'j2', 'j3', 'j4']);
    expect(g.edges).toEqual([
      { from: 'j1', to: 'j3', path: 'first/Alpha.txt' },
      { from: 'j2', to: 'j4', path: 'first/Bravo.txt' }
    ]);
    expect(g.jobs[0]).toEqual({
      id: 'j1',
      pattern: 'Pattern_One',
      recipe: 'Append',
      rule: 'Pattern_One/Append#1',
      status: 'done',
      created: '2024-01-01T10:00:01Z',
      started: '2024-01-01T10:00:01.5Z',
      finished: '2024-01-01T10:00:02Z',
      trigger: 'start/Alpha.txt',
      filesWritten: ['first/Alpha.txt']
    });
    expect(g.jobs[2]).toMatchObject({ parent: 'j1', status: 'failed', error: 'boom' });
  });

  it.each([
    ['job', { job: 'j3' }, ['j3'], []],
    ['path glob', { path: 'first/*' }, ['j3', 'j4'], []],
    ['path part', { path: 'Alpha' }, ['j1', 'j3'], [['j1', 'j3']]],
    ['pattern', { pattern: 'Pattern_One' }, ['j1', 'j2'], []],
    [
      'recipe',
      { recipe: 'Append' },
      ['j1', 'j2', 'j3', 'j4'],
      [
        ['j1', 'j3'],
        ['j2', 'j4']
      ]
    ],
    ['recipe (none)', { recipe: 'Other' }, [], []],
    ['after', { after: '2024-01-01T10:00:02Z' }, ['j2', 'j3', 'j4'], [['j2', 'j4']]],
    ['before', { before: '2024-01-01T10:00:02Z' }, ['j1', 'j2'], []],
    ['before as ms', { before: Date.parse('2024-01-01T10:00:01Z') }, ['j1'], []],
    ['combined', { pattern: 'Pattern_Two', after: new Date('2024-01-01T10:00:03.5Z') }, ['j4'], []]
  ] as const)('filter by %s keeps edges only between kept jobs', (_name, filter, kept, edges) => {
    const g = provenanceGraph(JOBS, filter as any);
    expect(g.jobs.map(n => n.id)).toEqual(kept);
    expect(g.edges.map(e => [e.from, e.to])).toEqual(edges);
  });

  it('an unparseable time keeps nothing, an empty one everything', () => {
    expect(jobMatchesFilter(JOBS[0], { before: 'yesterday' })).toBe(false);
    expect(jobMatchesFilter(JOBS[0], { before: '' })).toBe(true);
  });

  it('a parent missing from the set gives no edge', () => {
    const g = provenanceGraph([JOBS[0]]);
    expect(g.jobs[0].parent).toBe('j2');
    expect(g.edges).toEqual([]);
  });

  it('lineage: ancestors and descendants of one job', () => {
    expect(
      provenanceLineage(JOBS, 'j3')
        .map(j => j.id)
        .sort()
    ).toEqual(['j1', 'j3']);
    expect(
      provenanceLineage(JOBS, 'j2')
        .map(j => j.id)
        .sort()
    ).toEqual(['j2', 'j4']);
    expect(provenanceLineage(JOBS, 'missing')).toEqual([]);
  });
});
