import {
  FILE_FIELD,
  ValidationError,
  formatIssues,
  isPythonIdentifier,
  validateIdentifier,
  validateName
} from '../../../src/core/validation';

describe('validateName: names are file stems', () => {
  it.each(['Pattern_One', 'append', 'a.b-c_1', 'X', '1st'])('accepts %s', name => {
    expect(validateName('pattern', name)).toEqual([]);
  });

  it.each([
    ['', /non-empty/],
    ['a/b', /must not contain "\/"/],
    ['.hidden', /must not start with "\."/],
    ['with space', /characters other than/],
    ['tab\there', /characters other than/],
    ['ünïcode', /characters other than/],
    ['x'.repeat(201), /at most 200/]
  ])('rejects %j', (name, message) => {
    const issues = validateName('recipe', name);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].field).toBe('name');
    expect(issues.map(i => i.message).join(' ') + issues.map(i => i.fix).join(' ')).toMatch(message);
    expect(issues[0].fix).not.toBe('');
  });

  it('rejects non-strings and names the value', () => {
    expect(validateName('pattern', 3)[0].message).toMatch(/got 3/);
    expect(validateName('pattern', null, 'recipes[0]')[0].field).toBe('recipes[0]');
  });
});

describe('formatIssues: one line per issue naming the field and the fix', () => {
  it('formats field issues and whole-file issues', () => {
    const text = formatIssues('pattern', 'Pattern_One', [
      { field: 'trigger.path', message: 'must be a non-empty glob string', fix: 'e.g. "start/*"' },
      { field: FILE_FIELD, message: 'is empty', fix: 'write recipe and trigger' }
    ]);
    expect(text.split('\n')).toEqual([
      'pattern "Pattern_One": field "trigger.path" must be a non-empty glob string; e.g. "start/*"',
      'pattern "Pattern_One": is empty; write recipe and trigger'
    ]);
  });

  it('ValidationError carries the issues and the formatted message', () => {
    const issues = validateName('recipe', 'a/b');
    const err = new ValidationError('recipe', 'a/b', issues);
    expect(err.issues).toBe(issues);
    expect(err.message).toBe(formatIssues('recipe', 'a/b', issues));
    expect(err.message).toMatch(/^recipe "a\/b": field "name"/);
  });
});

describe('Python identifiers', () => {
  it.each(['infile', '_x', 'x1', 'café', 'match', 'case', '_'])('accepts %s', name => {
    expect(isPythonIdentifier(name)).toBe(true);
  });

  it.each(['1x', 'a-b', 'a b', '', 'class', 'None', 'lambda', 'ﬁle'])('rejects %j', name => {
    expect(isPythonIdentifier(name)).toBe(false);
    expect(validateIdentifier('input', name)).toHaveLength(1);
  });

  it('explains keywords', () => {
    expect(validateIdentifier('parameters.class', 'class')[0].message).toMatch(/keyword/);
    expect(validateIdentifier('input', 'my-var')[0].fix).toMatch(/my_var/);
  });
});
