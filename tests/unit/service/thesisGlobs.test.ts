/**
 * Issue 11.5 through the real runner (real file watching, a scripted
 * conductor, no Jupyter): a thesis-format pattern matches as mig_meow did
 * (fnmatch), for new and existing files, in sub-folders and dot files, and
 * never on meow's own job folders.
 */
import { MeowRunner } from '../../../src/service/runner';
import { RecordingLogger } from '../../../src/service/log';
import { ScriptedConductor } from '../../helpers/scriptedConductor';
import { makeWorkgroup, recipeNotebook, removeWorkgroup, writeFile } from '../../helpers/workgroup';

const thesis = (glob: string) => `input_file: infile\ninput_paths:\n- '${glob}'\nrecipes:\n- Count\n`;

describe('thesis-format globs in the runner', () => {
  let root: string;
  let runner: MeowRunner | undefined;

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await removeWorkgroup(root);
  });

  async function start(): Promise<MeowRunner> {
    const conductor = new ScriptedConductor({ Count: () => undefined });
    runner = new MeowRunner({ root, workers: 2, settleMs: 30, conductor, log: new RecordingLogger() });
    await runner.start();
    return runner;
  }

  const triggered = (name: string) =>
    runner!.store
      .list()
      .filter(j => j.pattern === name)
      .map(j => j.trigger.path)
      .sort();

  it('deep/* fires for deep/a/b/c.txt and deep/.hidden, existing or new; a native deep/* does not', async () => {
    root = await makeWorkgroup({
      '.meow/recipes/Count.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/Thesis.yaml': thesis('deep/*'),
      '.meow/patterns/Native.yaml': 'recipe: Count\ntrigger: {path: "deep/*"}\ninput: infile\n',
      'deep/old/x.txt': 'existing before the start',
      'deep/.old': 'existing dot file'
    });
    await start();
    await runner!.waitUntilIdle();
    for (const f of ['deep/a/b/c.txt', 'deep/.hidden', 'deep/top.txt', 'deeper/no.txt']) {
      await writeFile(root, f, f);
    }
    await runner!.waitUntilIdle();
    expect(triggered('Thesis')).toEqual([
      'deep/.hidden',
      'deep/.old',
      'deep/a/b/c.txt',
      'deep/old/x.txt',
      'deep/top.txt'
    ]);
    expect(triggered('Native')).toEqual(['deep/top.txt']);
  });

  it('a thesis * fires for workgroup files, never for its own job folders under .meow/', async () => {
    root = await makeWorkgroup({
      '.meow/recipes/Count.ipynb': recipeNotebook({ infile: "''" }),
      '.meow/patterns/All.yaml': thesis('*')
    });
    await start();
    await writeFile(root, 'x.txt', 'x');
    await writeFile(root, 'sub/.y', 'y');
    await runner!.waitUntilIdle();
    // The jobs' folders (job.yaml, notebooks) were written meanwhile; give
    // the watcher time to report them, were they ever matched.
    await new Promise(resolve => setTimeout(resolve, 300));
    await runner!.waitUntilIdle();
    expect(triggered('All')).toEqual(['sub/.y', 'x.txt']);
  });
});
