/**
 * "Register notebook as recipe" end to end in jsdom: the command, the name
 * dialog, the 409 → confirm → overwrite exchange, and the toolbar and
 * file-browser entries.
 */
import { acceptDialog, dismissDialog } from '@jupyterlab/testing';
import { CommandRegistry } from '@lumino/commands';

import { MeowClient } from '../../src/lab/client';
import { WorkflowModel } from '../../src/lab/models';
import { registerPlugin } from '../../src/lab/plugins';
import { CommandIDs } from '../../src/lab/tokens';
import { fakeMeow, fakeSettings } from './fakes';

const NOTEBOOK = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };

function setup(existing: string[]) {
  const recipes = new Set(existing);
  const { serverSettings, requests } = fakeSettings(req => {
    const path = new URL(req.url).pathname;
    if (req.method === 'PUT' && path.includes('/recipes/')) {
      const name = decodeURIComponent(path.split('/').pop()!);
      if (recipes.has(name) && !req.body.overwrite) {
        return { status: 409, body: { error: `recipe "${name}" exists` } };
      }
      recipes.add(name);
      return { status: 201, body: { name, file: `.meow/recipes/${name}.ipynb`, variables: [], patterns: [] } };
    }
    if (path.endsWith('/patterns')) {
      return { body: { patterns: [] } };
    }
    if (path.endsWith('/recipes')) {
      return { body: { recipes: [...recipes].map(name => ({ name, file: '', variables: [], patterns: [] })) } };
    }
    return { body: { rules: [] } };
  });
  const client = new MeowClient({ serverSettings });
  const meow = fakeMeow([], undefined, () => ({ client, workflow: new WorkflowModel({ client }) }));
  const contentsGet = jest.fn(async (path: string) => ({
    path,
    content: NOTEBOOK,
    last_modified: '2026-01-01T00:00:00Z'
  }));
  const app = {
    commands: new CommandRegistry(),
    serviceManager: { serverSettings, contents: { get: contentsGet } },
    docRegistry: { addWidgetExtension: jest.fn() },
    contextMenu: { addItem: jest.fn() }
  };
  registerPlugin.activate(app as any, meow, null, null, null);
  const puts = () =>
    requests.filter(r => r.method === 'PUT').map(r => ({ url: new URL(r.url).pathname, overwrite: r.body.overwrite }));
  return { app, puts, contentsGet };
}

describe('Register notebook as recipe', () => {
  it('adds a notebook toolbar button and a file-browser entry on notebooks', () => {
    const { app } = setup([]);
    expect(app.docRegistry.addWidgetExtension).toHaveBeenCalledWith('Notebook', expect.anything());
    expect(app.contextMenu.addItem).toHaveBeenCalledWith(
      expect.objectContaining({
        command: CommandIDs.registerRecipe,
        selector: '.jp-DirListing-item[data-file-type="notebook"]'
      })
    );
    expect(app.commands.label(CommandIDs.registerRecipe, { path: 'a.ipynb' })).toBe('Register Notebook as MEOW Recipe');
  });

  it('registers the saved notebook under the file stem', async () => {
    const { app, puts, contentsGet } = setup([]);
    const done = app.commands.execute(CommandIDs.registerRecipe, { path: 'work/append.ipynb' });
    await acceptDialog(); // the name dialog, default "append"
    await done;
    expect(contentsGet).toHaveBeenCalledWith('work/append.ipynb', { type: 'notebook', content: true });
    expect(puts()).toEqual([{ url: '/lab-base/meow/api/recipes/append', overwrite: false }]);
  });

  it('asks before replacing an existing recipe and overwrites on confirmation', async () => {
    const { app, puts } = setup(['append']);
    const done = app.commands.execute(CommandIDs.registerRecipe, { path: 'append.ipynb' });
    await acceptDialog(); // name
    await acceptDialog(); // "Replace recipe?"
    await done;
    expect(puts()).toEqual([
      { url: '/lab-base/meow/api/recipes/append', overwrite: false },
      { url: '/lab-base/meow/api/recipes/append', overwrite: true }
    ]);
  });

  it('replaces nothing when the user declines', async () => {
    const { app, puts } = setup(['append']);
    const done = app.commands.execute(CommandIDs.registerRecipe, { path: 'append.ipynb' });
    await acceptDialog();
    await dismissDialog();
    await done;
    expect(puts()).toEqual([{ url: '/lab-base/meow/api/recipes/append', overwrite: false }]);
  });
});
