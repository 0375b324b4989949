/**
 * (h) The Report at 5,000 jobs (issue 10, item 3): navigable (repeated
 * workflows folded into group nodes that unfold and fold, wheel zoom, drag
 * pan, fit, search by trigger file zooms to the job), nodes labelled with
 * their trigger files, and the Lab theme followed — the canvas is dark in
 * JupyterLab Dark, and so is the exported SVG.
 *
 * Running 5,000 notebooks would take the better part of an hour, so this
 * spec starts a JupyterLab of its own (port 8897) on a workgroup that
 * already holds 5,000 finished jobs, written as a job journal the way the
 * service writes one (`.meow/jobs/journal.jsonl`, one JSON record a line);
 * the service loads it at start exactly as after a restart. Its settings
 * folder is its own, so switching the theme does not reach other specs.
 */
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { makeJobId } from '../../src/core/jobs';
import type { IJob } from '../../src/core/types';
import { SCREENS, runCommand, screenshot } from './helpers';

const PORT = 8897;
const JUPYTER = process.env.MEOW_UI_JUPYTER || path.resolve(__dirname, '..', '..', '.venv', 'bin', 'jupyter');
/** The file the search looks for. */
const NEEDLE = 'many/needle-4242.txt';

test.use({ viewport: { width: 1440, height: 900 }, baseURL: `http://localhost:${PORT}` });

/**
 * 5,000 finished jobs: 1,500 runs of Step1 → Step2 (one Step2 in 100
 * failed), 1,900 lone Solo jobs (one of them on NEEDLE) and 25 runs of
 * Split with three Part children each.
 */
function seedJobs(): IJob[] {
  const jobs: IJob[] = [];
  const t0 = Date.now() - 6 * 3600_000;
  let seq = 0;
  const job = (pattern: string, file: string, extra: Partial<IJob> = {}): IJob => {
    const at = t0 + seq * 2000;
    const id = makeJobId(at, ++seq, (seq % 65536).toString(16).padStart(4, '0'));
    const j: IJob = {
      id,
      pattern,
      recipe: pattern === 'Solo' ? 'touch' : 'step',
      rule: `${pattern}-step`,
      ruleKey: pattern,
      status: 'done',
      trigger: { kind: 'created', path: file, time: new Date(at).toISOString() },
      parameters: { infile: file },
      filesWritten: [],
      created: new Date(at).toISOString(),
      started: new Date(at + 100).toISOString(),
      finished: new Date(at + 900).toISOString(),
      conductor: 'kernel',
      ...extra
    };
    jobs.push(j);
    return j;
  };
  for (let i = 0; i < 1500; i++) {
    const name = `d${String(i).padStart(4, '0')}.dat`;
    const a = job('Step1', `in/${name}`, { filesWritten: [`out/${name}`] });
    job(
      'Step2',
      `out/${name}`,
      i % 100 === 7 ? { parent: a.id, status: 'failed', error: { message: 'ValueError: bad row 3' } } : { parent: a.id }
    );
  }
  for (let i = 0; i < 1900; i++) {
    job('Solo', i === 1234 ? NEEDLE : `many/s${String(i).padStart(4, '0')}.txt`);
  }
  for (let i = 0; i < 25; i++) {
    const parts = [1, 2, 3].map(k => `parts/r${i}_${k}.csv`);
    const split = job('Split', `runs/r${i}.csv`, { filesWritten: parts });
    parts.forEach(p => job('Part', p, { parent: split.id }));
  }
  return jobs;
}

function seedWorkgroup(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meow-report-5000-'));
  fs.mkdirSync(path.join(root, '.meow', 'jobs'), { recursive: true });
  const lines = seedJobs().map(j => JSON.stringify(j));
  expect(lines).toHaveLength(5000);
  fs.writeFileSync(path.join(root, '.meow', 'jobs', 'journal.jsonl'), lines.join('\n') + '\n');
  return root;
}

async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await fetch(url).then(
      r => r.ok,
      () => false
    );
    if (ok) {
      return;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`JupyterLab did not answer on ${url}`);
}

/** Transform of the report's zoom group. */
async function zoomTransform(page: IJupyterLabPageFixture): Promise<string> {
  return (await page.locator('.jp-meow-ReportPanel [data-meow-zoom]').getAttribute('transform')) ?? '';
}

test.describe.serial('meow Report at 5,000 jobs', () => {
  let server: ChildProcess | null = null;
  let root = '';

  test.beforeAll(async () => {
    test.setTimeout(180000);
    root = seedWorkgroup();
    server = spawn(JUPYTER, ['lab', '--config', 'jupyter_server_test_config.py', `--ServerApp.port=${PORT}`], {
      cwd: path.resolve(__dirname, '..'),
      env: {
        ...process.env,
        JUPYTERLAB_GALATA_ROOT_DIR: root,
        JUPYTERLAB_SETTINGS_DIR: path.join(root, '.lab-settings')
      },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe']
    });
    let log = '';
    server.stderr!.on('data', d => (log = (log + d).slice(-4000)));
    await waitForServer(`http://localhost:${PORT}/lab`, 120000).catch(err => {
      throw new Error(`${err.message}\n${log}`);
    });
  });

  test.afterAll(async () => {
    if (server?.pid) {
      const exited = new Promise(r => server!.once('exit', r));
      process.kill(-server.pid, 'SIGTERM');
      await Promise.race([exited, new Promise(r => setTimeout(r, 15000))]);
    }
    if (root) {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('folds, zooms, pans, finds and follows the theme', async ({ page }) => {
    test.setTimeout(240000);
    // The service has loaded the journal.
    await expect
      .poll(async () => page.evaluate(async () => (await (await fetch('/meow/api/jobs?limit=1')).json()).total ?? -1), {
        timeout: 60000
      })
      .toBe(5000);

    const started = Date.now();
    await runCommand(page, 'meow:open-report');
    const report = page.locator('.jp-meow-ReportPanel');
    const graph = report.getByTestId('meow-report-graph');
    await expect(graph).toHaveAttribute('data-meow-total', '5000', { timeout: 60000 });
    await expect(graph.locator('[data-meow-group]').first()).toBeVisible();
    const openMs = Date.now() - started;
    const drawMs = Number(await graph.locator('[data-meow-draw-ms]').getAttribute('data-meow-draw-ms'));
    console.log(`report: 5,000 jobs on screen ${openMs} ms after the command (layout and drawing ${drawMs} ms)`);
    expect(openMs).toBeLessThan(30000);

    // Folded: a few dozen nodes for 5,000 jobs, groups by workflow shape.
    const drawn = Number(await graph.getAttribute('data-meow-jobs'));
    expect(drawn).toBeLessThan(300);
    const groups = graph.locator('[data-meow-group]');
    await expect(groups).toHaveCount(3);
    await expect(graph.locator('[data-meow-group="group:Split → Part"]')).toContainText('25 runs, 100 jobs');
    await expect(graph.locator('[data-meow-group="group:Step1 → Step2"]')).toContainText('1,500 runs, 3,000 jobs');
    await expect(graph.locator('[data-meow-group="group:Step1 → Step2"]')).toContainText('15 failed');
    await expect(report.getByTestId('meow-report-summary')).toContainText('5,000 jobs');

    // Wheel zoom changes the transform; so does dragging; Fit comes back.
    await report.getByTestId('meow-report-fit').click();
    const box = (await graph.boundingBox())!;
    const before = await zoomTransform(page);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -600);
    await expect.poll(() => zoomTransform(page)).not.toBe(before);
    const scaleOf = (t: string) => Number(/scale\(([^)]+)\)/.exec(t)?.[1] ?? '1');
    expect(scaleOf(await zoomTransform(page))).toBeGreaterThan(scaleOf(before));
    const zoomed = await zoomTransform(page);
    await page.mouse.move(box.x + 40, box.y + box.height - 40);
    await page.mouse.down();
    await page.mouse.move(box.x + 240, box.y + box.height - 140, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => zoomTransform(page)).not.toBe(zoomed);
    await report.getByTestId('meow-report-fit').click();
    await expect.poll(() => zoomTransform(page)).toBe(before);

    // A group unfolds (its newest runs, labelled with trigger files) and folds.
    const solo = graph.locator('[data-meow-group="group:Solo"]');
    await solo.click();
    await expect(solo).toHaveAttribute('data-meow-group-expanded', 'true');
    await expect.poll(async () => graph.locator('[data-meow-pattern="Solo"]').count()).toBe(100);
    await expect(graph.locator('[data-meow-pattern="Solo"]').first()).toContainText('s1899.txt');
    await solo.click();
    await expect(solo).toHaveAttribute('data-meow-group-expanded', 'false');
    await expect(graph.locator('[data-meow-pattern="Solo"]')).toHaveCount(0);

    // Search by trigger file: the job is drawn, marked and centred.
    const search = report.getByTestId('meow-report-search');
    await search.fill('needle-4242');
    await search.press('Enter');
    const focused = graph.locator('.jp-meow-focus');
    await expect(focused).toHaveAttribute('data-meow-pattern', 'Solo');
    await expect(focused).toContainText('needle-4242.txt');
    await expect(focused.locator('title')).toHaveText(new RegExp(`^${NEEDLE}`));
    await expect(report.getByTestId('meow-report-search-status')).toContainText('1 of 1');
    await expect
      .poll(async () => {
        const b = (await focused.boundingBox())!;
        return Math.hypot(b.x + b.width / 2 - (box.x + box.width / 2), b.y + b.height / 2 - (box.y + box.height / 2));
      })
      .toBeLessThan(40);

    // Unfold the chains too, for the screenshots.
    await report.getByTestId('meow-report-fit').click();
    await graph.locator('[data-meow-group="group:Step1 → Step2"]').click();
    await expect(graph.locator('[data-meow-pattern="Step2"]')).toHaveCount(100);
    // Zoomed around the top-left corner: the groups, the search result and the newest runs.
    await report.getByTestId('meow-report-fit').click();
    await page.mouse.move(box.x + 4, box.y + 4);
    await page.mouse.wheel(0, -400);
    await screenshot(page, 'report-light', 'report-light');
    const canvasBackground = () =>
      page.evaluate(
        () => getComputedStyle(document.querySelector('.jp-meow-ReportPanel svg.jp-meow-reportSvg')!).backgroundColor
      );
    const luminance = (rgb: string) => {
      const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    expect(luminance(await canvasBackground())).toBeGreaterThan(0.8);

    // Dark theme: the canvas follows.
    await runCommand(page, 'apputils:change-theme', { theme: 'JupyterLab Dark' });
    await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
    await expect.poll(async () => luminance(await canvasBackground())).toBeLessThan(0.25);
    // The rest of the Lab has switched too (the theme's stylesheet is in).
    for (const selector of ['.jp-meow-ReportPanel', '.lm-MenuBar', '#jp-main-statusbar']) {
      await expect
        .poll(async () =>
          luminance(await page.evaluate(s => getComputedStyle(document.querySelector(s)!).backgroundColor, selector))
        )
        .toBeLessThan(0.3);
    }
    await screenshot(page, 'report-dark', 'report-dark');

    // The export looks like the screen: dark background, colours inlined.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      report.getByTestId('meow-report-export-svg').click()
    ]);
    const saved = path.join(SCREENS, 'report-dark.svg');
    fs.mkdirSync(SCREENS, { recursive: true });
    await download.saveAs(saved);
    const svg = fs.readFileSync(saved, 'utf-8');
    expect(svg).not.toContain('var(--');
    const bg = /<rect width="100%" height="100%" fill="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(luminance(bg)).toBeLessThan(0.25);
    expect(svg).toContain('data-meow-group="group:Solo"');
    expect(svg).toContain('d1499.dat');
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      report.getByTestId('meow-report-export-png').click()
    ]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
  });
});
