/**
 * The panels rendered in jsdom: the Monitor's windowed table and filters,
 * the pattern form's live validation, and the status-bar item.
 */
import { Widget } from '@lumino/widgets';
import { MessageLoop } from '@lumino/messaging';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';
import { ReactWidget } from '@jupyterlab/ui-components';
import { act } from 'react';

import { WorkflowModel } from '../../src/lab/models';
import type { IMeow } from '../../src/lab/tokens';
import { MonitorPanel } from '../../src/lab/widgets/monitorPanel';
import { PatternEditor } from '../../src/lab/widgets/patternEditor';
import { MeowStatusItem } from '../../src/lab/widgets/statusItem';
import type { IJob } from '../../src/core/types';
import { fakeMeow, makeJob } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** Jobs whose details the client serves, and one recipe. */
function meowOf(jobs: IJob[]): IMeow {
  const workflow = new WorkflowModel();
  workflow.set([], [{ name: 'append', file: 'r', variables: ['infile', 'extra'], patterns: [] }]);
  return fakeMeow(
    jobs,
    req => {
      const id = decodeURIComponent(new URL(req.url).pathname.split('/').pop()!);
      const job = jobs.find(j => j.id === id);
      return job ? { body: { job, children: [], folder: `.meow/jobs/${id}` } } : { status: 404, body: { error: 'no' } };
    },
    () => ({ workflow })
  );
}

describe('MonitorPanel', () => {
  it('renders a window of rows out of 10,000 jobs and follows filters and updates', async () => {
    const jobs = Array.from({ length: 10000 }, (_, i) => makeJob(i, { status: i % 100 === 0 ? 'failed' : 'done' }));
    const meow = meowOf(jobs);
    const panel = new MonitorPanel(meow, new CommandRegistry());
    await act(async () => {
      Widget.attach(panel, document.body);
      MessageLoop.sendMessage(panel, Widget.Msg.UpdateRequest);
    });
    const rows = () => panel.node.querySelectorAll('[data-meow-job-id].jp-meow-jobRow');
    await waitFor(() => rows().length > 0, 'the first rows');
    expect(panel.node.classList.contains('jp-meow-MonitorPanel')).toBe(true);
    expect(rows().length).toBeGreaterThan(0);
    expect(rows().length).toBeLessThan(60);
    expect(rows()[0].getAttribute('data-meow-job-id')).toBe(jobs[9999].id);
    expect(panel.node.querySelector('.jp-meow-tableFooter')!.textContent).toBe('10000 jobs');

    // Status chip filter.
    const chip = panel.node.querySelector('[data-meow-filter-status="failed"]') as HTMLButtonElement;
    expect(chip.textContent).toBe('failed 100');
    await act(async () => chip.click());
    await waitFor(
      () => panel.node.querySelector('.jp-meow-tableFooter')!.textContent === '100 of 10000 jobs',
      'the filtered count'
    );
    expect(Array.from(rows()).every(r => r.getAttribute('data-meow-job-status') === 'failed')).toBe(true);

    // A live update: a new failed job appears on top without reloading.
    const fresh = makeJob(20000, { status: 'failed' });
    await act(async () => meow.jobs.upsert(fresh));
    await waitFor(() => rows()[0].getAttribute('data-meow-job-id') === fresh.id, 'the new job on top');

    // Selecting a row opens its detail.
    await act(async () => (rows()[0] as HTMLElement).click());
    const detail = await waitFor(() => panel.node.querySelector('[data-testid="meow-job-detail"]'), 'the job detail');
    expect(detail.getAttribute('data-meow-job-id')).toBe(fresh.id);
    await waitFor(
      () => detail.querySelector('[data-testid="meow-job-hash"]')?.textContent === 'abc',
      'the fetched job hash'
    );
    expect((detail.querySelector('[data-testid="meow-job-cancel"]') as HTMLButtonElement).disabled).toBe(true);
    expect((detail.querySelector('[data-testid="meow-job-rerun"]') as HTMLButtonElement).disabled).toBe(false);
    await act(async () => Widget.detach(panel));
    panel.dispose();
  });
});

describe('PatternEditor', () => {
  it('shows the core validation messages live and enables Save when valid', async () => {
    const meow = meowOf([]);
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meow.workflow, onClose: () => undefined })
    );
    await act(async () => {
      Widget.attach(widget, document.body);
      MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
    });
    const host = widget.node;
    const q = (id: string) => host.querySelector(`[data-testid="${id}"]`) as HTMLInputElement;
    const type = async (id: string, value: string) => {
      const el = q(id);
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value')!.set!;
      await act(async () => {
        setter.call(el, value);
        el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
      });
    };
    // Nothing typed yet: no errors (Save would show them).
    expect(host.querySelector('.jp-meow-fieldError')).toBeNull();
    await type('meow-pattern-name', 'Pattern_One');
    await type('meow-pattern-recipe', 'append');
    await type('meow-pattern-path', '/start/*');
    expect(q('meow-error-path').textContent).toMatch(/must be relative to the workgroup/);
    expect(q('meow-pattern-save').disabled).toBe(true);
    await type('meow-pattern-path', 'start/*');
    await type('meow-pattern-input', 'infile');
    expect(host.querySelector('[data-testid="meow-error-path"]')).toBeNull();
    expect(q('meow-pattern-save').disabled).toBe(false);
    expect(q('meow-pattern-preview').textContent).toBe(
      'recipe: append\ntrigger:\n  path: start/*\n  events:\n    - created\n    - modified\ninput: infile\n'
    );
    await act(async () => widget.dispose());
  });
});

describe('MeowStatusItem', () => {
  it('shows counts when up and "down" otherwise', async () => {
    const meow = meowOf([
      makeJob(1, { status: 'queued' }),
      makeJob(2, { status: 'running' }),
      makeJob(3, { status: 'failed' })
    ]);
    const item = new MeowStatusItem(meow, () => undefined);
    await act(async () => {
      Widget.attach(item, document.body);
      MessageLoop.sendMessage(item, Widget.Msg.UpdateRequest);
    });
    const node = () => item.node.querySelector('[data-testid="meow-status"]')!;
    expect(node().getAttribute('data-meow-service')).toBe('down');
    await act(async () => (meow.status as StatusModel).update({ counts: {} } as any));
    await waitFor(() => node().getAttribute('data-meow-service') === 'up', 'the service up');
    expect(node().textContent).toContain('1 queued');
    expect(node().textContent).toContain('1 running');
    expect(node().textContent).toContain('1 failed');
    await act(async () => Widget.detach(item));
  });
});
