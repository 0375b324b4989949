/**
 * (f) Human in the loop: a manual pattern whose approval glob is a folder.
 * A file dropped there waits under "Waiting for approval" in the Workflow
 * panel; Approve runs the recipe on it, and the job reaches `done` in the
 * Monitor with its trigger kind `manual`.
 *
 * Names carry a suffix unique to the attempt (see workflow.spec.ts), so a
 * retry never meets the leftovers of a failed one.
 */
import { expect, test } from '@jupyterlab/galata';

import { listJobs, notebook, openWorkflow, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

test('(f) a file waiting for approval runs when a person approves it, as a manual job', async ({ page }) => {
  test.setTimeout(180000);
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `stamp_${suffix}`;
  const pattern = `Approve_${suffix}`;
  const folder = `meow-approve-${suffix}`;
  const file = `${folder}/review/scan-1.txt`;

  // The recipe: a notebook straight into .meow/recipes/ (registering through
  // the toolbar is workflow.spec.ts's subject).
  expect(
    await page.contents.uploadContent(
      notebook([
        "infile = ''\noutfile = ''",
        'import os\nwith open(infile) as f:\n    text = f.read()\nos.makedirs(os.path.dirname(outfile), exist_ok=True)\n' +
          "with open(outfile, 'w') as f:\n    f.write('APPROVED: ' + text)\nprint('MEOW-UI approved', infile)"
      ]),
      'text',
      `.meow/recipes/${recipe}.ipynb`
    )
  ).toBe(true);
  const workflow = await openWorkflow(page);
  await expect(workflow.locator(`[data-meow-recipe="${recipe}"]`)).toHaveAttribute('data-meow-state', 'ok', {
    timeout: 30000
  });

  // The pattern, through the form: trigger "manual" with an approval glob.
  await workflow.getByTestId('meow-new-pattern').click();
  const form = workflow.getByTestId('meow-pattern-editor');
  await form.getByTestId('meow-pattern-name').fill(pattern);
  await form.getByTestId('meow-pattern-recipe').selectOption(recipe);
  await form.getByTestId('meow-pattern-trigger').selectOption('manual');
  await expect(form.locator('[data-meow-field="path"] label')).toHaveText('Files waiting for approval (optional glob)');
  await form.getByTestId('meow-pattern-path').fill(`${folder}/review/*`);
  await form.getByTestId('meow-pattern-input').fill('infile');
  await form.getByTestId('meow-add-outputs').click();
  await form.getByLabel('outputs 1 name').fill('outfile');
  await form.getByLabel('outputs 1 value').fill(`{VGRID}/${folder}/approved/{FILENAME}`);
  await expect(form.locator('.jp-meow-field.jp-mod-invalid')).toHaveCount(0);
  await expect(form.getByTestId('meow-pattern-preview')).toContainText('manual: true', { useInnerText: false });
  await form.getByTestId('meow-pattern-save').click();
  await expect(form).toHaveCount(0);

  // Listed as active with a "Run" button; drawn with a person node.
  const item = workflow.locator(`.jp-meow-patternItem[data-meow-pattern="${pattern}"]`);
  await expect(item).toHaveAttribute('data-meow-state', 'active');
  await expect(item).toHaveAttribute('data-meow-trigger-kind', 'manual');
  await expect(item.getByTestId('meow-run-pattern')).toHaveText('Run');
  const person = workflow.locator(`[data-testid="meow-workflow-graph"] [data-meow-node="person:${pattern}"]`);
  await expect(person).toHaveAttribute('data-meow-trigger-kind', 'manual');
  // The label may be cut to the node's width; the tooltip has the whole glob.
  await expect(person.locator('text')).toHaveText(/^approve meow-approve-/);
  await expect(person.locator('title')).toContainText(`a person approves each file in ${folder}/review/*`);
  const waiting = item.getByTestId('meow-waiting');
  await expect(waiting).toContainText('Waiting for approval (0)');

  // A file arrives: it waits for approval (the list is polled while shown).
  expect(await page.contents.uploadContent('scan of page one', 'text', file)).toBe(true);
  const row = waiting.locator(`[data-meow-waiting-path="${file}"]`);
  await expect(row).toBeVisible({ timeout: 30000 });
  await expect(waiting).toContainText('Waiting for approval (1)');
  await expect(row).toContainText('16 B');
  // Nothing ran by itself.
  expect(await listJobs(page, { pattern })).toEqual([]);
  await item.scrollIntoViewIfNeeded();
  await screenshot(page, 'approval', 'approval');

  // Approve: one job, linked to the Monitor; the file leaves the list.
  await row.getByTestId('meow-approve').click();
  const result = item.getByTestId('meow-run-result');
  await expect(result).toContainText(`Job of ${pattern} on ${file}`);
  await expect(waiting).toContainText('Waiting for approval (0)');
  const link = result.locator('a[data-meow-job-id]');
  const jobId = (await link.getAttribute('data-meow-job-id'))!;
  expect(jobId).toBeTruthy();
  await link.click();

  const monitor = page.locator('.jp-meow-MonitorPanel');
  await expect(monitor.getByTestId('meow-job-detail')).toHaveAttribute('data-meow-job-id', jobId);
  const jobRow = monitor.locator(`.jp-meow-jobRow[data-meow-job-id="${jobId}"]`);
  await expect(jobRow).toHaveAttribute('data-meow-job-status', /^(done|failed|cancelled|skipped)$/, { timeout: 90000 });
  const status = await jobRow.getAttribute('data-meow-job-status');
  if (status !== 'done') {
    const detail = await page.evaluate(async id => (await fetch(`/meow/api/jobs/${id}`)).json(), jobId);
    throw new Error(`job ${jobId} ended ${status}: ${JSON.stringify(detail.job?.error ?? detail)}`);
  }
  await expect(jobRow.locator('.jp-meow-triggerKind')).toHaveAttribute('data-meow-trigger-kind', 'manual');
  await expect(jobRow).toContainText(file);
  const detail = monitor.getByTestId('meow-job-detail');
  await expect(detail.getByTestId('meow-job-trigger')).toHaveAttribute('data-meow-trigger-kind', 'manual');
  await expect(detail.getByTestId('meow-job-files')).toContainText(`${folder}/approved/scan-1.txt`);
  expect(await page.contents.fileExists(`${folder}/approved/scan-1.txt`)).toBe(true);

  // Filtered to manual jobs, the Monitor shows this one.
  await monitor.getByTestId('meow-filter-trigger').selectOption('manual');
  await expect(jobRow).toBeVisible();
  const jobs = await listJobs(page, { pattern });
  expect(jobs.map(j => [j.status, (j.trigger as { kind?: string }).kind])).toEqual([['done', 'manual']]);
  await screenshot(page, 'approval-monitor', 'approval-monitor');
});
