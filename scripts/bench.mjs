// Build and run the benchmarks in bench/ (TypeScript, bundled by esbuild):
// scheduling overhead, the network-events paper's experiments, file bursts
// (events per second to job, none lost), Slurm versus local kernels,
// notebook throughput against papermill, and workgroups with many finished
// jobs (start-up, report, memory).
//
//   node scripts/bench.mjs                 all six (slurm skipped, saying so, without sbatch on PATH)
//   node scripts/bench.mjs slurm           only the named ones (also MEOW_BENCH=slurm,network)
//
// The slurm bench runs `make slurm` itself and needs the service bundle its
// compute jobs run, so `npm run build:service` is run before it. The
// notebooks bench installs papermill into a venv of its own (.venv-bench).
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import { delimiter, join } from 'path';
import { existsSync } from 'fs';
import os from 'os';
import path from 'path';

const ALL = ['scheduling', 'network', 'burst', 'slurm', 'notebooks', 'jobs'];
const asked = process.argv.slice(2).length ? process.argv.slice(2) : (process.env.MEOW_BENCH ?? '').split(',').filter(Boolean);
const unknown = asked.filter(n => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s) ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const selected = asked.length ? asked : ALL;
const onPath = cmd => (process.env.PATH ?? '').split(delimiter).some(d => d && existsSync(join(d, cmd)));

for (const name of selected) {
  if (name === 'slurm') {
    if (!asked.length && !onPath('sbatch')) {
      console.log('\nslurm benchmark skipped: sbatch is not on PATH (start the test cluster with `sudo make slurm`, then `node scripts/bench.mjs slurm`)');
      continue;
    }
    execFileSync('npm', ['run', '--silent', 'build:service'], { stdio: 'inherit' });
  }
  const out = path.join(os.tmpdir(), `meow-bench-${name}.js`);
  await build({
    entryPoints: [`bench/${name}.ts`],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning'
  });
  // As the service bundle does (scripts/bundle-service.mjs): libuv's file
  // system pool of 16 threads, not 4, so benches measure what `meow run` does.
  const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
  execFileSync(process.execPath, [out], { stdio: 'inherit', env });
}
