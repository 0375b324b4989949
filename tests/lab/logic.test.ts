import { MeowClient } from '../../src/lab/client';
import { svgToString } from '../../src/lab/exportImage';
import { fileStem, formatElapsed, formatRelative, jobDuration, shortJobId } from '../../src/lab/format';
import { workgroupPrefix } from '../../src/lab/meow';
import { defaultRecipeName, recipeNameProblem, registerRecipe } from '../../src/lab/register';
import { FAILED_COLOUR, patternColour, patternColours, reportGraph } from '../../src/lab/report';
import { visibleRows } from '../../src/lab/virtual';
import { provenanceGraph } from '../../src/core/provenance';
import { fakeSettings, makeJob } from './fakes';

describe('register notebook as recipe', () => {
  it('proposes the file stem, made a valid name', () => {
    expect(defaultRecipeName('analysis/append.ipynb')).toBe('append');
    expect(defaultRecipeName('My Notebook (1).ipynb')).toBe('My_Notebook__1_');
    expect(defaultRecipeName('.hidden.ipynb')).toBe('hidden');
    expect(recipeNameProblem('append')).toBeNull();
    expect(recipeNameProblem('a/b')).toMatch(/must not contain "\/"/);
  });

  function server(existing: Set<string>) {
    return fakeSettings(req => {
      const name = decodeURIComponent(new URL(req.url).pathname.split('/').pop()!);
      if (existing.has(name) && !req.body.overwrite) {
        return { status: 409, body: { error: `recipe "${name}" exists` } };
      }
      existing.add(name);
      return { body: { name, file: `.meow/recipes/${name}.ipynb`, variables: [] } };
    });
  }

  it('registers a new recipe without asking', async () => {
    const { serverSettings, requests } = server(new Set());
    const confirm = jest.fn();
    const out = await registerRecipe({
      client: new MeowClient({ serverSettings }),
      path: 'nb/append.ipynb',
      notebook: { cells: [] },
      name: 'append',
      confirmOverwrite: confirm
    });
    expect(out.status).toBe('registered');
    expect(confirm).not.toHaveBeenCalled();
    expect(requests[0].body).toEqual({ notebook: { cells: [] }, source: 'nb/append.ipynb', overwrite: false });
  });

  it('asks before replacing (409 → confirm → overwrite), and can be declined', async () => {
    const { serverSettings, requests } = server(new Set(['append']));
    const client = new MeowClient({ serverSettings });
    const declined = await registerRecipe({
      client,
      path: 'a.ipynb',
      notebook: {},
      name: 'append',
      confirmOverwrite: async () => false
    });
    expect(declined.status).toBe('cancelled');
    expect(requests).toHaveLength(1);
    const replaced = await registerRecipe({
      client,
      path: 'a.ipynb',
      notebook: {},
      name: 'append',
      confirmOverwrite: async () => true
    });
    expect(replaced.status).toBe('replaced');
    expect(requests.map(r => r.body.overwrite)).toEqual([false, false, true]);
  });

  it('passes other errors through', async () => {
    const { serverSettings } = fakeSettings(() => ({ status: 400, body: { error: 'not a notebook' } }));
    await expect(
      registerRecipe({
        client: new MeowClient({ serverSettings }),
        path: 'x',
        notebook: 1,
        name: 'x',
        confirmOverwrite: async () => true
      })
    ).rejects.toThrow('not a notebook');
  });
});

describe('report graph', () => {
  it('colours nodes by pattern, marks failures and labels edges with files', () => {
    const a = makeJob(1, { pattern: 'Pattern_One' });
    const b = makeJob(2, { pattern: 'Pattern_Two', parent: a.id, status: 'failed', error: { message: 'boom' } });
    b.trigger.path = 'first/Alpha.txt';
    const g = reportGraph(provenanceGraph([a, b]));
    expect(g.nodes.map(n => [n.label, n.colour, n.failed])).toEqual([
      ['file1.txt', patternColour('Pattern_One'), false],
      ['Alpha.txt', patternColour('Pattern_Two'), true]
    ]);
    expect(g.edges).toEqual([{ from: a.id, to: b.id, label: 'first/Alpha.txt' }]);
    expect(g.nodes[1].title).toMatch(/error: boom/);
    expect(FAILED_COLOUR).toMatch(/^#/);
    // Colours do not depend on order of appearance.
    expect(patternColours(['b', 'a']).get('a')).toBe(patternColours(['a']).get('a'));
  });
});

describe('windowing', () => {
  it('renders only the rows in view plus overscan', () => {
    expect(visibleRows(0, 260, 26, 10000, 5)).toEqual({ start: 0, end: 16, before: 0, after: (10000 - 16) * 26 });
    const w = visibleRows(26 * 5000, 260, 26, 10000, 5);
    expect(w.start).toBe(4995);
    expect(w.end).toBe(5016);
    expect(w.before + (w.end - w.start) * 26 + w.after).toBe(10000 * 26);
    expect(visibleRows(1e9, 260, 26, 100, 5)).toMatchObject({ start: 100, end: 100 });
    expect(visibleRows(0, 260, 26, 0)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });
});

describe('formatting', () => {
  it('formats durations and relative times', () => {
    expect(formatElapsed(450)).toBe('450 ms');
    expect(formatElapsed(1500)).toBe('1.5 s');
    expect(formatElapsed(125000)).toBe('2 min 5 s');
    expect(formatElapsed(2 * 3600000 + 60000)).toBe('2 h 1 min');
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatRelative('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatRelative('2026-01-01T11:57:00Z', now)).toBe('3 min ago');
    expect(jobDuration({ started: '2026-01-01T11:59:00Z' }, now)).toBe(60000);
    expect(jobDuration({ started: '2026-01-01T11:59:00Z', finished: '2026-01-01T11:59:30Z' }, now)).toBe(30000);
    expect(jobDuration({})).toBeUndefined();
    expect(fileStem('a/b/c.test.ipynb')).toBe('c.test');
  });

  it('maps the workgroup into the Jupyter root', () => {
    expect(workgroupPrefix('/home/u/work', '/home/u/work')).toBe('');
    expect(workgroupPrefix('/home/u/work/wg', '/home/u/work')).toBe('wg');
    expect(workgroupPrefix('/home/u/work/a/b', '~/work')).toBe('a/b');
    expect(workgroupPrefix('/home/u/work', '~/work')).toBe('');
    expect(workgroupPrefix('/elsewhere', '/home/u')).toBe('');
    expect(workgroupPrefix(undefined, '/x')).toBe('');
  });
});

describe('SVG export', () => {
  it('writes a standalone SVG with the whole graph (zoom reset) and a background', () => {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg') as SVGSVGElement;
    svg.setAttribute('viewBox', '0 0 300 120');
    const g = document.createElementNS(ns, 'g');
    g.setAttribute('data-meow-zoom', '');
    g.setAttribute('transform', 'translate(10,10) scale(2)');
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('fill', '#4e79a7');
    g.appendChild(rect);
    svg.appendChild(g);
    const text = svgToString(svg, { background: '#ffffff' });
    expect(text.startsWith('<?xml')).toBe(true);
    expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(text).toContain('width="300"');
    expect(text).toContain('fill="#4e79a7"');
    expect(text).toContain('fill="#ffffff"');
    expect(text).not.toContain('scale(2)');
    // The page's SVG is untouched.
    expect(g.getAttribute('transform')).toBe('translate(10,10) scale(2)');
  });
});

describe('shortJobId', () => {
  it('keeps sequence and suffix, the same in every panel, and leaves other ids alone', () => {
    // One short form everywhere (Monitor, Report, pattern runs): sequence and suffix.
    expect(shortJobId('20261122-035941-703-000005-6d07')).toBe('000005-6d07');
    expect(shortJobId('custom-id')).toBe('custom-id');
  });
});
