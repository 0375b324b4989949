/**
 * The Monitor of issue 10.4 in jsdom: sortable and resizable columns, the
 * one-line filter bar's time popover, short ids, the failure notifier, and
 * the status bar's done count.
 */
import { Widget } from '@lumino/widgets';
import { MessageLoop } from '@lumino/messaging';
import { CommandRegistry } from '@lumino/commands';
import { act } from 'react';

import { JobsModel, StatusModel } from '../../src/lab/models';
import { FailureNotifier } from '../../src/lab/plugins/notifications';
import { IMeow } from '../../src/lab/tokens';
import { MonitorPanel } from '../../src/lab/widgets/monitorPanel';
import { MONITOR_COLUMNS, gridTemplate, nextSort } from '../../src/lab/widgets/monitorTable';
import { MeowStatusItem } from '../../src/lab/widgets/statusItem';
import type { IJob } from '../../src/core/types';
import { fakeMeow, makeJob } from './fakes';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** Wait for `cond`, rendering in between (React renders on animation frames). */
async function until(cond: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeout) {
      throw new Error('condition not met in time');
    }
    await act(async () => {
      await new Promise(r => setTimeout(r, 10));
    });
  }
}

async function mount(meow: IMeow): Promise<MonitorPanel> {
  const panel = new MonitorPanel(meow, new CommandRegistry());
  await act(async () => {
    Widget.attach(panel, document.body);
    MessageLoop.sendMessage(panel, Widget.Msg.UpdateRequest);
  });
  await until(() => panel.node.querySelector('.jp-meow-jobRow[data-meow-job-id]') !== null);
  return panel;
}

async function unmount(panel: Widget): Promise<void> {
  await act(async () => Widget.detach(panel));
  panel.dispose();
}

describe('Monitor columns', () => {
  beforeEach(() => window.localStorage.clear());

  it('sorts by a header click, both ways, with aria-sort and an indicator', async () => {
    const jobs = [makeJob(1, { pattern: 'beta' }), makeJob(2, { pattern: 'alpha' }), makeJob(3, { pattern: 'gamma' })];
    const meow = fakeMeow(jobs);
    const panel = await mount(meow);
    const header = (id: string) => panel.node.querySelector(`[role="columnheader"][data-meow-column="${id}"]`)!;
    const patterns = () =>
      Array.from(panel.node.querySelectorAll('.jp-meow-jobRow[data-meow-job-id]')).map(r => r.children[1].textContent);
    expect(header('job').getAttribute('aria-sort')).toBe('descending');
    expect(header('pattern').getAttribute('aria-sort')).toBe('none');
    expect(patterns()).toEqual(['gamma', 'alpha', 'beta']);

    await act(async () => (header('pattern').querySelector('button') as HTMLButtonElement).click());
    await until(() => patterns()[0] === 'alpha');
    expect(patterns()).toEqual(['alpha', 'beta', 'gamma']);
    expect(header('pattern').getAttribute('aria-sort')).toBe('ascending');
    expect(header('pattern').querySelector('.jp-meow-sortIndicator')!.textContent).toBe('▲');
    expect(header('job').getAttribute('aria-sort')).toBe('none');

    await act(async () => (header('pattern').querySelector('button') as HTMLButtonElement).click());
    await until(() => patterns()[0] === 'gamma');
    expect(patterns()).toEqual(['gamma', 'beta', 'alpha']);
    expect(header('pattern').getAttribute('aria-sort')).toBe('descending');

    // A live update lands in sorted place.
    await act(async () => meow.jobs.upsert(makeJob(4, { pattern: 'delta' })));
    await until(() => patterns().length === 4);
    expect(patterns()).toEqual(['gamma', 'delta', 'beta', 'alpha']);
    await unmount(panel);
  });

  it('shows the one short id form with the full id on hover', async () => {
    const id = '20261122-035941-703-000005-6d07';
    const panel = await mount(fakeMeow([makeJob(1, { id })]));
    const cell = panel.node.querySelector(`.jp-meow-jobRow[data-meow-job-id="${id}"]`)!.children[0];
    expect(cell.textContent).toBe('000005-6d07');
    expect(cell.getAttribute('title')).toBe(id);
    await unmount(panel);
  });

  it('resizes a column from its handle, not below its minimum, and remembers the width', async () => {
    const panel = await mount(fakeMeow([makeJob(1)]));
    const pattern = MONITOR_COLUMNS.find(c => c.id === 'pattern')!;
    const handle = () => panel.node.querySelector('[data-meow-resize="pattern"]') as HTMLElement;
    const grid = () => panel.node.querySelector('.jp-meow-jobGrid') as HTMLElement;
    expect(grid().style.getPropertyValue('--jp-meow-job-columns')).toBe(gridTemplate(panel.columnWidths));
    await act(async () => handle().dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true })));
    await until(() => handle().getAttribute('aria-valuenow') === String(pattern.width + 10));
    expect(panel.columnWidths.pattern).toBe(pattern.width + 10);
    expect(grid().style.getPropertyValue('--jp-meow-job-columns')).toContain(`${pattern.width + 10}px`);
    for (let i = 0; i < 30; i++) {
      await act(async () =>
        handle().dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', shiftKey: true, bubbles: true }))
      );
    }
    await until(() => panel.columnWidths.pattern === pattern.minWidth);
    await unmount(panel);
    // A new Monitor starts with the widths the user left.
    const again = await mount(fakeMeow([makeJob(1)]));
    expect(again.columnWidths.pattern).toBe(pattern.minWidth);
    await unmount(again);
  });

  it('gives every column a fixed minimum so the detail pane scrolls the table instead of squeezing it', () => {
    const template = gridTemplate(Object.fromEntries(MONITOR_COLUMNS.map(c => [c.id, 1])));
    expect(template.split(' ').filter(t => t.endsWith('px'))).toHaveLength(MONITOR_COLUMNS.length - 1);
    expect(template).toContain(`minmax(${MONITOR_COLUMNS.find(c => c.id === 'path')!.minWidth}px, 1fr)`);
    expect(template).toContain(`${MONITOR_COLUMNS.find(c => c.id === 'pattern')!.minWidth}px`);
  });

  it('first click sorts text columns A→Z and times newest first; the next click flips', () => {
    const byId = (id: string) => MONITOR_COLUMNS.find(c => c.id === id)!;
    expect(nextSort({ key: 'id', direction: 'desc' }, byId('pattern'))).toEqual({ key: 'pattern', direction: 'asc' });
    expect(nextSort({ key: 'id', direction: 'desc' }, byId('duration'))).toEqual({
      key: 'duration',
      direction: 'desc'
    });
    expect(nextSort({ key: 'id', direction: 'desc' }, byId('job'))).toEqual({ key: 'id', direction: 'asc' });
  });
});

describe('Monitor filter bar', () => {
  it('keeps the time inputs in a popover that sets the filter', async () => {
    const meow = fakeMeow([makeJob(1), makeJob(5)]);
    const panel = await mount(meow);
    const q = (id: string) => panel.node.querySelector(`[data-testid="${id}"]`) as HTMLInputElement | null;
    expect(q('meow-filter-after')).toBeNull();
    await act(async () => q('meow-filter-time')!.click());
    expect(q('meow-filter-time')!.getAttribute('aria-expanded')).toBe('true');
    const input = q('meow-filter-after')!;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    await act(async () => {
      setter.call(input, '2026-01-01T00:00');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(meow.jobs.filter.after).toBe(new Date('2026-01-01T00:00').toISOString());
    // Escape closes it; the button shows a filter is set.
    await act(async () => document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' })));
    expect(q('meow-filter-after')).toBeNull();
    await until(() => q('meow-filter-time')!.classList.contains('jp-mod-active')); // re-rendered on the next frame
    await unmount(panel);
  });
});

describe('FailureNotifier', () => {
  afterEach(() => jest.useRealTimers());

  function setup() {
    jest.useFakeTimers();
    const jobs = new JobsModel();
    const calls: IJob[][] = [];
    const notifier = new FailureNotifier({ jobs, notify: failed => calls.push(failed), delay: 300 });
    return { jobs, calls, notifier };
  }

  /** The model after its first load from the service. */
  function load(jobs: JobsModel, list: IJob[]): void {
    (jobs as any)._loadedOnce = true;
    jobs.reset(list);
  }

  it('announces a new failure once, not the failures there before the first load', () => {
    const { jobs, calls } = setup();
    load(jobs, [makeJob(1, { status: 'failed' }), makeJob(2, { status: 'running' })]);
    jest.advanceTimersByTime(1000);
    expect(calls).toEqual([]);
    jobs.upsert(makeJob(2, { status: 'failed' }));
    jobs.upsert(makeJob(2, { status: 'failed', finished: 'later' }));
    jest.advanceTimersByTime(300);
    expect(calls.map(c => c.map(j => j.id))).toEqual([[makeJob(2).id]]);
    jobs.upsert(makeJob(2, { status: 'failed' }));
    jobs.setFilter({ status: ['failed'] }); // a reset that is not news
    jest.advanceTimersByTime(1000);
    expect(calls).toHaveLength(1);
  });

  it('announces failures close together as one batch', () => {
    const { jobs, calls } = setup();
    load(jobs, []);
    for (let i = 0; i < 12; i++) {
      jobs.upsert(makeJob(i, { status: 'failed' }));
    }
    jobs.upsert(makeJob(20, { status: 'done' }));
    jest.advanceTimersByTime(300);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(12);
  });

  it('after a reload (reconnect) announces failures missed meanwhile', () => {
    const { jobs, calls, notifier } = setup();
    load(jobs, [makeJob(1, { status: 'failed' })]);
    load(jobs, [makeJob(1, { status: 'failed' }), makeJob(2, { status: 'failed' })]);
    jest.advanceTimersByTime(300);
    expect(calls.map(c => c.map(j => j.id))).toEqual([[makeJob(2).id]]);
    notifier.dispose();
    jobs.upsert(makeJob(3, { status: 'failed' }));
    jest.advanceTimersByTime(300);
    expect(calls).toHaveLength(1);
  });
});

describe('MeowStatusItem done count', () => {
  it('shows how many jobs are done', async () => {
    const meow = fakeMeow([
      makeJob(1, { status: 'done' }),
      makeJob(2, { status: 'done' }),
      makeJob(3, { status: 'failed' })
    ]);
    const item = new MeowStatusItem(meow, () => undefined);
    await act(async () => {
      Widget.attach(item, document.body);
      MessageLoop.sendMessage(item, Widget.Msg.UpdateRequest);
    });
    await act(async () => (meow.status as StatusModel).update({ counts: {} } as any));
    const done = () => item.node.querySelector('[data-meow-count="done"]');
    await until(() => done() !== null);
    expect(done()!.textContent).toBe('2 done');
    await act(async () => Widget.detach(item));
  });
});
