import { parsePattern } from '../../src/core/pattern';
import type { IPatternInfo, IRecipeInfo } from '../../src/core/api';
import { buildWorkflowGraph, globsCanOverlap, outputGlob } from '../../src/lab/graph';
import { layoutGraph } from '../../src/lab/layout';

function info(name: string, text: string): IPatternInfo {
  const { pattern, issues } = parsePattern(name, text);
  return {
    name,
    file: `.meow/patterns/${name}.yaml`,
    text,
    pattern,
    active: false,
    problem: issues.length ? issues.map(i => i.message).join('; ') : undefined
  };
}
const recipe = (name: string): IRecipeInfo => ({
  name,
  file: `.meow/recipes/${name}.ipynb`,
  variables: [],
  patterns: []
});

describe('outputGlob', () => {
  it('reads output templates as workgroup-relative globs', () => {
    expect(outputGlob('{VGRID}/first/{FILENAME}')).toBe('first/*');
    expect(outputGlob('{BASE}/out/{PREFIX}_done{EXTENSION}')).toBe('out/*_done*');
    expect(outputGlob('{VGRID}/{REL_DIR}/x.txt')).toBe('**/x.txt');
    expect(outputGlob('results/{JOB}.csv')).toBe('results/*.csv');
    expect(outputGlob('/tmp/elsewhere')).toBeUndefined();
    expect(outputGlob(3)).toBeUndefined();
  });
});

describe('globsCanOverlap', () => {
  it.each([
    ['first/*', 'first/*', true],
    ['first/*', 'first/*.txt', true],
    ['first/*.csv', 'first/*.txt', false],
    ['first/*', 'second/*', false],
    ['first/*', 'first/sub/*', false],
    ['first/a.txt', 'first/*', true],
    ['**/x.txt', 'data/x.txt', true],
    ['data/**', 'other/*', false],
    ['data/**', 'data/a/b/*', true],
    ['int_1/*', '{int_1,int_2}/*', true]
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(globsCanOverlap(a, b)).toBe(expected);
    expect(globsCanOverlap(b, a)).toBe(expected);
  });

  it.each([
    // output (native) vs trigger (fnmatch: * crosses folders)
    ['first/*', 'first/*', true],
    ['first/sub/*', 'first/*', true],
    ['first/**', 'first/*', true],
    ['second/*', 'first/*', false],
    ['out/*.csv', '*.txt', false],
    ['out/*', '*.txt', true],
    ['out/*.txt', '*.txt', true],
    ['a/b/c.txt', 'a/?/c.txt', true],
    ['first/x', 'first/[!x]', false]
  ])('%s vs fnmatch %s → %s', (a, b, expected) => {
    expect(globsCanOverlap(a, b, 'fnmatch')).toBe(expected);
  });
});

describe('buildWorkflowGraph', () => {
  const one = info(
    'Pattern_One',
    'recipe: append\ntrigger: {path: "start/*"}\ninput: infile\noutputs: {outfile: "{VGRID}/first/{FILENAME}"}\n'
  );
  const two = info(
    'Pattern_Two',
    'input_file: infile\ninput_paths: [first/*]\noutput: {outfile: "{VGRID}/second/{FILENAME}"}\nrecipes: [append]\nvariables: {}\nparameterize_over: {}\n'
  );
  const orphan = info('Orphan', 'recipe: missing\ntrigger: {path: "second/*.csv"}\n');
  const broken = info('Broken', 'recipe: [\n');

  it('links an output to the patterns whose trigger it can match', () => {
    const g = buildWorkflowGraph([one, two, orphan], [recipe('append')]);
    expect(g.links).toEqual([
      { from: 'Pattern_One', to: 'Pattern_Two', variable: 'outfile' },
      // second/{FILENAME} may be a .csv file, so it can trigger second/*.csv.
      { from: 'Pattern_Two', to: 'Orphan', variable: 'outfile' }
    ]);
    const ids = g.edges.map(e => `${e.from} -${e.kind}-> ${e.to}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'trigger:start/* -triggers-> pattern:Pattern_One',
        'pattern:Pattern_One -writes-> output:Pattern_One:outfile',
        // Pattern_Two is in the thesis format: its glob is fnmatch (as mig_meow).
        'output:Pattern_One:outfile -matches-> trigger:fnmatch:first/*',
        'trigger:fnmatch:first/* -triggers-> pattern:Pattern_Two',
        'pattern:Pattern_Two -writes-> output:Pattern_Two:outfile'
      ])
    );
    expect(ids).toContain('output:Pattern_Two:outfile -matches-> trigger:second/*.csv');
    expect(ids).not.toContain('output:Pattern_One:outfile -matches-> trigger:second/*.csv');
  });

  it('shows which glob syntax a pattern uses, and links by it', () => {
    const g = buildWorkflowGraph([one, two], [recipe('append')]);
    const node = (id: string) => g.nodes.find(n => n.id === id)!;
    expect(node('trigger:fnmatch:first/*')).toMatchObject({ label: 'first/* (fnmatch)', glob: 'fnmatch' });
    expect(node('trigger:fnmatch:first/*').details).toContain(
      'globs match as in mig_meow (fnmatch: * and ? also match "/" and dot files)'
    );
    expect(node('pattern:Pattern_Two').details).toContain(
      'thesis format: globs match as in mig_meow (fnmatch: * and ? also match "/" and dot files)'
    );
    expect(node('pattern:Pattern_Two').glob).toBe('fnmatch');
    expect(node('trigger:start/*').glob).toBeUndefined();
    expect(node('pattern:Pattern_One').details.join('\n')).not.toMatch(/fnmatch/);
    // An output one folder deeper reaches a thesis first/*, not a native one.
    const deeper = info(
      'Deeper',
      'recipe: append\ntrigger: {path: "x/*"}\ninput: f\noutputs: {o: "{VGRID}/first/sub/{FILENAME}"}\n'
    );
    const native = info('Native', 'recipe: append\ntrigger: {path: "first/*"}\ninput: f\n');
    const links = buildWorkflowGraph([deeper, two, native], [recipe('append')]).links;
    expect(links).toEqual([{ from: 'Deeper', to: 'Pattern_Two', variable: 'o' }]);
  });

  it('colours patterns by whether their recipe exists', () => {
    const g = buildWorkflowGraph([one, orphan, broken], [recipe('append')]);
    const state = (id: string) => g.nodes.find(n => n.id === id)!.state;
    expect(state('pattern:Pattern_One')).toBe('active');
    expect(state('pattern:Orphan')).toBe('missing');
    expect(state('pattern:Broken')).toBe('invalid');
    expect(g.nodes.find(n => n.id === 'pattern:Orphan')!.details[0]).toMatch(/missing/);
  });

  it('shares one trigger node between patterns with the same glob', () => {
    const a = info('A', 'recipe: r\ntrigger: {path: "in/*"}\n');
    const b = info('B', 'recipe: r\ntrigger: {path: "in/*"}\n');
    const g = buildWorkflowGraph([a, b], []);
    expect(g.nodes.filter(n => n.kind === 'trigger')).toHaveLength(1);
    expect(g.edges.filter(e => e.kind === 'triggers')).toHaveLength(2);
  });

  it('draws loops (Choice writes back into int_1) and lays them out', () => {
    const add = info('Add_5', 'recipe: r\ntrigger: {path: "int_1/*"}\noutputs: {out: "{VGRID}/int_2/{FILENAME}"}\n');
    const choice = info(
      'Choice',
      'recipe: r\ntrigger: {path: "int_2/*"}\noutputs: {back: "{VGRID}/int_1/{FILENAME}", done: "{VGRID}/final/{FILENAME}"}\n'
    );
    const g = buildWorkflowGraph([add, choice], [recipe('r')]);
    expect(g.links).toEqual([
      { from: 'Add_5', to: 'Choice', variable: 'out' },
      { from: 'Choice', to: 'Add_5', variable: 'back' }
    ]);
    const layout = layoutGraph(
      g.nodes.map(n => ({ id: n.id, width: 100, height: 30 })),
      g.edges.map(e => ({ from: e.from, to: e.to }))
    );
    expect(layout.nodes).toHaveLength(g.nodes.length);
    expect(layout.edges).toHaveLength(g.edges.length);
    for (const n of layout.nodes) {
      expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
    }
    expect(layout.width).toBeGreaterThan(100);
  });

  it('draws what fires each kind of pattern: path, port, clock, person, absence', () => {
    const patterns = [
      info('Files', 'recipe: r\ntrigger: {path: "in/*"}\noutputs: {out: "{VGRID}/review/{FILENAME}"}\n'),
      info('Net', 'recipe: r\ntrigger: {port: 9000, secret: s, tls: {cert: c.pem, key: k.pem}, max_bytes: 100MB}\n'),
      info('Net2', 'recipe: r\ntrigger: {port: 9000, secret: s, tls: {cert: c.pem, key: k.pem}, max_bytes: 100MB}\n'),
      info('Wide', 'recipe: r\ntrigger: {port: 9100, host: 0.0.0.0}\n'),
      info('Cron', 'recipe: r\ntrigger: {schedule: "*/10 * * * *", timezone: Europe/Copenhagen, missed: skip}\n'),
      info('Tick', 'recipe: r\ntrigger: {every: 30s}\n'),
      info('Review', 'recipe: r\ntrigger: {manual: true, path: "review/*"}\n'),
      info('ByHand', 'recipe: r\ntrigger: {manual: true}\n'),
      info('Silence', 'recipe: r\ntrigger: {absent: {path: "in/*", for: 10m}}\n')
    ];
    expect(patterns.filter(p => p.problem)).toEqual([]);
    const g = buildWorkflowGraph(patterns, [recipe('r')]);
    const triggerOf = (pattern: string) => {
      const edge = g.edges.find(e => e.kind === 'triggers' && e.to === `pattern:${pattern}`)!;
      return g.nodes.find(n => n.id === edge.from)!;
    };
    const seen = (pattern: string) => {
      const n = triggerOf(pattern);
      return { id: n.id, kind: n.kind, trigger: n.trigger, label: n.label };
    };
    expect(seen('Files')).toEqual({ id: 'trigger:in/*', kind: 'trigger', trigger: 'file', label: 'in/*' });
    expect(seen('Net')).toEqual({ id: 'port:9000', kind: 'trigger', trigger: 'network', label: ':9000' });
    expect(seen('Wide')).toEqual({ id: 'port:9100', kind: 'trigger', trigger: 'network', label: '0.0.0.0:9100' });
    expect(seen('Cron')).toEqual({
      id: 'clock:*/10 * * * * Europe/Copenhagen',
      kind: 'trigger',
      trigger: 'schedule',
      label: '*/10 * * * * Europe/Copenhagen'
    });
    expect(seen('Tick')).toEqual({ id: 'clock:every 30s', kind: 'trigger', trigger: 'schedule', label: 'every 30s' });
    expect(seen('Review')).toEqual({
      id: 'person:Review',
      kind: 'trigger',
      trigger: 'manual',
      label: 'approve review/*'
    });
    expect(seen('ByHand')).toEqual({ id: 'person:ByHand', kind: 'trigger', trigger: 'manual', label: 'run by hand' });
    expect(seen('Silence')).toEqual({
      id: 'absent:600000:in/*',
      kind: 'trigger',
      trigger: 'absent',
      label: 'no in/* for 10m'
    });

    // Two patterns on one port share its node (they share the listener).
    expect(triggerOf('Net2')).toBe(triggerOf('Net'));
    expect(g.nodes.filter(n => n.id === 'port:9000')).toHaveLength(1);
    const port = triggerOf('Net').details.join('\n');
    expect(port).toMatch(/TLS \(certificate c\.pem\)/);
    expect(port).toMatch(/a shared secret is required/);
    expect(port).not.toMatch(/: s$/m); // never the secret itself
    expect(port).toMatch(/100MB per message, 64 connections/);
    expect(port).toMatch(/triggers Net\ntriggers Net2/);
    expect(triggerOf('Cron').details.join('\n')).toMatch(/missed firings: skipped/);
    expect(g.nodes.find(n => n.id === 'pattern:Tick')!.details).toContain('trigger: every 30s');
    expect(g.nodes.find(n => n.id === 'pattern:Silence')!.details).toContain('trigger: absence: no in/* for 10m');

    // An output landing in an approval folder waits there for a person.
    expect(g.edges).toContainEqual({ from: 'output:Files:out', to: 'person:Review', kind: 'matches' });
    expect(g.links).toEqual([{ from: 'Files', to: 'Review', variable: 'out' }]);
    expect(g.nodes.find(n => n.id === 'output:Files:out')!.details).toContain('waits for approval: Review');
    // An absence glob is not a trigger of files: no edge into it.
    expect(g.edges.filter(e => e.to === 'absent:600000:in/*' && e.kind === 'matches')).toEqual([]);
  });
});
