/**
 * Issue 10, items 1 and 6: a job's result notebook opens read-only, without
 * a kernel, in a tab named after its pattern and short job id, closes
 * without a question and leaves the job record as it was; "Copy to
 * workspace to edit" makes an ordinary, editable notebook. The Launcher
 * has a MEOW section, the menu bar a MEOW menu, and the file-browser item
 * "Register as MEOW Recipe" an icon.
 *
 * Names carry a suffix unique to the attempt (see workflow.spec.ts).
 */
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

import { listJobs, notebook, runCommand, screenshot } from './helpers';

test.use({ viewport: { width: 1440, height: 900 } });

const kernelIds = async (page: IJupyterLabPageFixture): Promise<string[]> =>
  ((await (await page.request.get('/api/kernels')).json()) as { id: string }[]).map(k => k.id).sort();

const sessionPaths = async (page: IJupyterLabPageFixture): Promise<string[]> =>
  ((await (await page.request.get('/api/sessions')).json()) as { path: string }[]).map(s => s.path);

test.describe.serial('read-only results, the Launcher and the MEOW menu', () => {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const recipe = `echo_${suffix}`;
  const pattern = `Echo_${suffix}`;
  const folder = `meow-results-${suffix}`;

  test('a result opens read-only with no kernel, named after its job; a copy is editable', async ({ page }) => {
    test.setTimeout(180000);
    expect(
      await page.contents.uploadContent(
        notebook([
          "infile = ''\noutfile = ''",
          "import os\ntext = open(infile).read()\nprint('MEOW-RESULT read', text)\n" +
            "os.makedirs(os.path.dirname(outfile), exist_ok=True)\nopen(outfile, 'w').write(text[::-1])"
        ]),
        'text',
        `.meow/recipes/${recipe}.ipynb`
      )
    ).toBe(true);
    const yaml = [
      'input_file: infile',
      'input_paths:',
      `- ${folder}/in/*.txt`,
      'output:',
      `  outfile: '{VGRID}/${folder}/out/{FILENAME}'`,
      'parameterize_over: {}',
      'recipes:',
      `- ${recipe}`,
      'variables: {}',
      ''
    ].join('\n');
    expect(await page.contents.uploadContent(yaml, 'text', `.meow/patterns/${pattern}.yaml`)).toBe(true);
    await expect
      .poll(async () => {
        const body = await (await page.request.get('/meow/api/patterns')).json();
        // (Until the service is up, the proxy answers with an error body.)
        return (body?.patterns ?? []).find((p: { name: string }) => p.name === pattern)?.active ?? false;
      })
      .toBe(true);

    expect(await page.contents.uploadContent('read me backwards', 'text', `${folder}/in/words.txt`)).toBe(true);
    await expect
      .poll(async () => (await listJobs(page, { pattern })).map(j => j.status), { timeout: 90000, intervals: [500] })
      .toEqual(['done']);
    const [job] = await listJobs(page, { pattern });
    const short = job.id.split('-').slice(-2).join('-');
    const detail = await (await page.request.get(`/meow/api/jobs/${job.id}`)).json();
    const resultPath: string = detail.result;
    expect(resultPath).toMatch(/result\.ipynb$/);

    // The service's kernels (pool, jobs) settle once the job is done: measure then.
    let last = '';
    await expect
      .poll(
        async () => {
          const now = (await kernelIds(page)).join(',');
          const stable = now === last;
          last = now;
          return stable;
        },
        { timeout: 60000, intervals: [1000] }
      )
      .toBe(true);
    const kernelsBefore = await kernelIds(page);

    // Open the result from the Monitor's job detail.
    await runCommand(page, 'meow:show-job', { id: job.id });
    const monitor = page.locator('.jp-meow-MonitorPanel');
    await expect(monitor.getByTestId('meow-job-detail')).toHaveAttribute('data-meow-job-id', job.id);
    await monitor.getByTestId('meow-job-open-result').click();

    const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current');
    await expect(tab).toContainText(`${pattern} · ${short}`);
    const result = page.locator('.jp-meow-ResultPanel:visible');
    await expect(
      result.locator('.jp-OutputArea-output', { hasText: 'MEOW-RESULT read read me backwards' })
    ).toBeVisible();
    await expect(result.getByTestId('meow-result-status')).toHaveText('Read-only job result · done');

    // No kernel: the document's session settled without one, and none appeared on the server.
    await expect
      .poll(() =>
        page.evaluate(() => {
          const ctx = (window as any).jupyterapp.shell.currentWidget?.sessionContext;
          return ctx ? { ready: ctx.isReady, session: ctx.session === null ? null : 'yes' } : null;
        })
      )
      .toEqual({ ready: true, session: null });
    expect(await kernelIds(page)).toEqual(kernelsBefore);
    expect((await sessionPaths(page)).filter(p => p.includes(job.id))).toEqual([]);

    // Not editable: the editors are read-only and typing changes nothing.
    const editor = result.locator('.jp-CodeCell .cm-content').first();
    await expect(editor).toHaveAttribute('aria-readonly', 'true');
    await editor.click();
    await page.keyboard.type('zzz');
    await expect(editor).not.toContainText('zzz');
    await expect(tab).not.toHaveClass(/jp-mod-dirty/);
    await screenshot(page, 'result-readonly', 'result-readonly');

    // Closing asks nothing, and the job's record keeps its name and place.
    await tab.locator('.lm-TabBar-tabCloseIcon').click();
    await expect(result).toHaveCount(0);
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
    expect(await page.contents.fileExists(resultPath)).toBe(true);

    // "Copy to workspace to edit": an ordinary notebook at the root, opened.
    await monitor.getByTestId('meow-job-open-result').click();
    await expect(result.getByTestId('meow-result-copy')).toBeVisible();
    await result.getByTestId('meow-result-copy').click();
    const copyName = `${pattern}-${short}.ipynb`;
    await expect(tab).toContainText(copyName);
    const copy = page.locator('.jp-NotebookPanel:visible');
    await expect(copy).not.toHaveClass(/jp-meow-ResultPanel/);
    await expect(copy.locator('.jp-OutputArea-output', { hasText: 'MEOW-RESULT read' })).toBeVisible();
    await expect(copy.locator('.jp-CodeCell .cm-content').first()).not.toHaveAttribute('aria-readonly', 'true');
    expect(await page.contents.fileExists(copyName)).toBe(true);
  });

  test('the Launcher has a MEOW section, the menu bar a MEOW menu, the file browser an icon', async ({ page }) => {
    await runCommand(page, 'launcher:create');
    const section = page.locator('.jp-Launcher-section:visible', {
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: /^MEOW$/ })
    });
    await expect(section).toBeVisible();
    await expect(section.locator('.jp-LauncherCard-label')).toHaveText([
      'Workflow',
      'Monitor',
      'Report',
      'New Pattern'
    ]);
    await expect(section.locator('.jp-LauncherCard svg')).toHaveCount(4);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'launcher', 'launcher');
    await page.theme.setDarkTheme();
    try {
      await expect(section).toBeVisible();
      await screenshot(page, 'launcher-dark', 'launcher-dark');
    } finally {
      await page.theme.setLightTheme();
    }

    await section.locator('.jp-LauncherCard', { hasText: 'Monitor' }).click();
    await expect(page.locator('.jp-meow-MonitorPanel')).toBeVisible();

    await page.locator('.lm-MenuBar-item', { hasText: /^MEOW$/ }).click();
    const menu = page.locator('.lm-Menu').last();
    await expect(menu.locator('.lm-Menu-item:not([data-type="separator"]) .lm-Menu-itemLabel')).toHaveText([
      'Workflow',
      'Monitor',
      'Report',
      'New Pattern',
      'Register Notebook as MEOW Recipe'
    ]);
    await menu.locator('.lm-Menu-item', { hasText: 'Report' }).click();
    await expect(page.locator('.jp-meow-ReportPanel')).toBeVisible();

    // The file-browser context item on a notebook carries the MEOW icon.
    expect(await page.contents.uploadContent(notebook(['1 + 1']), 'text', `${folder}/note.ipynb`)).toBe(true);
    await page.filebrowser.openDirectory(folder);
    await page.locator('.jp-DirListing-item', { hasText: 'note.ipynb' }).click({ button: 'right' });
    const item = page.locator('.lm-Menu-item', { hasText: 'Register as MEOW Recipe' });
    await expect(item).toBeVisible();
    await expect(item.locator('.lm-Menu-itemIcon svg')).toHaveCount(1);
    await page.keyboard.press('Escape');
  });
});
