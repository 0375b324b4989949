/**
 * Executors in the lab: the Monitor's Executor column, its filter and the
 * job detail (executor, external id, state, reason, host, resources); the
 * pattern form's executor and resources, round-tripped through the file
 * and checked by the core; and the graph's note on a pattern sent to Slurm.
 */
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import { act } from 'react';

import type { IPatternInfo } from '../../src/core/api';
import { parsePattern } from '../../src/core/pattern';
import type { IJob } from '../../src/core/types';
import { MeowClient } from '../../src/lab/client';
import { executorDetails, executorSummary, jobExecutor } from '../../src/lab/executors';
import { buildWorkflowGraph } from '../../src/lab/graph';
import { JobsModel, ManualModel, PausedModel, StatusModel, WorkflowModel } from '../../src/lab/models';
import { emptyForm, formFieldOf, formFromPattern, joinArgs, splitArgs, validateForm } from '../../src/lab/patternForm';
import type { IPatternForm } from '../../src/lab/patternForm';
import { DEFAULT_SETTINGS, IMeow } from '../../src/lab/tokens';
import { MonitorPanel } from '../../src/lab/widgets/monitorPanel';
import { PatternEditor } from '../../src/lab/widgets/patternEditor';
import { WorkflowPanel } from '../../src/lab/widgets/workflowPanel';
import { fakeSettings, makeJob } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

function info(name: string, text: string): IPatternInfo {
  const { pattern, issues } = parsePattern(name, text);
  if (issues.length) {
    throw new Error(issues.map(i => `${i.field}: ${i.message}`).join('; '));
  }
  return { name, file: `.meow/patterns/${name}.yaml`, text, pattern, active: true };
}

function fakeMeow(jobs: IJob[], patterns: IPatternInfo[] = []): IMeow {
  const { serverSettings } = fakeSettings(req => {
    const id = decodeURIComponent(new URL(req.url).pathname.split('/').pop()!);
    const job = jobs.find(j => j.id === id);
    return job ? { body: { job, children: [], folder: `.meow/jobs/${id}` } } : { status: 404, body: { error: 'no' } };
  });
  const client = new MeowClient({ serverSettings });
  const model = new JobsModel();
  model.reset(jobs);
  const workflow = new WorkflowModel();
  workflow.set(patterns, [{ name: 'r', file: '.meow/recipes/r.ipynb', variables: ['infile'], patterns: [] }]);
  const status = new StatusModel();
  status.update({ counts: {} } as any);
  return {
    client,
    jobs: model,
    workflow,
    status,
    paused: new PausedModel(),
    manual: new ManualModel({ client, debounce: 10 }),
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

const GIB = 1024 ** 3;

/** An old record (no executor), a Slurm job waiting, one running on a node, a remote kernel. */
function jobs(): IJob[] {
  return [
    makeJob(1),
    makeJob(2, {
      executor: 'slurm',
      resources: { cpus: 4, memoryBytes: 8 * GIB, timeLimitMs: 7_200_000, partition: 'gpu' },
      external: { id: '1234', state: 'PENDING', reason: 'Resources' },
      status: 'queued'
    }),
    makeJob(3, {
      executor: 'slurm',
      resources: { gpus: 1 },
      external: { id: '1240', state: 'RUNNING', host: 'node07' },
      status: 'running'
    }),
    makeJob(4, {
      executor: 'jupyter',
      external: { id: '5f1c2a9e-77aa-4b8e-9c1d-0e2f3a4b5c6d', host: 'gateway.example.org' }
    }),
    makeJob(5, { executor: 'local' })
  ];
}

describe('executor words', () => {
  it('summarises and details where a job runs', () => {
    const [old, pending, running, remote, local] = jobs();
    expect(jobExecutor(old)).toBe('local');
    expect([old, pending, running, remote, local].map(executorSummary)).toEqual([
      'local',
      'slurm 1234 (PENDING)',
      'slurm 1240 (RUNNING)',
      'jupyter @ gateway.example.org',
      'local'
    ]);
    expect(executorSummary({ executor: 'slurm' })).toBe('slurm');
    expect(executorDetails(pending)).toEqual([
      'executor: slurm — a Slurm cluster (sbatch)',
      'Slurm job id: 1234',
      'state: PENDING',
      'reason: Resources',
      'resources: 4 CPUs, 8GiB, 2h, partition gpu'
    ]);
    expect(executorDetails(running)).toContain('node: node07');
    expect(executorDetails(remote)).toContain('Kernel id: 5f1c2a9e-77aa-4b8e-9c1d-0e2f3a4b5c6d');
    expect(executorDetails(old)[0]).toMatch(/^executor: local \(not recorded: older job\)/);
    expect(executorDetails(old)).toContain('resources: none asked');
  });
});

describe('Monitor: where each job runs', () => {
  it('shows the executor and external id, filters by executor, and details them', async () => {
    const list = jobs();
    const meow = fakeMeow(list);
    expect(meow.jobs.executorCounts).toEqual({ local: 2, slurm: 2, jupyter: 1 });
    const panel = new MonitorPanel(meow, new CommandRegistry());
    await show(panel);
    const rows = () => Array.from(panel.node.querySelectorAll('.jp-meow-jobRow[data-meow-job-id]'));
    const cell = (r: Element) => r.querySelector('.jp-meow-executor')!;
    expect(panel.node.querySelector('.jp-meow-jobHeader')!.textContent).toContain('Trigger pathExecutorStatus');
    expect(rows().map(r => cell(r).textContent)).toEqual([
      'local',
      'jupyter @ gateway.example.org',
      'slurm 1240 (RUNNING)',
      'slurm 1234 (PENDING)',
      'local'
    ]);
    expect(rows().map(r => cell(r).getAttribute('data-meow-executor'))).toEqual([
      'local',
      'jupyter',
      'slurm',
      'slurm',
      'local'
    ]);
    // The tooltip has the rest: reason, host, resources.
    const pendingTip = cell(rows()[3]).getAttribute('title')!;
    expect(pendingTip).toContain('Slurm job id: 1234');
    expect(pendingTip).toContain('reason: Resources');
    expect(pendingTip).toContain('resources: 4 CPUs, 8GiB, 2h, partition gpu');
    expect(cell(rows()[2]).getAttribute('title')).toContain('node: node07');
    expect(cell(rows()[1]).getAttribute('data-meow-external-id')).toBe('5f1c2a9e-77aa-4b8e-9c1d-0e2f3a4b5c6d');

    // Filter by executor, like the trigger filter; jobs without one count as local.
    const select = panel.node.querySelector('[data-testid="meow-filter-executor"]') as HTMLSelectElement;
    expect(Array.from(select.options).map(o => o.textContent)).toEqual([
      'all executors',
      'local (2)',
      'slurm (2)',
      'jupyter (1)'
    ]);
    const choose = async (value: string) => {
      await act(async () => {
        select.value = value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await waitFor(
        () =>
          meow.jobs.filter.executor === value &&
          rows().every(r => cell(r).getAttribute('data-meow-executor') === value),
        `the ${value} jobs`
      );
    };
    await choose('slurm');
    expect(meow.jobs.filter).toEqual({ executor: 'slurm' });
    expect(rows().map(r => r.getAttribute('data-meow-job-id'))).toEqual([list[2].id, list[1].id]);
    expect(panel.node.querySelector('.jp-meow-tableFooter')!.textContent).toBe('2 of 5 jobs');
    await choose('local');
    expect(rows().map(r => r.getAttribute('data-meow-job-id'))).toEqual([list[4].id, list[0].id]);
    // A live update moves a job between executors' counts and the filtered view.
    await act(async () =>
      meow.jobs.upsert({ ...list[0], executor: 'slurm', external: { id: '1300', state: 'PENDING' } })
    );
    await waitFor(() => rows().length === 1, 'the job moved out of the local view');
    expect(rows().map(r => r.getAttribute('data-meow-job-id'))).toEqual([list[4].id]);
    expect(meow.jobs.executorCounts).toEqual({ local: 1, slurm: 3, jupyter: 1 });
    // The Slurm job id is searchable.
    meow.jobs.setFilter({ text: '1234' });
    expect(meow.jobs.slice(0, 10).map(j => j.id)).toEqual([list[1].id]);
    await act(async () => meow.jobs.setFilter({}));

    // The detail: executor, Slurm id, state, reason, resources.
    const detail = () => panel.node.querySelector('[data-testid="meow-job-detail"]')!;
    const field = (id: string) => detail().querySelector(`[data-testid="meow-job-${id}"]`)?.textContent;
    const shown = (id: string) =>
      waitFor(() => detail()?.getAttribute('data-meow-job-id') === id && field('executor'), `the detail of ${id}`);
    await act(async () => panel.showJob(list[1].id));
    await shown(list[1].id);
    expect(field('executor')).toBe('slurm');
    expect(field('external-id')).toBe('1234');
    expect(field('external-state')).toBe('PENDING');
    expect(field('external-reason')).toBe('Resources');
    expect(field('external-host')).toBeUndefined();
    expect(field('resources')).toBe('4 CPUs, 8GiB, 2h, partition gpu');
    expect(detail().textContent).toContain('Slurm job id');
    // Running on a node: the node shows.
    await act(async () => panel.showJob(list[2].id));
    await shown(list[2].id);
    expect(field('external-state')).toBe('RUNNING');
    expect(field('external-host')).toBe('node07');
    expect(detail().textContent).toContain('Node');
    expect(field('resources')).toBe('1 GPU');
    // A remote kernel: its id and server.
    await act(async () => panel.showJob(list[3].id));
    await shown(list[3].id);
    expect(field('executor')).toBe('jupyter');
    expect(field('external-id')).toBe('5f1c2a9e-77aa-4b8e-9c1d-0e2f3a4b5c6d');
    expect(field('external-host')).toBe('gateway.example.org');
    expect(detail().textContent).toContain('Kernel id');
    // An older record: local, no external rows, no resources.
    await act(async () => panel.showJob(list[4].id));
    await shown(list[4].id);
    await act(async () => meow.jobs.reset(jobs()));
    await act(async () => panel.showJob(jobs()[0].id));
    await shown(jobs()[0].id);
    expect(field('executor')).toBe('local (not recorded)');
    expect(field('external-id')).toBeUndefined();
    expect(field('resources')).toBe('—');
    await act(async () => Widget.detach(panel));
    panel.dispose();
    meow.manual.dispose();
  });
});

function form(over: Partial<IPatternForm>): IPatternForm {
  return { ...emptyForm(), name: 'Big', recipe: 'r', path: 'in/*', ...over };
}

describe('pattern form: executor and resources', () => {
  it('round-trips executor and resources through the file the engine reads', () => {
    const f = form({
      executor: 'slurm',
      cpus: '4',
      memory: '8GB',
      gpus: '1',
      time: '2h',
      partition: 'gpu',
      extraArgs: '--qos=high "--comment=two words"'
    });
    const v = validateForm(f);
    expect(v.issues).toEqual([]);
    expect(v.pattern!.executor).toBe('slurm');
    expect(v.pattern!.resources).toEqual({
      cpus: 4,
      memoryBytes: 8e9,
      gpus: 1,
      timeLimitMs: 7_200_000,
      partition: 'gpu',
      extraArgs: ['--qos=high', '--comment=two words']
    });
    expect(v.yaml).toContain(
      'executor: slurm\nresources:\n  cpus: 4\n  memory: 8GB\n  gpus: 1\n  time: 2h\n  partition: gpu\n  extra_args:\n'
    );
    const back = parsePattern('Big', v.yaml!);
    expect(back.issues).toEqual([]);
    expect(back.pattern).toEqual(v.pattern);
    expect(formFromPattern(back.pattern!)).toEqual(f);
    // The thesis format carries them too.
    const thesis = validateForm({ ...f, format: 'thesis' });
    expect(thesis.yaml).toMatch(/executor: slurm/);
    expect(parsePattern('Big', thesis.yaml!).pattern!.resources).toEqual(v.pattern!.resources);
  });

  it('leaves executor and resources out when not set', () => {
    const v = validateForm(form({}));
    expect(v.pattern!.executor).toBeUndefined();
    expect(v.pattern!.resources).toBeUndefined();
    expect(v.yaml).not.toMatch(/executor|resources/);
    expect(formFromPattern(v.pattern!)).toEqual(form({}));
  });

  it("shows the core's messages on the resource fields", () => {
    const v = validateForm(
      form({ executor: 'slurm', memory: 'lots', cpus: '0', time: 'soon', partition: 'a b', extraArgs: 'qos=high' })
    );
    expect(v.pattern).toBeUndefined();
    expect(v.byField.memory[0]).toMatch(
      /^must be a size like 500MB, 8GB or 16GiB \(got "?lots"?\) \(resources\.memory\); e\.g\. memory: 8GB$/
    );
    expect(v.byField.cpus[0]).toMatch(/must be a whole number ≥ 1/);
    expect(v.byField.time[0]).toMatch(/must be a duration/);
    expect(v.byField.partition[0]).toMatch(/must be a partition name/);
    expect(v.byField.extraArgs[0]).toMatch(/starting with "-"/);
    expect(formFieldOf('executor')).toBe('executor');
    expect(formFieldOf('resources.extra_args')).toBe('extraArgs');
    expect(formFieldOf('resources')).toBe('resources');
  });

  it('splits and joins scheduler options, keeping quoted spaces', () => {
    expect(splitArgs('  --qos=high   --account=lab ')).toEqual(['--qos=high', '--account=lab']);
    expect(splitArgs(`--comment="a b" '--x=say "hi"'`)).toEqual(['--comment=a b', '--x=say "hi"']);
    for (const args of [['--qos=high'], ['--comment=a b', '--x=say "hi"', '-N', '2']]) {
      expect(splitArgs(joinArgs(args))).toEqual(args);
    }
  });
});

describe('PatternEditor: executor and resources', () => {
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

  it("edits the executor and resources, with the core's message on a bad memory", async () => {
    const meow = fakeMeow([]);
    const { widget, q, type } = await editor(meow);
    await type('meow-pattern-name', 'Big');
    await type('meow-pattern-recipe', 'r');
    await type('meow-pattern-path', 'in/*');
    const executor = q('meow-pattern-executor') as unknown as HTMLSelectElement;
    expect(executor.value).toBe('');
    expect(Array.from(executor.options).map(o => o.value)).toEqual(['', 'local', 'slurm', 'jupyter']);
    expect(executor.options[0].textContent).toBe('service default');
    const section = () => q('meow-pattern-resources') as unknown as HTMLDetailsElement;
    expect(section().open).toBe(false);
    expect(section().querySelector('summary')!.textContent).toBe('Resources none asked');

    await type('meow-pattern-executor', 'slurm');
    await type('meow-pattern-cpus', '4');
    await type('meow-pattern-memory', 'lots');
    expect(q('meow-error-memory').textContent).toMatch(
      /^must be a size like 500MB, 8GB or 16GiB .*\(resources\.memory\); e\.g\. memory: 8GB$/
    );
    expect(widget.node.querySelector('[data-meow-field="memory"]')!.classList.contains('jp-mod-invalid')).toBe(true);
    expect(section().open).toBe(true); // a wrong value is never hidden
    expect(q('meow-pattern-save').disabled).toBe(true);

    await type('meow-pattern-memory', '8GB');
    await type('meow-pattern-time', '2h');
    await type('meow-pattern-extraArgs', '--qos=high');
    expect(q('meow-error-memory')).toBeNull();
    expect(section().open).toBe(true); // fixed, it stays open under the cursor
    expect(q('meow-pattern-save').disabled).toBe(false);
    expect(section().querySelector('summary')!.textContent).toBe('Resources 4 CPUs, 8GB, 2h, --qos=high');
    expect(q('meow-pattern-preview').textContent).toBe(
      'recipe: r\ntrigger:\n  path: in/*\n  events:\n    - created\n    - modified\nexecutor: slurm\nresources:\n  cpus: 4\n  memory: 8GB\n  time: 2h\n  extra_args:\n    - --qos=high\n'
    );
    // Back to "service default": the key goes.
    await type('meow-pattern-executor', '');
    expect(q('meow-pattern-preview').textContent).not.toContain('executor:');
    await act(async () => widget.dispose());
  });

  it('opens a pattern with executor and resources, the section open', async () => {
    const text = 'recipe: r\ntrigger:\n  path: in/*\nexecutor: jupyter\nresources:\n  gpus: 2\n  partition: gpu\n';
    const meow = fakeMeow([]);
    const { widget, q } = await editor(meow, info('Remote', text));
    expect(q('meow-pattern-executor').value).toBe('jupyter');
    expect(q('meow-pattern-gpus').value).toBe('2');
    expect(q('meow-pattern-partition').value).toBe('gpu');
    expect(q('meow-pattern-cpus').value).toBe('');
    expect((q('meow-pattern-resources') as unknown as HTMLDetailsElement).open).toBe(true);
    expect(parsePattern('Remote', q('meow-pattern-preview').textContent!).pattern).toEqual(
      info('Remote', text).pattern
    );
    await act(async () => widget.dispose());
  });
});

describe('Workflow graph: executor of a pattern', () => {
  const patterns = [
    info('OnSlurm', 'recipe: r\ntrigger: {path: "in/*"}\nexecutor: slurm\nresources: {cpus: 8, memory: 16GiB}\n'),
    info('Here', 'recipe: r\ntrigger: {path: "in/*"}\nexecutor: local\n'),
    info('Default', 'recipe: r\ntrigger: {path: "in/*"}\n')
  ];

  it('notes a non-local executor on the pattern node', async () => {
    const graph = buildWorkflowGraph(patterns, [{ name: 'r', file: 'r.ipynb', variables: [], patterns: [] }]);
    const node = (name: string) => graph.nodes.find(n => n.id === `pattern:${name}`)!;
    expect(node('OnSlurm').executor).toBe('slurm');
    expect(node('OnSlurm').details).toEqual(expect.arrayContaining(['executor: slurm', 'resources: 8 CPUs, 16GiB']));
    expect(node('Here').executor).toBe('local');
    expect(node('Default').executor).toBeUndefined();

    const meow = fakeMeow([], patterns);
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const drawn = (name: string) => panel.node.querySelector(`[data-meow-node="pattern:${name}"]`)!;
    const sublabel = (name: string) => drawn(name).querySelectorAll('text')[1].textContent;
    expect(drawn('OnSlurm').getAttribute('data-meow-executor')).toBe('slurm');
    expect(sublabel('OnSlurm')).toBe('active · slurm');
    expect(sublabel('Here')).toBe('active');
    expect(sublabel('Default')).toBe('active');
    expect(drawn('OnSlurm').querySelector('title')!.textContent).toContain('executor: slurm');
    await act(async () => Widget.detach(panel));
    panel.dispose();
    meow.manual.dispose();
  });
});
