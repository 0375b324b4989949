/**
 * Issue 10, item 5 in the Lab: a fresh pattern form shows no errors until a
 * field is touched or Save is pressed; the recipe error speaks of the
 * dropdown; "+ Pattern" on a recipe fills the input variable; YAML mode is
 * the Lab's CodeMirror editor; the graph's details float over it as a
 * tooltip, so the legend stays where it is.
 */
import {
  CodeMirrorEditorFactory,
  EditorExtensionRegistry,
  EditorLanguageRegistry,
  ybinding
} from '@jupyterlab/codemirror';
import { EditorView } from '@codemirror/view';
import { ReactWidget } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';
import { act } from 'react';

import type { IPatternInfo, IRecipeInfo } from '../../src/core/api';
import { parsePattern } from '../../src/core/pattern';
import { WorkflowModel } from '../../src/lab/models';
import type { IMeow } from '../../src/lab/tokens';
import { PatternEditor } from '../../src/lab/widgets/patternEditor';
import { WorkflowPanel } from '../../src/lab/widgets/workflowPanel';
import { fakeMeow } from './fakes';
import { waitFor } from './waitFor';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const RECIPES: IRecipeInfo[] = [
  { name: 'append', file: '.meow/recipes/append.ipynb', variables: ['extra', 'infile', 'outfile'], patterns: [] },
  { name: 'plot', file: '.meow/recipes/plot.ipynb', variables: ['title', 'data_path'], patterns: [] }
];

function info(name: string, text: string): IPatternInfo {
  return { name, file: `.meow/patterns/${name}.yaml`, text, active: true, pattern: parsePattern(name, text).pattern };
}

function meowWith(patterns: IPatternInfo[] = []): IMeow {
  const workflow = new WorkflowModel();
  workflow.set(patterns, RECIPES);
  return fakeMeow([], undefined, () => ({ workflow }));
}

/** The Lab's editor factory as its CodeMirror plugin builds it: languages, and the model ⇄ editor binding. */
function labEditorFactory(): CodeMirrorEditorFactory {
  const languages = new EditorLanguageRegistry();
  EditorLanguageRegistry.getDefaultLanguages().forEach(l => languages.addLanguage(l));
  const extensions = new EditorExtensionRegistry();
  extensions.addExtension({
    name: 'shared-model-binding',
    factory: options =>
      EditorExtensionRegistry.createImmutableExtension(ybinding({ ytext: (options.model.sharedModel as any).ysource }))
  });
  return new CodeMirrorEditorFactory({ languages, extensions });
}

async function show(widget: Widget): Promise<void> {
  await act(async () => {
    Widget.attach(widget, document.body);
    MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
  });
}

function helpers(host: HTMLElement) {
  const q = (id: string) => host.querySelector(`[data-testid="${id}"]`) as HTMLInputElement;
  const type = async (id: string, value: string) => {
    const el = q(id);
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value')!.set!;
    await act(async () => {
      setter.call(el, value);
      el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
    });
  };
  const errors = () => Array.from(host.querySelectorAll('.jp-meow-fieldError')).map(e => e.textContent);
  return { q, type, errors };
}

describe('PatternEditor: errors only where the user has been', () => {
  it("opens without errors, shows a touched field's error, and all of them on Save", async () => {
    const meow = meowWith();
    const closed = jest.fn();
    const widget = ReactWidget.create(React.createElement(PatternEditor, { workflow: meow.workflow, onClose: closed }));
    await show(widget);
    const { q, type, errors } = helpers(widget.node);
    expect(errors()).toEqual([]);
    expect(widget.node.querySelectorAll('.jp-mod-invalid')).toHaveLength(0);

    await type('meow-pattern-name', 'bad name');
    expect(errors()).toEqual([expect.stringMatching(/contains characters other than/)]);
    expect(q('meow-pattern-save').disabled).toBe(true);
    await type('meow-pattern-name', 'Good');
    expect(errors()).toEqual([]);

    // Untouched fields are still wrong: Save shows them instead of saving.
    expect(q('meow-pattern-save').disabled).toBe(false);
    await act(async () => q('meow-pattern-save').click());
    expect(closed).not.toHaveBeenCalled();
    expect(q('meow-error-recipe').textContent).toBe('choose a recipe');
    expect(q('meow-error-path').textContent).toMatch(/must be a non-empty glob/);
    expect(q('meow-pattern-save').disabled).toBe(true);
    await act(async () => widget.dispose());
  });

  it('keeps the YAML spelling out of the recipe error and says when no recipe exists', async () => {
    const meow = meowWith();
    meow.workflow.set([], []);
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meow.workflow, onClose: () => undefined })
    );
    await show(widget);
    const { q, type } = helpers(widget.node);
    await type('meow-pattern-recipe', '');
    expect(q('meow-error-recipe').textContent).toBe(
      'choose a recipe; none is registered yet: register a notebook as a recipe first'
    );
    expect(q('meow-error-recipe').textContent).not.toMatch(/recipe:/);
    await act(async () => widget.dispose());
  });

  it("shows every error of an existing pattern's edit, touched or not", async () => {
    const fresh = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meowWith().workflow, onClose: () => undefined })
    );
    const editing = info('Old', 'recipe: append\ntrigger:\n  path: in/*\n');
    const edit = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meowWith().workflow, editing, onClose: () => undefined })
    );
    for (const widget of [fresh, edit]) {
      await show(widget);
      await helpers(widget.node).type('meow-pattern-trigger', 'every');
    }
    // A new form waits for the interval to be typed; an edit says at once what is missing.
    expect(helpers(fresh.node).q('meow-error-every')).toBeNull();
    expect(helpers(edit.node).q('meow-error-every').textContent).toMatch(/interval/);
    await act(async () => {
      fresh.dispose();
      edit.dispose();
    });
  });
});

describe('Workflow panel: "+ Pattern" on a recipe', () => {
  it('opens the form with the recipe and its input variable filled in', async () => {
    const meow = meowWith();
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const newFor = async (recipe: string) => {
      const button = panel.node.querySelector(
        `[data-meow-recipe="${recipe}"] [data-testid="meow-recipe-new-pattern"]`
      ) as HTMLButtonElement;
      await act(async () => button.click());
      return waitFor(() => panel.node.querySelector('[data-testid="meow-pattern-editor"]'), 'the pattern form');
    };
    const { q, errors } = helpers(panel.node);
    await newFor('append');
    expect(q('meow-pattern-recipe').value).toBe('append');
    expect(q('meow-pattern-input').value).toBe('infile');
    expect(errors()).toEqual([]);

    await act(async () => q('meow-pattern-cancel').click());
    await newFor('plot');
    expect(q('meow-pattern-input').value).toBe('data_path');

    // The command's prefill (New MEOW Pattern with a recipe) does the same.
    await act(async () => q('meow-pattern-cancel').click());
    await act(async () => panel.editPattern(undefined, { recipe: 'append' }));
    await waitFor(() => q('meow-pattern-input')?.value === 'infile', 'the input prefilled by editPattern');
    await act(async () => panel.dispose());
  });
});

describe("PatternEditor: YAML mode in the Lab's code editor", () => {
  it('edits the file in CodeMirror (YAML), validated as it changes', async () => {
    const meow = meowWith();
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, {
        workflow: meow.workflow,
        initial: { name: 'P', recipe: 'append', path: 'in/*' },
        editorFactory: labEditorFactory().newInlineEditor,
        onClose: () => undefined
      })
    );
    await show(widget);
    const { q } = helpers(widget.node);
    await act(async () => q('meow-mode-yaml').click());
    const box = await waitFor(
      () => widget.node.querySelector('[data-testid="meow-pattern-yaml"] .cm-editor'),
      'the CodeMirror editor'
    );
    expect(widget.node.querySelector('textarea')).toBeNull();
    const view = EditorView.findFromDOM(box as HTMLElement)!;
    expect(view.state.doc.toString()).toBe(
      'recipe: append\ntrigger:\n  path: in/*\n  events:\n    - created\n    - modified\ninput: infile\n'
    );
    expect(q('meow-pattern-save').disabled).toBe(false);

    // Typing in the editor reaches the form's check: an absolute path is refused.
    await act(async () => {
      const at = view.state.doc.toString().indexOf('in/*');
      view.dispatch({ changes: { from: at, insert: '/' } });
    });
    await waitFor(() => q('meow-error-yaml')?.textContent?.match(/must be relative/), 'the YAML error');
    expect(q('meow-pattern-save').disabled).toBe(true);

    // Back to the form: what was typed in YAML is kept when it is valid.
    await act(async () => {
      const at = view.state.doc.toString().indexOf('/in/*');
      view.dispatch({ changes: { from: at, to: at + 1, insert: 'data/' } });
    });
    await waitFor(() => !q('meow-pattern-save').disabled, 'Save enabled again');
    await act(async () => q('meow-mode-form').click());
    expect(q('meow-pattern-path').value).toBe('data/in/*');
    await act(async () => widget.dispose());
  });

  it("falls back to a text area without the Lab's editor services", async () => {
    const meow = meowWith();
    const widget = ReactWidget.create(
      React.createElement(PatternEditor, { workflow: meow.workflow, onClose: () => undefined })
    );
    await show(widget);
    const { q } = helpers(widget.node);
    await act(async () => q('meow-mode-yaml').click());
    expect(q('meow-pattern-yaml').tagName).toBe('TEXTAREA');
    await act(async () => widget.dispose());
  });
});

describe('Workflow graph: details as a tooltip', () => {
  it("floats a node's details over the graph, beside the pointer, and removes them on leave", async () => {
    const meow = meowWith([
      info(
        'One',
        'recipe: append\ntrigger:\n  path: start/*\ninput: infile\noutputs:\n  outfile: "{VGRID}/first/{FILENAME}"\n'
      )
    ]);
    const panel = new WorkflowPanel(meow);
    await show(panel);
    const node = await waitFor(
      () => panel.node.querySelector('[data-testid="meow-workflow-graph"] [data-meow-node-kind="pattern"]'),
      'the pattern node'
    );
    const graphBox = panel.node.querySelector('.jp-meow-graphBox')!;
    const legend = panel.node.querySelector('[data-testid="meow-graph-legend"]')!;
    const before = Array.from(graphBox.parentElement!.children);
    expect(panel.node.querySelector('[data-testid="meow-graph-hover"]')).toBeNull();

    // jsdom lays nothing out: the box is 300 px wide at the page's corner.
    graphBox.getBoundingClientRect = () => ({
      left: 0,
      top: 0,
      right: 300,
      bottom: 200,
      width: 300,
      height: 200,
      x: 0,
      y: 0,
      toJSON: () => ({})
    });
    await act(async () => {
      graphBox.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: 40, clientY: 30 }));
      node.dispatchEvent(new MouseEvent('mouseenter'));
    });
    const tip = await waitFor(
      () => panel.node.querySelector<HTMLElement>('[data-testid="meow-graph-hover"]'),
      'the tooltip'
    );
    expect(tip.textContent).toContain('recipe: append');
    expect(tip.getAttribute('role')).toBe('tooltip');
    // Inside the graph's box, placed by coordinates: nothing after the graph moves.
    expect(tip.parentElement).toBe(graphBox);
    expect(tip.classList.contains('jp-meow-graphTip')).toBe(true);
    expect(tip.style.top).toBe('46px');
    expect(tip.style.left).toBe('52px');
    // In the right half it opens leftwards, so it stays inside the panel.
    await act(async () =>
      graphBox.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: 250, clientY: 30 }))
    );
    expect(tip.style.left).toBe('');
    expect(tip.style.right).toBe('62px');
    expect(Array.from(graphBox.parentElement!.children)).toEqual(before);
    expect(legend.isConnected).toBe(true);

    await act(async () => node.dispatchEvent(new MouseEvent('mouseleave')));
    expect(panel.node.querySelector('[data-testid="meow-graph-hover"]')).toBeNull();
    await act(async () => panel.dispose());
  });
});
