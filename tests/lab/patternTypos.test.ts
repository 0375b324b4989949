/**
 * Issue 10, item 2 in the Lab: a keyword typo is refused in the form (the
 * core's error on the row, Save disabled), names the recipe does not assign
 * are warnings with "did you mean", and saving an edit that re-runs jobs
 * asks first ("This re-runs N jobs") through the typed client's check.
 */
import { Widget } from '@lumino/widgets';
import { MessageLoop } from '@lumino/messaging';
import * as React from 'react';
import { ReactWidget } from '@jupyterlab/ui-components';
import { acceptDialog, dismissDialog } from '@jupyterlab/testing';
import { act } from 'react';

import type { IPatternCheck, IPatternInfo, IPatternSaveEffect } from '../../src/core/api';
import { parsePattern } from '../../src/core/pattern';
import { MeowClient } from '../../src/lab/client';
import { WorkflowModel } from '../../src/lab/models';
import { emptyForm, validateForm } from '../../src/lab/patternForm';
import { describeSaveEffect } from '../../src/lab/saveEffect';
import { PatternEditor } from '../../src/lab/widgets/patternEditor';
import { fakeSettings, IRecordedRequest } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const RECIPES = [{ name: 'append', file: 'r', variables: ['infile', 'extra', 'outfile'], patterns: [] }];
const TEXT =
  'recipe: append\ntrigger:\n  path: data/in/*\n  events:\n    - created\n    - modified\ninput: infile\noutputs:\n  outfile: "{VGRID}/data/out/{FILENAME}"\n';

describe('pattern form: keywords and recipe variables', () => {
  const base = { ...emptyForm(), name: 'P', recipe: 'append', path: 'data/in/*', input: 'infile' };

  it('refuses {FILENAM} on the output row, suggesting {FILENAME}', () => {
    const v = validateForm(
      { ...base, outputs: [{ name: 'outfile', value: '{VGRID}/data/out/{FILENAM}' }] },
      { recipes: RECIPES }
    );
    expect(v.pattern).toBeUndefined();
    expect(v.yaml).toBeUndefined();
    expect(v.byField['outputs.outfile']).toEqual([
      expect.stringMatching(/^uses \{FILENAM\}, which is not a keyword.*; did you mean \{FILENAME\}\?/)
    ]);
  });

  it('warns with "did you mean" about names the recipe does not assign, while the pattern stays valid', () => {
    const v = validateForm(
      { ...base, input: 'infle', outputs: [{ name: 'outfle', value: '{VGRID}/x/{FILENAME}' }] },
      { recipes: RECIPES }
    );
    expect(v.pattern).toBeDefined();
    expect(v.warnings).toEqual([
      expect.stringMatching(
        /^input: names "infle", which recipe "append" does not assign .*; did you mean "infile"\?$/
      ),
      expect.stringMatching(/^outputs\.outfle: names "outfle".*; did you mean "outfile"\?$/)
    ]);
  });

  it("shows the core's pattern warnings (a keyword in the wrong case) too", () => {
    const v = validateForm({ ...base, outputs: [{ name: 'outfile', value: 'out/{filename}' }] }, { recipes: RECIPES });
    expect(v.warnings).toEqual([
      expect.stringMatching(/^outputs\.outfile: contains "\{filename\}".*did you mean \{FILENAME\}\?/)
    ]);
  });
});

describe('describeSaveEffect', () => {
  const effect = (over: Partial<IPatternSaveEffect>): IPatternSaveEffect => ({
    changes: true,
    jobs: 0,
    files: 0,
    cancels: 0,
    ...over
  });
  it('says how many jobs re-run and are cancelled; nothing when nothing changes', () => {
    expect(describeSaveEffect('P', effect({ jobs: 6, files: 3 }))!.title).toBe('This re-runs 6 jobs');
    expect(describeSaveEffect('P', effect({ jobs: 6, files: 3, cancels: 1 }))!.body).toMatch(
      /re-runs 6 jobs on 3 existing files.*1 unfinished job of the current version is cancelled/
    );
    expect(describeSaveEffect('P', effect({ jobs: 1, files: 1, truncated: true }))!.title).toBe(
      'This re-runs 1 job or more'
    );
    expect(describeSaveEffect('P', effect({ cancels: 2 }))!.title).toBe('This cancels 2 jobs');
    expect(describeSaveEffect('P', effect({}))).toBeUndefined();
    expect(describeSaveEffect('P', effect({ changes: false }))).toBeUndefined();
  });
});

describe('PatternEditor: re-run warning before saving an edit', () => {
  function setup(effect: IPatternSaveEffect) {
    const { serverSettings, requests } = fakeSettings((req: IRecordedRequest) => {
      const path = new URL(req.url).pathname;
      if (req.method === 'POST' && path.endsWith('/patterns/P/check')) {
        const body: IPatternCheck = { name: 'P', valid: true, issues: [], warnings: [], effect };
        return { body };
      }
      if (req.method === 'PUT' && path.endsWith('/patterns/P')) {
        return { body: info(req.body.text) };
      }
      if (req.method === 'GET' && path.endsWith('/patterns')) {
        return { body: { patterns: [info(TEXT)] } };
      }
      if (req.method === 'GET' && path.endsWith('/recipes')) {
        return { body: { recipes: RECIPES } };
      }
      if (req.method === 'GET' && path.endsWith('/rules')) {
        return { body: { rules: [] } };
      }
      return undefined;
    });
    const client = new MeowClient({ serverSettings });
    const workflow = new WorkflowModel({ client });
    workflow.set([info(TEXT)], RECIPES);
    return { workflow, requests };
  }

  function info(text: string): IPatternInfo {
    return { name: 'P', file: '.meow/patterns/P.yaml', text, active: true, pattern: parsePattern('P', text).pattern };
  }

  async function edit(workflow: WorkflowModel, closed: () => void) {
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, { workflow, editing: info(TEXT), onClose: closed })
    );
    await act(async () => {
      Widget.attach(widget, document.body);
      MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
    });
    const q = (id: string) => widget.node.querySelector(`[data-testid="${id}"]`) as HTMLInputElement;
    // Change the output's value (the second input of the outputs row).
    const value = widget.node.querySelector('[aria-label="outputs 1 value"]') as HTMLInputElement;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    await act(async () => {
      setter.call(value, '{VGRID}/data/out2/{FILENAME}');
      value.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(q('meow-pattern-save').disabled).toBe(false);
    return { widget, q };
  }

  const puts = (requests: IRecordedRequest[]) => requests.filter(r => r.method === 'PUT');

  it('"This re-runs 6 jobs": Cancel keeps the pattern unsaved', async () => {
    const { workflow, requests } = setup({ changes: true, jobs: 6, files: 6, cancels: 0 });
    const closed = jest.fn();
    const { widget, q } = await edit(workflow, closed);
    await act(async () => q('meow-pattern-save').click());
    const dialog = document.querySelector('.jp-Dialog')!;
    expect(dialog.textContent).toMatch(/This re-runs 6 jobs/);
    expect(dialog.textContent).toMatch(/Save and re-run/);
    const check = requests.find(r => r.method === 'POST')!;
    expect(check.body.text).toMatch(/data\/out2/);
    await act(async () => dismissDialog());
    await waitFor(
      () => !document.querySelector('.jp-Dialog') && q('meow-pattern-save').textContent === 'Save',
      'the dialog closed, nothing saving'
    );
    expect(puts(requests)).toHaveLength(0);
    expect(closed).not.toHaveBeenCalled();
    await act(async () => widget.dispose());
  });

  it('"Save and re-run" saves', async () => {
    const { workflow, requests } = setup({ changes: true, jobs: 6, files: 6, cancels: 0 });
    const closed = jest.fn();
    const { widget, q } = await edit(workflow, closed);
    await act(async () => q('meow-pattern-save').click());
    await act(async () => acceptDialog());
    await waitFor(() => closed.mock.calls.length > 0, 'the form closed after saving');
    expect(puts(requests)).toHaveLength(1);
    expect(puts(requests)[0].body.text).toMatch(/data\/out2/);
    expect(closed).toHaveBeenCalled();
    await act(async () => widget.dispose());
  });

  it('an edit that re-runs nothing saves without asking', async () => {
    const { workflow, requests } = setup({ changes: true, jobs: 0, files: 0, cancels: 0 });
    const closed = jest.fn();
    const { widget, q } = await edit(workflow, closed);
    await act(async () => q('meow-pattern-save').click());
    await waitFor(() => closed.mock.calls.length > 0, 'the form closed after saving');
    expect(document.querySelector('.jp-Dialog')).toBeNull();
    expect(puts(requests)).toHaveLength(1);
    expect(closed).toHaveBeenCalled();
    await act(async () => widget.dispose());
  });
});
