import { expect, test } from '@jupyterlab/galata';

test.describe('meow extension', () => {
  test('is loaded in JupyterLab and its service answers through Jupyter', async ({ page }) => {
    const loaded = await page.evaluate(() => (window as any).jupyterapp.hasPlugin('jupyterlab-meow:plugin'));
    expect(loaded).toBe(true);
    const status = await page.evaluate(async () => {
      const res = await fetch('/meow/api/status');
      return { code: res.status, body: await res.json() };
    });
    expect(status.code).toBe(200);
    expect(status.body.apiVersion).toBe(1);
  });
});
