/** Request parsing and validation of the service API: every problem names the field and the fix. */
import { validateServiceSettings } from '../../../../src/core/api';
import {
  parseJobQuery,
  parseNoParams,
  parsePatternWrite,
  parseProvenanceFilter,
  parseRecipeWrite
} from '../../../../src/service/api/query';

const q = (s: string) => new URLSearchParams(s);
const fields = (issues: { field: string }[]) => issues.map(i => i.field);

describe('parseJobQuery', () => {
  it('defaults to the first page of 100', () => {
    expect(parseJobQuery(q('')).value).toEqual({ offset: 0, limit: 100 });
  });

  it('accepts every filter, statuses comma-separated and repeated', () => {
    const { value, issues } = parseJobQuery(
      q(
        'status=failed,done&status=queued&pattern=P&recipe=R&after=2026-01-01T00:00:00Z&before=2026-12-31&text=alpha&offset=20&limit=10'
      )
    );
    expect(issues).toEqual([]);
    expect(value).toEqual({
      status: ['failed', 'done', 'queued'],
      pattern: 'P',
      recipe: 'R',
      after: '2026-01-01T00:00:00.000Z',
      before: '2026-12-31T00:00:00.000Z',
      text: 'alpha',
      offset: 20,
      limit: 10
    });
  });

  it('names each bad parameter with a fix', () => {
    const { value, issues } = parseJobQuery(q('status=exploded&after=yesterday&limit=0&offset=-1&colour=red'));
    expect(value).toBeUndefined();
    expect(fields(issues).sort()).toEqual(['after', 'colour', 'limit', 'offset', 'status']);
    for (const i of issues) {
      expect(i.message.length).toBeGreaterThan(0);
      expect(i.fix.length).toBeGreaterThan(0);
    }
    expect(issues.find(i => i.field === 'status')!.fix).toMatch(/queued, running, done, failed, cancelled, skipped/);
  });

  it('refuses a limit above 1000, a repeated single parameter and an empty time range', () => {
    expect(fields(parseJobQuery(q('limit=1001')).issues)).toEqual(['limit']);
    expect(fields(parseJobQuery(q('pattern=a&pattern=b')).issues)).toEqual(['pattern']);
    expect(fields(parseJobQuery(q('after=2026-02-01&before=2026-01-01')).issues)).toEqual(['after']);
  });

  it('ignores the Jupyter token and cache-busting parameters', () => {
    expect(parseJobQuery(q('token=abc&_=123')).issues).toEqual([]);
    expect(parseNoParams(q('token=abc'))).toEqual([]);
    // ServerConnection.makeRequest appends a bare `?<timestamp>` by default.
    expect(parseNoParams(q('1763782800000'))).toEqual([]);
    expect(fields(parseNoParams(q('1763782800000=1')))).toEqual(['1763782800000']);
    expect(fields(parseNoParams(q('x=1')))).toEqual(['x']);
  });
});

describe('parseProvenanceFilter', () => {
  it('takes the six report filters', () => {
    expect(
      parseProvenanceFilter(q('job=2026&path=first/*&pattern=P&recipe=R&after=2026-01-01&before=2027-01-01')).value
    ).toEqual({
      job: '2026',
      path: 'first/*',
      pattern: 'P',
      recipe: 'R',
      after: '2026-01-01T00:00:00.000Z',
      before: '2027-01-01T00:00:00.000Z'
    });
  });

  it('names bad times and unknown filters', () => {
    expect(fields(parseProvenanceFilter(q('before=soon&status=done')).issues).sort()).toEqual(['before', 'status']);
  });
});

describe('request bodies', () => {
  it('a pattern write is {text}', () => {
    expect(parsePatternWrite({ text: 'recipe: a\n' }).value).toEqual({ text: 'recipe: a\n' });
    expect(fields(parsePatternWrite({ text: 3, extra: 1 }).issues).sort()).toEqual(['extra', 'text']);
    expect(fields(parsePatternWrite('recipe: a').issues)).toEqual(['(body)']);
    expect(fields(parsePatternWrite(undefined).issues)).toEqual(['(body)']);
  });

  it('a recipe write is {notebook, source?, overwrite?}', () => {
    expect(parseRecipeWrite({ notebook: { cells: [] }, source: 'a.ipynb', overwrite: true }).value).toEqual({
      notebook: { cells: [] },
      source: 'a.ipynb',
      overwrite: true
    });
    expect(fields(parseRecipeWrite({ notebook: [], source: 1, overwrite: 'yes' }).issues).sort()).toEqual([
      'notebook',
      'overwrite',
      'source'
    ]);
  });
});

describe('validateServiceSettings', () => {
  it('accepts partial settings in range', () => {
    expect(validateServiceSettings({ workers: 4, timeoutSeconds: 0.5 })).toEqual({
      settings: { workers: 4, timeoutSeconds: 0.5 },
      issues: []
    });
  });

  it('names unknown, fractional, negative and non-numeric settings', () => {
    const { settings, issues } = validateServiceSettings({
      workers: 1.5,
      settleMs: -1,
      timeoutSeconds: 'long',
      colour: 1
    });
    expect(settings).toEqual({});
    expect(fields(issues).sort()).toEqual(['colour', 'settleMs', 'timeoutSeconds', 'workers']);
    expect(issues.find(i => i.field === 'workers')!.fix).toMatch(/whole number between 1 and 64/);
  });

  it('refuses a body that is not a mapping', () => {
    expect(fields(validateServiceSettings([1]).issues)).toEqual(['(body)']);
  });
});
