/**
 * (e) The foundational example (examples/foundational, thesis chapter 14),
 * run unchanged: its `.meow/` (recipe Append, Pattern_One, Pattern_Two) and
 * its `start/` files go to the Jupyter root, which is meow's workgroup. Four
 * jobs follow — two of Pattern_One on start/*, two of Pattern_Two on the
 * files Pattern_One wrote — and the Report draws them as a chain, which is
 * then exported as SVG.
 *
 * Only the example's own jobs are looked at (recipe Append, patterns
 * Pattern_One / Pattern_Two), so the jobs of workflow.spec.ts, in their own
 * folder with their own recipe, do not matter, whatever the order.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { SCREENS, listJobs, openWorkflow, runCommand, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'foundational');
const EXAMPLE_FILES = [
  // The recipe first, then the patterns, then the data: the data is matched
  // when it arrives, or retroactively when the rules appear.
  '.meow/recipes/Append.ipynb',
  '.meow/patterns/Pattern_One.yaml',
  '.meow/patterns/Pattern_Two.yaml',
  'start/Alpha.txt',
  'start/Bravo.txt'
];

test('(e) the foundational example runs as a four-job chain in the Report and exports as SVG', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  const before = new Set((await listJobs(page, { recipe: 'Append' })).map(j => j.id));
  // A retry (same server) starts from the outputs of the failed attempt.
  for (const dir of ['start', 'first', 'second']) {
    if (await page.contents.directoryExists(dir)) {
      await page.contents.deleteDirectory(dir);
    }
  }

  // Upload file by file: galata's uploadDirectory skips hidden folders. A
  // retry keeps the recipe and patterns already there (replacing them would
  // re-run the patterns).
  for (const rel of EXAMPLE_FILES) {
    if (rel.startsWith('.meow/') && (await page.contents.fileExists(rel))) {
      continue;
    }
    expect(await page.contents.uploadFile(path.join(EXAMPLE, rel), rel)).toBe(true);
  }

  // The Workflow panel shows the two patterns, green, chained by first/*.
  const workflow = await openWorkflow(page);
  for (const p of ['Pattern_One', 'Pattern_Two']) {
    await expect(workflow.locator(`[data-meow-node-kind="pattern"][data-meow-pattern="${p}"]`)).toHaveAttribute(
      'data-meow-pattern-state',
      'active'
    );
  }
  await expect(workflow.locator('[data-meow-recipe="Append"]')).toHaveAttribute('data-meow-state', 'ok');

  // Four new jobs, all done.
  await expect
    .poll(
      async () => {
        const jobs = (await listJobs(page, { recipe: 'Append' })).filter(j => !before.has(j.id));
        const failed = jobs.filter(j => j.status === 'failed');
        if (failed.length) {
          throw new Error(`failed jobs: ${failed.map(j => `${j.id} ${j.pattern} ${j.trigger.path}`).join(', ')}`);
        }
        return jobs
          .filter(j => j.status === 'done')
          .map(j => `${j.pattern} ${j.trigger.path}`)
          .sort();
      },
      { timeout: 180000, intervals: [1000] }
    )
    .toEqual([
      'Pattern_One start/Alpha.txt',
      'Pattern_One start/Bravo.txt',
      'Pattern_Two first/Alpha.txt',
      'Pattern_Two first/Bravo.txt'
    ]);
  expect(await page.contents.fileExists('second/Alpha.txt')).toBe(true);
  expect(await page.contents.fileExists('second/Bravo.txt')).toBe(true);

  await screenshot(page, 'foundational-workflow');

  // The Report, narrowed to the example's recipe.
  await runCommand(page, 'meow:open-report');
  const report = page.locator('.jp-meow-ReportPanel');
  await expect(report).toBeVisible();
  await report.getByTestId('meow-report-recipe').selectOption('Append');
  const graph = report.getByTestId('meow-report-graph');
  const fresh = testInfo.retry === 0 && before.size === 0;
  if (fresh) {
    await expect(graph).toHaveAttribute('data-meow-jobs', '4');
    await expect(graph).toHaveAttribute('data-meow-edges', '2');
  }
  // (A retry on the same server also sees the jobs of the failed attempt.)
  const atLeast = async (locator: Locator, n: number) =>
    fresh ? expect(locator).toHaveCount(n) : expect.poll(() => locator.count()).toBeGreaterThanOrEqual(n);
  await atLeast(graph.locator('[data-meow-pattern="Pattern_One"][data-meow-job-status="done"]'), 2);
  await atLeast(graph.locator('[data-meow-pattern="Pattern_Two"][data-meow-job-status="done"]'), 2);
  // Each Pattern_One job feeds one Pattern_Two job, through the file on the edge.
  for (const file of ['first/Alpha.txt', 'first/Bravo.txt']) {
    const edge = graph.locator('.jp-meow-dagEdge', { has: page.locator('text', { hasText: file }) });
    await atLeast(edge, 1);
    const [from, to] = (await edge.first().getAttribute('data-meow-edge'))!.split('->');
    await expect(graph.locator(`[data-meow-node="${from}"]`)).toHaveAttribute('data-meow-pattern', 'Pattern_One');
    await expect(graph.locator(`[data-meow-node="${to}"]`)).toHaveAttribute('data-meow-pattern', 'Pattern_Two');
  }
  await expect(report.getByTestId('meow-report-legend')).toContainText('Pattern_One');
  await expect(report.getByTestId('meow-report-legend')).toContainText('Pattern_Two');

  // Export as SVG: a download of a standalone SVG with the four jobs.
  const exportButton = report.getByTestId('meow-report-export-svg');
  await expect(exportButton).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
  expect(download.suggestedFilename()).toMatch(/^meow-provenance-.*\.svg$/);
  const saved = path.join(SCREENS, 'report.svg');
  fs.mkdirSync(SCREENS, { recursive: true });
  await download.saveAs(saved);
  const svg = fs.readFileSync(saved, 'utf-8');
  expect(svg.startsWith('<?xml')).toBe(true);
  expect(svg).toContain('<svg');
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svg.match(/data-meow-pattern="Pattern_One"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  expect(svg.match(/data-meow-pattern="Pattern_Two"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  expect(svg).toContain('first/Alpha.txt');
  expect(svg).toContain('first/Bravo.txt');

  // Click a second-step job: its detail shows the parent it came from.
  const second = graph.locator('[data-meow-pattern="Pattern_Two"]').first();
  const secondId = (await second.getAttribute('data-meow-job-id'))!;
  await second.click();
  const detail = report.getByTestId('meow-job-detail');
  await expect(detail).toHaveAttribute('data-meow-job-id', secondId);
  await expect(detail.getByTestId('meow-job-parent')).toBeVisible();
  await expect(detail.getByTestId('meow-job-files')).toContainText('second/');

  await screenshot(page, 'report', 'report');
});
