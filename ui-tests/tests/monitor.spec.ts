/**
 * (i) The Monitor at daily-use quality (issue 10, item 4): a failed job
 * raises a Lab notification whose "Show job" selects it; columns sort (click
 * a header) and resize (drag its edge) and keep their width with the detail
 * pane open; the filter bar stays on one line; and 2,000 jobs arriving
 * while the Monitor is open cause no task of the page's main thread that
 * uses over 200 ms of CPU (a Chromium trace; see longTasks).
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

/**
 * The page's long tasks (over 50 ms of wall time, as the Long Tasks API
 * counts them) in a Chromium trace, with the main thread's CPU time in each.
 * The limit is on CPU time: on the 2-core CI machine the service, the
 * Jupyter server and the browser share the cores during the burst, and a
 * task that uses 35 ms of CPU was measured taking 300 ms of wall time
 * while its thread waited for a core.
 */
function longTasks(trace: { traceEvents: ITraceEvent[] }): { wallMs: number; cpuMs: number }[] {
  const main = new Set(
    trace.traceEvents
      .filter(e => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map(e => `${e.pid}:${e.tid}`)
  );
  expect(main.size).toBeGreaterThan(0);
  return trace.traceEvents
    .filter(e => e.ph === 'X' && e.name === 'RunTask' && main.has(`${e.pid}:${e.tid}`) && (e.dur ?? 0) > 50000)
    .map(e => ({ wallMs: Math.round(e.dur! / 1000), cpuMs: Math.round((e.tdur ?? e.dur!) / 1000) }));
}

interface ITraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  dur?: number;
  /** Thread (CPU) time of the event, microseconds. */
  tdur?: number;
  args?: { name?: string };
}

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
            // Until the service has started, the proxy answers with an error and no rules.
            (((await (await fetch('/meow/api/rules')).json()).rules ?? []) as { pattern: string }[]).map(r => r.pattern)
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

  test(`${BURST} jobs arriving while the Monitor is open: no task over ${LONG_TASK_LIMIT_MS} ms of CPU`, async ({
    page
  }) => {
    test.setTimeout(420000);
    const monitor = await openMonitor(page);
    const before = await jobTotal(page, { pattern: burst });
    const root = await page.evaluate(async () => (await (await fetch('/meow/api/status')).json()).workgroup as string);
    expect(fs.existsSync(path.join(root, folder, 'one.txt'))).toBe(true);

    // A Chromium trace of the burst: every task of the page's main thread
    // with its wall time and its CPU time. While it records, nothing of
    // Playwright runs in the page but fetches and one attribute read: its
    // locators and failure snapshots (an aria tree of the whole Lab) run on
    // the page's main thread and made long tasks of their own.
    const trace = test.info().outputPath('burst-trace.json');
    const browser = page.context().browser()!;
    await browser.startTracing(page.context().pages()[0], {
      path: trace,
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline']
    });
    // Written straight to disk, as a burst from an instrument would be.
    for (let i = 0; i < BURST; i++) {
      fs.writeFileSync(path.join(root, folder, `b-${String(i).padStart(4, '0')}.txt`), `sample ${i}\n`);
    }
    await expect
      .poll(() => jobTotal(page, { pattern: burst, status: 'failed' }), { timeout: 300000, intervals: [2000] })
      .toBe(before + BURST);
    const total = await jobTotal(page);
    await page.waitForFunction(
      t => document.querySelector('[data-testid="meow-job-table"]')?.getAttribute('data-meow-total') === t,
      String(total),
      { timeout: 30000, polling: 500 }
    );
    // Two frames for the last render.
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    await browser.stopTracing();
    const tasks = longTasks(JSON.parse(fs.readFileSync(trace, 'utf-8')));
    const maxCpu = Math.max(0, ...tasks.map(t => t.cpuMs));
    const maxWall = Math.max(0, ...tasks.map(t => t.wallMs));
    const listed = tasks.map(t => `${t.wallMs}/${t.cpuMs}`).join(', ');
    console.log(
      `monitor burst: ${BURST} jobs, ${tasks.length} long tasks, longest ${maxWall} ms wall, ${maxCpu} ms CPU (wall/CPU ms: ${listed})`
    );
    test.info().annotations.push({ type: 'long tasks', description: `${tasks.length}, most CPU ${maxCpu} ms` });
    if (maxCpu > LONG_TASK_LIMIT_MS) {
      // Open in Chromium's DevTools (Performance) to see what ran.
      await test.info().attach('burst-trace.json', { path: trace, contentType: 'application/json' });
    }
    expect(maxCpu).toBeLessThanOrEqual(LONG_TASK_LIMIT_MS);

    // The failures came as a few notifications (each updated as more failed
    // within 10 s), not thousands; they stay in the Lab's list after their toasts close.
    const failureNotes = (await page.notifications).filter(n => /^\d+ jobs failed \(.*Burst_/.test(n.message));
    expect(failureNotes.length).toBeGreaterThanOrEqual(1);
    expect(failureNotes.length).toBeLessThan(20);
    await expect(monitor.locator('[data-meow-filter-status="failed"] b')).toHaveText(
      String(await jobTotal(page, { status: 'failed' }))
    );

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
