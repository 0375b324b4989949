/** Temporary workgroups for tests. */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

export async function makeWorkgroup(files: Record<string, string> = {}): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-test-'));
  for (const [rel, text] of Object.entries(files)) {
    await writeFile(root, rel, text);
  }
  return root;
}

export async function writeFile(root: string, rel: string, text: string): Promise<void> {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

export async function removeWorkgroup(root: string): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
}

/** A minimal recipe notebook whose code cell assigns the given variables. */
export function recipeNotebook(vars: Record<string, string>, extraCode = ''): string {
  const lines = Object.entries(vars).map(([k, v]) => `${k} = ${v}\n`);
  const source = [...lines, extraCode].join('');
  return JSON.stringify({
    cells: [{ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 4
  });
}

/** Poll until `check` returns true or fail after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) {
      return;
    }
    await new Promise(r => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
