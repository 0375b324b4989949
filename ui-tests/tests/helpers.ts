/**
 * Shared helpers of the meow UI tests.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/** Where the tests keep their screenshots (artifacts, not snapshot baselines). */
export const SCREENS = path.join(__dirname, '..', 'test-results', 'screens');

/** The committed copies used by the README. */
export const README_SCREENS = path.join(__dirname, '..', 'screenshots');

/**
 * Take a screenshot of the whole page as `test-results/screens/<name>.png`;
 * with `readme` and MEOW_UPDATE_SCREENSHOTS=1 in the environment, also copy
 * it to `ui-tests/screenshots/<readme>.png` (committed, shown in the README;
 * a plain test run leaves the tree clean).
 */
export async function screenshot(page: IJupyterLabPageFixture, name: string, readme?: string): Promise<void> {
  fs.mkdirSync(SCREENS, { recursive: true });
  const file = path.join(SCREENS, `${name}.png`);
  // Let d3 transitions and React renders settle on a frame boundary.
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: file });
  if (readme && process.env.MEOW_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(README_SCREENS, { recursive: true });
    fs.copyFileSync(file, path.join(README_SCREENS, `${readme}.png`));
  }
}

/** Run a JupyterLab command (the app is exposed by galata's server config). */
export async function runCommand(
  page: IJupyterLabPageFixture,
  id: string,
  args: Record<string, unknown> = {}
): Promise<void> {
  await page.evaluate(
    async ({ id, args }) => {
      await (window as any).jupyterapp.commands.execute(id, args);
    },
    { id, args }
  );
}

/** Open the Workflow sidebar panel and return it. */
export async function openWorkflow(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('jp-meow-workflow');
  // Wide enough for the graph to be readable in the screenshots.
  await page.sidebar.setWidth(500, 'left');
  const panel = page.locator('.jp-meow-WorkflowPanel');
  await panel.waitFor({ state: 'visible' });
  return panel;
}

/** A minimal notebook (nbformat 4) made of code cells. */
export function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({
      id: `cell-${i}`,
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source
    })),
    metadata: {
      kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' },
      language_info: { name: 'python' }
    },
    nbformat: 4,
    nbformat_minor: 5
  });
}

/** Jobs the service knows, straight from its REST API (through Jupyter). */
export async function listJobs(
  page: IJupyterLabPageFixture,
  query: Record<string, string> = {}
): Promise<{ id: string; pattern: string; recipe: string; status: string; trigger: { path: string } }[]> {
  return page.evaluate(async q => {
    const res = await fetch('/meow/api/jobs?' + new URLSearchParams({ limit: '1000', ...q }).toString());
    const body = await res.json();
    return Array.isArray(body) ? body : (body.jobs ?? body.items ?? []);
  }, query);
}
