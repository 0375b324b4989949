// Build the prebuilt lab extension with @jupyterlab/builder against the
// JupyterLab installed in the active Python (its staging folder pins the
// shared packages). `jupyter labextension build` now delegates to a builder
// that downloads metadata at build time, which offline machines cannot do.
import { execFileSync } from 'child_process';
import { createRequire } from 'module';
import path from 'path';

const require = createRequire(import.meta.url);
const development = process.argv.includes('--development');

function stagingPath() {
  const code = 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))';
  for (const python of [process.env.PYTHON, 'python', 'python3'].filter(Boolean)) {
    try {
      return execFileSync(python, ['-c', code], { encoding: 'utf8' }).trim();
    } catch {
      // try the next interpreter
    }
  }
  throw new Error('JupyterLab is not installed in any Python on PATH; run `make setup` first');
}

const builder = path.join(path.dirname(require.resolve('@jupyterlab/builder/package.json')), 'lib', 'build-labextension.js');
const args = [builder, '--core-path', stagingPath(), ...(development ? ['--development'] : []), '.'];
execFileSync(process.execPath, args, { stdio: 'inherit' });
