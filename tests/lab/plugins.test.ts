/**
 * Activate every plugin against a small fake JupyterLab and open each panel:
 * the wiring (tokens, commands, shell areas, trackers) works without errors.
 */
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { act } from 'react';

import plugins from '../../src/index';
import { CommandIDs, IMeow } from '../../src/lab/tokens';
import { FakeWebSocket, fakeSettings, makeJob } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

describe('plugins', () => {
  it('activate and open the Workflow, Monitor and Report panels', async () => {
    FakeWebSocket.reset();
    const jobs = [makeJob(1), makeJob(2, { status: 'failed' })];
    const { serverSettings } = fakeSettings(req => {
      const path = new URL(req.url).pathname.replace('/lab-base/meow/api', '');
      switch (path) {
        case '/status':
          return {
            body: {
              state: 'running',
              version: '0.1.0',
              counts: { failed: 1, done: 1 },
              problems: {},
              settings: { workers: 1, settleMs: 100, timeoutSeconds: 0 }
            }
          };
        case '/patterns':
          return { body: { patterns: [] } };
        case '/recipes':
          return { body: { recipes: [] } };
        case '/rules':
          return { body: { rules: [] } };
        case '/jobs':
          return { body: { jobs, total: 2, offset: 0, limit: 1000 } };
        case '/provenance':
          return { body: { jobs: [], edges: [] } };
      }
      return undefined;
    });
    const shellWidgets: Widget[] = [];
    const app = {
      name: 'JupyterLab',
      commands: new CommandRegistry(),
      serviceManager: { serverSettings, contents: { get: jest.fn() } },
      docRegistry: { addWidgetExtension: jest.fn() },
      contextMenu: { addItem: jest.fn() },
      shell: {
        add: (w: Widget) => {
          shellWidgets.push(w);
          Widget.attach(w, document.body);
        },
        activateById: jest.fn()
      }
    };
    const statusItems: any[] = [];
    const statusBar = { registerStatusItem: (id: string, item: any) => statusItems.push({ id, ...item }) };
    const ids = plugins.map(p => p.id);
    expect(ids).toEqual([
      'jupyterlab-meow:plugin',
      'jupyterlab-meow:status',
      'jupyterlab-meow:register',
      'jupyterlab-meow:workflow',
      'jupyterlab-meow:monitor',
      'jupyterlab-meow:report',
      'jupyterlab-meow:results',
      'jupyterlab-meow:launcher',
      'jupyterlab-meow:notifications'
    ]);
    let meow!: IMeow;
    await act(async () => {
      meow = plugins[0].activate(app as any, null);
      plugins[1].activate(app as any, meow, statusBar);
      plugins[2].activate(app as any, meow, null, null, null);
      plugins[3].activate(app as any, meow, null, null, null);
      plugins[4].activate(app as any, meow, null, null);
      plugins[5].activate(app as any, meow, null, null);
    });
    await waitFor(() => meow.status.up && meow.jobs.size === 2, 'the first status and jobs');
    expect(FakeWebSocket.last.url).toBe('ws://localhost:8888/lab-base/meow/api/events?token=secret');
    expect(meow.status.up).toBe(true);
    expect(meow.jobs.size).toBe(2);
    expect(statusItems[0].id).toBe('jupyterlab-meow:status');

    // The Workflow panel is in the left area.
    const workflow = shellWidgets.find(w => w.id === 'jp-meow-workflow')!;
    expect(workflow.hasClass('jp-meow-WorkflowPanel')).toBe(true);

    await act(async () => {
      await app.commands.execute(CommandIDs.openMonitor);
      await app.commands.execute(CommandIDs.openReport);
      await app.commands.execute(CommandIDs.newPattern, { recipe: 'append' });
      for (const w of shellWidgets) {
        MessageLoop.sendMessage(w, Widget.Msg.UpdateRequest);
      }
    });
    await waitFor(
      () =>
        document
          .querySelector('.jp-meow-MonitorPanel [data-testid="meow-job-table"]')
          ?.getAttribute('data-meow-total') === '2',
      'the Monitor'
    );
    await waitFor(() => document.querySelector('[data-testid="meow-pattern-recipe"]'), 'the pattern form');
    expect(
      document.querySelector('.jp-meow-MonitorPanel [data-testid="meow-job-table"]')!.getAttribute('data-meow-total')
    ).toBe('2');
    expect(document.querySelector('.jp-meow-ReportPanel [data-testid="meow-report-graph"]')).not.toBeNull();
    expect((document.querySelector('[data-testid="meow-pattern-recipe"]') as HTMLSelectElement).value).toBe('append');
    await act(async () => {
      await app.commands.execute(CommandIDs.showJob, { id: jobs[1].id });
    });
    await waitFor(
      () =>
        document
          .querySelector('.jp-meow-MonitorPanel [data-testid="meow-job-detail"]')
          ?.getAttribute('data-meow-job-id') === jobs[1].id,
      'the job detail'
    );
    expect(
      document.querySelector('.jp-meow-MonitorPanel [data-testid="meow-job-detail"]')!.getAttribute('data-meow-job-id')
    ).toBe(jobs[1].id);
    await act(async () => {
      for (const w of shellWidgets) {
        w.dispose();
      }
      meow.client.dispose();
    });
  });
});
