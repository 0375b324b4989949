/**
 * The Report's drawable graph: labels, stable colours, text contrast,
 * folding of repeated workflows, search, and the packed layout that keeps
 * thousands of jobs a wide grid rather than one tall column.
 */
import { IProvenanceGraph, provenanceGraph } from '../../src/core/provenance';
import type { IJob } from '../../src/core/types';
import { layoutComponents, layoutGraph } from '../../src/lab/layout';
import {
  DARK_TEXT,
  LIGHT_TEXT,
  PATTERN_PALETTE,
  contrastRatio,
  jobNode,
  patternColour,
  patternColours,
  reportGraph,
  searchJobs,
  textColourFor
} from '../../src/lab/report';
import { makeJob } from './fakes';

/** `chains` runs of Step1 → Step2 (Step1 on in/dNNN.dat, Step2 on out/dNNN.dat), plus `singles` lone Solo jobs. */
function workload(chains: number, singles = 0): IProvenanceGraph {
  const jobs: IJob[] = [];
  let n = 0;
  for (let i = 0; i < chains; i++) {
    const a = makeJob(++n, { pattern: 'Step1' });
    a.trigger.path = `in/d${i}.dat`;
    const b = makeJob(++n, { pattern: 'Step2', parent: a.id, status: i % 50 === 0 ? 'failed' : 'done' });
    b.trigger.path = `out/d${i}.dat`;
    jobs.push(a, b);
  }
  for (let i = 0; i < singles; i++) {
    const s = makeJob(++n, { pattern: 'Solo' });
    s.trigger.path = `many/s${i}.txt`;
    jobs.push(s);
  }
  return provenanceGraph(jobs);
}

describe('report node labels', () => {
  it('shows the trigger file, the short id and status, the full path on hover', () => {
    const job = makeJob(7, { id: '20261122-035941-703-000005-6d07', pattern: 'Pattern_One', status: 'running' });
    job.trigger.path = 'data/raw/sample_042.csv';
    const node = jobNode(provenanceGraph([job]).jobs[0]);
    expect(node.label).toBe('sample_042.csv');
    // The short id every panel shows (src/core/jobs.ts shortJobId).
    expect(node.sublabel).toBe('000005-6d07 · running');
    expect(node.title.split('\n')[0]).toBe('data/raw/sample_042.csv');
    expect(node.title).toContain(`pattern Pattern_One`);
  });

  it('falls back to the pattern when there is no trigger file', () => {
    const job = makeJob(8, { pattern: 'Nightly' });
    job.trigger.path = '';
    expect(jobNode(provenanceGraph([job]).jobs[0]).label).toBe('Nightly');
  });
});

describe('pattern colours', () => {
  it('depend on the name only: adding or filtering patterns changes no existing colour', () => {
    const few = patternColours(['Pattern_One', 'Pattern_Two']);
    const more = patternColours(['Aardvark', 'Pattern_Two', 'Pattern_One', 'Zebra', 'Middle']);
    const filtered = patternColours(['Pattern_Two']);
    expect(more.get('Pattern_One')).toBe(few.get('Pattern_One'));
    expect(more.get('Pattern_Two')).toBe(few.get('Pattern_Two'));
    expect(filtered.get('Pattern_Two')).toBe(few.get('Pattern_Two'));
    expect(PATTERN_PALETTE).toContain(patternColour('anything'));
    // The drawn graph uses the same colour, filtered or not.
    const g = workload(3, 2);
    const all = reportGraph(g);
    const onlySolo = reportGraph({ jobs: g.jobs.filter(j => j.pattern === 'Solo'), edges: [] });
    const colourOf = (r: ReturnType<typeof reportGraph>, p: string) => r.nodes.find(n => n.job?.pattern === p)!.colour;
    expect(colourOf(onlySolo, 'Solo')).toBe(colourOf(all, 'Solo'));
    expect(colourOf(all, 'Solo')).toBe(patternColour('Solo'));
  });

  it('spread over the palette', () => {
    const used = new Set(Array.from({ length: 60 }, (_, i) => patternColour(`Pattern_${i}`)));
    expect(used.size).toBeGreaterThanOrEqual(12);
  });
});

describe('text contrast', () => {
  it('puts dark text on light fills and white text on dark ones', () => {
    expect(textColourFor('#edc948')).toBe(DARK_TEXT); // yellow
    expect(textColourFor('#ffffff')).toBe(DARK_TEXT);
    expect(textColourFor('#a0cbe8')).toBe(DARK_TEXT);
    expect(textColourFor('#4e79a7')).toBe(LIGHT_TEXT); // blue
    expect(textColourFor('#000')).toBe(LIGHT_TEXT);
  });

  it('reads at least 4.5:1 (WCAG AA) with the text colour chosen for every palette colour', () => {
    for (const fill of PATTERN_PALETTE) {
      expect(contrastRatio(fill, textColourFor(fill))).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('folding repeated workflows', () => {
  it('draws small graphs whole', () => {
    const r = reportGraph(workload(2));
    expect(r.groups).toEqual([]);
    expect(r.nodes.filter(n => n.kind === 'job')).toHaveLength(4);
    expect(r.edges).toHaveLength(2);
    expect(r.edges[0].label).toMatch(/^out\/d\d\.dat$/);
  });

  it('folds 10,000 jobs into one node per workflow shape, and unfolds one on demand', () => {
    const g = workload(4000, 2000);
    expect(g.jobs).toHaveLength(10000);
    const r = reportGraph(g);
    const groups = r.nodes.filter(n => n.kind === 'group');
    expect(groups.map(n => n.label).sort()).toEqual(['Solo', 'Step1 → Step2']);
    const chain = r.groups.find(x => x.signature === 'Step1 → Step2')!;
    expect(chain).toMatchObject({ runs: 4000, jobs: 8000, failed: 80, expanded: false, shown: 0 });
    expect(r.groups.find(x => x.signature === 'Solo')).toMatchObject({ runs: 2000, jobs: 2000, failed: 0 });
    expect(r.nodes).toHaveLength(2);
    expect(r.drawnJobs).toBe(0);
    expect(r.total).toBe(10000);
    // Group nodes show the counts and mark failures.
    const chainNode = groups.find(n => n.group === chain)!;
    expect(chainNode.sublabel).toContain('4,000 runs, 8,000 jobs');
    expect(chainNode.sublabel).toContain('80 failed');
    expect(chainNode.failed).toBe(true);

    const open = reportGraph(g, { expanded: new Set([chain.key]), pageSize: 50 });
    const jobs = open.nodes.filter(n => n.kind === 'job');
    expect(jobs).toHaveLength(100);
    expect(open.edges).toHaveLength(50);
    expect(open.groups.find(x => x.key === chain.key)).toMatchObject({ expanded: true, shown: 50 });
    // Newest runs first.
    expect(jobs[0].job!.trigger).toBe('in/d3999.dat');
  });

  it('always draws the run of a focused job, even inside a folded group', () => {
    const g = workload(500);
    const target = g.jobs.find(j => j.trigger === 'out/d123.dat')!;
    const r = reportGraph(g, { focus: target.id });
    expect(r.groups).toHaveLength(1);
    expect(
      r.nodes
        .filter(n => n.kind === 'job')
        .map(n => n.job!.trigger)
        .sort()
    ).toEqual(['in/d123.dat', 'out/d123.dat']);
    expect(r.edges).toEqual([{ from: target.parent, to: target.id, label: 'out/d123.dat' }]);
  });

  it('caps the jobs drawn, keeping the newest runs and the focus', () => {
    // Distinct shapes do not fold: each run has its own pattern.
    const jobs = Array.from({ length: 300 }, (_, i) => makeJob(i + 1, { pattern: `P${i}` }));
    const g = provenanceGraph(jobs);
    const r = reportGraph(g, { maxNodes: 100, focus: jobs[0].id });
    expect(r.drawnJobs).toBe(100);
    expect(r.omitted).toBe(200);
    const ids = r.nodes.map(n => n.id);
    expect(ids).toContain(jobs[0].id);
    expect(ids).toContain(jobs[299].id);
  });
});

describe('folding inside one run', () => {
  it('folds a fan-out of leaf children under their parent, and unfolds it', () => {
    const root = makeJob(1, { pattern: 'Split' });
    const parts = Array.from({ length: 300 }, (_, i) => {
      const j = makeJob(i + 2, { pattern: 'Part', parent: root.id, status: i === 5 ? 'failed' : 'done' });
      j.trigger.path = `parts/p${i}.csv`;
      return j;
    });
    const g = provenanceGraph([root, ...parts]);
    const r = reportGraph(g);
    const key = `fan:${root.id}:Part`;
    expect(r.nodes.map(n => n.id)).toEqual([root.id, key]);
    expect(r.edges).toEqual([{ from: root.id, to: key, label: '' }]);
    expect(r.groups.find(x => x.key === key)).toMatchObject({ jobs: 300, failed: 1, expanded: false });
    const open = reportGraph(g, { expanded: new Set([key]), pageSize: 40 });
    expect(open.drawnJobs).toBe(41);
    expect(open.edges.filter(e => e.from === root.id)).toHaveLength(41);
    // A searched part is drawn even while folded.
    const focused = reportGraph(g, { focus: parts[7].id });
    expect(focused.nodes.map(n => n.id)).toEqual([root.id, parts[7].id, key]);
  });

  it('folds the middle of a long chain, keeping both ends', () => {
    const chain: IJob[] = [];
    for (let i = 0; i < 50; i++) {
      chain.push(makeJob(i + 1, { pattern: i % 2 ? 'Ping' : 'Pong', parent: chain[i - 1]?.id }));
    }
    const g = provenanceGraph(chain);
    const r = reportGraph(g);
    const fold = r.nodes.find(n => n.kind === 'group')!;
    // Jobs 1…48 have one parent and one child: 1, 2 and 47, 48 stay, 3…46 fold.
    expect(fold.id).toBe(`chain:${chain[3].id}`);
    expect(fold.label).toBe('Ping → Pong');
    expect(fold.group).toMatchObject({ jobs: 44 });
    expect(r.drawnJobs).toBe(6);
    const id = (i: number) => chain[i].id;
    expect(r.edges.map(e => [e.from, e.to])).toEqual([
      [id(0), id(1)],
      [id(1), id(2)],
      [id(47), id(48)],
      [id(48), id(49)],
      [id(2), fold.id],
      [fold.id, id(47)]
    ]);
    expect(reportGraph(g, { expanded: new Set([fold.id]) }).drawnJobs).toBe(50);
    expect(reportGraph(g, { focus: chain[20].id }).drawnJobs).toBe(50);
  });
});

describe('searchJobs', () => {
  it('finds by trigger path, id or pattern, newest first', () => {
    const g = workload(30, 3);
    expect(searchJobs(g, 'd17.dat').map(j => j.trigger)).toEqual(['out/d17.dat', 'in/d17.dat']);
    expect(searchJobs(g, 'solo')).toHaveLength(3);
    expect(searchJobs(g, g.jobs[5].id).map(j => j.id)).toEqual([g.jobs[5].id]);
    expect(searchJobs(g, '   ')).toEqual([]);
    expect(searchJobs(g, 'nothing-like-this')).toEqual([]);
  });
});

describe('layoutComponents', () => {
  it('packs independent runs into a wide grid rather than one column', () => {
    const g = workload(200);
    const r = reportGraph(g, { groupOver: 1e9 });
    const nodes = r.nodes.map(n => ({ id: n.id, width: n.width, height: n.height }));
    const packed = layoutComponents(nodes, r.edges, { aspect: 16 / 9 });
    expect(packed.nodes).toHaveLength(400);
    expect(packed.edges).toHaveLength(200);
    expect(packed.width / packed.height).toBeGreaterThan(0.8);
    expect(packed.width / packed.height).toBeLessThan(4);
    // One dagre layout of the same graph is a single column of 200 runs.
    const column = layoutGraph(nodes, r.edges);
    expect(column.height).toBeGreaterThan(packed.height * 4);
    // No two nodes overlap.
    const boxes = packed.nodes.map(n => [n.x - n.width / 2, n.y - n.height / 2, n.x + n.width / 2, n.y + n.height / 2]);
    let overlaps = 0;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        overlaps += a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1] ? 0 : 1;
      }
    }
    expect(overlaps).toBe(0);
    // Edges follow their nodes.
    const at = new Map(packed.nodes.map(n => [n.id, n]));
    for (const e of packed.edges) {
      const [from, to] = [at.get(e.from)!, at.get(e.to)!];
      expect(Math.abs(e.points[0].y - from.y)).toBeLessThan(from.height);
      expect(Math.abs(e.points[e.points.length - 1].x - to.x)).toBeLessThan(to.width);
    }
  });
});
