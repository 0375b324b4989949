/**
 * Galata configuration: a real JupyterLab (from the project's .venv, with
 * meow installed) driven by Debian's Chromium — Playwright never downloads
 * a browser here.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromium = process.env.MEOW_CHROMIUM || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  // One Jupyter server, one workgroup: run the scenarios in order.
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 120000,
  expect: { timeout: 30000 },
  outputDir: 'test-results',
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }], ['./summary-reporter.js']],
  use: {
    ...baseConfig.use,
    baseURL: 'http://localhost:8888',
    trace: 'retain-on-failure',
    screenshot: 'on',
    video: 'off',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    // make test-ui points this at the environment built from the wheel.
    command: `${process.env.MEOW_UI_JUPYTER || '../.venv/bin/jupyter'} lab --config jupyter_server_test_config.py`,
    url: 'http://localhost:8888/lab',
    timeout: 120000,
    reuseExistingServer: !process.env.CI
  }
};
