/**
 * (g) Typos do not run jobs (issue 10, item 2): editing a pattern in the
 * form, an output `{VGRID}/…/{FILENAM}` is refused on its row with "did you
 * mean {FILENAME}?" and Save stays disabled; a real edit of a pattern that
 * already ran on three files asks "This re-runs 3 jobs" before saving —
 * Cancel keeps everything as it was, "Save and re-run" saves and the three
 * jobs run again.
 *
 * Names carry a suffix unique to the attempt (see workflow.spec.ts).
 */
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

import { listJobs, notebook, openWorkflow, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

test.describe.serial('meow pattern form: keyword typos and the re-run warning', () => {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `copy_${suffix}`;
  const pattern = `Typo_${suffix}`;
  const folder = `meow-typo-${suffix}`;
  const files = ['a.txt', 'b.txt', 'c.txt'];

  const done = async (page: IJupyterLabPageFixture) =>
    (await listJobs(page, { pattern })).filter(j => j.status === 'done').length;

  test('setup: a pattern that ran on three files', async ({ page }) => {
    test.setTimeout(180000);
    for (const f of files) {
      expect(await page.contents.uploadContent(`text of ${f}`, 'text', `${folder}/in/${f}`)).toBe(true);
    }
    expect(
      await page.contents.uploadContent(
        notebook([
          "infile = ''\noutfile = ''",
          'import os, shutil\nos.makedirs(os.path.dirname(outfile), exist_ok=True)\nshutil.copy(infile, outfile)'
        ]),
        'text',
        `.meow/recipes/${recipe}.ipynb`
      )
    ).toBe(true);
    const workflow = await openWorkflow(page);
    await expect(workflow.locator(`[data-meow-recipe="${recipe}"]`)).toHaveAttribute('data-meow-state', 'ok', {
      timeout: 30000
    });
    expect(
      await page.contents.uploadContent(
        `recipe: ${recipe}\ntrigger:\n  path: "${folder}/in/*"\ninput: infile\noutputs:\n  outfile: "{VGRID}/${folder}/out/{FILENAME}"\n`,
        'text',
        `.meow/patterns/${pattern}.yaml`
      )
    ).toBe(true);
    await expect(workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`)).toHaveAttribute(
      'data-meow-state',
      'active',
      {
        timeout: 30000
      }
    );
    await expect.poll(() => done(page), { timeout: 120000 }).toBe(3);
  });

  test('keyword typo refused in the form', async ({ page }) => {
    const workflow = await openWorkflow(page);
    const item = workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`);
    await item.getByRole('button', { name: 'Edit' }).click();
    const form = workflow.getByTestId('meow-pattern-editor');
    await expect(form).toBeVisible();
    const value = form.getByLabel('outputs 1 value');
    await expect(value).toHaveValue(`{VGRID}/${folder}/out/{FILENAME}`);

    await value.fill(`{VGRID}/${folder}/out/{FILENAM}`);
    const row = form.locator('[data-meow-row="outputs.0"]');
    await expect(row).toHaveClass(/jp-mod-invalid/);
    await expect(row).toContainText('{FILENAM}, which is not a keyword');
    await expect(row).toContainText('did you mean {FILENAME}?');
    await expect(form.getByTestId('meow-pattern-save')).toBeDisabled();
    await row.scrollIntoViewIfNeeded();
    await screenshot(page, 'pattern-keyword-typo', 'pattern-keyword-typo');

    // A name the recipe does not assign is a warning with "did you mean".
    await value.fill(`{VGRID}/${folder}/out/{FILENAME}`);
    await form.getByLabel('outputs 1 name').fill('outfle');
    await expect(form.getByTestId('meow-pattern-warnings')).toContainText('did you mean "outfile"?');
    await expect(form.getByTestId('meow-pattern-save')).toBeEnabled();
    await form.getByTestId('meow-pattern-cancel').click();
    await expect(form).toHaveCount(0);
  });

  test('re-run warning', async ({ page }) => {
    test.setTimeout(180000);
    const workflow = await openWorkflow(page);
    const item = workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`);
    await item.getByRole('button', { name: 'Edit' }).click();
    const form = workflow.getByTestId('meow-pattern-editor');
    await form.getByLabel('outputs 1 value').fill(`{VGRID}/${folder}/out2/{FILENAME}`);
    const save = form.getByTestId('meow-pattern-save');
    await save.click();

    const dialog = page.locator('.jp-Dialog');
    await expect(dialog.locator('.jp-Dialog-header')).toHaveText('This re-runs 3 jobs');
    await expect(dialog).toContainText('re-runs 3 jobs on 3 existing files');
    await screenshot(page, 'pattern-rerun-warning', 'pattern-rerun-warning');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    // Nothing saved: the form is still open and the file unchanged.
    await expect(form).toBeVisible();
    const saved = await page.evaluate(
      async name => (await (await fetch(`/meow/api/patterns/${name}`)).json()).text as string,
      pattern
    );
    expect(saved).toContain(`${folder}/out/{FILENAME}`);
    expect(await done(page)).toBe(3);

    await save.click();
    await expect(dialog.locator('.jp-Dialog-header')).toHaveText('This re-runs 3 jobs');
    await dialog.getByRole('button', { name: 'Save and re-run' }).click();
    await expect(form).toHaveCount(0);
    await expect.poll(() => done(page), { timeout: 120000 }).toBe(6);
    for (const f of files) {
      expect(await page.contents.fileExists(`${folder}/out2/${f}`)).toBe(true);
    }
  });
});
