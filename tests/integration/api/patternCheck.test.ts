/**
 * `POST /api/patterns/{name}/check` on a real runner and API server (scripted
 * conductor, no Jupyter): the dry run says how many jobs saving an edit
 * re-runs, and saving then makes exactly that many; keyword typos are
 * refused by the check and by PUT; names the recipe does not assign come
 * back as warnings with "did you mean".
 */
import { promises as fs } from 'fs';
import type { IPatternCheck } from '../../../src/core/api';
import { ApiServer } from '../../../src/service/api/server';
import { RecordingLogger } from '../../../src/service/log';
import { MeowRunner } from '../../../src/service/runner';
import { ScriptedConductor, Script } from '../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup } from '../../helpers/workgroup';

const SECRET = 'check-test-secret';

const copyLine: Script = async (p, io) => {
  const text = await fs.readFile(p.infile, 'utf8');
  await io.write(p.outfile, text + p.extra + '\n');
};

const pattern = (out: string, more = '') =>
  `recipe: Append\ntrigger:\n  path: "start/*"\ninput: infile\nparameters:\n  extra: "x"\noutputs:\n  outfile: "${out}"\n${more}`;

describe('POST /api/patterns/{name}/check', () => {
  let root: string;
  let runner: MeowRunner;
  let api: ApiServer;
  let base: string;

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(base + route.slice(1), {
      method,
      headers: { 'X-Meow-Secret': SECRET, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const check = async (name: string, text: string): Promise<IPatternCheck> => {
    const res = await call('POST', `/api/patterns/${name}/check`, { text });
    expect(res.status).toBe(200);
    return res.body;
  };
  const jobCount = () => runner.store.list().length;

  beforeEach(async () => {
    root = await makeWorkgroup({
      'start/a.txt': 'A\n',
      'start/b.txt': 'B\n',
      'start/c.txt': 'C\n',
      'other/d.txt': 'D\n',
      '.meow/recipes/Append.ipynb': recipeNotebook({ infile: "''", extra: "''", outfile: "''" }),
      '.meow/patterns/One.yaml': pattern('{VGRID}/first/{FILENAME}')
    });
    runner = new MeowRunner({
      root,
      settleMs: 30,
      conductor: new ScriptedConductor({ Append: copyLine }),
      log: new RecordingLogger()
    });
    api = new ApiServer({ runner, secret: SECRET, version: 'test', statusIntervalMs: 0 });
    base = (await api.listen({ port: 0 })).toString();
    await runner.start();
    api.markReady();
    await runner.waitUntilIdle();
  });

  afterEach(async () => {
    await api.close();
    await runner.stop();
    await removeWorkgroup(root);
  });

  it('counts the jobs an edit re-runs, and saving makes exactly that many', async () => {
    expect(jobCount()).toBe(3);
    // The same text, or only a limit changed: nothing re-runs.
    expect((await check('One', pattern('{VGRID}/first/{FILENAME}'))).effect).toEqual({
      changes: false,
      jobs: 0,
      files: 0,
      cancels: 0
    });
    expect((await check('One', pattern('{VGRID}/first/{FILENAME}', 'max_jobs: 5\n'))).effect).toMatchObject({
      changes: false,
      jobs: 0
    });
    // A new output: every matching file runs again.
    const edit = pattern('{VGRID}/second/{FILENAME}');
    const result = await check('One', edit);
    expect(result).toMatchObject({ name: 'One', valid: true, issues: [], warnings: [] });
    expect(result.effect).toEqual({ changes: true, jobs: 3, files: 3, cancels: 0 });
    // A sweep of two values: two jobs per file.
    expect((await check('One', edit + 'sweep:\n  n: {start: 1, stop: 2, step: 1}\n')).effect).toMatchObject({
      jobs: 6,
      files: 3
    });
    // A new pattern on the same files runs them too.
    expect((await check('Two', edit)).effect).toMatchObject({ changes: true, jobs: 3, files: 3 });
    // Nothing was written by the checks.
    expect(jobCount()).toBe(3);
    expect(runner.workflow.patterns.has('Two')).toBe(false);

    expect((await call('PUT', '/api/patterns/One', { text: edit })).status).toBe(200);
    await runner.waitUntilIdle();
    expect(jobCount()).toBe(3 + 3);
    // Going back: that work was done already, so nothing re-runs.
    expect((await check('One', pattern('{VGRID}/first/{FILENAME}'))).effect).toMatchObject({
      changes: true,
      jobs: 0,
      cancels: 0
    });
  });

  it('refuses a keyword typo in the check and in PUT, with the field and a suggestion', async () => {
    const typo = pattern('{VGRID}/data/out/{FILENAM}');
    const result = await check('One', typo);
    expect(result.valid).toBe(false);
    expect(result.effect).toBeUndefined();
    expect(result.issues).toEqual([
      expect.objectContaining({
        field: 'outputs.outfile',
        message: expect.stringMatching(/\{FILENAM\}.*not a keyword/),
        fix: expect.stringMatching(/^did you mean \{FILENAME\}\?/)
      })
    ]);
    const put = await call('PUT', '/api/patterns/One', { text: typo });
    expect(put.status).toBe(400);
    expect(JSON.stringify(put.body)).toMatch(/did you mean \{FILENAME\}\?/);
    await runner.waitUntilIdle();
    expect(jobCount()).toBe(3);
    expect(await fs.readFile(`${root}/.meow/patterns/One.yaml`, 'utf8')).toBe(pattern('{VGRID}/first/{FILENAME}'));
  });

  it('returns names the recipe does not assign as warnings, from the check, PUT and GET', async () => {
    const text =
      'recipe: Append\ntrigger:\n  path: "start/*"\ninput: infile\noutputs:\n  outfle: "{VGRID}/x/{FILENAME}"\n';
    const result = await check('One', text);
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([
      expect.objectContaining({ field: 'outputs.outfle', fix: 'did you mean "outfile"?' })
    ]);
    const put = await call('PUT', '/api/patterns/One', { text });
    expect(put.status).toBe(200);
    expect(put.body.warnings).toEqual(result.warnings);
    expect((await call('GET', '/api/patterns/One')).body.warnings).toEqual(result.warnings);
  });
});
