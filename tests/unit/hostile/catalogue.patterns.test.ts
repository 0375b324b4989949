/**
 * Hostile-input catalogue, part 1: pattern files. Each entry: the input, a
 * clear message naming the file and the field, the service keeps handling
 * a valid pattern's files, and no other job is affected (see harness.ts).
 */
import { promises as fs } from 'fs';
import { Catalogue } from './harness';

const P = (name: string) => `.meow/patterns/${name}`;
const BASE = 'recipe: Copy\ntrigger: {path: "h/*"}\n';

function laughs(): string {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let prev = 'a';
  for (let i = 0; i < 9; i++) {
    text += `b${i}: &b${i} [${Array(9)
      .fill('*' + prev)
      .join(',')}]\n`;
    prev = `b${i}`;
  }
  return BASE + text.replace(/^/gm, '').replace(/^a:/m, 'parameters:\n  x: 1\nz:');
}

/** [entry, file name, content, what the message must say (file-level or field)] */
const ENTRIES: [string, string, string | Buffer, RegExp][] = [
  ['YAML bomb: billion laughs', 'bomb.yaml', laughs(), /pattern "bomb": is not valid YAML.*billion laughs/],
  [
    'deep flow nesting',
    'deepflow.yaml',
    BASE + 'parameters:\n  x: ' + '['.repeat(100000) + ']'.repeat(100000) + '\n',
    /pattern "deepflow": is not valid YAML at line 4.*more than 100 levels deep/
  ],
  [
    'deep block nesting',
    'deepblock.yaml',
    BASE + 'parameters:\n' + Array.from({ length: 300 }, (_, i) => ' '.repeat(i + 2) + 'k:').join('\n') + '\n',
    /pattern "deepblock": is not valid YAML.*more than 100 levels deep/
  ],
  [
    'deep "- - -" nesting',
    'dashes.yaml',
    BASE + 'parameters:\n  x:\n' + '  ' + '- '.repeat(50000) + 'x\n',
    /pattern "dashes": is not valid YAML.*levels deep/
  ],
  [
    'huge explicit key (500 kB)',
    'hugekey.yaml',
    BASE + '? ' + 'k'.repeat(500000) + '\n: 1\n',
    /pattern "hugekey": field "k{100,120}… \(500000 characters\)" is not a pattern field/
  ],
  [
    'huge implicit key',
    'hugekey2.yaml',
    BASE + 'k'.repeat(5000) + ': 1\n',
    /pattern "hugekey2": is not valid YAML at line 3, column 1: .*1024/
  ],
  [
    'binary pattern file',
    'binary.yaml',
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
    /pattern "binary": is not UTF-8 text.*binary/
  ],
  [
    'NUL bytes in valid UTF-8',
    'nul.yaml',
    BASE + 'parameters:\n  x: "a\u0000b"\n',
    /pattern "nul": is not valid YAML at line 4, column 8: contains the control character U\+0000/
  ],
  [
    'invalid UTF-8',
    'latin1.yaml',
    Buffer.concat([Buffer.from(BASE + 'parameters:\n  city: "Z'), Buffer.from([0xfc]), Buffer.from('rich"\n')]),
    /pattern "latin1": is not UTF-8 text \(invalid bytes on line 4\)/
  ],
  [
    'tabs for indentation',
    'tabs.yaml',
    'recipe: Copy\ntrigger:\n\tpath: "h/*"\n',
    /pattern "tabs": is not valid YAML at line 3, column 1: Tabs are not allowed/
  ],
  [
    'unknown key (typo)',
    'typo.yaml',
    BASE + 'paramters: {x: 1}\n',
    /pattern "typo": field "paramters" is not a pattern field; did you mean "parameters"\?/
  ],
  [
    'duplicate key',
    'dupkey.yaml',
    BASE + 'recipe: Other\n',
    /pattern "dupkey": is not valid YAML at line 3, column 1: the key "recipe" appears twice/
  ],
  [
    'wrong type: recipe',
    'wt_recipe.yaml',
    'recipe: 5\ntrigger: {path: "h/*"}\n',
    /field "recipe" must be a non-empty recipe name \(got 5\)/
  ],
  [
    'wrong type: trigger',
    'wt_trigger.yaml',
    'recipe: Copy\ntrigger: "h/*"\n',
    /field "trigger" must be a mapping \(got the text "h\/\*"\)/
  ],
  [
    'wrong type: trigger.path',
    'wt_path.yaml',
    'recipe: Copy\ntrigger: {path: [a]}\n',
    /field "trigger.path" must be a non-empty glob string/
  ],
  [
    'wrong type: trigger.events',
    'wt_events.yaml',
    'recipe: Copy\ntrigger: {path: "h/*", events: 7}\n',
    /field "trigger.events" must be a non-empty list \(got 7\)/
  ],
  [
    'wrong type: trigger.port',
    'wt_port.yaml',
    'recipe: Copy\ntrigger: {port: "x"}\n',
    /field "trigger.port" must be a whole number from 1 to 65535/
  ],
  [
    'wrong type: trigger.every',
    'wt_every.yaml',
    'recipe: Copy\ntrigger: {every: true}\n',
    /field "trigger.every" must be an interval/
  ],
  [
    'wrong type: trigger.schedule',
    'wt_cron.yaml',
    'recipe: Copy\ntrigger: {schedule: 5}\n',
    /field "trigger.schedule" must be a cron expression string/
  ],
  ['wrong type: input', 'wt_input.yaml', BASE + 'input: [a]\n', /field "input" must be a Python variable name/],
  [
    'wrong type: parameters',
    'wt_params.yaml',
    BASE + 'parameters: [1, 2]\n',
    /field "parameters" must be a mapping of variable names to values \(got a list\)/
  ],
  [
    'wrong type: outputs',
    'wt_outputs.yaml',
    BASE + 'outputs: "x"\n',
    /field "outputs" must be a mapping of variable names to values \(got the text "x"\)/
  ],
  [
    'wrong type: sweep',
    'wt_sweep.yaml',
    BASE + 'sweep: 5\n',
    /field "sweep" must be a mapping of variable names to ranges \(got the number 5\)/
  ],
  [
    'wrong type: sweep range value',
    'wt_range.yaml',
    BASE + 'sweep: {x: {start: a, stop: 3, step: 1}}\n',
    /field "sweep.x/
  ],
  [
    'wrong type: max_jobs',
    'wt_maxjobs.yaml',
    BASE + 'max_jobs: many\n',
    /field "max_jobs" must be a whole number ≥ 0 \(0 = no limit\) \(got the text "many"\)/
  ],
  [
    'wrong type: max_rate',
    'wt_maxrate.yaml',
    BASE + 'max_rate: [1]\n',
    /field "max_rate" must be jobs per minute, a number ≥ 0/
  ],
  [
    'wrong type: max_depth',
    'wt_maxdepth.yaml',
    BASE + 'max_depth: 1.5\n',
    /field "max_depth" must be a whole number ≥ 0 \(0 = no limit\) \(got 1.5\)/
  ],
  [
    'wrong type: retries',
    'wt_retries.yaml',
    BASE + 'retries: -1\n',
    /field "retries" must be a whole number from 0 to 100 \(got -1\)/
  ],
  [
    'wrong type: thesis input_paths',
    'wt_thesis.yaml',
    'input_paths: "h/*"\nrecipes: [Copy]\n',
    /field "input_paths" must be a list with one glob \(got the text "h\/\*"\)/
  ],
  ['wrong type: name', 'wt_name.yaml', BASE + 'name: [x]\n', /field "name" is \["x"\] but the file is named "wt_name"/],
  ['empty file', 'empty.yaml', '', /pattern "empty": is empty; write at least "recipe:" and "trigger:"/],
  ['only a comment', 'comment.yaml', '# nothing here\n', /pattern "comment": is empty/],
  [
    'a list instead of a mapping',
    'list.yaml',
    '- recipe: Copy\n',
    /pattern "list": must be a mapping of fields \(got a list\)/
  ],
  [
    'glob syntax error',
    'glob.yaml',
    'recipe: Copy\ntrigger: {path: "h/[a-"}\n',
    /field "trigger.path" is not a valid glob: Missing closing: "\]"/
  ],
  [
    'glob climbing out',
    'globout.yaml',
    'recipe: Copy\ntrigger: {path: "../*"}\n',
    /field "trigger.path" must stay inside the workgroup/
  ],
  [
    'sweep with 10^9 values',
    'sweepbig.yaml',
    BASE + 'sweep: {x: {start: 1, stop: 1000000000, step: 1}}\n',
    /field "sweep.x" has 1000000000 values, more than the limit/
  ],
  [
    'sweep with a negative step',
    'sweepneg.yaml',
    BASE + 'sweep: {x: {start: 1, stop: 3, step: -1}}\n',
    /field "sweep.x.step"/
  ],
  ['name with a space', 'with space.yaml', BASE, /pattern "with space": field "name" contains characters other than/],
  ['name with unicode', 'naïve.yaml', BASE, /pattern "naïve": field "name" contains characters other than/],
  ['name with ESC', 'esc\u001b[2Jname.yaml', BASE, /field "name" contains characters other than/],
  ['name with a newline', 'new\nline.yaml', BASE, /field "name" contains characters other than/]
];

describe('hostile pattern files', () => {
  const c = new Catalogue();
  beforeAll(() => c.start(), 60000);
  afterAll(() => c.stop());

  it.each(ENTRIES)('%s', async (_entry, file, content, expected) => {
    await c.write(P(file), content);
    const problem = await c.problem(P(file));
    expect(problem).toMatch(expected);
    expect(problem.length).toBeLessThan(2000); // clear, not a dump of the input
    expect(c.runner.workflow.patterns.has(file.replace(/\.ya?ml$/, ''))).toBe(false);
    // The log line names the file.
    expect(c.logged(P(file)).some(l => l.startsWith('error:'))).toBe(true);
    await c.stillServing();
  });

  it('a 50 MB pattern file is refused by size before it is read, at once', async () => {
    const file = P('fifty.yaml');
    const handle = await fs.open(c.abs(file), 'w');
    await handle.write('recipe: Copy\ntrigger: {path: "h/*"}\nparameters:\n');
    await handle.truncate(50 * 1024 * 1024); // sparse: the size is what counts
    await handle.close();
    const t0 = Date.now();
    const problem = await c.problem(file);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(problem).toMatch(
      /pattern "fifty": is 50 MB, larger than the limit of 1 MB \(1048576 bytes\) for definition files; .*--max-definition-bytes/
    );
    await c.stillServing();
  });

  it('a 2 MB pattern file (240k-parameter style) is refused by size', async () => {
    const lines = ['recipe: Copy', 'trigger: {path: "h/*"}', 'parameters:'];
    for (let i = 0; lines.join('\n').length < 2 * 1024 * 1024; i++) {
      lines.push(...Array.from({ length: 1000 }, (_, j) => `  p${i}_${j}: "value ${j}"`));
    }
    await c.write(P('two.yaml'), lines.join('\n') + '\n');
    // Read mid-write it may first be "1.5 MB": the final verdict is for the whole file.
    expect(await c.problemMatching(P('two.yaml'), /is 2(\.\d)? MB/)).toMatch(
      /pattern "two": is 2(\.\d)? MB, larger than the limit of 1 MB/
    );
    await c.stillServing();
  });

  it('a BOM at the start is accepted', async () => {
    await c.write(P('bom.yaml'), '\ufeff' + BASE);
    await until(() => c.runner.workflow.patterns.has('bom'));
    await c.stillServing();
    expect(c.runner.workflow.patterns.get('bom')?.recipe).toBe('Copy');
    expect(c.runner.stateMonitor.problems.has(P('bom.yaml'))).toBe(false);
  });

  it('a pattern naming a missing recipe loads, makes no rule, and says so with file and field', async () => {
    await c.write(P('norecipe.yaml'), 'recipe: Nope\ntrigger: {path: "good/*"}\n');
    await until(() => c.runner.workflow.patterns.has('norecipe'));
    await c.stillServing();
    expect(c.runner.workflow.patternsWithoutRecipe().map(p => p.name)).toContain('norecipe');
    expect(c.logged(P('norecipe.yaml')).join('\n')).toMatch(
      /warn: .*pattern "norecipe": field "recipe" names "Nope", which does not exist/
    );
    expect(c.runner.store.list().filter(j => j.pattern === 'norecipe')).toEqual([]);
  });

  it('the same name as .yaml and .yml defines nothing and names both files', async () => {
    await c.write(P('twice.yaml'), BASE);
    await c.write(P('twice.yml'), BASE);
    expect(await c.problem(P('twice.yml'))).toMatch(
      /pattern "twice" is defined twice \(.meow\/patterns\/twice.yaml and .meow\/patterns\/twice.yml\)/
    );
    await c.stillServing();
    expect(c.runner.workflow.patterns.has('twice')).toBe(false);
  });

  it('outputs outside the workgroup are a warning with file and field; the pattern still loads', async () => {
    await c.write(
      P('outside.yaml'),
      BASE + 'outputs:\n  a: "{VGRID}/../../tmp/x"\n  b: /tmp/x\n  c: "{VGRID}/fine/{FILENAME}"\n'
    );
    const warning = await c.warning(P('outside.yaml'));
    expect(warning).toMatch(
      /pattern "outside": field "outputs.a" resolves outside the workgroup: "\{VGRID\}\/..\/..\/tmp\/x" climbs out/
    );
    expect(warning).toMatch(
      /pattern "outside": field "outputs.b" resolves outside the workgroup: "\/tmp\/x" is an absolute path/
    );
    expect(warning).not.toMatch(/outputs\.c/);
    expect(c.runner.workflow.patterns.has('outside')).toBe(true);
    expect(c.logged(P('outside.yaml')).filter(l => l.startsWith('warn:'))).toHaveLength(2);
    await c.stillServing();
  });

  it('keyword typos in parameters are an error with a suggestion; the pattern is not loaded', async () => {
    await c.write(P('kwtypo.yaml'), BASE + 'parameters:\n  p: "{VGIRD}/x/{FILE_NAME}"\n');
    const problem = await c.problem(P('kwtypo.yaml'));
    expect(problem).toMatch(/field "parameters.p" uses \{VGIRD\}, which is not a keyword.*did you mean \{VGRID\}\?/);
    expect(problem).toMatch(/\{FILE_NAME\}.*did you mean \{FILENAME\}\?/);
    expect(c.runner.workflow.patterns.has('kwtypo')).toBe(false);
    await c.stillServing();
  });

  it('a keyword in the wrong case is a warning; the pattern loads', async () => {
    await c.write(P('kwcase.yaml'), BASE + 'outputs:\n  o: "out/{filename}"\n');
    const warning = await c.warning(P('kwcase.yaml'));
    expect(warning).toMatch(
      /field "outputs.o" contains "\{filename\}".*keywords are upper case; did you mean \{FILENAME\}\?/
    );
    expect(c.runner.workflow.patterns.has('kwcase')).toBe(true);
    await c.stillServing();
  });

  it('a pattern file replaced by a folder removes the pattern and says why', async () => {
    await c.write(P('becomesdir.yaml'), BASE);
    await until(() => c.runner.workflow.patterns.has('becomesdir'));
    await fs.rm(c.abs(P('becomesdir.yaml')));
    await fs.mkdir(c.abs(P('becomesdir.yaml')));
    expect(await c.problem(P('becomesdir.yaml'))).toMatch(/pattern "becomesdir": is a folder, not a file/);
    expect(c.runner.workflow.patterns.has('becomesdir')).toBe(false);
    await c.stillServing();
  });

  it('a FIFO in the patterns folder is not opened (it would block) and is reported', async () => {
    const { execFileSync } = await import('child_process');
    execFileSync('mkfifo', [c.abs(P('pipe.yaml'))]);
    expect(await c.problem(P('pipe.yaml'))).toMatch(
      /pattern "pipe": is not a regular file \(a FIFO, socket or device\)/
    );
    await c.stillServing();
  });

  it('an unreadable pattern file (chmod 000): reported, or read anyway when running as root', async () => {
    await c.write(P('secret.yaml'), BASE);
    await fs.chmod(c.abs(P('secret.yaml')), 0o000);
    if (process.getuid?.() === 0) {
      // root ignores file modes: the file is read and the pattern loads.
      await until(() => c.runner.workflow.patterns.has('secret'));
    } else {
      expect(await c.problem(P('secret.yaml'))).toMatch(/pattern "secret": cannot be read: permission denied/);
    }
    await c.stillServing();
  });
});

async function until(check: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await new Promise(r => setTimeout(r, 20));
  }
}
