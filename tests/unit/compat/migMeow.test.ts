/**
 * Compatibility with mig_meow 0.37 (PatchOfScotland/mig_meow, the thesis's
 * implementation): cases from tests/testWorkflows.py and
 * tests/testLocalRunner.py, and from the runner code those tests drive
 * (mig_meow/localrunner.py, meow.py, fileio.py) where a behaviour is only
 * asserted there. See helpers.ts for the verdicts.
 */
import * as path from 'path';
import { importMig } from '../../../src/service/cliImportMig';
import {
  describeCompat,
  differs,
  fields,
  fires,
  ICompatCase,
  keywords,
  loads,
  recipeIssues,
  refused,
  runWorkgroup,
  sweepLiterals,
  thesisPattern,
  variableLiteral
} from './helpers';

const WF = 'tests/testWorkflows.py';
const LR = 'tests/testLocalRunner.py';
const NB = (cells: string) => `{cells: ${cells}, metadata: {}, nbformat: 4, nbformat_minor: 4}`;
const CODE_CELL = '[{cell_type: code, source: "infile = 1", metadata: {}, outputs: []}]';

const cases: ICompatCase[] = [
  // --- pattern validation (testPatternDictCheck, testDictPatternCreation, testNewPatternCreation)
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'output' is optional",
    verdict: 'agrees',
    check: () => void loads(thesisPattern({ variables: '{extra: 1}' }))
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'variables' is optional",
    verdict: 'agrees',
    check: () => void loads(thesisPattern({ output: "{outfile: '{VGRID}/out/{FILENAME}'}" }))
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: 'a pattern that is not a mapping is rejected',
    verdict: 'agrees',
    check: () => expect(fields(refused('1\n'))).toContain('(file)')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "a 'name' of the wrong type is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ name: '1' })))).toContain('name')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'input_paths' that is not a list is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_paths: '1' })))).toContain('input_paths')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'input_file' that is not a string is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_file: '1' })))).toContain('input_file')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'output' that is not a mapping is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ output: '1' })))).toContain('output')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "'variables' that is not a mapping is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ variables: '1' })))).toContain('variables')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: "a missing 'input_paths' is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_paths: undefined })))).toContain('input_paths')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: 'a missing recipe is rejected',
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ recipes: undefined })))).toContain('recipes')
  },
  {
    // Issue 11, point 4: fails until thesis patterns without input_file are rejected.
    from: `${WF}::testPatternDictCheck`,
    asserts: "a missing 'input_file' is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_file: undefined })))).toContain('input_file')
  },
  {
    from: `${WF}::testPatternDictCheck`,
    asserts: 'extra keys are accepted unless strict',
    verdict: differs('stricter: extra keys'),
    check: () => {
      const issues = refused(thesisPattern({ extra: 'extra' }));
      expect(issues.find(i => i.field === 'extra')?.message).toMatch(/is not a thesis-format pattern field/);
    }
  },
  {
    from: `${WF}::testDictPatternCreation`,
    asserts: "an empty 'input_file' is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_file: "''" })))).toContain('input_file')
  },
  {
    from: `${WF}::testDictPatternCreation`,
    asserts: "an empty 'input_paths' list is rejected",
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ input_paths: '[]' })))).toContain('input_paths')
  },
  {
    from: `${WF}::testDictPatternCreation`,
    asserts: 'an empty pattern name is rejected',
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern(), ''))).toContain('name')
  },
  {
    from: `${WF}::testDictPatternCreation`,
    asserts: "'input_paths' is a list: a pattern may have several",
    verdict: differs('stricter: two input_paths'),
    check: () => {
      const issues = refused(thesisPattern({ input_paths: '[a/*, b/*]' }));
      expect(issues.find(i => i.field === 'input_paths')?.fix).toMatch(/\{a\/\*,b\/\*\}/);
    }
  },
  {
    from: `${WF}::testNewPatternCreation`,
    asserts: 'add_recipe twice gives a valid pattern with two recipes',
    verdict: differs('stricter: two recipes'),
    check: () => expect(fields(refused(thesisPattern({ recipes: '[recipe, recipe]' })))).toContain('recipes')
  },
  {
    from: `${WF}::testNewPatternCreation`,
    asserts: 'a pattern without outputs is valid (with a warning)',
    verdict: 'agrees',
    check: () => expect(loads(thesisPattern()).outputs).toEqual({})
  },
  {
    from: `${WF}::testNewPatternCreation`,
    asserts: 'variables of every YAML scalar and collection type are valid',
    verdict: 'agrees',
    check: () => {
      const text = thesisPattern({
        variables: "{int: 0, float: 3.5, array: [0, 1], char: c, string: String, boolean: true, none: null, w: 'x'}"
      });
      const literal = (name: string) => variableLiteral(text, name);
      expect(['int', 'float', 'array', 'char', 'string', 'boolean', 'none'].map(literal)).toEqual([
        '0',
        '3.5',
        '[0, 1]',
        "'c'",
        "'String'",
        'True',
        'None'
      ]);
    }
  },
  {
    // Issue 11, point 2: fails until numeric dict keys keep their type.
    from: `${WF}::testNewPatternCreation`,
    asserts: "a dict variable {1: 1, 2: 2} keeps its int keys (add_variable('dict', {1: 1, 2: 2}))",
    verdict: 'agrees',
    check: () => expect(variableLiteral(thesisPattern({ variables: '{d: {1: 1, 2: 2}}' }), 'd')).toBe('{1: 1, 2: 2}')
  },
  {
    from: `${WF}::testNewPatternCreation`,
    asserts: "a set variable {1, 2} is valid (PyYAML writes it as '!!set')",
    verdict: differs('stricter: sets'),
    check: () => {
      const issues = refused(thesisPattern({ variables: '{s: !!set {1: null, 2: null}}' }));
      expect(issues[0].field).toBe('variables.s');
      expect(issues[0].message).toMatch(/cannot be passed to Python/);
    }
  },
  {
    from: `${WF}::testNewPatternCreation`,
    asserts: 'the same variable cannot be added twice',
    verdict: 'agrees',
    check: () => expect(fields(refused(thesisPattern({ variables: '{a: 1, a: 2}' })))).toContain('(file)')
  },
  {
    // localrunner.py merges variables, then outputs over them: the output wins silently.
    from: `${WF}::testDictPatternCreation`,
    asserts: "one name in both 'variables' and 'output' is accepted (the dict 'no_paths')",
    verdict: differs('stricter: one name in both variables and sweep or output'),
    check: () =>
      expect(fields(refused(thesisPattern({ variables: '{outfile: a}', output: '{outfile: b}' })))).toContain(
        'output.outfile'
      )
  },
  {
    from: `${WF}::testPatternPlaceholderCheck`,
    asserts: "the value 'PLACEHOLDER' anywhere makes a pattern invalid",
    verdict: differs('PLACEHOLDER'),
    check: () =>
      expect(variableLiteral(thesisPattern({ variables: '{extra: PLACEHOLDER}' }), 'extra')).toBe("'PLACEHOLDER'")
  },
  {
    // fileio.read_pattern sets the name from the file, whatever the file says.
    from: `${WF}::testReadWriteLocalPattern`,
    asserts: 'the pattern name is the file name',
    verdict: differs('stricter: name: differing from the file name'),
    check: () => {
      expect(loads(thesisPattern({ name: 'p' }), 'p').name).toBe('p');
      expect(fields(refused(thesisPattern({ name: 'other' }), 'p'))).toContain('name');
    }
  },
  {
    from: `${WF}::testReadWriteLocalPattern`,
    asserts: 'a pattern written by write_dir_pattern reads back the same',
    verdict: 'agrees',
    check: () => {
      // What PyYAML's dump (default_flow_style=False) writes for pattern_two.
      const text = [
        'input_file: infile',
        'input_paths:',
        '- path/*',
        'output:',
        '  outfile: path/{FILENAME}',
        'parameterize_over:',
        '  third:',
        '    increment: 1',
        '    start: 0',
        '    stop: 2',
        'recipes:',
        '- recipe',
        'variables:',
        '  first: 1',
        '  second: II',
        ''
      ].join('\n');
      const p = loads(text, 'pattern_two');
      expect(p).toMatchObject({
        name: 'pattern_two',
        recipe: 'recipe',
        input: 'infile',
        parameters: { first: 1, second: 'II' },
        outputs: { outfile: 'path/{FILENAME}' },
        format: 'thesis'
      });
      expect(sweepLiterals(text, 'third')).toEqual(['0', '1', '2']);
    }
  },
  // --- recipes (testRecipeDictCheck, testRecipeCreation, testReadWriteLocalRecipe)
  {
    from: `${WF}::testRecipeDictCheck`,
    asserts: 'a recipe that is not a mapping is rejected',
    verdict: 'agrees',
    check: () => expect(fields(recipeIssues('r.yaml', '1\n'))).toContain('(file)')
  },
  {
    from: `${WF}::testRecipeDictCheck`,
    asserts: "a 'source' of the wrong type is rejected",
    verdict: 'agrees',
    check: () => expect(fields(recipeIssues('r.yaml', `recipe: ${NB(CODE_CELL)}\nsource: 1\n`))).toContain('source')
  },
  {
    from: `${WF}::testRecipeDictCheck`,
    asserts: "a 'recipe' of the wrong type, or none, is rejected",
    verdict: 'agrees',
    check: () => {
      expect(fields(recipeIssues('r.yaml', 'recipe: 1\nsource: a.ipynb\n'))).toContain('recipe.');
      expect(recipeIssues('r.yaml', 'source: a.ipynb\n').length).toBeGreaterThan(0);
    }
  },
  {
    from: `${WF}::testRecipeDictCheck`,
    asserts: "a missing 'source' is rejected",
    verdict: differs('more lenient: recipe YAML without source'),
    check: () => expect(recipeIssues('r.yaml', `recipe: ${NB(CODE_CELL)}\n`)).toEqual([])
  },
  {
    from: `${WF}::testRecipeDictCheck`,
    asserts: 'extra keys are accepted unless strict',
    verdict: differs('stricter: extra keys'),
    check: () =>
      expect(fields(recipeIssues('r.yaml', `recipe: ${NB(CODE_CELL)}\nsource: a.ipynb\nextra: extra\n`))).toContain(
        'extra'
      )
  },
  {
    from: `${WF}::testRecipeCreation`,
    asserts: 'a recipe from a notebook without cells is valid',
    verdict: differs('stricter: a notebook with no code cell'),
    check: () =>
      expect(fields(recipeIssues('r.yaml', `recipe: ${NB('[]')}\nsource: test_notebook.ipynb\n`))).toContain(
        'recipe.cells'
      )
  },
  {
    from: `${WF}::testReadWriteLocalRecipe`,
    asserts: "a recipe with 'environments' (local, mig) reads back",
    verdict: 'agrees',
    check: () =>
      expect(
        recipeIssues(
          'recipe_four.yaml',
          `environments:\n  local: {dependencies: [watchdog, mig_meow]}\n  mig: {nodes: '1', fill: [CPUCOUNT]}\n` +
            `recipe: ${NB(CODE_CELL)}\nsource: test_notebook.ipynb\n`
        )
      ).toEqual([])
  },
  // --- sweeps (testParamSweepCounting; meow.py get_parameter_sweep_values; validation.py valid_param_sweep)
  {
    from: `${WF}::testParamSweepCounting`,
    asserts: 'start 1, stop 10, increment 1 gives 1..10 (stop included)',
    verdict: 'agrees',
    check: () =>
      expect(
        sweepLiterals(thesisPattern({ parameterize_over: '{x: {start: 1, stop: 10, increment: 1}}' }), 'x')
      ).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
  },
  {
    // get_parameter_sweep_values adds the increment up: 0.1 + 0.1 + 0.1 > 0.3, so 0.3 is left out.
    from: 'mig_meow/meow.py::get_parameter_sweep_values',
    asserts: 'start 0, stop 0.3, increment 0.1 gives 0, 0.1, 0.2 (float accumulation)',
    verdict: differs('inclusive sweep ends and decimal-clean float steps'),
    check: () =>
      expect(
        sweepLiterals(thesisPattern({ parameterize_over: '{x: {start: 0.0, stop: 0.3, increment: 0.1}}' }), 'x')
      ).toEqual(['0.0', '0.1', '0.2', '0.3'])
  },
  {
    from: 'mig_meow/validation.py::valid_param_sweep',
    asserts: 'an increment of 0 is rejected',
    verdict: 'agrees',
    check: () =>
      expect(fields(refused(thesisPattern({ parameterize_over: '{x: {start: 0, stop: 3, increment: 0}}' })))).toContain(
        'parameterize_over.x.increment'
      )
  },
  {
    from: 'mig_meow/validation.py::valid_param_sweep',
    asserts: 'an increment moving away from stop is rejected',
    verdict: 'agrees',
    check: () => {
      refused(thesisPattern({ parameterize_over: '{x: {start: 0, stop: 3, increment: -1}}' }));
      refused(thesisPattern({ parameterize_over: '{x: {start: 3, stop: 0, increment: 1}}' }));
    }
  },
  {
    from: 'mig_meow/validation.py::valid_param_sweep',
    asserts: 'start equal to stop is rejected (stop must be beyond start)',
    verdict: differs('more lenient: sweep with start = stop'),
    check: () =>
      expect(
        sweepLiterals(thesisPattern({ parameterize_over: '{x: {start: 2, stop: 2, increment: 1}}' }), 'x')
      ).toEqual(['2'])
  },
  {
    // Issue 11 (engineer B): fails until a mixed int/float range gives floats throughout.
    from: 'mig_meow/validation.py::valid_param_sweep',
    asserts: 'start, stop and increment of different types (int and float) are rejected',
    verdict: differs('more lenient: mixed int/float sweeps'),
    check: () =>
      expect(
        sweepLiterals(thesisPattern({ parameterize_over: '{x: {start: 0, stop: 1.0, increment: 1}}' }), 'x')
      ).toEqual(['0.0', '1.0'])
  },
  // --- matching (localrunner.py handle_event: fnmatch.translate of the input path)
  {
    from: `${LR}::testRetroActiveRules`,
    asserts: "'data_1/data_*.npy' and 'initial_data/*' match the example's files",
    verdict: 'agrees',
    check: () => {
      expect(
        fires(thesisPattern({ input_paths: '[data_1/data_*.npy]' }), ['data_1/data_0.npy', 'data_1/x.npy'])
      ).toEqual(['data_1/data_0.npy']);
      expect(fires(thesisPattern({ input_paths: '[initial_data/*]' }), ['initial_data/datafile.npy'])).toEqual([
        'initial_data/datafile.npy'
      ]);
    }
  },
  {
    // Issue 11, point 5: fails until thesis patterns match with fnmatch.
    from: 'mig_meow/localrunner.py::handle_event',
    asserts: "fnmatch: 'deep/*' also matches files in sub-folders and dot files",
    verdict: 'agrees',
    check: () =>
      expect(
        fires(thesisPattern({ input_paths: '[deep/*]' }), ['deep/a.txt', 'deep/a/b/c.txt', 'deep/.hidden', 'other/a'])
      ).toEqual(['deep/a.txt', 'deep/a/b/c.txt', 'deep/.hidden'])
  },
  {
    // Issue 11, point 1: fails until [!…] is a negated class.
    from: 'mig_meow/localrunner.py::handle_event',
    asserts: "fnmatch: 'cls/[!a].txt' matches b, c and '!', not a",
    verdict: 'agrees',
    check: () =>
      expect(
        fires(thesisPattern({ input_paths: "['cls/[!a].txt']" }), ['cls/a.txt', 'cls/b.txt', 'cls/c.txt', 'cls/!.txt'])
      ).toEqual(['cls/b.txt', 'cls/c.txt', 'cls/!.txt'])
  },
  {
    // Issue 11, point 5: a thesis '*' must never fire on meow's own job folders.
    from: 'mig_meow/localrunner.py::handle_event',
    asserts: "fnmatch: '*' matches every file of the vgrid",
    verdict: differs('nothing under .meow/ matches'),
    check: () =>
      expect(fires(thesisPattern({ input_paths: '["*"]' }), ['a.txt', '.meow/jobs/1/job.yaml'])).toEqual(['a.txt'])
  },
  // --- keywords (testWorkflowKeywordReplacement: replace_keywords(to_test, id, 'MyVgrid/first/second/file.txt', 'MyVgrid'))
  {
    from: `${LR}::testWorkflowKeywordReplacement`,
    asserts: '{REL_PATH}, {REL_DIR}, {FILENAME}, {PREFIX}, {EXTENSION}, {JOB} and non-strings',
    verdict: 'agrees',
    check: () =>
      expect(
        keywords(
          {
            a: 'p/{REL_PATH}',
            b: 'p/{REL_DIR}',
            c: 'p/{FILENAME}',
            d: 'p/{PREFIX}',
            e: 'p/{EXTENSION}',
            f: 'p/{JOB}',
            g: 10
          },
          '/x/MyVgrid',
          'first/second/file.txt',
          'abcdefgh123456'
        )
      ).toEqual({
        a: 'p/first/second/file.txt',
        b: 'p/first/second',
        c: 'p/file.txt',
        d: 'p/file',
        e: 'p/.txt',
        f: 'p/abcdefgh123456',
        g: 10
      })
  },
  {
    from: `${LR}::testWorkflowKeywordReplacement`,
    asserts: '{PATH}, {DIR} and {VGRID} are paths as given to the runner (MyVgrid/first/…)',
    verdict: differs('absolute {VGRID}/{PATH}'),
    check: () =>
      expect(keywords({ a: '{PATH}', b: '{DIR}', c: '{VGRID}' }, '/x/MyVgrid', 'first/second/file.txt')).toEqual({
        a: '/x/MyVgrid/first/second/file.txt',
        b: '/x/MyVgrid/first/second',
        c: '/x/MyVgrid'
      })
  },
  // --- rules and jobs (a real runner)
  {
    from: `${LR}::testRetroActiveRules`,
    asserts: 'meow_directory: 4 rules; one file in initial_data gives 4 jobs (adder sweeps 3, first_mult 1)',
    verdict: 'agrees',
    check: async () => {
      const { files } = await importMig(path.join(__dirname, '../../data/mig_meow_directory'), { dryRun: true });
      const only = ['adder', 'first_mult', 'second_mult', 'third_choo', 'add', 'mult', 'choo'];
      const chosen = Object.fromEntries(
        Object.entries(files).filter(([rel]) => only.includes(path.basename(rel).replace(/\.[^.]*$/, '')))
      );
      await runWorkgroup({ ...chosen, 'initial_data/datafile.npy': 'x' }, run => {
        expect(run.jobs.map(j => j.pattern).sort()).toEqual(['adder', 'adder', 'adder', 'first_mult']);
        expect(run.jobs.filter(j => j.pattern === 'adder').map(j => j.parameters.extra)).toEqual(
          expect.arrayContaining([1, 2, 3])
        );
      });
    }
  },
  {
    // localrunner.py schedules each sweep variable's values in turn, not their combinations.
    from: 'mig_meow/localrunner.py::handle_event',
    asserts: 'two swept variables of 3 and 2 values make 5 jobs',
    verdict: differs('cartesian sweeps'),
    check: () =>
      runWorkgroup(
        {
          '.meow/recipes/R.ipynb':
            '{"cells": [{"cell_type": "code", "source": "a = 0\\nb = 0", "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}',
          '.meow/patterns/P.yaml': thesisPattern({
            recipes: '[R]',
            parameterize_over: '{a: {start: 1, stop: 3, increment: 1}, b: {start: 1, stop: 2, increment: 1}}'
          }),
          'start/f.txt': 'x'
        },
        run => expect(run.jobs).toHaveLength(6)
      )
  },
  {
    from: `${LR}::testLocalJobProcessing`,
    asserts: 'the input_file variable receives the triggering path (vgrid-relative: MyVgrid/start/f.txt)',
    verdict: differs('absolute {VGRID}/{PATH}'),
    check: () =>
      runWorkgroup(
        {
          '.meow/recipes/Append.ipynb':
            '{"cells": [{"cell_type": "code", "source": "infile = 0", "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}',
          '.meow/patterns/P.yaml': thesisPattern(),
          'start/f.txt': 'x'
        },
        run => {
          expect(run.jobs).toHaveLength(1);
          expect(run.jobs[0].parameters.infile).toBe(path.join(run.root, 'start/f.txt'));
          expect(path.isAbsolute(run.jobs[0].parameters.infile as string)).toBe(true);
        }
      )
  }
];

describeCompat('mig_meow 0.37', cases);
