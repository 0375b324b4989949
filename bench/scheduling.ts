/**
 * Scheduling overhead, after the thesis (§17.4.2, appendix P): time from the
 * first trigger until the last job is created, with a no-op conductor so
 * only meow's own work is measured (matching, hashing, job folders).
 *
 *   SPMF  1 pattern,  N files        MPSF  N patterns, 1 file
 *   SPSFP 1 pattern,  1 file, N-value sweep
 *   MPMF  N patterns, each its own file (quadratic in the thesis runner)
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MeowRunner } from '../src/service/runner';
import { NoopConductor, recipe } from './common';

const RECIPE = recipe("infile = ''\nn = 0\n");

async function write(root: string, rel: string, text: string) {
  const abs = path.join(root, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

interface ICase {
  name: string;
  patterns: (n: number) => Record<string, string>;
  files: (n: number) => string[];
  expected: (n: number) => number;
}

const pattern = (glob: string, sweep = '') =>
  `recipe: r\ntrigger:\n  path: "${glob}"\ninput: infile\n${sweep}`;

const CASES: ICase[] = [
  { name: 'SPMF', patterns: () => ({ p: pattern('in/*') }), files: n => range(n).map(i => `in/f${i}`), expected: n => n },
  {
    name: 'MPSF',
    patterns: n => Object.fromEntries(range(n).map(i => [`p${i}`, pattern('in/*')])),
    files: () => ['in/f'],
    expected: n => n
  },
  {
    name: 'SPSFP',
    patterns: n => ({ p: pattern('in/*', `sweep:\n  n: {start: 1, stop: ${n}, step: 1}\n`) }),
    files: () => ['in/f'],
    expected: n => n
  },
  {
    name: 'MPMF',
    patterns: n => Object.fromEntries(range(n).map(i => [`p${i}`, pattern(`in${i}/*`)])),
    files: n => range(n).map(i => `in${i}/f`),
    expected: n => n
  }
];

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function measure(c: ICase, n: number): Promise<number> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `meow-bench-${c.name}-`));
  try {
    await write(root, '.meow/recipes/r.ipynb', RECIPE);
    for (const [name, text] of Object.entries(c.patterns(n))) {
      await write(root, `.meow/patterns/${name}.yaml`, text);
    }
    const runner = new MeowRunner({ root, conductor: new NoopConductor(), settleMs: 20 });
    await runner.start();
    const seen = new Set<string>();
    runner.fileEvent.connect((_, e) => seen.add(e.path));
    let count = 0;
    runner.jobChanged.connect((_, change) => {
      if (!change.previous) {
        count++;
      }
    });
    const t0 = process.hrtime.bigint();
    await Promise.all(c.files(n).map(f => write(root, f, 'data')));
    const want = c.expected(n);
    const deadline = Date.now() + 30000;
    while (count < want) {
      if (Date.now() > deadline) {
        await runner.stop();
        const missing = c.files(n).filter(f => !seen.has(f));
        throw new Error(
          `${c.name} n=${n}: only ${count} of ${want} jobs after 120 s; no event for ${missing.join(', ') || 'none'}`
        );
      }
      await new Promise(r => setTimeout(r, 2));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await runner.stop();
    return seconds;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = (process.env.MEOW_BENCH_SIZES ?? '500,2000').split(',').map(Number);
  console.log('Scheduling overhead: seconds from first trigger until the last job exists');
  console.log(`(no-op execution; settle window 20 ms; ${os.cpus().length} cores)\n`);
  console.log(['test', ...sizes.map(s => `${s} jobs`), 'per job @max'].join('\t'));
  for (const c of CASES) {
    const results: number[] = [];
    for (const n of sizes) {
      results.push(await measure(c, n));
    }
    const last = results[results.length - 1] / sizes[sizes.length - 1];
    console.log([c.name, ...results.map(r => r.toFixed(2) + ' s'), (last * 1000).toFixed(2) + ' ms'].join('\t'));
  }
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
