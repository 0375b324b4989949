/**
 * (i) The Monitor at daily-use quality (issue 10, item 4): a failed job
 * raises a Lab notification whose "Show job" selects it; columns sort (click
 * a header) and resize (drag its edge) and keep their width with the detail
 * pane open; the filter bar stays on one line; and 2,000 jobs arriving
 * while the Monitor is open cause no long task over 200 ms (Chromium's Long
 * Tasks API).
 *
 * The jobs fail at once, without a kernel: their pattern asks for the
 * `jupyter` executor, which this server has not configured. That makes
 * 2,000 jobs (4,000 job events: queued, then failed) in seconds, which is
 * what the Monitor has to keep up with. Names carry a suffix unique to the
 * attempt (see workflow.spec.ts).
 */
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { listJobs, notebook, runCommand, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

const BURST = 2000;
const LONG_TASK_LIMIT_MS = 200;

/** How many jobs the service has for a query (its `total`). */
async function jobTotal(page: IJupyterLabPageFixture, query: Record<string, string> = {}): Promise<number> {
  return page.evaluate(async q => {
    const res = await fetch('/meow/api/jobs?' + new URLSearchParams({ limit: '1', ...q }).toString());
    return (await res.json()).total as number;
  }, query);
}

/** Open the Monitor once the Lab has loaded every job the service has. */
async function openMonitor(page: IJupyterLabPageFixture): Promise<Locator> {
  await runCommand(page, 'meow:open-monitor');
  const monitor = page.locator('.jp-meow-MonitorPanel');
  await expect(monitor).toBeVisible();
  const total = await jobTotal(page);
  await expect(monitor.getByTestId('meow-job-table')).toHaveAttribute('data-meow-total', String(total));
  return monitor;
}

test.describe.serial('meow Monitor: notifications, columns, 2,000 jobs', () => {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `noop_${suffix}`;
  const burst = `Burst_${suffix}`;
  const zulu = `Zulu_${suffix}`;
  const folder = `meow-burst-${suffix}`;

  const pattern = (name: string, dir: string) =>
    `recipe: ${recipe}\ntrigger:\n  path: "${dir}/*"\ninput: infile\n# Not configured here: each job fails at once, without a kernel.\nexecutor: jupyter\n`;

  test('a failed job raises a notification whose "Show job" selects it', async ({ page }) => {
    expect(
      await page.contents.uploadContent(
        notebook(["infile = ''", 'print(infile)']),
        'text',
        `.meow/recipes/${recipe}.ipynb`
      )
    ).toBe(true);
    expect(await page.contents.uploadContent(pattern(burst, folder), 'text', `.meow/patterns/${burst}.yaml`)).toBe(
      true
    );
    expect(await page.contents.uploadContent(pattern(zulu, `${folder}-z`), 'text', `.meow/patterns/${zulu}.yaml`)).toBe(
      true
    );
    await expect
      .poll(
        async () =>
          page.evaluate(async () =>
            ((await (await fetch('/meow/api/rules')).json()).rules as { pattern: string }[]).map(r => r.pattern)
          ),
        {
          timeout: 30000
        }
      )
      .toEqual(expect.arrayContaining([burst, zulu]));
    // Jobs that failed before the Lab loaded are history: only new failures are news.
    await openMonitor(page);

    expect(await page.contents.uploadContent('one', 'text', `${folder}/one.txt`)).toBe(true);
    const toast = page.locator('.Toastify__toast', { hasText: `of ${burst} failed` });
    await expect(toast).toBeVisible({ timeout: 60000 });
    const [job] = await listJobs(page, { pattern: burst });
    expect(job.status).toBe('failed');
    await expect(toast).toContainText(`Job ${job.id.split('-').slice(3).join('-')} of ${burst} failed`);
    await screenshot(page, 'monitor-failure-notification');
    await toast.getByRole('button', { name: 'Show job' }).click();
    const monitor = page.locator('.jp-meow-MonitorPanel');
    await expect(monitor.getByTestId('meow-job-detail')).toHaveAttribute('data-meow-job-id', job.id);
    await expect(monitor.locator(`.jp-meow-jobRow.jp-mod-selected[data-meow-job-id="${job.id}"]`)).toBeVisible();
  });

  test('columns sort by a header click and resize by a drag, and keep their width beside the detail', async ({
    page
  }) => {
    expect(await page.contents.uploadContent('zulu', 'text', `${folder}-z/z.txt`)).toBe(true);
    await expect.poll(() => jobTotal(page, { pattern: zulu, status: 'failed' }), { timeout: 60000 }).toBe(1);
    const monitor = await openMonitor(page);
    await monitor.getByTestId('meow-filter-text').fill(suffix);
    const rows = monitor.locator('.jp-meow-jobRow[data-meow-job-id]');
    await expect(rows).toHaveCount(2);
    const header = (id: string) => monitor.locator(`[role="columnheader"][data-meow-column="${id}"]`);
    const patterns = () => rows.locator('[role="cell"]:nth-child(2)');

    // Newest first by default: Zulu's job came last.
    await expect(header('job')).toHaveAttribute('aria-sort', 'descending');
    await expect(patterns()).toHaveText([zulu, burst]);
    await header('pattern').getByRole('button').click();
    await expect(header('pattern')).toHaveAttribute('aria-sort', 'ascending');
    await expect(header('job')).toHaveAttribute('aria-sort', 'none');
    await expect(patterns()).toHaveText([burst, zulu]);
    await header('pattern').getByRole('button').click();
    await expect(header('pattern')).toHaveAttribute('aria-sort', 'descending');
    await expect(patterns()).toHaveText([zulu, burst]);

    // Drag the Pattern column's right edge 60 px to the right.
    const before = (await header('pattern').boundingBox())!;
    const handle = (await header('pattern').locator('.jp-meow-colResize').boundingBox())!;
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x + handle.width / 2 + 30, handle.y + handle.height / 2, { steps: 3 });
    await page.mouse.move(handle.x + handle.width / 2 + 60, handle.y + handle.height / 2, { steps: 3 });
    await page.mouse.up();
    await expect
      .poll(async () => Math.round((await header('pattern').boundingBox())!.width))
      .toBe(Math.round(before.width) + 60);

    // With the detail pane open the columns keep their widths (the table scrolls sideways).
    await rows.first().click();
    await expect(monitor.getByTestId('meow-job-detail')).toBeVisible();
    expect(Math.round((await header('pattern').boundingBox())!.width)).toBe(Math.round(before.width) + 60);
    const cell = rows.first().locator('[role="cell"]:nth-child(2)');
    expect(await cell.evaluate(el => el.scrollWidth <= el.clientWidth)).toBe(true); // the whole name shows
    await monitor.getByTestId('meow-filter-text').fill('');

    // The filter bar stays on one line (about 43 px; two lines would be 70), also in a narrower window.
    const bar = monitor.getByTestId('meow-monitor-filters');
    expect((await bar.boundingBox())!.height).toBeLessThan(60);
    await page.setViewportSize({ width: 1024, height: 800 });
    await expect.poll(async () => (await bar.boundingBox())!.height).toBeLessThan(60);
    const lastControl = (await bar.locator('button', { hasText: 'Clear' }).boundingBox())!;
    expect(lastControl.x + lastControl.width).toBeLessThanOrEqual(
      (await bar.boundingBox())!.x + (await bar.boundingBox())!.width + 1
    );
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test(`${BURST} jobs arriving while the Monitor is open: no long task over ${LONG_TASK_LIMIT_MS} ms`, async ({
    page
  }) => {
    test.setTimeout(420000);
    const monitor = await openMonitor(page);
    const before = await jobTotal(page, { pattern: burst });
    const root = await page.evaluate(async () => (await (await fetch('/meow/api/status')).json()).workgroup as string);
    expect(fs.existsSync(path.join(root, folder, 'one.txt'))).toBe(true);

    await page.evaluate(() => {
      const w = window as any;
      w.__meowLongTasks = [];
      new PerformanceObserver(list => {
        for (const entry of list.getEntries()) {
          w.__meowLongTasks.push(Math.round(entry.duration));
        }
      }).observe({ type: 'longtask' });
    });
    // Written straight to disk, as a burst from an instrument would be.
    for (let i = 0; i < BURST; i++) {
      fs.writeFileSync(path.join(root, folder, `b-${String(i).padStart(4, '0')}.txt`), `sample ${i}\n`);
    }
    // The failures come as one notification (updated as more fail), not thousands.
    await expect(page.locator('.Toastify__toast', { hasText: /\d+ jobs failed/ }).first()).toBeVisible({
      timeout: 120000
    });
    await expect
      .poll(() => jobTotal(page, { pattern: burst, status: 'failed' }), { timeout: 300000, intervals: [2000] })
      .toBe(before + BURST);
    const total = await jobTotal(page);
    await expect(monitor.getByTestId('meow-job-table')).toHaveAttribute('data-meow-total', String(total), {
      timeout: 30000
    });
    await expect(monitor.locator('[data-meow-filter-status="failed"] b')).toHaveText(
      String(await jobTotal(page, { status: 'failed' }))
    );
    // Two frames for the last render, then read what the observer saw.
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    const tasks: number[] = await page.evaluate(() => (window as any).__meowLongTasks);
    const max = Math.max(0, ...tasks);
    console.log(`monitor burst: ${BURST} jobs, ${tasks.length} long tasks, longest ${max} ms (${tasks.join(', ')})`);
    test.info().annotations.push({ type: 'long tasks', description: `${tasks.length}, longest ${max} ms` });
    expect(max).toBeLessThanOrEqual(LONG_TASK_LIMIT_MS);

    // Screenshots for the README: sorted by status, a failed job's detail open.
    await monitor.locator('[role="columnheader"][data-meow-column="status"]').getByRole('button').click();
    await monitor.locator('.jp-meow-jobRow[data-meow-job-status="failed"]').first().click();
    await expect(monitor.getByTestId('meow-job-detail')).toBeVisible();
    await screenshot(page, 'monitor-light', 'monitor-light');
    await page.theme.setDarkTheme();
    try {
      await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
      await screenshot(page, 'monitor-dark', 'monitor-dark');
    } finally {
      await page.theme.setLightTheme();
      await page.contents.deleteFile(`.meow/patterns/${burst}.yaml`);
      await page.contents.deleteFile(`.meow/patterns/${zulu}.yaml`);
    }
  });
});
