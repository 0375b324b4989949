/**
 * The spec §2 requirements the core is responsible for: R1–R5, P1–P7,
 * M1–M3 and M7–M9. (M4–M6, M10 and M11 need a file system and running jobs;
 * the service tests cover them using what the Workflow returns here.)
 */
import { parsePattern, patternDigest } from '../../../src/core/pattern';
import { parseRecipeNotebook } from '../../../src/core/recipe';
import { sweepCombinations } from '../../../src/core/sweep';
import type { IFileEvent, INotebook, IPattern, IRecipe } from '../../../src/core/types';
import { Workflow } from '../../../src/core/workflow';

const NOTEBOOK: INotebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', id: 'a', metadata: {}, outputs: [], execution_count: null, source: 'infile = "x"\n' }]
};

function recipe(name: string, digest = `digest-of-${name}`): IRecipe {
  return { name, notebook: NOTEBOOK, digest, format: 'ipynb' };
}

function pattern(name: string, recipeName: string, glob = 'start/*', extra = ''): IPattern {
  const { pattern: p, issues } = parsePattern(name, `recipe: ${recipeName}\ntrigger: {path: "${glob}"}\n${extra}`);
  expect(issues).toEqual([]);
  return p!;
}

function event(path: string, kind: IFileEvent['kind'] = 'created'): IFileEvent {
  return { kind, path, time: 0 };
}

const ids = (rules: { id: string }[]) => rules.map(r => r.id);

describe('R1 a recipe has a name unique among recipes', () => {
  it('one recipe per name: setting a name again replaces it', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append', 'd1'));
    wf.setRecipe(recipe('append', 'd2'));
    expect(wf.recipes.size).toBe(1);
    expect(wf.recipes.get('append')!.digest).toBe('d2');
  });

  it('recipe names are validated as file stems', () => {
    expect(parseRecipeNotebook('bad/name', JSON.stringify(NOTEBOOK), 'd').issues[0].field).toBe('name');
    expect(parseRecipeNotebook('append', JSON.stringify(NOTEBOOK), 'd').recipe!.name).toBe('append');
  });
});

describe('R2 a recipe expresses runnable code', () => {
  it('a registered recipe holds the notebook, with code cells', () => {
    const r = parseRecipeNotebook('append', JSON.stringify(NOTEBOOK), 'd').recipe!;
    expect(r.notebook.cells[0].cell_type).toBe('code');
    const wf = new Workflow();
    wf.setRecipe(r);
    wf.setPattern(pattern('P', 'append'));
    expect(wf.rules.values().next().value!.recipe.notebook).toEqual(r.notebook);
  });

  it('a notebook without code cells is not a recipe', () => {
    const nb = { ...NOTEBOOK, cells: [{ cell_type: 'markdown', metadata: {}, source: 'text' }] };
    const res = parseRecipeNotebook('empty', JSON.stringify(nb), 'd');
    expect(res.recipe).toBeUndefined();
    expect(res.issues[0].message).toMatch(/no code cell/);
  });
});

describe('R3 when a recipe is created, a rule is created for every existing pattern naming it', () => {
  it('creates one rule per waiting pattern, none for others', () => {
    const wf = new Workflow();
    wf.setPattern(pattern('A', 'append'));
    wf.setPattern(pattern('B', 'append', 'first/*'));
    wf.setPattern(pattern('C', 'other'));
    expect(wf.rules.size).toBe(0);
    expect(wf.patternsWithoutRecipe().map(p => p.name)).toEqual(['A', 'B', 'C']);
    const changes = wf.setRecipe(recipe('append'));
    expect(changes.deleted).toEqual([]);
    expect(changes.created.map(r => r.pattern.name)).toEqual(['A', 'B']);
    expect(wf.rules.size).toBe(2);
    expect(wf.patternsWithoutRecipe().map(p => p.name)).toEqual(['C']);
  });
});

describe('R4 when a recipe is deleted, every rule made from it is deleted immediately', () => {
  it('deletes the rules and returns them; the patterns stay', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    wf.setRecipe(recipe('other'));
    wf.setPattern(pattern('A', 'append'));
    wf.setPattern(pattern('B', 'append', 'first/*'));
    wf.setPattern(pattern('C', 'other', 'x/*'));
    const before = [...wf.rules.values()];
    const changes = wf.deleteRecipe('append');
    expect(changes.created).toEqual([]);
    expect(ids(changes.deleted).sort()).toEqual(ids(before.filter(r => r.recipe.name === 'append')).sort());
    expect([...wf.rules.values()].map(r => r.pattern.name)).toEqual(['C']);
    expect(wf.patterns.size).toBe(3);
    expect(wf.match(event('start/a.txt'))).toEqual([]);
    expect(wf.deleteRecipe('missing')).toEqual({ created: [], deleted: [] });
  });
});

describe('R5 modifying a recipe = deleting it and creating a new one', () => {
  it('old rules are deleted and new ones (new ids, new content key) created', () => {
    const wf = new Workflow();
    wf.setPattern(pattern('A', 'append'));
    const [old] = wf.setRecipe(recipe('append', 'v1')).created;
    const changes = wf.setRecipe(recipe('append', 'v2'));
    expect(ids(changes.deleted)).toEqual([old.id]);
    expect(changes.created).toHaveLength(1);
    const [fresh] = changes.created;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.recipe.digest).toBe('v2');
    expect(fresh.contentKey).not.toBe(old.contentKey);
    expect(ids([...wf.rules.values()])).toEqual([fresh.id]);
  });
});

describe('P1 a pattern has a name unique among patterns', () => {
  it('one pattern per name; at most one rule per pattern', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    wf.setPattern(pattern('P', 'append', 'a/*'));
    wf.setPattern(pattern('P', 'append', 'b/*'));
    expect(wf.patterns.size).toBe(1);
    expect(wf.rulesForPattern('P')).toHaveLength(1);
    expect(wf.rules.size).toBe(1);
  });

  it('pattern names are validated as file stems', () => {
    expect(parsePattern('../x', 'recipe: r\ntrigger: {manual: true}').issues[0].field).toBe('name');
  });
});

describe('P2 a pattern names the recipe it uses', () => {
  it('the recipe is required and links the rule', () => {
    expect(parsePattern('P', 'trigger: {manual: true}').issues[0].field).toBe('recipe');
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    wf.setRecipe(recipe('other'));
    wf.setPattern(pattern('P', 'other'));
    expect(wf.rulesForPattern('P')[0].recipe.name).toBe('other');
  });
});

describe('P3 a pattern describes the event filter', () => {
  it('the glob and event kinds decide what matches', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    wf.setPattern(pattern('P', 'r', 'data/*.csv'));
    wf.setPattern({
      ...pattern('D', 'r', 'data/*.csv'),
      trigger: { kind: 'file', path: 'data/*.csv', events: ['deleted'] }
    });
    expect(wf.match(event('data/x.csv')).map(r => r.pattern.name)).toEqual(['P']);
    expect(wf.match(event('data/x.csv', 'modified')).map(r => r.pattern.name)).toEqual(['P']);
    expect(wf.match(event('data/x.csv', 'deleted')).map(r => r.pattern.name)).toEqual(['D']);
    expect(wf.match(event('data/x.txt'))).toEqual([]);
    expect(wf.match(event('data/sub/x.csv'))).toEqual([]);
  });
});

describe('P4 a pattern defines the variables passed to the recipe', () => {
  it('input, parameters, outputs and sweep reach the rule', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    wf.setPattern(
      pattern(
        'P',
        'r',
        'start/*',
        'input: infile\nparameters: {extra: "x"}\noutputs: {outfile: "{VGRID}/first/{FILENAME}"}\nsweep: {n: {start: 1, stop: 2, step: 1}}'
      )
    );
    const p = wf.rulesForPattern('P')[0].pattern;
    expect(p.input).toBe('infile');
    expect(p.parameters).toEqual({ extra: 'x' });
    expect(p.outputs).toEqual({ outfile: '{VGRID}/first/{FILENAME}' });
    expect(p.sweep).toEqual({ n: { start: 1, stop: 2, step: 1 } });
  });
});

describe('P5 when a pattern is created and its recipe exists, a rule is created', () => {
  it('with the recipe: one rule; without: none until the recipe comes', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    const with_ = wf.setPattern(pattern('A', 'append'));
    expect(with_.created).toHaveLength(1);
    expect(with_.deleted).toEqual([]);
    const without = wf.setPattern(pattern('B', 'missing'));
    expect(without).toEqual({ created: [], deleted: [] });
    expect(wf.patterns.has('B')).toBe(true);
  });
});

describe('P6 when a pattern is deleted, every rule made from it is deleted immediately', () => {
  it('returns the deleted rule; events no longer match', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    const [rule] = wf.setPattern(pattern('A', 'append')).created;
    expect(wf.match(event('start/a.txt'))).toHaveLength(1);
    const changes = wf.deletePattern('A');
    expect(changes).toEqual({ created: [], deleted: [rule] });
    expect(wf.rules.size).toBe(0);
    expect(wf.patterns.has('A')).toBe(false);
    expect(wf.match(event('start/a.txt'))).toEqual([]);
    expect(wf.deletePattern('A')).toEqual({ created: [], deleted: [] });
  });
});

describe('P7 modifying a pattern = deleting it and creating a new one', () => {
  it('old rule deleted, new rule created with a new id and the new filter', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    const [old] = wf.setPattern(pattern('A', 'append', 'start/*')).created;
    const changes = wf.setPattern(pattern('A', 'append', 'first/*'));
    expect(changes.deleted).toEqual([old]);
    expect(changes.created).toHaveLength(1);
    expect(changes.created[0].id).not.toBe(old.id);
    expect(wf.match(event('start/a.txt'))).toEqual([]);
    expect(ids(wf.match(event('first/a.txt')))).toEqual([changes.created[0].id]);
  });

  it('re-setting an identical pattern still replaces the rule; the content key is unchanged', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('append'));
    const [old] = wf.setPattern(pattern('A', 'append')).created;
    const { created, deleted } = wf.setPattern(pattern('A', 'append'));
    expect(deleted).toEqual([old]);
    expect(created[0].id).not.toBe(old.id);
    expect(created[0].contentKey).toBe(old.contentKey);
  });

  it('moving a pattern to another recipe', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r1'));
    wf.setRecipe(recipe('r2'));
    wf.setPattern(pattern('A', 'r1'));
    wf.setPattern(pattern('A', 'r2'));
    expect(wf.rulesForRecipe('r1')).toEqual([]);
    expect(wf.rulesForRecipe('r2').map(r => r.pattern.name)).toEqual(['A']);
    // Re-registering r1 does not resurrect the old link.
    expect(wf.setRecipe(recipe('r1', 'new')).created).toEqual([]);
  });
});

describe('M1 rules are uniquely identifiable', () => {
  it('ids never repeat for the lifetime of the Workflow, even for the same names', () => {
    const wf = new Workflow();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      for (const r of wf.setRecipe(recipe('append', `v${i}`)).created) {
        seen.add(r.id);
      }
      for (const r of wf.setPattern(pattern('A', 'append')).created) {
        seen.add(r.id);
      }
      wf.deletePattern('A');
    }
    expect(seen.size).toBe(5);
    expect([...seen][0]).toMatch(/^A\/append#\d+$/);
  });
});

describe('M2 a rule inherits the pattern filter', () => {
  it('the rule carries the pattern trigger and ruleMatchesPath uses it', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    const p = pattern('P', 'r', 'first/*.txt');
    const [rule] = wf.setPattern(p).created;
    expect(rule.pattern.trigger).toEqual(p.trigger);
    expect(wf.ruleMatchesPath(rule, 'first/a.txt')).toBe(true);
    expect(wf.ruleMatchesPath(rule, 'first/a.csv')).toBe(false);
    expect(wf.ruleMatchesPath(rule, 'first/sub/a.txt')).toBe(false);
  });

  it('ruleMatchesPath ignores the event kind (retroactive matching) and non-file rules', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    const [rule] = wf.setPattern({
      ...pattern('D', 'r', 'x/*'),
      trigger: { kind: 'file', path: 'x/*', events: ['deleted'] }
    }).created;
    expect(wf.ruleMatchesPath(rule, 'x/a')).toBe(true);
    const [timer] = wf.setPattern({
      ...pattern('T', 'r'),
      trigger: { kind: 'schedule', everyMs: 60000, missed: 'once' }
    }).created;
    expect(wf.ruleMatchesPath(timer, 'start/a')).toBe(false);
  });
});

describe('M3 a rule links its pattern and recipe', () => {
  it('rule.pattern and rule.recipe are the registered objects; contentKey combines them', () => {
    const wf = new Workflow();
    const r = recipe('append', 'sha-1');
    const p = pattern('A', 'append');
    wf.setRecipe(r);
    const [rule] = wf.setPattern(p).created;
    expect(rule.pattern).toBe(p);
    expect(rule.recipe).toBe(r);
    expect(rule.contentKey).toBe(`${patternDigest(p)}|sha-1`);
    expect(wf.rulesForPattern('A')).toEqual([rule]);
    expect(wf.rulesForRecipe('append')).toEqual([rule]);
  });
});

describe('M7/M8 every event is compared with every current rule by its filter', () => {
  function foundational(): Workflow {
    const wf = new Workflow();
    wf.setRecipe(recipe('Append'));
    wf.setPattern(
      parsePattern(
        'Pattern_One',
        "input_file: infile\ninput_paths:\n- start/*\noutput:\n  outfile: '{VGRID}/first/{FILENAME}'\nparameterize_over: {}\nrecipes:\n- Append\nvariables:\n  extra: This line was added by Pattern_One\n"
      ).pattern!
    );
    wf.setPattern(
      parsePattern(
        'Pattern_Two',
        "input_file: infile\ninput_paths:\n- first/*\noutput:\n  outfile: '{VGRID}/second/{FILENAME}'\nparameterize_over: {}\nrecipes:\n- Append\nvariables:\n  extra: This line was added by Pattern_Two\n"
      ).pattern!
    );
    return wf;
  }

  it('the foundational example: start/ → Pattern_One, first/ → Pattern_Two, second/ → nothing', () => {
    const wf = foundational();
    expect(wf.match(event('start/Alpha.txt')).map(r => r.pattern.name)).toEqual(['Pattern_One']);
    expect(wf.match(event('first/Alpha.txt')).map(r => r.pattern.name)).toEqual(['Pattern_Two']);
    expect(wf.match(event('second/Alpha.txt'))).toEqual([]);
    // Thesis globs match as mig_meow (fnmatch): sub-folders and dot files
    // too (the file monitor never reports an editor's swap file), never .meow/.
    expect(wf.match(event('start/sub/Alpha.txt')).map(r => r.pattern.name)).toEqual(['Pattern_One']);
    expect(wf.match(event('start/.Alpha.txt')).map(r => r.pattern.name)).toEqual(['Pattern_One']);
    expect(wf.match(event('startle/Alpha.txt'))).toEqual([]);
    expect(wf.match(event('start/Alpha.txt', 'deleted'))).toEqual([]);
  });

  it('all matching rules are returned, in creation order, whatever their base directory', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    wf.setPattern(pattern('deep', 'r', 'a/b/c/*.txt'));
    wf.setPattern(pattern('any', 'r', '**/*.txt'));
    wf.setPattern(pattern('mid', 'r', 'a/**'));
    wf.setPattern(pattern('exact', 'r', 'a/b/c/x.txt'));
    wf.setPattern(pattern('brace', 'r', '{a,z}/b/c/*'));
    wf.setPattern(pattern('other', 'r', 'a/b/d/*'));
    wf.setPattern(pattern('dir', 'r', 'a/b/c/**'));
    expect(wf.match(event('a/b/c/x.txt')).map(r => r.pattern.name)).toEqual([
      'deep',
      'any',
      'mid',
      'exact',
      'brace',
      'dir'
    ]);
    expect(wf.match(event('z/b/c/y.bin')).map(r => r.pattern.name)).toEqual(['brace']);
    // `a/b/c/**` also matches the directory path itself.
    expect(wf.match(event('a/b/c')).map(r => r.pattern.name)).toEqual(['mid', 'dir']);
  });

  it('uses an index, not a scan: 10,000 rules on distinct directories evaluate a handful of globs per event', () => {
    const evaluated: string[] = [];
    const wf = new Workflow({ onGlobEvaluated: g => evaluated.push(g) });
    wf.setRecipe(recipe('r'));
    const base = pattern('p0', 'r', 'dir0/*');
    for (let i = 0; i < 10000; i++) {
      wf.setPattern({
        ...base,
        name: `p${i}`,
        trigger: { kind: 'file', path: `dir${i}/*`, events: ['created', 'modified'] }
      });
    }
    wf.setPattern(pattern('everywhere', 'r', '**/*.dat'));
    expect(wf.rules.size).toBe(10001);
    expect(wf.globEvaluations).toBe(0);
    const hits = wf.match(event('dir4242/file.dat'));
    expect(hits.map(r => r.pattern.name)).toEqual(['p4242', 'everywhere']);
    // Only the bucket of dir4242 and the root bucket were tried.
    expect(evaluated.sort()).toEqual(['**/*.dat', 'dir4242/*']);
    expect(wf.globEvaluations).toBe(2);
    // A deep path looks up one bucket per ancestor: still only those globs.
    evaluated.length = 0;
    expect(wf.match(event('dir7/a/b/c/d/e.txt'))).toEqual([]);
    expect(evaluated.sort()).toEqual(['**/*.dat', 'dir7/*']);
    // Event kinds are checked before any glob.
    evaluated.length = 0;
    expect(wf.match(event('dir1/x', 'deleted'))).toEqual([]);
    expect(evaluated).toEqual([]);
  });

  it('deleted rules leave the index; new rules join it', () => {
    const evaluated: string[] = [];
    const wf = new Workflow({ onGlobEvaluated: g => evaluated.push(g) });
    wf.setRecipe(recipe('r'));
    wf.setPattern(pattern('A', 'r', 'x/*'));
    wf.deletePattern('A');
    expect(wf.match(event('x/1'))).toEqual([]);
    expect(evaluated).toEqual([]);
    wf.setPattern(pattern('B', 'r', 'x/*'));
    expect(wf.match(event('x/1')).map(r => r.pattern.name)).toEqual(['B']);
  });

  it('only file rules match file events; others are listed by kind and port', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    wf.setPattern({
      ...pattern('net', 'r'),
      trigger: { kind: 'network', port: 9000, host: '127.0.0.1', maxBytes: 1024, maxConnections: 1 }
    });
    wf.setPattern({ ...pattern('timer', 'r'), trigger: { kind: 'schedule', cron: '* * * * *', missed: 'once' } });
    wf.setPattern({ ...pattern('man', 'r'), trigger: { kind: 'manual' } });
    expect(wf.match(event('start/a'))).toEqual([]);
    expect(wf.rulesForPort(9000).map(r => r.pattern.name)).toEqual(['net']);
    expect(wf.rulesForPort(9001)).toEqual([]);
    expect(wf.rulesOfKind('schedule').map(r => r.pattern.name)).toEqual(['timer']);
    expect(wf.rulesOfKind('manual').map(r => r.pattern.name)).toEqual(['man']);
  });
});

describe('M9 a match schedules one or more jobs', () => {
  it('one job per sweep combination of each matched rule', () => {
    const wf = new Workflow();
    wf.setRecipe(recipe('r'));
    wf.setPattern(pattern('single', 'r', 'in/*'));
    wf.setPattern(
      pattern('swept', 'r', 'in/*', 'sweep: {a: {start: 1, stop: 3, step: 1}, b: {start: 0.5, stop: 1, step: 0.5}}')
    );
    const jobs = wf.match(event('in/data.csv')).map(rule => sweepCombinations(rule.pattern.sweep).length);
    expect(jobs).toEqual([1, 6]);
  });
});
