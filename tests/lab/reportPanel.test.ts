/**
 * The Report panel in jsdom with 10,000 jobs from a fake service: repeated
 * workflows folded into a few drawn nodes, a group unfolds and folds on
 * click, the search finds a job by trigger file and zooms to it, and the
 * legend keeps each pattern's colour when filters change.
 */
import { Widget } from '@lumino/widgets';
import { MessageLoop } from '@lumino/messaging';
import { CommandRegistry } from '@lumino/commands';
import { act } from 'react';

import { provenanceGraph } from '../../src/core/provenance';
import { patternColour } from '../../src/lab/report';
import { IMeow } from '../../src/lab/tokens';
import { ReportPanel } from '../../src/lab/widgets/reportPanel';
import type { IJob } from '../../src/core/types';
import { makeJob, fakeMeow as sharedFakeMeow } from './fakes';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** 4,000 Step1 → Step2 runs and 2,000 lone Solo jobs. */
function tenThousandJobs(): IJob[] {
  const jobs: IJob[] = [];
  let n = 0;
  for (let i = 0; i < 4000; i++) {
    const a = makeJob(++n, { pattern: 'Step1' });
    a.trigger.path = `in/d${i}.dat`;
    const b = makeJob(++n, { pattern: 'Step2', parent: a.id });
    b.trigger.path = `out/d${i}.dat`;
    jobs.push(a, b);
  }
  for (let i = 0; i < 2000; i++) {
    const s = makeJob(++n, { pattern: 'Solo' });
    s.trigger.path = `many/s${i}.txt`;
    jobs.push(s);
  }
  return jobs;
}

function fakeMeow(jobs: IJob[]): IMeow {
  return sharedFakeMeow(jobs, req => {
    const url = new URL(req.url);
    if (url.pathname.endsWith('/provenance')) {
      // The service's own filter code, on the query the panel sent.
      const filter = Object.fromEntries(url.searchParams.entries());
      delete filter.token;
      return { body: provenanceGraph(jobs, filter) };
    }
    const id = decodeURIComponent(url.pathname.split('/').pop()!);
    const job = jobs.find(j => j.id === id);
    return job ? { body: { job, children: [], folder: `.meow/jobs/${id}` } } : { status: 404, body: { error: 'no' } };
  });
}

/** Wait (in act) until `check` holds. */
async function waitFor(check: () => boolean, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out waiting for the panel');
    }
    await act(async () => {
      await new Promise(r => setTimeout(r, 20));
    });
  }
}

describe('ReportPanel', () => {
  it('stays a few nodes at 10,000 jobs; groups unfold; search zooms to a trigger file', async () => {
    const jobs = tenThousandJobs();
    const panel = new ReportPanel(fakeMeow(jobs), new CommandRegistry());
    await act(async () => {
      Widget.attach(panel, document.body);
      MessageLoop.sendMessage(panel, Widget.Msg.UpdateRequest);
    });
    const graph = () => panel.node.querySelector('[data-testid="meow-report-graph"]')!;
    const groupNodes = () => panel.node.querySelectorAll('[data-meow-group]');
    const jobNodes = () => panel.node.querySelectorAll('[data-meow-job-id]');
    await waitFor(() => groupNodes().length > 0);
    expect(graph().getAttribute('data-meow-total')).toBe('10000');
    expect(groupNodes()).toHaveLength(2);
    expect(jobNodes()).toHaveLength(0);
    expect(panel.node.querySelector('[data-testid="meow-report-summary"]')!.textContent).toContain('10,000 jobs');

    // Unfold the chain group: its newest runs are drawn, then fold it again.
    const chain = () => panel.node.querySelector('[data-meow-group="group:Step1 → Step2"]')!;
    expect(chain().textContent).toContain('4,000 runs, 8,000 jobs');
    await act(async () => chain().dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await waitFor(() => jobNodes().length > 0);
    expect(chain().getAttribute('data-meow-group-expanded')).toBe('true');
    expect(jobNodes()).toHaveLength(200);
    expect(panel.node.querySelectorAll('.jp-meow-dagEdge')).toHaveLength(100);
    await act(async () => chain().dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await waitFor(() => jobNodes().length === 0);

    // Search by trigger file: the run is drawn, marked and centred.
    const zoom = () => panel.node.querySelector('[data-meow-zoom]')!.getAttribute('transform');
    const before = zoom();
    const search = panel.node.querySelector('[data-testid="meow-report-search"]') as HTMLInputElement;
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setter.call(search, 's1234.txt');
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })));
    await waitFor(() => panel.node.querySelector('.jp-meow-focus') !== null);
    const focused = panel.node.querySelector('.jp-meow-focus')!;
    expect(focused.getAttribute('data-meow-pattern')).toBe('Solo');
    expect(focused.textContent).toContain('s1234.txt');
    expect(zoom()).not.toBe(before);
    expect(panel.node.querySelector('[data-testid="meow-report-search-status"]')!.textContent).toMatch(/^1 of 1/);

    // Colours by pattern, the same after filtering to one pattern.
    const legendColour = (p: string) =>
      panel.node.querySelector(`[data-meow-legend-pattern="${p}"]`)?.getAttribute('data-meow-colour');
    expect(legendColour('Step2')).toBe(patternColour('Step2'));
    const select = panel.node.querySelector('[data-testid="meow-report-pattern"]') as HTMLSelectElement;
    await act(async () => {
      select.value = 'Step2';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await waitFor(() => graph().getAttribute('data-meow-total') === '4000');
    expect(legendColour('Solo')).toBeUndefined();
    expect(legendColour('Step2')).toBe(patternColour('Step2'));
    await act(async () => panel.dispose());
  });
});
