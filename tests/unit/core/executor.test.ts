import { describeResources, effectiveExecution, parseResources, resourcesToObject } from '../../../src/core/executor';
import { parsePattern, patternDigest, patternLimitsDigest, patternToYaml } from '../../../src/core/pattern';
import { parseRecipeNotebook } from '../../../src/core/recipe';
import type { IValidationIssue } from '../../../src/core/validation';

const base = 'recipe: r\ntrigger: {path: "in/*"}\n';

describe('executor and resources in a pattern', () => {
  it('reads both, in either format, and writes them back', () => {
    const text =
      base +
      'executor: slurm\nresources: {cpus: 4, memory: 8GB, gpus: 1, time: 2h, partition: gpu, extra_args: ["--qos=high"]}\n';
    const { pattern, issues } = parsePattern('p', text);
    expect(issues).toEqual([]);
    expect(pattern!.executor).toBe('slurm');
    expect(pattern!.resources).toEqual({
      cpus: 4,
      memoryBytes: 8_000_000_000,
      gpus: 1,
      timeLimitMs: 7_200_000,
      partition: 'gpu',
      extraArgs: ['--qos=high']
    });
    const again = parsePattern('p', patternToYaml(pattern!));
    expect(again.pattern).toEqual(pattern);
    const thesis = parsePattern(
      't',
      'input_file: f\ninput_paths: ["in/*"]\nrecipes: [r]\nexecutor: jupyter\nresources: {cpus: 2}\n'
    );
    expect(thesis.issues).toEqual([]);
    expect(thesis.pattern!.executor).toBe('jupyter');
  });

  it('does not change what the rule is: files already handled are not run again', () => {
    const a = parsePattern('p', base).pattern!;
    const b = parsePattern('p', base + 'executor: slurm\nresources: {cpus: 2}\n').pattern!;
    expect(patternDigest(a)).toBe(patternDigest(b));
    expect(patternLimitsDigest(a)).not.toBe(patternLimitsDigest(b));
  });

  it('names each bad field and the fix', () => {
    const { issues } = parsePattern(
      'p',
      base +
        'executor: slurmm\nresources: {cpus: 0, memory: lots, time: soon, partition: "a b", extra_args: ["qos"], gpu: 1}\n'
    );
    const byField = Object.fromEntries(issues.map(i => [i.field, i]));
    expect(Object.keys(byField).sort()).toEqual([
      'executor',
      'resources.cpus',
      'resources.extra_args',
      'resources.gpu',
      'resources.memory',
      'resources.partition',
      'resources.time'
    ]);
    expect(byField.executor.fix).toMatch(/did you mean "slurm"/);
    expect(byField['resources.gpu'].fix).toMatch(/did you mean "gpus"/);
    expect(byField['resources.memory'].message).toMatch(/size like 500MB/);
  });

  it('refuses scheduler options that would break the batch script', () => {
    const issues: IValidationIssue[] = [];
    parseResources('resources', { extra_args: ['--x=1\n#SBATCH --y'] }, issues);
    expect(issues).toHaveLength(1);
  });
});

describe('executor and resources of a recipe', () => {
  const nb = (meow: unknown) =>
    JSON.stringify({
      cells: [{ cell_type: 'code', source: 'x = 1', metadata: {}, outputs: [], execution_count: null }],
      metadata: { meow },
      nbformat: 4,
      nbformat_minor: 5
    });

  it('come from metadata.meow, and a pattern overrides them key by key', () => {
    const { recipe, issues } = parseRecipeNotebook(
      'r',
      nb({ executor: 'slurm', resources: { cpus: 8, memory: '4GiB' } }),
      'd'
    );
    expect(issues).toEqual([]);
    expect(recipe!.executor).toBe('slurm');
    const pattern = parsePattern('p', base + 'resources: {cpus: 2}\n').pattern!;
    expect(effectiveExecution(pattern, recipe, 'local')).toEqual({
      executor: 'slurm',
      resources: { cpus: 2, memoryBytes: 4 * 1024 ** 3 }
    });
    expect(effectiveExecution({ executor: 'local' }, recipe, 'jupyter').executor).toBe('local');
    expect(effectiveExecution({}, undefined, 'jupyter')).toEqual({ executor: 'jupyter' });
  });

  it('bad metadata is an issue naming metadata.meow', () => {
    const { issues } = parseRecipeNotebook('r', nb({ executor: 'cloud' }), 'd');
    expect(issues.map(i => i.field)).toEqual(['metadata.meow.executor']);
  });
});

it('describes and round-trips resources', () => {
  const r = { cpus: 1, memoryBytes: 512 * 1024 ** 2, timeLimitMs: 90 * 60_000, partition: 'debug' };
  expect(describeResources(r)).toBe('1 CPU, 512MiB, 90m, partition debug');
  const issues: IValidationIssue[] = [];
  expect(parseResources('resources', resourcesToObject(r), issues)).toEqual(r);
  expect(issues).toEqual([]);
});
