/**
 * Triggers other than files, in the lab: the client's run and waiting
 * calls, ManualModel (watching waiting files, run, approve, errors), the
 * Workflow panel's Run now / Approve and its graph nodes per kind, and the
 * Monitor's trigger kind column, filter and detail.
 */
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { act } from 'react';
import { Blob as NodeBlob } from 'buffer';

import type { IPatternInfo, IWaitingFiles } from '../../src/core/api';
import { parsePattern } from '../../src/core/pattern';
import type { IJob } from '../../src/core/types';
import { MeowApiError, MeowClient } from '../../src/lab/client';
import { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel, runError } from '../../src/lab/models';
import { CommandIDs, DEFAULT_SETTINGS, IMeow } from '../../src/lab/tokens';
import { formatBytes, jobTriggerLabel, triggerGroup, triggerSummary } from '../../src/lab/triggers';
import { MonitorPanel } from '../../src/lab/widgets/monitorPanel';
import { defaultRunPath, runLabel } from '../../src/lab/widgets/patternRun';
import { PatternEditor } from '../../src/lab/widgets/patternEditor';
import { WorkflowPanel } from '../../src/lab/widgets/workflowPanel';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import { FakeWebSocket, IRecordedRequest, fakeSettings, makeJob } from './fakes';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const API = '/lab-base/meow/api';

function info(name: string, text: string): IPatternInfo {
  const { pattern, issues } = parsePattern(name, text);
  if (issues.length) {
    throw new Error(issues.map(i => `${i.field}: ${i.message}`).join('; '));
  }
  return { name, file: `.meow/patterns/${name}.yaml`, text, pattern, active: true };
}

const PATTERNS = [
  info('Files', 'recipe: r\ntrigger: {path: "in/*.csv"}\ninput: infile\n'),
  info('Net', 'recipe: r\ntrigger: {port: 9000}\n'),
  info('Cron', 'recipe: r\ntrigger: {schedule: "*/10 * * * *"}\n'),
  info('Review', 'recipe: r\ntrigger: {manual: true, path: "review/*"}\ninput: infile\n'),
  info('ByHand', 'recipe: r\ntrigger: {manual: true}\n'),
  info('Silence', 'recipe: r\ntrigger: {absent: {path: "in/*", for: 10m}}\n')
];

type WaitingFile = IWaitingFiles['files'][number];

/**
 * A fake service: `waiting` per pattern; POST run makes one job per call
 * (or answers `refuse` for that pattern) and takes the file off the list.
 */
function fakeService(waiting: Record<string, WaitingFile[]> = {}) {
  const state = {
    waiting: Object.fromEntries(Object.entries(waiting).map(([k, v]) => [k, [...v]])) as Record<string, WaitingFile[]>,
    refuse: {} as Record<string, { status: number; error: string; fix: string }>,
    made: [] as IJob[],
    seq: 100
  };
  const { serverSettings, requests } = fakeSettings((req: IRecordedRequest) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(API, '');
    let m = /^\/patterns\/([^/]+)\/waiting$/.exec(path);
    if (m && req.method === 'GET') {
      const name = decodeURIComponent(m[1]);
      return { body: { pattern: name, files: state.waiting[name] ?? [], truncated: false } };
    }
    m = /^\/patterns\/([^/]+)\/run$/.exec(path);
    if (m && req.method === 'POST') {
      const name = decodeURIComponent(m[1]);
      const refuse = state.refuse[name];
      if (refuse) {
        return {
          status: refuse.status,
          body: { error: refuse.error, issues: [{ field: 'path', message: refuse.error, fix: refuse.fix }] }
        };
      }
      const type = req.headers['content-type'] ?? '';
      let trigger = '.meow/incoming/manual/run.txt';
      if (type.startsWith('application/json')) {
        // An empty JSON body (Jupyter labels every request JSON) is "nothing".
        trigger = req.body?.path ?? trigger;
      } else if (req.body !== undefined) {
        trigger = `.meow/incoming/manual/${url.searchParams.get('filename') ?? 'upload'}`;
      }
      state.waiting[name] = (state.waiting[name] ?? []).filter(f => f.path !== trigger);
      const job = makeJob(state.seq++, { pattern: name, status: 'queued' });
      job.trigger = { kind: 'manual', path: trigger, time: job.created, source: 'alice' };
      state.made.push(job);
      return { status: 201, body: { jobs: [job], path: trigger } };
    }
    if (path.startsWith('/jobs/')) {
      const job = state.made.find(j => path === `/jobs/${j.id}`);
      return job
        ? { body: { job, children: [], folder: `.meow/jobs/${job.id}` } }
        : { status: 404, body: { error: 'no such job' } };
    }
    return undefined;
  });
  return { client: new MeowClient({ serverSettings }), requests, state };
}

function fakeMeow(client: MeowClient, jobs: IJob[] = [], manual = new ManualModel({ client, debounce: 10 })): IMeow {
  const workflow = new WorkflowModel();
  workflow.set(PATTERNS, [{ name: 'r', file: '.meow/recipes/r.ipynb', variables: ['infile'], patterns: [] }]);
  const status = new StatusModel();
  status.update({ counts: {} } as any);
  const model = new JobsModel();
  model.reset(jobs);
  return {
    client,
    jobs: model,
    workflow,
    status,
    paused: new PausedModel(),
    manual,
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
  await waitFor(() => widget.node.childElementCount > 0);
}

async function flush(ms = 30): Promise<void> {
  await act(async () => {
    await new Promise(r => setTimeout(r, ms));
  });
}

/** Wait until `cond` holds (timers and fetches run meanwhile); fail after `ms`. */
async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error('condition not met in time');
    }
    await flush(10);
  }
}

const calls = (requests: IRecordedRequest[]) =>
  requests.map(r => `${r.method} ${new URL(r.url).pathname.replace(API, '')}${new URL(r.url).search}`);

const FILE_A: WaitingFile = {
  path: 'review/a.png',
  modified: new Date(Date.now() - 3 * 60000).toISOString(),
  size: 2048
};
const FILE_B: WaitingFile = { path: 'review/b.png', modified: new Date(Date.now() - 30000).toISOString(), size: 10 };

describe('MeowClient.runPattern and waitingFiles', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('runs on a workgroup path (JSON), an upload (raw body) or nothing', async () => {
    const { client, requests } = fakeService();
    const onPath = await client.runPattern('Review', { path: 'review/a.png' });
    expect(onPath.path).toBe('review/a.png');
    expect(onPath.jobs).toHaveLength(1);
    expect(requests[0].headers['content-type']).toBe('application/json');
    expect(requests[0].body).toEqual({ path: 'review/a.png' });

    // Node's Blob: jsdom's is not a body Node's fetch can send (a browser's is).
    const csv = new NodeBlob(['a,b\n1,2\n'], { type: 'text/csv' }) as unknown as Blob;
    const up = await client.runPattern('Files', { file: csv, filename: 'data 1.csv' });
    expect(up.path).toBe('.meow/incoming/manual/data 1.csv');
    expect(requests[1].headers['content-type']).toBe('text/csv');
    expect(requests[1].body).toBe('a,b\n1,2\n');
    expect(new URL(requests[1].url).searchParams.get('filename')).toBe('data 1.csv');

    // A JSON file is uploaded as bytes, never read as a {path} request.
    await client.runPattern('Net', {
      file: new NodeBlob(['{"path": "x"}'], { type: 'application/json' }) as unknown as Blob,
      filename: 'm.json'
    });
    expect(requests[2].headers['content-type']).toBe('application/octet-stream');
    expect(requests[2].body).toEqual({ path: 'x' }); // the fake parses any JSON text; the header is what counts

    const empty = await client.runPattern('ByHand');
    expect(empty.path).toBe('.meow/incoming/manual/run.txt');
    expect(requests[3].body).toBeUndefined();
    // Jupyter labels a request without a type as JSON; an empty JSON body means "nothing".
    expect(requests[3].headers['content-type']).toBe('application/json');
    expect(calls(requests)).toEqual([
      'POST /patterns/Review/run',
      'POST /patterns/Files/run?filename=data%201.csv',
      'POST /patterns/Net/run?filename=m.json',
      'POST /patterns/ByHand/run'
    ]);
  });

  it('lists waiting files and surfaces errors with their fix', async () => {
    const { client, requests, state } = fakeService({ Review: [FILE_A] });
    expect(await client.waitingFiles('Review')).toEqual({ pattern: 'Review', files: [FILE_A], truncated: false });
    expect(calls(requests)).toEqual(['GET /patterns/Review/waiting']);
    state.refuse.Files = {
      status: 409,
      error: 'a file pattern needs a path or an upload',
      fix: 'give {"path": ...} or upload a file'
    };
    const err = await client.runPattern('Files').catch(e => e);
    expect(err).toBeInstanceOf(MeowApiError);
    expect(err.status).toBe(409);
    expect(err.message).toBe('POST /patterns/Files/run failed (HTTP 409): a file pattern needs a path or an upload');
    expect(runError(err)).toEqual({
      message: 'POST /patterns/Files/run failed (HTTP 409): a file pattern needs a path or an upload',
      fixes: ['give {"path": ...} or upload a file'],
      status: 409
    });
    expect(runError(new Error('boom'))).toEqual({ message: 'boom', fixes: [] });
  });
});

describe('ManualModel', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('watches waiting files: fetched at once, polled while watched, no more once unwatched', async () => {
    const { client, requests, state } = fakeService({ Review: [FILE_A] });
    const model = new ManualModel({ client, pollInterval: 60, debounce: 10 });
    const changed: string[] = [];
    model.changed.connect((_, p) => changed.push(p));
    const w1 = model.watch('Review');
    const w2 = model.watch('Review'); // nested watches share one fetch
    await waitFor(() => !!model.waiting('Review')?.loaded);
    expect(model.watched).toEqual(['Review']);
    expect(model.waiting('Review')).toEqual({ files: [FILE_A], truncated: false, loaded: true, error: null });
    expect(calls(requests)).toEqual(['GET /patterns/Review/waiting']);
    expect(changed).toContain('Review');

    // Polling picks up a new file.
    state.waiting.Review.push(FILE_B);
    await waitFor(() => model.waiting('Review')!.files.length === 2);
    expect(model.waiting('Review')!.files.map(f => f.path)).toEqual(['review/a.png', 'review/b.png']);

    // No watcher left: polling stops.
    w1.dispose();
    w2.dispose();
    w2.dispose();
    expect(model.watched).toEqual([]);
    const after = requests.length;
    await flush(150);
    expect(requests.length).toBe(after);
    model.dispose();
    client.dispose();
  });

  it('refetches waiting files soon after job events of a watched pattern', async () => {
    const { client, requests, state } = fakeService({ Review: [FILE_A] });
    const model = new ManualModel({ client, pollInterval: 1e6, debounce: 10 });
    const watch = model.watch('Review');
    client.connect();
    FakeWebSocket.last.open();
    await waitFor(() => !!model.waiting('Review')?.loaded);
    const before = requests.length;
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(1, { pattern: 'Other' }) });
    await flush(20);
    expect(requests.length).toBe(before);
    state.waiting.Review = [FILE_B];
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(2, { pattern: 'Review' }) });
    FakeWebSocket.last.receive({ type: 'job', job: makeJob(3, { pattern: 'Review' }) });
    await waitFor(() => model.waiting('Review')!.files.length === 1);
    await flush(30);
    expect(requests.length).toBe(before + 1); // two events, one fetch
    expect(model.waiting('Review')!.files).toEqual([FILE_B]);
    // New definitions (the pattern may have changed) refetch too.
    FakeWebSocket.last.receive({ type: 'definitions' });
    await waitFor(() => requests.length === before + 2);
    watch.dispose();
    model.dispose();
    client.dispose();
  });

  it('approves a file: it leaves the list at once, the job is kept as the outcome', async () => {
    const { client, requests, state } = fakeService({ Review: [FILE_A, FILE_B] });
    const model = new ManualModel({ client, debounce: 10 });
    await model.refreshWaiting('Review');
    const approving = model.approve('Review', 'review/a.png');
    expect(model.waiting('Review')!.files).toEqual([FILE_B]);
    expect(model.isBusy('Review', 'review/a.png')).toBe(true);
    expect(model.outcome('Review')).toMatchObject({ what: 'review/a.png', busy: true });
    const result = await approving;
    expect(result.path).toBe('review/a.png');
    expect(model.isBusy('Review', 'review/a.png')).toBe(false);
    expect(model.outcome('Review')).toMatchObject({
      busy: false,
      result: { path: 'review/a.png', jobs: [state.made[0]] }
    });
    expect(requests.find(r => r.method === 'POST')!.body).toEqual({ path: 'review/a.png' });
    await waitFor(() => model.waiting('Review')!.files.length === 1);
    expect(model.waiting('Review')!.files).toEqual([FILE_B]);
    model.clearOutcome('Review');
    expect(model.outcome('Review')).toBeUndefined();
    model.dispose();
  });

  it('keeps a refused run as an error with its fix; the file comes back', async () => {
    const { client, state } = fakeService({ Review: [FILE_A] });
    state.refuse.Review = {
      status: 400,
      error: 'review/a.png does not exist',
      fix: 'approve a file that is still in the workgroup'
    };
    const model = new ManualModel({ client });
    await model.refreshWaiting('Review');
    await expect(model.approve('Review', 'review/a.png')).rejects.toBeInstanceOf(MeowApiError);
    expect(model.outcome('Review')!.error).toEqual({
      message: 'POST /patterns/Review/run failed (HTTP 400): review/a.png does not exist',
      fixes: ['approve a file that is still in the workgroup'],
      status: 400
    });
    await waitFor(() => model.waiting('Review')!.files.length === 1);
    expect(model.waiting('Review')!.files).toEqual([FILE_A]);
    // A failed fetch keeps the old list and says why.
    state.waiting = null as any;
    await model.refreshWaiting('Review');
    expect(model.waiting('Review')!.files).toEqual([FILE_A]);
    model.dispose();
  });
});

describe('trigger words', () => {
  it('names and groups trigger kinds', () => {
    expect(triggerGroup('created')).toBe('file');
    expect(triggerGroup('network')).toBe('network');
    expect(triggerGroup('rerun')).toBe('rerun');
    expect(jobTriggerLabel('moved')).toBe('file moved');
    expect(jobTriggerLabel('schedule')).toBe('timer');
    expect(jobTriggerLabel('absent')).toBe('absence');
    expect(PATTERNS.map(p => triggerSummary(p.pattern!.trigger))).toEqual([
      'in/*.csv',
      ':9000',
      '*/10 * * * *',
      'approve review/*',
      'run by hand',
      'no in/* for 10m'
    ]);
    expect(PATTERNS.map(p => runLabel(p.pattern!))).toEqual(['Run now', 'Run now', 'Run now', 'Run', 'Run', 'Run now']);
    expect([0, 999, 2048, 1.5e6].map(formatBytes)).toEqual(['0 B', '999 B', '2 KB', '1.5 MB']);
  });
});

describe('Workflow panel: Run now, Approve, trigger nodes', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('lists the files waiting for approval and approves one, linking its job to the Monitor', async () => {
    const { client, requests } = fakeService({ Review: [FILE_A, FILE_B] });
    const meow = fakeMeow(client);
    const commands = new CommandRegistry();
    const shown: string[] = [];
    commands.addCommand(CommandIDs.showJob, { execute: args => void shown.push(String(args.id)) });
    const panel = new WorkflowPanel(meow, { commands });
    await show(panel);
    const item = (name: string) => panel.node.querySelector(`.jp-meow-patternItem[data-meow-pattern="${name}"]`)!;
    await waitFor(() =>
      item('Review').querySelector('[data-testid="meow-waiting"]')?.textContent?.includes('Waiting for approval (2)')
    );
    const waiting = item('Review').querySelector('[data-testid="meow-waiting"]')!;
    expect(waiting.textContent).toContain('Waiting for approval (2)');
    const rows = Array.from(waiting.querySelectorAll('[data-meow-waiting-path]'));
    expect(rows.map(r => r.getAttribute('data-meow-waiting-path'))).toEqual(['review/a.png', 'review/b.png']);
    expect(rows[0].textContent).toContain('3 min ago');
    expect(rows[0].textContent).toContain('2 KB');
    // Only manual patterns with a glob have the list; only they say "Run".
    expect(panel.node.querySelectorAll('[data-testid="meow-waiting"]')).toHaveLength(1);
    const runButton = (name: string) =>
      item(name).querySelector('[data-testid="meow-run-pattern"]') as HTMLButtonElement;
    expect(runButton('Review').textContent).toBe('Run');
    expect(runButton('Files').textContent).toBe('Run now');
    expect(item('Net').querySelector('.jp-meow-itemSub')!.textContent).toBe('r · :9000');

    await act(async () => (rows[0].querySelector('[data-testid="meow-approve"]') as HTMLButtonElement).click());
    await waitFor(() => item('Review').querySelectorAll('[data-meow-waiting-path]').length === 1);
    expect(requests.filter(r => r.method === 'POST').map(r => r.body)).toEqual([{ path: 'review/a.png' }]);
    expect(
      Array.from(item('Review').querySelectorAll('[data-meow-waiting-path]')).map(r =>
        r.getAttribute('data-meow-waiting-path')
      )
    ).toEqual(['review/b.png']);
    const result = item('Review').querySelector('[data-testid="meow-run-result"]')!;
    expect(result.textContent).toContain('Job of Review on review/a.png');
    const link = result.querySelector('[data-meow-job-id]') as HTMLElement;
    await act(async () => link.click());
    expect(shown).toEqual([link.getAttribute('data-meow-job-id')]);

    // Hidden: no more polling of waiting files.
    expect(meow.manual.watched).toEqual(['Review']);
    await act(async () => panel.hide());
    await waitFor(() => meow.manual.watched.length === 0);
    expect(meow.manual.watched).toEqual([]);
    await act(async () => panel.show());
    await waitFor(() => meow.manual.watched.length === 1);
    expect(meow.manual.watched).toEqual(['Review']);
    await act(async () => Widget.detach(panel));
    panel.dispose();
    meow.manual.dispose();
  });

  it('Run now: a file pattern offers its last file, shows errors with their fix, runs on the path', async () => {
    const { client, requests, state } = fakeService();
    const last = makeJob(5, { pattern: 'Files' });
    last.trigger = { kind: 'created', path: 'in/latest.csv', time: last.created };
    const meow = fakeMeow(client, [makeJob(4, { pattern: 'Files' }), last]);
    expect(defaultRunPath(meow, PATTERNS[0].pattern!)).toBe('in/latest.csv');
    expect(defaultRunPath(fakeMeow(client), PATTERNS[0].pattern!)).toBe('in/');
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const item = () => panel.node.querySelector('.jp-meow-patternItem[data-meow-pattern="Files"]')!;
    await act(async () => (item().querySelector('[data-testid="meow-run-pattern"]') as HTMLButtonElement).click());
    await waitFor(() => item().querySelector('[data-testid="meow-run-box"]'));
    const box = item().querySelector('[data-testid="meow-run-box"]')!;
    const input = box.querySelector('[data-testid="meow-run-path"]') as HTMLInputElement;
    expect(input.value).toBe('in/latest.csv');
    // A file pattern has no "run without a file".
    expect(box.querySelector('[data-testid="meow-run-empty"]')).toBeNull();

    state.refuse.Files = {
      status: 400,
      error: 'in/latest.csv is outside the workgroup or missing',
      fix: 'give a path of an existing workgroup file'
    };
    await act(async () => (box.querySelector('[data-testid="meow-run-on-path"]') as HTMLButtonElement).click());
    await waitFor(() => item().querySelector('[data-testid="meow-run-error"]'));
    const error = item().querySelector('[data-testid="meow-run-error"]')!;
    expect(error.textContent).toContain(
      'Could not run Files on in/latest.csv: POST /patterns/Files/run failed (HTTP 400): in/latest.csv is outside'
    );
    expect(error.textContent).toContain('Fix: give a path of an existing workgroup file');
    expect(item().querySelector('[data-testid="meow-run-box"]')).not.toBeNull(); // still open to correct the path

    delete state.refuse.Files;
    await act(async () => (item().querySelector('[data-testid="meow-run-on-path"]') as HTMLButtonElement).click());
    await waitFor(() => item().querySelector('[data-testid="meow-run-result"]'));
    expect(item().querySelector('[data-testid="meow-run-error"]')).toBeNull();
    expect(item().querySelector('[data-testid="meow-run-box"]')).toBeNull();
    expect(item().querySelector('[data-testid="meow-run-result"]')!.textContent).toContain(
      'Job of Files on in/latest.csv'
    );
    // Without commands the job id is shown, not linked.
    expect(item().querySelector('[data-testid="meow-run-result"] a')).toBeNull();
    await act(async () => (item().querySelector('.jp-meow-runClose') as HTMLButtonElement).click());
    await waitFor(() => !item().querySelector('[data-testid="meow-run-result"]'));
    expect(item().querySelector('[data-testid="meow-run-result"]')).toBeNull();

    // A timer pattern runs without a file.
    const cron = () => panel.node.querySelector('.jp-meow-patternItem[data-meow-pattern="Cron"]')!;
    await act(async () => (cron().querySelector('[data-testid="meow-run-pattern"]') as HTMLButtonElement).click());
    await waitFor(() => cron().querySelector('[data-testid="meow-run-empty"]'));
    await act(async () => (cron().querySelector('[data-testid="meow-run-empty"]') as HTMLButtonElement).click());
    await waitFor(() => cron().querySelector('[data-testid="meow-run-result"]'));
    expect(cron().querySelector('[data-testid="meow-run-result"]')!.textContent).toContain(
      'on .meow/incoming/manual/run.txt'
    );
    expect(calls(requests).filter(c => c.startsWith('POST'))).toEqual([
      'POST /patterns/Files/run',
      'POST /patterns/Files/run',
      'POST /patterns/Cron/run'
    ]);
    expect(requests.filter(r => r.method === 'POST').map(r => r.body)).toEqual([
      { path: 'in/latest.csv' },
      { path: 'in/latest.csv' },
      undefined
    ]);
    await act(async () => Widget.detach(panel));
    panel.dispose();
    meow.manual.dispose();
  });

  it('draws a distinct node per trigger kind, with an icon', async () => {
    const { client } = fakeService({ Review: [] });
    const meow = fakeMeow(client);
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const graph = panel.node.querySelector('[data-testid="meow-workflow-graph"]')!;
    const node = (kind: string) => Array.from(graph.querySelectorAll(`[data-meow-trigger-kind="${kind}"]`));
    const label = (kind: string) => node(kind).map(n => n.querySelector('text')!.textContent);
    expect(label('file')).toEqual(['in/*.csv']);
    expect(label('network')).toEqual([':9000']);
    expect(label('schedule')).toEqual(['*/10 * * * *']);
    expect(label('manual').sort()).toEqual(['approve review/*', 'run by hand']);
    expect(label('absent')).toEqual(['no in/* for 10m']);
    expect(node('network')[0].querySelector('title')!.textContent).toContain('at most 1GiB per message');
    // Shapes and colours differ; every trigger node has its icon.
    expect(node('schedule')[0].querySelector('polygon')).not.toBeNull();
    expect(node('absent')[0].querySelector('polygon')!.getAttribute('stroke-dasharray')).toBe('4 3');
    expect(node('file')[0].querySelector('rect')!.getAttribute('rx')).toBe('13');
    expect(node('network')[0].querySelector('rect')!.getAttribute('rx')).toBe('1');
    const fills = ['file', 'network', 'schedule', 'manual', 'absent'].map(k =>
      node(k)[0].querySelector('rect, polygon')!.getAttribute('fill')
    );
    expect(new Set(fills).size).toBe(5);
    expect(graph.querySelectorAll('[data-meow-node-kind="trigger"] path.jp-meow-dagIcon')).toHaveLength(6);
    expect(graph.querySelectorAll('[data-meow-node-kind="pattern"] path.jp-meow-dagIcon')).toHaveLength(0);
    expect(panel.node.querySelector('[data-testid="meow-trigger-legend"]')!.textContent).toBe(
      'filenetworktimermanualabsence'
    );
    // An empty approval folder says so.
    expect(panel.node.querySelector('[data-testid="meow-waiting-empty"]')!.textContent).toBe(
      'No file in review/* waits for approval.'
    );
    await act(async () => Widget.detach(panel));
    panel.dispose();
    meow.manual.dispose();
  });
});

describe('Monitor: what fired each job', () => {
  it('shows the trigger kind and source, filters by kind, and details the source', async () => {
    const { client, state } = fakeService();
    const jobs = [
      makeJob(1),
      makeJob(2, {
        trigger: {
          kind: 'network',
          path: '.meow/incoming/9000/m1',
          time: '2026-01-01T00:00:02Z',
          source: '10.0.0.7:53422'
        }
      }),
      makeJob(3, {
        trigger: { kind: 'schedule', path: '.meow/incoming/timer/t', time: '2026-01-01T00:00:03Z', source: 'every 30s' }
      }),
      makeJob(4, { trigger: { kind: 'manual', path: 'review/a.png', time: '2026-01-01T00:00:04Z', source: 'alice' } }),
      makeJob(5, { trigger: { kind: 'absent', path: '.meow/incoming/absent/s', time: '2026-01-01T00:00:05Z' } }),
      makeJob(6, { trigger: { kind: 'rerun', path: 'start/file1.txt', time: '2026-01-01T00:00:06Z' } })
    ];
    state.made.push(...jobs);
    const meow = fakeMeow(client, jobs);
    expect(meow.jobs.triggerCounts).toEqual({ file: 1, network: 1, schedule: 1, manual: 1, absent: 1, rerun: 1 });
    const panel = new MonitorPanel(meow, new CommandRegistry());
    await show(panel);
    const rows = () => Array.from(panel.node.querySelectorAll('.jp-meow-jobRow[data-meow-job-id]'));
    const kinds = rows().map(r => r.querySelector('.jp-meow-triggerKind')!.textContent);
    expect(kinds).toEqual([
      'rerun',
      'absence',
      'manual · alice',
      'timer · every 30s',
      'network · 10.0.0.7:53422',
      'file created'
    ]);
    expect(rows()[0].querySelector('.jp-meow-triggerKind svg')).not.toBeNull();
    expect(panel.node.querySelector('.jp-meow-jobHeader')!.textContent).toContain('TriggerTrigger path');

    const select = panel.node.querySelector('[data-testid="meow-filter-trigger"]') as HTMLSelectElement;
    expect(Array.from(select.options).map(o => o.textContent)).toEqual([
      'all triggers',
      'file (1)',
      'network (1)',
      'timer (1)',
      'manual (1)',
      'absence (1)',
      'rerun (1)'
    ]);
    await act(async () => {
      select.value = 'manual';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await waitFor(() => rows().length === 1);
    expect(rows().map(r => r.getAttribute('data-meow-job-id'))).toEqual([jobs[3].id]);
    expect(meow.jobs.filter).toEqual({ trigger: 'manual' });
    // The source is searchable too.
    meow.jobs.setFilter({ text: '10.0.0.7' });
    expect(meow.jobs.slice(0, 10).map(j => j.id)).toEqual([jobs[1].id]);
    await act(async () => meow.jobs.setFilter({}));
    await act(async () => panel.showJob(jobs[1].id));
    await waitFor(() => panel.node.querySelector('[data-testid="meow-job-detail"] [data-testid="meow-job-trigger"]'));
    const detail = panel.node.querySelector('[data-testid="meow-job-detail"]')!;
    expect(detail.querySelector('[data-testid="meow-job-trigger"]')!.getAttribute('data-meow-trigger-kind')).toBe(
      'network'
    );
    expect(detail.querySelector('[data-testid="meow-job-trigger"]')!.textContent).toContain(
      'network: .meow/incoming/9000/m1'
    );
    expect(detail.querySelector('[data-testid="meow-job-source"]')!.textContent).toBe('10.0.0.7:53422');
    await act(async () => Widget.detach(panel));
    panel.dispose();
  });
});

describe('PatternEditor: trigger kinds', () => {
  async function editor(meow: IMeow, editing?: IPatternInfo) {
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meow.workflow, editing, onClose: () => undefined })
    );
    await show(widget);
    const q = (id: string) => widget.node.querySelector(`[data-testid="${id}"]`) as HTMLInputElement;
    const type = async (id: string, value: string) => {
      const el = q(id);
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value')!.set!;
      await act(async () => {
        setter.call(el, value);
        el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
      });
    };
    return { widget, q, type };
  }

  it("shows the fields of each kind with the core's messages on them", async () => {
    const meow = fakeMeow(fakeService().client);
    const { widget, q, type } = await editor(meow);
    await type('meow-pattern-name', 'Listen');
    await type('meow-pattern-recipe', 'r');
    const trigger = q('meow-pattern-trigger') as unknown as HTMLSelectElement;
    expect(Array.from(trigger.options).map(o => o.value)).toEqual([
      'path',
      'port',
      'schedule',
      'every',
      'manual',
      'absent'
    ]);

    await type('meow-pattern-trigger', 'port');
    for (const id of ['port', 'host', 'secret', 'tlsCert', 'tlsKey', 'maxBytes', 'maxConnections']) {
      expect(q(`meow-pattern-${id}`)).not.toBeNull();
    }
    expect(q('meow-pattern-secret').type).toBe('password');
    expect(q('meow-pattern-path')).toBeNull();
    await type('meow-pattern-port', '9000');
    await type('meow-pattern-host', '0.0.0.0:80');
    await type('meow-pattern-maxBytes', 'huge');
    expect(q('meow-error-host').textContent).toMatch(/contains a port/);
    expect(q('meow-error-maxBytes').textContent).toMatch(/must be a size/);
    expect(q('meow-pattern-save').disabled).toBe(true);
    await type('meow-pattern-host', '0.0.0.0');
    await type('meow-pattern-maxBytes', '10MB');
    expect(q('meow-pattern-save').disabled).toBe(false);
    expect(q('meow-pattern-preview').textContent).toBe(
      'recipe: r\ntrigger:\n  port: 9000\n  host: 0.0.0.0\n  max_bytes: 10MB\n'
    );

    await type('meow-pattern-trigger', 'schedule');
    await type('meow-pattern-schedule', '0 6 * * MON-FRI');
    await type('meow-pattern-timezone', 'Europe/Copenhagn');
    expect(q('meow-error-timezone').textContent).toMatch(/Europe\/Copenhagen/);
    await type('meow-pattern-timezone', 'Europe/Copenhagen');
    await type('meow-pattern-missed', 'skip');
    expect(q('meow-pattern-preview').textContent).toBe(
      'recipe: r\ntrigger:\n  schedule: 0 6 * * MON-FRI\n  timezone: Europe/Copenhagen\n  missed: skip\n'
    );
    await type('meow-pattern-trigger', 'every');
    expect(q('meow-pattern-timezone')).toBeNull();
    expect(q('meow-pattern-missed').value).toBe('skip');

    await type('meow-pattern-trigger', 'manual');
    expect(widget.node.querySelector('[data-meow-field="path"] label')!.textContent).toBe(
      'Files waiting for approval (optional glob)'
    );
    expect(q('meow-pattern-save').disabled).toBe(false);
    await type('meow-pattern-path', 'review/*');
    expect(q('meow-pattern-preview').textContent).toBe('recipe: r\ntrigger:\n  manual: true\n  path: review/*\n');

    await type('meow-pattern-trigger', 'absent');
    expect(q('meow-pattern-path').value).toBe('review/*'); // the glob is kept across kinds
    expect(q('meow-error-absentFor')).toBeNull(); // not typed into yet
    await type('meow-pattern-absentFor', 'soon');
    expect(q('meow-error-absentFor').textContent).toMatch(/must be an interval/);
    await type('meow-pattern-absentFor', '10m');
    expect(q('meow-pattern-preview').textContent).toBe(
      'recipe: r\ntrigger:\n  absent:\n    path: review/*\n    for: 10m\n'
    );
    await act(async () => widget.dispose());
  });

  it('opens an existing pattern of any kind with all its fields', async () => {
    const meow = fakeMeow(fakeService().client);
    const text =
      'recipe: r\ntrigger:\n  port: 9000\n  secret: s3cret\n  tls:\n    cert: c.pem\n    key: k.pem\n  max_connections: 4\n';
    const { widget, q } = await editor(meow, info('Net', text));
    expect(q('meow-pattern-trigger').value).toBe('port');
    expect(
      [
        q('meow-pattern-port'),
        q('meow-pattern-secret'),
        q('meow-pattern-tlsCert'),
        q('meow-pattern-tlsKey'),
        q('meow-pattern-maxConnections')
      ].map(i => i.value)
    ).toEqual(['9000', 's3cret', 'c.pem', 'k.pem', '4']);
    expect(q('meow-pattern-host').placeholder).toBe('127.0.0.1 (default)');
    expect(q('meow-pattern-maxBytes').placeholder).toBe('1GiB (default)');
    expect(q('meow-pattern-preview').textContent).toBe(text);
    await act(async () => widget.dispose());
  });
});
