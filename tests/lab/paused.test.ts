/**
 * Runaway limits in the lab: the client's paused/resume calls, PausedModel
 * (initial fetch, `paused` events, resume), and the Workflow panel, Monitor
 * banner and status-bar count with their Resume action.
 */
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { act } from 'react';

import type { IPatternInfo } from '../../src/core/api';
import type { IPausedRule } from '../../src/core/types';
import { MeowClient } from '../../src/lab/client';
import { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel } from '../../src/lab/models';
import { DEFAULT_SETTINGS, IMeow } from '../../src/lab/tokens';
import { MonitorPanel } from '../../src/lab/widgets/monitorPanel';
import { MeowStatusItem } from '../../src/lab/widgets/statusItem';
import { WorkflowPanel } from '../../src/lab/widgets/workflowPanel';
import { FakeWebSocket, IRecordedRequest, fakeSettings } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const RATE: IPausedRule = {
  pattern: 'loop',
  limit: 'max_rate',
  reason: 'its next job would be job 61 in the last minute; max_rate is 60 per minute',
  since: '2026-01-01T10:00:00.000Z',
  path: 'data/x.dat'
};
const DEPTH: IPausedRule = {
  pattern: 'deep',
  limit: 'max_depth',
  reason: 'its next job would end a provenance chain of 101 jobs; max_depth is 100',
  since: '2026-01-01T11:00:00.000Z'
};

/** A fake service: `paused` is what GET /paused answers; resume removes from it. */
function fakeService(paused: IPausedRule[]) {
  const state = { paused: [...paused] };
  const { serverSettings, requests } = fakeSettings((req: IRecordedRequest) => {
    const path = new URL(req.url).pathname.replace('/lab-base/meow/api', '');
    if (path === '/paused' && req.method === 'GET') {
      return { body: { paused: state.paused } };
    }
    const m = /^\/patterns\/([^/]+)\/resume$/.exec(path);
    if (m && req.method === 'POST') {
      const name = decodeURIComponent(m[1]);
      const was = state.paused.some(r => r.pattern === name);
      state.paused = state.paused.filter(r => r.pattern !== name);
      return { body: { resumed: was } };
    }
    return undefined;
  });
  return { client: new MeowClient({ serverSettings }), requests, state };
}

function patternInfo(name: string): IPatternInfo {
  return {
    name,
    file: `.meow/patterns/${name}.yaml`,
    text: '',
    active: true,
    pattern: {
      name,
      recipe: 'append',
      trigger: { kind: 'file', path: 'data/*', events: ['created'] },
      parameters: {},
      outputs: {},
      sweep: {},
      format: 'native'
    }
  } as IPatternInfo;
}

function fakeMeow(client: MeowClient): IMeow {
  const workflow = new WorkflowModel();
  workflow.set(
    [patternInfo('deep'), patternInfo('loop'), patternInfo('calm')],
    [{ name: 'append', file: 'r', variables: [], patterns: [] }]
  );
  const status = new StatusModel();
  status.update({ counts: {} } as any);
  return {
    client,
    jobs: new JobsModel(),
    workflow,
    status,
    paused: new PausedModel({ client }),
    manual: new ManualModel(),
    settings: { ...DEFAULT_SETTINGS },
    settingsChanged: new Signal<IMeow, any>({} as IMeow),
    contentsPath: p => p
  };
}

async function show(widget: Widget): Promise<void> {
  await act(async () => {
    Widget.attach(widget, document.body);
    MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
  });
  await waitFor(() => widget.node.childElementCount > 0, 'the first render');
}

describe('MeowClient paused/resume', () => {
  it('GETs /paused and POSTs /patterns/<name>/resume', async () => {
    const { client, requests } = fakeService([RATE]);
    expect(await client.paused()).toEqual([RATE]);
    expect(await client.resume('loop')).toBe(true);
    expect(await client.resume('loop')).toBe(false);
    expect(requests.map(r => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /lab-base/meow/api/paused',
      'POST /lab-base/meow/api/patterns/loop/resume',
      'POST /lab-base/meow/api/patterns/loop/resume'
    ]);
  });
});

describe('PausedModel', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('loads the list, follows paused events, and resumes', async () => {
    const { client, requests, state } = fakeService([RATE]);
    const model = new PausedModel({ client });
    let changed = 0;
    model.changed.connect(() => changed++);
    await model.refresh();
    expect(model.loaded).toBe(true);
    expect(model.paused).toEqual([RATE]);
    expect(model.get('loop')).toEqual(RATE);
    client.connect();
    FakeWebSocket.last.open();
    await waitFor(() => requests.filter(r => r.url.endsWith('/paused')).length >= 2, 'the refetch on connect');
    state.paused = [RATE, DEPTH];
    FakeWebSocket.last.receive({ type: 'paused', paused: state.paused });
    expect(model.paused.map(r => r.pattern)).toEqual(['deep', 'loop']);
    expect(model.count).toBe(2);
    // Unrelated events leave it alone.
    FakeWebSocket.last.receive({ type: 'definitions' });
    expect(model.count).toBe(2);
    expect(await model.resume('loop')).toBe(true);
    expect(model.paused).toEqual([DEPTH]);
    expect(requests.some(r => r.method === 'POST' && r.url.endsWith('/patterns/loop/resume'))).toBe(true);
    // A reconnect refetches what may have been missed.
    const before = requests.length;
    FakeWebSocket.last.drop();
    client.reconnect();
    FakeWebSocket.last.open();
    await waitFor(() => requests.length > before, 'the refetch on reconnect');
    expect(requests.slice(before).map(r => new URL(r.url).pathname)).toEqual(['/lab-base/meow/api/paused']);
    expect(model.paused).toEqual([DEPTH]);
    expect(changed).toBeGreaterThanOrEqual(4);
    model.dispose();
    client.dispose();
  });

  it('keeps the error when the service cannot list pauses', async () => {
    const { serverSettings } = fakeSettings(() => ({ status: 503, text: '' }));
    const model = new PausedModel({ client: new MeowClient({ serverSettings }) });
    await model.refresh();
    expect(model.paused).toEqual([]);
    expect(model.error).toMatch(/not running/);
  });
});

describe('paused rules in the panels', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('Workflow panel: shows the paused pattern with its limit and reason, and Resume resumes it', async () => {
    const { client, state, requests } = fakeService([RATE]);
    const meow = fakeMeow(client);
    await meow.paused.refresh();
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const item = (name: string) => panel.node.querySelector(`.jp-meow-patternItem[data-meow-pattern="${name}"]`)!;
    expect(item('loop').getAttribute('data-meow-paused')).toBe('max_rate');
    expect(item('loop').classList.contains('jp-meow-isPaused')).toBe(true);
    const notice = item('loop').querySelector('[data-testid="meow-pause-notice"]')!;
    expect(notice.textContent).toContain(
      'max_rate — its next job would be job 61 in the last minute; max_rate is 60 per minute'
    );
    expect(notice.textContent).toContain('trigger data/x.dat');
    expect(item('calm').querySelector('[data-testid="meow-pause-notice"]')).toBeNull();
    expect(item('calm').hasAttribute('data-meow-paused')).toBe(false);
    // The graph node says so too.
    expect(panel.node.querySelector('[data-meow-node-kind="pattern"][data-meow-paused="max_rate"]')).not.toBeNull();

    const resume = notice.querySelector('[data-testid="meow-resume-pattern"]') as HTMLButtonElement;
    await act(async () => resume.click());
    await waitFor(() => !item('loop').hasAttribute('data-meow-paused'), 'the pattern resumed');
    expect(state.paused).toEqual([]);
    expect(item('loop').hasAttribute('data-meow-paused')).toBe(false);
    expect(panel.node.querySelector('[data-testid="meow-pause-notice"]')).toBeNull();

    // A `paused` event pauses another pattern live.
    client.connect();
    FakeWebSocket.last.open();
    await waitFor(() => requests.filter(r => r.url.endsWith('/paused')).length >= 2, 'the refetch on connect');
    state.paused = [DEPTH];
    await act(async () => FakeWebSocket.last.receive({ type: 'paused', paused: state.paused }));
    await waitFor(() => item('deep').hasAttribute('data-meow-paused'), 'the paused event shown');
    expect(item('deep').getAttribute('data-meow-paused')).toBe('max_depth');
    await act(async () => Widget.detach(panel));
    panel.dispose();
    client.dispose();
  });

  it('Monitor: a banner lists every paused pattern with Resume; gone when none is paused', async () => {
    const { client, state } = fakeService([RATE, DEPTH]);
    const meow = fakeMeow(client);
    await meow.paused.refresh();
    const panel = new MonitorPanel(meow, new CommandRegistry());
    await show(panel);
    const banner = () => panel.node.querySelector('[data-testid="meow-paused-banner"]');
    expect(banner()!.textContent).toContain('2 patterns are paused by a runaway limit');
    const rows = Array.from(banner()!.querySelectorAll('li'));
    expect(rows.map(r => [r.getAttribute('data-meow-pattern'), r.getAttribute('data-meow-limit')])).toEqual([
      ['deep', 'max_depth'],
      ['loop', 'max_rate']
    ]);
    expect(rows[0].textContent).toContain('provenance chain of 101 jobs; max_depth is 100');
    await act(async () => (rows[0].querySelector('[data-testid="meow-resume-pattern"]') as HTMLButtonElement).click());
    await waitFor(() => banner()?.querySelectorAll('li').length === 1, 'one pattern left in the banner');
    expect(state.paused.map(r => r.pattern)).toEqual(['loop']);
    expect(banner()!.textContent).toContain('A pattern is paused');
    await act(async () =>
      (banner()!.querySelector('[data-testid="meow-resume-pattern"]') as HTMLButtonElement).click()
    );
    await waitFor(() => banner() === null, 'the banner gone');
    expect(banner()).toBeNull();
    await act(async () => Widget.detach(panel));
    panel.dispose();
    client.dispose();
  });

  it('status bar: counts paused rules, only when there are some', async () => {
    const { client } = fakeService([]);
    const meow = fakeMeow(client);
    const item = new MeowStatusItem(meow, () => undefined);
    await show(item);
    const count = () => item.node.querySelector('[data-meow-count="paused"]');
    expect(count()).toBeNull();
    await act(async () => meow.paused.set([RATE, DEPTH]));
    await waitFor(() => count(), 'the paused count');
    expect(count()!.textContent).toBe('2 paused');
    expect(item.node.querySelector('[data-testid="meow-status"]')!.getAttribute('title')).toContain('loop (max_rate)');
    await act(async () => meow.paused.set([]));
    await waitFor(() => count() === null, 'the paused count gone');
    expect(count()).toBeNull();
    await act(async () => Widget.detach(item));
    client.dispose();
  });
});
