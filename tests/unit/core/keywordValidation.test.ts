/**
 * Issue 10, item 2: typos must not run jobs. An unknown upper-case `{WORD}`
 * in parameters or outputs is an error naming the field and the nearest
 * keyword; literal braces stay allowed; names the recipe never assigns are a
 * warning with "did you mean".
 */
import { keywordIssues } from '../../../src/core/keywords';
import { parsePattern, validatePatternObject } from '../../../src/core/pattern';
import { recipeVariableWarnings } from '../../../src/core/patternWarnings';
import { recipeVariables } from '../../../src/core/recipe';
import type { INotebook } from '../../../src/core/types';

const BASE = 'recipe: append\ntrigger:\n  path: "data/in/*"\ninput: infile\n';

describe('unknown keywords are errors', () => {
  it("the issue's output {VGRID}/data/out/{FILENAM} is refused, naming the field and {FILENAME}", () => {
    const r = parsePattern('P', BASE + 'outputs:\n  outfile: "{VGRID}/data/out/{FILENAM}"\n');
    expect(r.pattern).toBeUndefined();
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0].field).toBe('outputs.outfile');
    expect(r.issues[0].message).toMatch(/^uses \{FILENAM\}, which is not a keyword/);
    expect(r.issues[0].fix).toMatch(/^did you mean \{FILENAME\}\?/);
  });

  it('in parameters too, nested in lists and mappings, each typo once per string', () => {
    const r = parsePattern('P', BASE + 'parameters:\n  list: ["{PREFIX}", "{VGIRD}/{VGIRD}", {deep: "{REL_DIRR}"}]\n');
    expect(r.issues.map(i => [i.field, i.fix.split('?')[0]])).toEqual([
      ['parameters.list[1]', 'did you mean {VGRID}'],
      ['parameters.list[2].deep', 'did you mean {REL_DIR}']
    ]);
  });

  it('thesis format: the thesis field names', () => {
    const r = parsePattern(
      'P',
      'input_file: f\ninput_paths: [in/*]\nrecipes: [Append]\noutput:\n  o: "{VGRID}/{FILENAM}"\nvariables:\n  v: "{JOBB}"\n'
    );
    expect(r.issues.map(i => i.field).sort()).toEqual(['output.o', 'variables.v']);
  });

  it('a word far from every keyword still names the keywords', () => {
    const [i] = keywordIssues('{SOMETHING}', 'outputs.o');
    expect(i.fix).toMatch(/^keywords are \{PATH\}, \{VGRID\}/);
  });

  it('literal braces that are not keyword-shaped stay allowed and are not warned about', () => {
    const r = parsePattern(
      'P',
      BASE +
        'parameters:\n  fmt: "{name}: {0:.2f} {} { NOTE }"\n  json: \'{"a": 1}\'\n  n: 3\noutputs:\n  o: "{VGRID}/out/{PREFIX}{EXTENSION}"\n'
    );
    expect(r.issues).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.pattern!.parameters.fmt).toBe('{name}: {0:.2f} {} { NOTE }');
  });

  it('a keyword in the wrong case is a warning (it may be meant literally), not an error', () => {
    const r = parsePattern('P', BASE + 'outputs:\n  o: "out/{filename}"\n');
    expect(r.issues).toEqual([]);
    expect(r.pattern).toBeDefined();
    expect(r.warnings.map(w => [w.field, w.fix])).toEqual([
      ['outputs.o', 'did you mean {FILENAME}? If the braces are meant literally, ignore this']
    ]);
  });

  it('validatePatternObject (the form and the API) refuses the same', () => {
    const r = validatePatternObject('P', { recipe: 'a', trigger: { path: 'in/*' }, outputs: { o: '{DIRR}/x' } });
    expect(r.issues.map(i => i.field)).toEqual(['outputs.o']);
  });
});

function notebook(...sources: string[]): INotebook {
  return {
    cells: sources.map(source => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5
  } as unknown as INotebook;
}

describe("names checked against the recipe's variables", () => {
  const variables = recipeVariables(
    notebook('infile = ""\nextra = ""\n', 'outfile = "x"\nwith open(outfile) as f:\n    y = 1\n')
  );

  it('recipeVariables (core) lists top-level assignments only', () => {
    expect(variables).toEqual(['infile', 'extra', 'outfile']);
  });

  it('input, parameters, outputs and sweep names the recipe does not assign: a warning with "did you mean"', () => {
    const r = parsePattern(
      'P',
      'recipe: append\ntrigger: {path: "in/*"}\ninput: infle\nparameters:\n  extra: 1\n  extar: 2\noutputs:\n  outfle: "{VGRID}/x"\nsweep:\n  zzz: {start: 1, stop: 2, step: 1}\n'
    );
    expect(r.issues).toEqual([]);
    const w = recipeVariableWarnings(r.pattern!, variables);
    expect(w.map(i => [i.field, i.fix])).toEqual([
      ['input', 'did you mean "infile"?'],
      ['parameters.extar', 'did you mean "extra"?'],
      ['outputs.outfle', 'did you mean "outfile"?'],
      ['sweep.zzz', "rename it to one of the recipe's variables, or assign it in the recipe"]
    ]);
    expect(w[0].message).toMatch(
      /names "infle", which recipe "append" does not assign \(it assigns infile, extra, outfile\)/
    );
  });

  it('thesis field names; no warnings when every name is assigned or the recipe assigns nothing', () => {
    const r = parsePattern('P', 'input_paths: [in/*]\nrecipes: [append]\ninput_file: infle\noutput: {outfile: "x"}\n');
    expect(recipeVariableWarnings(r.pattern!, variables).map(i => i.field)).toEqual(['input_file']);
    const ok = parsePattern('P', 'recipe: append\ntrigger: {path: "in/*"}\ninput: infile\noutputs: {outfile: "x"}\n');
    expect(recipeVariableWarnings(ok.pattern!, variables)).toEqual([]);
    expect(recipeVariableWarnings(r.pattern!, [])).toEqual([]);
  });
});
