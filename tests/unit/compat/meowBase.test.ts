/**
 * Compatibility with meow_base 1.0.5 (toppggg/meow_base; Tobitup/meow_base
 * has the same tests plus network ones): cases from tests/test_patterns.py,
 * test_base.py, test_functionality.py, test_recipes.py, test_rule.py and
 * test_runner.py. meow_base builds patterns in Python
 * (FileEventPattern(name, path, recipe, input_file, parameters, outputs,
 * sweep, event_mask)); here the same pattern is meow's native YAML, whose
 * fields map one to one (trigger.path, recipe, input, parameters, outputs,
 * sweep with start/stop/step, trigger.events). See helpers.ts for the verdicts.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import {
  describeCompat,
  differs,
  fields,
  fires,
  ICompatCase,
  keywords,
  loads,
  notebook,
  parameterised,
  recipeFile,
  recipeIssues,
  refused,
  runWorkgroup,
  sweepLiterals
} from './helpers';

const PAT = 'tests/test_patterns.py';
const FUN = 'tests/test_functionality.py';
const RUN = 'tests/test_runner.py';
const REC = 'tests/test_recipes.py';

/** FileEventPattern(name, path, recipe, file, …) as a native pattern file. */
function fep(p: { path?: string; recipe?: string; input?: string; extra?: string } = {}): string {
  return (
    `recipe: ${JSON.stringify(p.recipe ?? 'recipe')}\n` +
    `trigger: {path: ${JSON.stringify(p.path ?? 'path')}}\n` +
    `input: ${JSON.stringify(p.input ?? 'file')}\n` +
    (p.extra ?? '')
  );
}

const sweep = (s: string) => fep({ extra: `sweep: ${s}\n` });

/** APPENDING_NOTEBOOK's behaviour: outfile = infile's text + "\n" + extra. */
const append = async (p: Record<string, any>, write: (rel: string, text: string) => Promise<void>) => {
  await write(p.outfile, (await fs.readFile(p.infile, 'utf8')) + '\n' + p.extra);
};

const cases: ICompatCase[] = [
  // --- FileEventPattern creation
  {
    from: `${PAT}::testFileEventPatternCreationMinimum`,
    asserts: 'name, path, recipe and input file make a pattern',
    verdict: 'agrees',
    check: () => expect(loads(fep(), 'name')).toMatchObject({ name: 'name', recipe: 'recipe', input: 'file' })
  },
  {
    from: `${PAT}::testFileEventPatternCreationEmptyName`,
    asserts: 'an empty name is refused',
    verdict: 'agrees',
    check: () => expect(fields(refused(fep(), ''))).toContain('name')
  },
  {
    from: `${PAT}::testFileEventPatternCreationEmptyPath`,
    asserts: 'an empty path is refused',
    verdict: 'agrees',
    check: () => expect(fields(refused(fep({ path: '' })))).toContain('trigger.path')
  },
  {
    from: `${PAT}::testFileEventPatternCreationEmptyRecipe`,
    asserts: 'an empty recipe is refused',
    verdict: 'agrees',
    check: () => expect(fields(refused(fep({ recipe: '' })))).toContain('recipe')
  },
  {
    from: `${PAT}::testFileEventPatternCreationEmptyFile`,
    asserts: 'an empty input file variable is refused',
    verdict: 'agrees',
    check: () => expect(fields(refused(fep({ input: '' })))).toContain('input')
  },
  {
    from: `${PAT}::testFileEventPatternCreationInvalidName`,
    asserts: "the name '@name' is refused",
    verdict: 'agrees',
    check: () => expect(fields(refused(fep(), '@name'))).toContain('name')
  },
  {
    from: `${PAT}::testFileEventPatternCreationInvalidRecipe`,
    asserts: "the recipe '@recipe' is refused",
    verdict: 'agrees',
    check: () => expect(fields(refused(fep({ recipe: '@recipe' })))).toContain('recipe')
  },
  {
    from: `${PAT}::testFileEventPatternCreationInvalidFile`,
    asserts: "the input file variable '@file' is refused",
    verdict: 'agrees',
    check: () => expect(fields(refused(fep({ input: '@file' })))).toContain('input')
  },
  {
    from: `${PAT}::testFileEventPatternSetupParementers`,
    asserts: 'parameters {a: 1, b: True} are kept',
    verdict: 'agrees',
    check: () => expect(loads(fep({ extra: 'parameters: {a: 1, b: true}\n' })).parameters).toEqual({ a: 1, b: true })
  },
  {
    from: `${PAT}::testFileEventPatternSetupOutputs`,
    asserts: 'outputs {a: "a", b: "b"} are kept',
    verdict: 'agrees',
    check: () => expect(loads(fep({ extra: 'outputs: {a: a, b: b}\n' })).outputs).toEqual({ a: 'a', b: 'b' })
  },
  {
    from: `${PAT}::testFileEventPatternEventMask`,
    asserts: 'an unknown event kind in the mask is refused',
    verdict: 'agrees',
    check: () => {
      const text = (events: string) => `recipe: recipe\ntrigger: {path: path, events: ${events}}\ninput: file\n`;
      expect(fields(refused(text('[nope]')))).toContain('trigger.events[0]');
      expect(fields(refused(text('[created, nope]')))).toContain('trigger.events[1]');
    }
  },
  {
    from: `${PAT}::testFileEventPatternEventMask`,
    asserts: 'an event mask given as a single string (not a list) is a TypeError',
    verdict: differs('more lenient: events as a single string'),
    check: () => {
      const p = loads('recipe: recipe\ntrigger: {path: path, events: created}\ninput: file\n');
      expect(p.trigger).toMatchObject({ events: ['created'] });
    }
  },
  // --- sweeps
  {
    from: `${PAT}::testFileEventPatternSweep`,
    asserts: 'sweeps 0→3 by 1 and 10→0 by -2 are valid; 0→3 by -1 and 10→0 by 1 are not',
    verdict: 'agrees',
    check: () => {
      expect(sweepLiterals(sweep('{first: {start: 0, stop: 3, step: 1}}'), 'first')).toEqual(['0', '1', '2', '3']);
      expect(sweepLiterals(sweep('{second: {start: 10, stop: 0, step: -2}}'), 'second')).toEqual([
        '10',
        '8',
        '6',
        '4',
        '2',
        '0'
      ]);
      expect(fields(refused(sweep('{first: {start: 0, stop: 3, step: -1}}')))).toContain('sweep.first.step');
      expect(fields(refused(sweep('{second: {start: 10, stop: 0, step: 1}}')))).toContain('sweep.second.step');
    }
  },
  {
    from: 'tests/test_base.py::testBasePatternExpandSweeps',
    asserts: 's1 10→20 by 5 gives 10, 15, 20',
    verdict: 'agrees',
    check: () => expect(sweepLiterals(sweep('{s1: {start: 10, stop: 20, step: 5}}'), 's1')).toEqual(['10', '15', '20'])
  },
  {
    from: 'tests/test_base.py::testBasePatternExpandSweeps',
    asserts: 's1 0→2 by 1 and s2 20→80 by 15 give all 15 combinations',
    verdict: 'agrees',
    check: () => {
      const text = sweep('{s1: {start: 0, stop: 2, step: 1}, s2: {start: 20, stop: 80, step: 15}}');
      const pairs = sweepLiterals(text, 's1').map((s1, i) => `s1-${s1}/s2-${sweepLiterals(text, 's2')[i]}`);
      expect(pairs.sort()).toEqual(
        ['0', '1', '2'].flatMap(a => ['20', '35', '50', '65', '80'].map(b => `s1-${a}/s2-${b}`)).sort()
      );
    }
  },
  {
    from: `${FUN}::testCreateParameterSweep`,
    asserts: '(0, 10, 2), (10, 0, -2), (0.0, 10.0, 1.3), (10.0, 0.0, -1.3) are valid sweeps',
    verdict: 'agrees',
    check: () => {
      for (const [a, b, c] of [
        ['0', '10', '2'],
        ['10', '0', '-2'],
        ['0.0', '10.0', '1.3'],
        ['10.0', '0.0', '-1.3']
      ]) {
        loads(sweep(`{name: {start: ${a}, stop: ${b}, step: ${c}}}`));
      }
      // 0.0 → 10.0 by 1.3 stops at 9.1 as meow_base's running sum does (8 values)
      expect(sweepLiterals(sweep('{name: {start: 0.0, stop: 10.0, step: 1.3}}'), 'name')).toHaveLength(8);
    }
  },
  {
    from: `${FUN}::testCreateParameterSweep`,
    asserts: "a step of 0, a step away from stop and a string start ('0') are refused",
    verdict: 'agrees',
    check: () => {
      refused(sweep('{name: {start: 0, stop: 10, step: 0}}'));
      refused(sweep('{name: {start: 0, stop: 10, step: -1}}'));
      refused(sweep('{name: {start: 10, stop: 0, step: 1}}'));
      expect(fields(refused(sweep("{name: {start: '0', stop: 10, step: 2}}")))).toContain('sweep.name.start');
    }
  },
  {
    // base_pattern.py _is_valid_sweep: a positive step needs stop > start.
    from: `${PAT}::testFileEventPatternSweep`,
    asserts: 'start equal to stop is refused (stop must be beyond start)',
    verdict: differs('more lenient: sweep with start = stop'),
    check: () => expect(sweepLiterals(sweep('{x: {start: 5, stop: 5, step: 1}}'), 'x')).toEqual(['5'])
  },
  {
    // expand_sweeps adds the step up while ≤ stop: 0.1 + 0.1 + 0.1 > 0.3.
    from: 'tests/test_base.py::testBasePatternExpandSweeps',
    asserts: 'a sweep is start, start + step, … while ≤ stop (0 → 0.3 by 0.1 gives 3 values)',
    verdict: differs('inclusive sweep ends and decimal-clean float steps'),
    check: () =>
      expect(sweepLiterals(sweep('{x: {start: 0.0, stop: 0.3, step: 0.1}}'), 'x')).toEqual(['0.0', '0.1', '0.2', '0.3'])
  },
  // --- keywords (replace_keywords(d, 'job_id', 'base/src/dir/file.ext', 'base/monitor/dir'))
  {
    from: `${FUN}::testReplaceKeywords`,
    asserts: '{REL_PATH}, {REL_DIR}, {FILENAME}, {PREFIX}, {EXTENSION}, {JOB}, repeats and non-strings',
    verdict: 'agrees',
    check: () =>
      expect(
        keywords(
          {
            B: '--{REL_PATH}--',
            D: '--{REL_DIR}--',
            E: '--{FILENAME}--',
            F: '--{PREFIX}--',
            H: '--{EXTENSION}--',
            I: '--{JOB}--',
            J: '--{FILENAME}-{FILENAME}--',
            M: 'A',
            N: 1
          },
          '/base/monitor/dir',
          'src/dir/file.ext'
        )
      ).toEqual({
        B: '--src/dir/file.ext--',
        D: '--src/dir--',
        E: '--file.ext--',
        F: '--file--',
        H: '--.ext--',
        I: '--job_id--',
        J: '--file.ext-file.ext--',
        M: 'A',
        N: 1
      })
  },
  {
    from: `${FUN}::testReplaceKeywords`,
    asserts: '{PATH}, {DIR} and {BASE} are the paths the monitor was given (relative if it was)',
    verdict: differs('absolute {VGRID}/{PATH}'),
    check: () =>
      expect(keywords({ A: '{PATH}', C: '{DIR}', G: '{BASE}' }, '/base/monitor/dir', 'src/dir/file.ext')).toEqual({
        A: '/base/monitor/dir/src/dir/file.ext',
        C: '/base/monitor/dir/src/dir',
        G: '/base/monitor/dir'
      })
  },
  // --- parameterisation (COMPLETE_NOTEBOOK: "# The first cell\n\ns = 0\nnum = 1000", …)
  {
    from: `${FUN}::testParameteriseNotebook`,
    asserts: 'no parameters leave the notebook unchanged; {s: 4} rewrites "s = 0" to "s = 4"',
    verdict: 'agrees',
    check: () => {
      const nb = notebook('# The first cell\n\ns = 0\nnum = 1000', 'for i in range(num):\n    s += i');
      expect(parameterised(nb, {})).toEqual([
        '# The first cell\n\ns = 0\nnum = 1000',
        'for i in range(num):\n    s += i'
      ]);
      expect(parameterised(nb, { s: 4 })[0]).toBe('# The first cell\n\ns = 4\nnum = 1000');
    }
  },
  {
    from: `${FUN}::testParameteriseNotebook`,
    asserts: 'a parameter the notebook does not assign ({a: 4}) leaves it unchanged',
    verdict: differs('injected cells for missing variables'),
    check: () => {
      const cells = parameterised(notebook('s = 0\nnum = 1000'), { a: 4 });
      expect(cells).toHaveLength(2);
      expect(cells[0]).toMatch(/^a = 4$/m);
      expect(cells[1]).toBe('s = 0\nnum = 1000');
    }
  },
  {
    // parameterize_jupyter_notebook rewrites every "name = …" line in every code cell.
    from: `${FUN}::testParameteriseNotebook`,
    asserts: 'every assignment of a parameter is rewritten, in every cell',
    verdict: differs('first-assignment-only rewriting'),
    check: () =>
      expect(parameterised(notebook('s = 0', 's = s + 1', 's = 10'), { s: 4 })).toEqual([
        's = 4',
        's = s + 1',
        's = 10'
      ])
  },
  // --- recipes
  {
    from: `${REC}::testJupyterNotebookRecipeCreationInvalidRecipe`,
    asserts: 'a recipe that is not a notebook is refused',
    verdict: 'agrees',
    check: () => expect(recipeIssues('r.ipynb', '{"not": "a notebook"}').length).toBeGreaterThan(0)
  },
  {
    from: `${REC}::testJupyterNotebookRecipeCreationInvalidSourceExtension`,
    asserts: "a source not ending in '.ipynb' is refused",
    verdict: differs('more lenient: recipe source without .ipynb'),
    check: () =>
      expect(
        recipeIssues(
          'r.yaml',
          'recipe: {cells: [{cell_type: code, source: "a = 1", metadata: {}, outputs: []}], metadata: {}, nbformat: 4, nbformat_minor: 4}\nsource: notebook.bad\n'
        )
      ).toEqual([])
  },
  // --- matching (the watchdog monitor's glob of the pattern path)
  {
    from: `${PAT}::testWatchdogMonitorEventIdentificaion`,
    asserts: "the path 'A' fires on A in the base folder and not on B",
    verdict: 'agrees',
    check: () => expect(fires(fep({ path: 'A' }), ['A', 'B'])).toEqual(['A'])
  },
  {
    from: `${PAT}::testMonitoring`,
    asserts: "the path 'start/A.txt' fires on that file in a sub-folder",
    verdict: 'agrees',
    check: () => expect(fires(fep({ path: 'start/A.txt' }), ['start/A.txt', 'start/B.txt'])).toEqual(['start/A.txt'])
  },
  // --- rules and jobs (a real runner)
  {
    from: 'tests/test_rule.py::testRuleCreationMissmatchedRecipe',
    asserts: 'no rule joins a pattern to a recipe it does not name; one appears with its recipe',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/P.yaml': fep({ path: 'start/*', recipe: 'recipe_one', input: 'infile' }),
          '.meow/recipes/recipe_two.ipynb': recipeFile({ infile: "''" }),
          'start/A.txt': 'x'
        },
        run => expect(run.jobs.map(j => j.recipe)).toEqual(['recipe_one']),
        { later: { '.meow/recipes/recipe_one.ipynb': recipeFile({ infile: "''" }) } }
      )
  },
  {
    from: `${PAT}::testMonitoringRetroActive`,
    asserts: 'a file present before the monitor starts makes an event for its rule',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/P.yaml': fep({ path: 'start/A.txt', recipe: 'recipe_one', input: 'infile' }),
          '.meow/recipes/recipe_one.ipynb': recipeFile({ infile: "''" }),
          'start/A.txt': 'Initial Data'
        },
        run => {
          expect(run.jobs).toHaveLength(1);
          expect(run.jobs[0].trigger).toMatchObject({ path: 'start/A.txt', retroactive: true });
        }
      )
  },
  {
    from: `${FUN}::testCreateJob`,
    asserts: 'a job records its pattern, recipe, rule, status, creation time and parameters',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/pattern.yaml': fep({
            path: 'file_path',
            recipe: 'recipe_one',
            input: 'infile',
            extra: 'parameters: {extra: A line from a test Pattern, outfile: result_path}\n'
          }),
          '.meow/recipes/recipe_one.ipynb': recipeFile({ infile: "''", extra: "''", outfile: "''" })
        },
        async run => {
          const [job] = run.jobs;
          expect(job).toMatchObject({ pattern: 'pattern', recipe: 'recipe_one', status: 'done' });
          expect(job.rule).toMatch(/^pattern\/recipe_one#/);
          expect(Date.parse(job.created)).not.toBeNaN();
          expect(job.parameters).toEqual({
            extra: 'A line from a test Pattern',
            outfile: 'result_path',
            infile: path.join(run.root, 'file_path')
          });
          expect(await run.jobYaml(job)).toMatch(/^pattern: pattern$/m);
        },
        { later: { file_path: 'x' } }
      )
  },
  {
    from: `${REC}::testPapermillHandlerHandlingMultipleSweep`,
    asserts: 'two sweeps make one job per combination, each notebook with its values',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/P.yaml': fep({
            path: 'start/*',
            recipe: 'R',
            input: 'infile',
            extra: 'sweep: {s1: {start: 0, stop: 2, step: 1}, s2: {start: 20, stop: 80, step: 15}}\n'
          }),
          '.meow/recipes/R.ipynb': recipeFile({ infile: "''", s1: '0', s2: '0' }),
          'start/A.txt': 'x'
        },
        run => {
          expect(run.jobs).toHaveLength(15);
          const seen = run.jobs.map(j =>
            run
              .source(j)
              .match(/s1 = (\d+)\ns2 = (\d+)/)!
              .slice(1)
              .join('/')
          );
          expect(new Set(seen).size).toBe(15);
        }
      )
  },
  {
    from: `${RUN}::testMeowRunnerLinkedPapermillExecution`,
    asserts: 'start/A.txt → middle/A.txt → output/A.txt, two jobs, three lines at the end',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/pattern_one.yaml': fep({
            path: 'start/A.txt',
            recipe: 'recipe_one',
            input: 'infile',
            extra: "parameters: {extra: A line from Pattern 1, outfile: '{BASE}/middle/{FILENAME}'}\n"
          }),
          '.meow/patterns/pattern_two.yaml': fep({
            path: 'middle/A.txt',
            recipe: 'recipe_one',
            input: 'infile',
            extra: "parameters: {extra: A line from Pattern 2, outfile: '{BASE}/output/{FILENAME}'}\n"
          }),
          '.meow/recipes/recipe_one.ipynb': recipeFile({ infile: "''", extra: "''", outfile: "''" })
        },
        async run => {
          expect(run.jobs.map(j => j.pattern)).toEqual(['pattern_one', 'pattern_two']);
          expect(run.jobs[1].parent).toBe(run.jobs[0].id);
          expect(await fs.readFile(path.join(run.root, 'output/A.txt'), 'utf8')).toBe(
            'Initial Data\nA line from Pattern 1\nA line from Pattern 2'
          );
        },
        { later: { 'start/A.txt': 'Initial Data' }, scripts: { recipe_one: append } }
      )
  },
  {
    from: `${RUN}::testMeowRunnerMEOWEditting`,
    asserts: 'a pattern added while running makes a rule and runs on new and existing files',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        { '.meow/recipes/R.ipynb': recipeFile({ infile: "''" }), 'start/A.txt': 'x' },
        run => expect(run.jobs.map(j => j.trigger.path)).toEqual(['start/A.txt']),
        { later: { '.meow/patterns/P.yaml': fep({ path: 'start/*', recipe: 'R', input: 'infile' }) } }
      )
  },
  {
    // Issue 11, point 3: fails until job.yaml keeps whole-number floats as floats.
    from: `${REC}::testPapermillHandlerHandlingSingleSweep`,
    asserts: 'the job records the swept value it ran with (a float sweep from 0.0 records 0.0)',
    verdict: 'agrees',
    check: () =>
      runWorkgroup(
        {
          '.meow/patterns/P.yaml': fep({
            path: 'start/*',
            recipe: 'R',
            input: 'infile',
            extra: 'parameters: {fl1: 1.0}\nsweep: {s: {start: 0.0, stop: 1.0, step: 0.5}}\n'
          }),
          '.meow/recipes/R.ipynb': recipeFile({ infile: "''", fl1: '0', s: '0' }),
          'start/A.txt': 'x'
        },
        async run => {
          expect(run.jobs).toHaveLength(3);
          const first = run.jobs.find(j => /^s = 0\.0$/m.test(run.source(j)))!;
          expect(run.source(first)).toMatch(/^fl1 = 1\.0$/m);
          const yaml = await run.jobYaml(first);
          expect(yaml).toMatch(/^ {2}fl1: 1\.0$/m);
          expect(yaml).toMatch(/^ {2}s: 0\.0$/m);
        }
      )
  }
];

describeCompat('meow_base 1.0.5', cases);
