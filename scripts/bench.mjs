// Build and run the benchmarks in bench/ (TypeScript, bundled by esbuild):
// scheduling overhead, then the network-events paper's experiments.
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import os from 'os';
import path from 'path';

for (const name of ['scheduling', 'network']) {
  const out = path.join(os.tmpdir(), `meow-bench-${name}.js`);
  await build({
    entryPoints: [`bench/${name}.ts`],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['fsevents'],
    logLevel: 'warning'
  });
  execFileSync(process.execPath, [out], { stdio: 'inherit' });
}
