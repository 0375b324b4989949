// Build and run the benchmarks in bench/ (TypeScript, bundled by esbuild).
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import os from 'os';
import path from 'path';

const out = path.join(os.tmpdir(), 'meow-bench.js');
await build({
  entryPoints: ['bench/scheduling.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['fsevents'],
  logLevel: 'warning'
});
execFileSync(process.execPath, [out], { stdio: 'inherit' });
