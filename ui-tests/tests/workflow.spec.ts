/**
 * The user's path through meow, in order: register a notebook as a recipe
 * (a), draw a pattern with the form (b), drop a file and watch the job in the
 * Monitor (c), open its executed notebook (d). Each step builds on the
 * previous one, so the group runs serially; every name carries a suffix
 * unique to the attempt, so a retry never meets the leftovers of a failed
 * one, and the foundational example (foundational.spec.ts, in `start/`,
 * `first/`, `second/`) never sees these files.
 */
import { expect, test } from '@jupyterlab/galata';

import { listJobs, notebook, openWorkflow, runCommand, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

test.describe.serial('meow workflow: register, pattern, job, result', () => {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `shout_${suffix}`;
  const pattern = `Shout_${suffix}`;
  // The trigger folder lives at the root (not in galata's per-test folder,
  // which is deleted after each test) and is unique to this attempt.
  const folder = `meow-ui-${suffix}`;
  const inputName = 'greeting.txt';
  let jobId = '';

  test('(a) registers the open notebook as a recipe from the notebook toolbar', async ({ page }) => {
    const nbPath = `${folder}/${recipe}.ipynb`;
    await page.contents.uploadContent(
      notebook([
        "infile = ''\noutfile = ''",
        "import os\nwith open(infile) as f:\n    text = f.read()\nprint(f'MEOW-UI read {len(text)} characters from {infile}')\n" +
          "os.makedirs(os.path.dirname(outfile), exist_ok=True)\nwith open(outfile, 'w') as f:\n    f.write(text.upper())\nprint('MEOW-UI wrote', text.upper())"
      ]),
      'text',
      nbPath
    );
    expect(await page.notebook.openByPath(nbPath)).toBe(true);
    await page.notebook.activate(`${recipe}.ipynb`);
    const workflow = await openWorkflow(page);

    const button = page.locator('.jp-NotebookPanel:visible [data-testid="meow-register-recipe"]');
    await expect(button).toBeVisible();
    await button.click();

    // Opening a notebook can mark it dirty (kernel metadata): then the
    // "Unsaved changes" question comes first.
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toBeVisible();
    const header = dialog.locator('.jp-Dialog-header');
    if ((await header.textContent())?.includes('Unsaved changes')) {
      await dialog.getByRole('button', { name: 'Save and register' }).click();
    }
    await expect(header).toHaveText('Register notebook as recipe');
    // The proposed name is the notebook's stem: accept it.
    await expect(dialog.locator('input')).toHaveValue(recipe);
    await dialog.getByRole('button', { name: 'Register' }).click();
    await expect(dialog).toHaveCount(0);

    const toast = page.locator('.Toastify__toast', { hasText: `Registered recipe "${recipe}"` });
    await expect(toast).toBeVisible();
    const item = workflow.locator(`[data-meow-recipe="${recipe}"]`);
    await expect(item).toBeVisible();
    await expect(item).toHaveAttribute('data-meow-state', 'ok');
    await expect(item).toContainText(`from ${nbPath}`);
    expect(await page.contents.fileExists(`.meow/recipes/${recipe}.ipynb`)).toBe(true);

    // The new recipe in view, the notification done sliding in.
    await item.scrollIntoViewIfNeeded();
    // (Only the toast's own slide-in: its progress bar runs until it closes.)
    await toast.evaluate(el => Promise.all(el.getAnimations().map(a => a.finished)));
    await screenshot(page, 'register', 'register');
  });

  test('(b) creates a pattern through the Workflow form and shows it green in the graph', async ({ page }) => {
    const workflow = await openWorkflow(page);
    await expect(workflow.locator(`[data-meow-recipe="${recipe}"]`)).toBeVisible();

    await workflow.getByTestId('meow-new-pattern').click();
    const form = workflow.getByTestId('meow-pattern-editor');
    await expect(form).toBeVisible();
    await form.getByTestId('meow-pattern-name').fill(pattern);
    await form.getByTestId('meow-pattern-recipe').selectOption(recipe);
    await expect(form.getByTestId('meow-pattern-trigger')).toHaveValue('path');
    await form.getByTestId('meow-pattern-path').fill(`${folder}/in/*.txt`);
    await form.getByTestId('meow-pattern-input').fill('infile');
    await form.getByTestId('meow-add-outputs').click();
    await form.getByLabel('outputs 1 name').fill('outfile');
    await form.getByLabel('outputs 1 value').fill(`{VGRID}/${folder}/out/{FILENAME}`);

    // Live validation accepts the form: no field errors, the file preview is there.
    await expect(form.locator('.jp-meow-field.jp-mod-invalid')).toHaveCount(0);
    await expect(form.getByTestId('meow-pattern-preview')).toContainText(recipe, { useInnerText: false });
    const save = form.getByTestId('meow-pattern-save');
    await expect(save).toBeEnabled();
    await screenshot(page, 'pattern-form');
    await save.click();
    await expect(form).toHaveCount(0);

    // The pattern is listed as active and its node in the graph is green.
    const item = workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`);
    await expect(item).toHaveAttribute('data-meow-state', 'active');
    const node = workflow.locator(
      `[data-testid="meow-workflow-graph"] [data-meow-node-kind="pattern"][data-meow-pattern="${pattern}"]`
    );
    await expect(node).toHaveAttribute('data-meow-pattern-state', 'active');
    await expect(node.locator('rect')).toHaveAttribute('fill', '#2e7d32');
    // Its trigger and output paths are drawn too.
    await expect(workflow.locator('[data-meow-node-kind="trigger"]', { hasText: `${folder}/in/*.txt` })).toHaveCount(1);
    await expect(workflow.locator('[data-meow-node-kind="output"]', { hasText: `${folder}/out/` })).toHaveCount(1);
    // The rule exists on the service side.
    const rules = await page.evaluate(async () => (await fetch('/meow/api/rules')).json());
    expect(JSON.stringify(rules)).toContain(pattern);

    await workflow.getByTestId('meow-workflow-graph').scrollIntoViewIfNeeded();
    await screenshot(page, 'workflow', 'workflow');
  });

  test('(b2) the graph: details float as a tooltip over it, pattern names fit the default sidebar, light and dark', async ({
    page
  }) => {
    // The sidebar as a new user gets it: no width set by the test.
    await page.sidebar.openTab('jp-meow-workflow');
    const workflow = page.locator('.jp-meow-WorkflowPanel');
    const item = workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`);
    await expect(item).toBeVisible();
    expect((await workflow.boundingBox())!.width).toBeGreaterThanOrEqual(320);
    const name = item.locator('.jp-meow-itemName');
    await expect(name).toHaveText(pattern);
    // Not cut: the whole name fits its box.
    expect(await name.evaluate(el => el.scrollWidth <= el.clientWidth)).toBe(true);

    // Hovering a node shows its details over the graph; nothing below moves.
    const legend = workflow.getByTestId('meow-graph-legend');
    await legend.scrollIntoViewIfNeeded();
    const before = await legend.boundingBox();
    const node = workflow.locator(
      `[data-testid="meow-workflow-graph"] [data-meow-node-kind="pattern"][data-meow-pattern="${pattern}"]`
    );
    await node.hover();
    const tip = workflow.getByTestId('meow-graph-hover');
    await expect(tip).toBeVisible();
    await expect(tip).toContainText(`recipe: ${recipe}`);
    expect(await tip.evaluate(el => getComputedStyle(el).position)).toBe('absolute');
    expect(await legend.boundingBox()).toEqual(before);
    // Beside the pointer, inside the panel.
    const [tipBox, panelBox] = [(await tip.boundingBox())!, (await workflow.boundingBox())!];
    expect(tipBox.x).toBeGreaterThanOrEqual(panelBox.x);
    expect(tipBox.x + tipBox.width).toBeLessThanOrEqual(panelBox.x + panelBox.width + 1);
    await screenshot(page, 'workflow-tooltip');

    await page.mouse.move(0, 0);
    await expect(tip).toHaveCount(0);
    await page.sidebar.setWidth(500, 'left');
    await workflow.getByTestId('meow-workflow-graph').scrollIntoViewIfNeeded();
    await page.theme.setDarkTheme();
    await screenshot(page, 'workflow-dark', 'workflow-dark');
    await page.theme.setLightTheme();
  });

  test('(b3) "+ Pattern" on the recipe: a clean form with its input variable; YAML mode in the Lab\'s code editor', async ({
    page
  }) => {
    const workflow = await openWorkflow(page);
    await workflow.locator(`[data-meow-recipe="${recipe}"]`).getByTestId('meow-recipe-new-pattern').click();
    const form = workflow.getByTestId('meow-pattern-editor');
    await expect(form).toBeVisible();
    await expect(form.getByTestId('meow-pattern-recipe')).toHaveValue(recipe);
    // The recipe assigns `infile` and `outfile`: the input is the first.
    await expect(form.getByTestId('meow-pattern-input')).toHaveValue('infile');
    // Nothing typed yet: not one error.
    await expect(form.locator('.jp-meow-fieldError')).toHaveCount(0);
    await expect(form.locator('.jp-mod-invalid')).toHaveCount(0);
    // Save shows what is missing, in the form's words.
    await form.getByTestId('meow-pattern-save').click();
    await expect(form.getByTestId('meow-error-name')).toBeVisible();
    await expect(form.getByTestId('meow-error-path')).toContainText('must be a non-empty glob');
    await expect(form.getByTestId('meow-pattern-save')).toBeDisabled();
    await form.getByTestId('meow-pattern-name').fill(`Yaml_${suffix}`);
    await form.getByTestId('meow-pattern-path').fill(`${folder}/yaml/*`);
    await expect(form.locator('.jp-meow-fieldError')).toHaveCount(0);

    await form.getByTestId('meow-mode-yaml').click();
    const yaml = form.getByTestId('meow-pattern-yaml');
    const editor = yaml.locator('.cm-editor');
    await expect(editor).toBeVisible();
    await expect(form.locator('textarea')).toHaveCount(0);
    await expect(yaml.locator('.cm-content')).toContainText(`recipe: ${recipe}`);
    await expect(yaml.locator('.cm-content')).toContainText('input: infile');
    // YAML highlighting: keys and values are styled spans.
    await expect(yaml.locator('.cm-line span[class]').first()).toBeVisible();
    // Typing in it is checked like the file: an unknown field is refused.
    await yaml.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('bogus_field: 1');
    await expect(form.getByTestId('meow-error-yaml')).toContainText('bogus_field');
    await expect(form.getByTestId('meow-pattern-save')).toBeDisabled();
    await screenshot(page, 'pattern-yaml', 'pattern-yaml');
    await form.getByTestId('meow-pattern-cancel').click();
    await expect(form).toHaveCount(0);
  });

  test('(c) a file dropped in the trigger folder becomes a job that finishes live in the Monitor', async ({ page }) => {
    // Open the Monitor from the status bar item, before the file arrives.
    await page.getByTestId('meow-status').click();
    const monitor = page.locator('.jp-meow-MonitorPanel');
    await expect(monitor).toBeVisible();
    await expect(page.getByTestId('meow-status')).toHaveAttribute('data-meow-service', 'up');
    // A marker that a page reload would wipe out.
    await page.evaluate(() => ((window as any).__meowNoReload = true));

    expect(await page.contents.uploadContent('hello from the galata test', 'text', `${folder}/in/${inputName}`)).toBe(
      true
    );

    const row = monitor.locator('.jp-meow-jobRow[data-meow-job-id]', { hasText: pattern });
    await expect(row).toHaveCount(1, { timeout: 60000 });
    await expect(row).toContainText(`${folder}/in/${inputName}`);
    await expect(row).toContainText(recipe);
    // Wait for a final status, then insist on `done` (with the job's error if not).
    await expect(row).toHaveAttribute('data-meow-job-status', /^(done|failed|cancelled|skipped)$/, { timeout: 90000 });
    jobId = (await row.getAttribute('data-meow-job-id'))!;
    const status = await row.getAttribute('data-meow-job-status');
    if (status !== 'done') {
      const detail = await page.evaluate(async id => (await fetch(`/meow/api/jobs/${id}`)).json(), jobId);
      throw new Error(`job ${jobId} ended ${status}: ${JSON.stringify(detail.job?.error ?? detail)}`);
    }
    expect(jobId).toBeTruthy();
    expect(await page.evaluate(() => (window as any).__meowNoReload)).toBe(true);

    // The job's detail: parameters and the file it wrote.
    await row.click();
    const detail = monitor.getByTestId('meow-job-detail');
    await expect(detail).toHaveAttribute('data-meow-job-id', jobId);
    await expect(detail.getByTestId('meow-job-parameters')).toContainText('infile');
    await expect(detail.getByTestId('meow-job-files')).toContainText(`${folder}/out/${inputName}`);
    expect(await page.contents.fileExists(`${folder}/out/${inputName}`)).toBe(true);

    // The table and the detail side by side, without the file browser.
    await page.sidebar.close('left');
    await screenshot(page, 'monitor', 'monitor');
  });

  test('(d) opens the executed notebook of the job with its outputs', async ({ page }) => {
    expect(jobId).toBeTruthy();
    await runCommand(page, 'meow:show-job', { id: jobId });
    const detail = page.locator('.jp-meow-MonitorPanel').getByTestId('meow-job-detail');
    await expect(detail).toHaveAttribute('data-meow-job-id', jobId);
    const open = detail.getByTestId('meow-job-open-result');
    await expect(open).toBeEnabled();
    await open.click();

    // Result tabs are named after the job (results.spec.ts covers the rest).
    const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current', { hasText: pattern });
    await expect(tab).toBeVisible();
    const nb = page.locator('.jp-NotebookPanel:visible');
    await expect(nb.locator('.jp-OutputArea-output', { hasText: 'MEOW-UI read 26 characters' })).toBeVisible();
    await expect(
      nb.locator('.jp-OutputArea-output', { hasText: 'MEOW-UI wrote HELLO FROM THE GALATA TEST' })
    ).toBeVisible();
    // The parameters cell carries the job's values.
    await expect(nb.locator('.jp-Cell').first()).toContainText(`${folder}/in/${inputName}`);

    await screenshot(page, 'result');
    const jobs = await listJobs(page, { pattern });
    expect(jobs.map(j => j.status)).toEqual(['done']);
  });
});

test('(e) a failed job: the message and the detail name the same cell, and the traceback fits its box', async ({
  page
}) => {
  test.setTimeout(180000);
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `boom_${suffix}`;
  const folder = `meow-fail-${suffix}`;
  // A markdown cell first, so "cell" cannot silently mean "code cell".
  const nb = JSON.parse(notebook(["infile = ''", 'x = 1', "raise ValueError('MEOW-UI ' + 'a very long line ' * 40)"]));
  nb.cells.unshift({ id: 'intro', cell_type: 'markdown', metadata: {}, source: '# This recipe fails' });
  expect(await page.contents.uploadContent(JSON.stringify(nb), 'text', `.meow/recipes/${recipe}.ipynb`)).toBe(true);
  const patternText = `recipe: ${recipe}\ntrigger:\n  path: ${folder}/in/*\ninput: infile\n`;
  expect(await page.contents.uploadContent(patternText, 'text', `.meow/patterns/Fail_${suffix}.yaml`)).toBe(true);
  const workflow = await openWorkflow(page);
  await expect(workflow.locator(`.jp-meow-patternItem[data-meow-pattern="Fail_${suffix}"]`)).toHaveAttribute(
    'data-meow-state',
    'active',
    {
      timeout: 30000
    }
  );

  expect(await page.contents.uploadContent('data', 'text', `${folder}/in/a.txt`)).toBe(true);
  let jobId = '';
  await expect
    .poll(
      async () => {
        const jobs = await listJobs(page, { pattern: `Fail_${suffix}` });
        jobId = jobs[0]?.id ?? '';
        return jobs[0]?.status;
      },
      { timeout: 90000 }
    )
    .toBe('failed');

  await runCommand(page, 'meow:show-job', { id: jobId });
  const detail = page.locator('.jp-meow-MonitorPanel').getByTestId('meow-job-detail');
  await expect(detail).toHaveAttribute('data-meow-job-id', jobId);
  const error = detail.getByTestId('meow-job-error');
  await expect(error).toContainText('raised ValueError');
  const text = (await error.textContent()) ?? '';
  const raised = /cell (\d+) raised/.exec(text);
  const shown = /\(cell (\d+) of the result notebook\)/.exec(text);
  expect(raised && shown).toBeTruthy();
  expect(shown![1]).toBe(raised![1]);
  // Counted among all cells of the result notebook: the markdown cell and two code cells come first.
  expect(Number(raised![1])).toBeGreaterThanOrEqual(4);
  const traceback = error.locator('.jp-meow-traceback');
  await expect(traceback).toContainText('a very long line');
  // Nothing cut at the pane's edge: long lines wrap inside the box.
  expect(await traceback.evaluate(el => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  const [box, pane] = [(await traceback.boundingBox())!, (await detail.boundingBox())!];
  expect(box.x + box.width).toBeLessThanOrEqual(pane.x + pane.width + 1);
  await error.scrollIntoViewIfNeeded();
  await screenshot(page, 'job-error');
});
