// Print the README's benchmark tables from the benchmarks' JSON, so the
// figures in the README are the benchmark's own (npm run bench writes them):
//   node scripts/bench-table.mjs                           network tables (bench/results/network.json)
//   node scripts/bench-table.mjs slurm                     Slurm vs local table (bench/results/slurm.json)
//   node scripts/bench-table.mjs notebooks                 meow vs papermill table (bench/results/notebooks.json)
//   node scripts/bench-table.mjs scheduling                the thesis's scheduling tests (bench/results/scheduling.json)
//   node scripts/bench-table.mjs burst                     file bursts beside watchdog (bench/results/burst.json)
//   node scripts/bench-table.mjs jobs                      workgroups with many finished jobs (bench/results/jobs.json)
//   node scripts/bench-table.mjs path/to/file.json         either, by the file's content
import { readFileSync } from 'fs';

const arg = process.argv[2];
const file = ['slurm', 'notebooks', 'scheduling', 'burst', 'jobs'].includes(arg)
  ? `bench/results/${arg}.json`
  : arg === 'network' || !arg
    ? 'bench/results/network.json'
    : arg;
const data = JSON.parse(readFileSync(file, 'utf8'));
const s = x => (x < 0.1 ? `${(x * 1000).toFixed(x < 0.01 ? 1 : 0)} ms` : `${x.toFixed(2)} s`);

if (data.benchmark === 'notebooks') {
  notebooksTable(data);
} else if (Array.isArray(data.rows) && Array.isArray(data.summary)) {
  schedulingTable(data);
} else if (Array.isArray(data.results) && data.results[0]?.eventsPerS) {
  burstTable(data);
} else if (Array.isArray(data.results) && data.results[0]?.startupExtraS) {
  jobsTable(data);
} else if (data.results && !Array.isArray(data.results) && data.machine?.slurm) {
  slurmTable(data);
} else {
  networkTables(data);
}

function networkTables(data) {
  const row = r =>
    `| ${r.experiment === 'single' ? r.messages.toLocaleString('en') : r.listeners.toLocaleString('en')} | ${s(r.min)} / ${s(r.avg)} / ${s(r.max)} | ${s(r.storedAvg)} | ${s(r.paper.min)} / ${s(r.paper.avg)} / ${s(r.paper.max)} |`;
  const head = first => [
    `| ${first} | meow min / avg / max | meow: all stored | paper (desktop) min / avg / max |`,
    '|---|---|---|---|'
  ];
  console.log(
    `${data.repetitions} repetitions, ${data.date.slice(0, 10)}, ${data.machine.cores} cores (${data.machine.cpu}), Node ${data.machine.node}\n`
  );
  console.log('One listener, n messages:\n');
  console.log([...head('messages'), ...data.results.filter(r => r.experiment === 'single').map(row)].join('\n'));
  console.log('\n1,000 messages spread over L listeners (one pattern each):\n');
  console.log([...head('listeners'), ...data.results.filter(r => r.experiment === 'multi').map(row)].join('\n'));
}

/** measure | meow local | meow Slurm | paper Slurm sbatch; min / median / max when repeated. */
function slurmTable(data) {
  const { local, slurm, sbatch } = data.results;
  const rate = x => `${x.toFixed(1)}/s`;
  const cell = (st, f) =>
    !st ? '—' : st.values.length === 1 ? f(st.median) : `${f(st.min)} / ${f(st.median)} / ${f(st.max)}`;
  const p = data.paper;
  const n = data.jobs.toLocaleString('en');
  const m = data.submissions.toLocaleString('en');
  const rows = [
    [
      `all ${n} jobs created (meow's own scheduling)`,
      cell(local?.createdSeconds, s),
      cell(slurm?.createdSeconds, s),
      '—'
    ],
    [
      `all ${n} jobs submitted to Slurm (scheduling overhead, SPMF)`,
      '—',
      cell(slurm?.submittedSeconds, s),
      `${s(p.slurmSubmitAllSeconds)} (${p.jobs} jobs)`
    ],
    [`all ${n} jobs done (end to end)`, cell(local?.doneSeconds, s), cell(slurm?.doneSeconds, s), '—'],
    ['jobs per second, end to end', cell(local?.jobsPerSecond, rate), cell(slurm?.jobsPerSecond, rate), '—'],
    [
      'one job, started → finished in meow (mean; Slurm: includes waiting in its queue)',
      cell(local?.meanJobSeconds, s),
      cell(slurm?.meanJobSeconds, s),
      '—'
    ],
    [
      'sequential `sbatch`: time per submission (SPSFS)',
      '—',
      cell(sbatch?.secondsPerSubmission, s),
      s(p.slurmSecondsPerSequentialSbatch)
    ],
    [
      'sequential `sbatch`: submissions per second',
      '—',
      cell(sbatch?.sequentialPerSecond, rate),
      rate(1 / p.slurmSecondsPerSequentialSbatch)
    ],
    [
      `meow's SlurmCommands.submit, ${m} at once: submissions per second`,
      '—',
      cell(sbatch?.concurrentPerSecond, rate),
      '—'
    ]
  ];
  const reps = data.repetitions;
  console.log(
    `${n} trivial jobs × ${reps.jobs} run(s), ${m} held submissions × ${reps.sbatch} run(s); ${data.date.slice(0, 10)}, ` +
      `${data.machine.cores} cores (${data.machine.cpu}), ${data.machine.slurm}, single node with ${data.machine.slurmNodeCpus} CPUs, Node ${data.machine.node}` +
      (data.note ? `\n\nNote: ${data.note}` : '') +
      '\n'
  );
  console.log(
    [
      '| measure | meow local | meow Slurm | paper Slurm sbatch |',
      '|---|---|---|---|',
      ...rows.map(r => `| ${r.join(' | ')} |`)
    ].join('\n')
  );
}

/** workers | meow s/job | papermill s/job | ratio | overhead, min / median / max, each target met or not. */
function notebooksTable(data) {
  const st = x => `${s(x.min)} / ${s(x.median)} / ${s(x.max)}`;
  const ks = data.kernelStart;
  console.log(
    `${data.notebooks} trivial ${data.cells.length}-cell notebooks × ${data.repetitions} repetitions; ${data.date.slice(0, 10)}, ` +
      `${data.machine.cores} cores (${data.machine.cpu}), Node ${data.machine.node}; papermill ${data.papermill.version} (${data.papermill.how})\n`
  );
  console.log(
    [
      '| workers | meow s/job min / median / max | papermill s/job min / median / max | throughput meow / papermill (target ≥ 5x) | meow overhead per job, median (target < 0.15 s) |',
      '|---|---|---|---|---|',
      ...data.results.map(
        r =>
          `| ${r.workers} | ${st(r.meow.secondsPerJob)} | ${st(r.papermill.secondsPerJob)} | ${r.ratio.toFixed(1)}x ${r.targets.ratio.met ? 'met' : '**not met**'} | ` +
          `${s(r.meow.overheadPerJob.median)} ${r.targets.overhead.met ? 'met' : '**not met**'} |`
      )
    ].join('\n')
  );
  console.log(
    `\nKernel start (REST start until kernel_info answers), min / median / max: fork ${st(ks.fork)}, the usual way ${st(ks.usual)}`
  );
}

function mmm(x, f) {
  return x.values?.length === 1 ? f(x.median) : `${f(x.min)} / ${f(x.median)} / ${f(x.max)}`;
}

/** test | sizes…, one column per size, then the thesis at 500 and the verdict. */
function schedulingTable(data) {
  const sizes = [...new Set(data.rows.map(r => r.jobs))].sort((a, b) => a - b);
  // Rows kept from an earlier run (MEOW_BENCH_MERGE) carry their own date.
  const days = [...new Set(data.rows.map(r => (r.date ?? data.date).slice(0, 10)))].sort();
  const reps = [...new Set(data.rows.map(r => r.reps ?? data.reps))].sort((a, b) => b - a);
  console.log(
    `min / median / max of ${reps.join(' or ')}; ${days.join(' and ')}, ${data.cores} cores (${data.cpu}), Node ${data.node}\n`
  );
  const head = [
    'test',
    ...sizes.map(n => `${n.toLocaleString('en')} jobs`),
    'ms/job at the largest',
    'thesis runner, 500',
    'target'
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const sum of data.summary) {
    const mine = data.rows.filter(r => r.test === sum.test);
    const cells = sizes.map(n => {
      const r = mine.find(x => x.jobs === n);
      return r ? mmm(r.seconds, s) : '—';
    });
    const last = mine[mine.length - 1];
    const target = sum.test === 'SPSFS' ? `< thesis, linear` : `< ${s(sum.target500S)} at 500, linear`;
    // One size cannot show linear growth, whatever the JSON says.
    const fast = sum.at500S !== undefined && sum.at500S < sum.target500S;
    const verdict =
      mine.length > 1
        ? sum.met
          ? 'met'
          : '**not met**'
        : `${fast ? 'fast enough' : '**too slow**'} at 500, linearity not measured`;
    lines.push(
      `| ${sum.test} | ${cells.join(' | ')} | ${last.msPerJob.toFixed(2)} | ${s(sum.thesisAt500S)} | ${target}: ${verdict} |`
    );
    // Beside a case with many files, what bounds it: no tool makes a job for
    // a file not yet written (writer alone), and the least a durable tool
    // does for these files (the floor, bench/floor.ts).
    for (const [key, label] of [
      ['writeSeconds', 'writer alone: the same files, nothing watching'],
      ['floorSeconds', 'floor: watch, settle, hash, journal only (no meow)']
    ]) {
      if (mine.some(r => r[key])) {
        const cellsOf = sizes.map(n => {
          const r = mine.find(x => x.jobs === n);
          return r?.[key] ? mmm(r[key], s) : '—';
        });
        const perJob = last[key] ? ((last[key].median / last.jobs) * 1000).toFixed(2) : '—';
        lines.push(`| ${sum.test} ${label} | ${cellsOf.join(' | ')} | ${perJob} | — | — |`);
      }
    }
  }
  console.log(lines.join('\n'));
}

/** files | events/s to job | lost | idle | RSS | watchdog. */
function burstTable(data) {
  console.log(
    `min / median / max of ${data.reps}; ${data.date.slice(0, 10)}, ${data.cores} cores (${data.cpu}), Node ${data.node}\n`
  );
  const n = x => x.toFixed(0);
  const lines = [
    '| files (4 writers) | all written | every file has its job | meow events/s to job | files without a job at idle | idle again | RSS | watchdog events/s (detection only) | watchdog missed | target ≥ 10,000/s, none lost |',
    '|---|---|---|---|---|---|---|---|---|---|'
  ];
  for (const r of data.results) {
    lines.push(
      `| ${r.files.toLocaleString('en')} | ${mmm(r.writtenS, s)} | ${mmm(r.jobsS, s)} | ${mmm(r.eventsPerS, n)} | ${r.lost.join(', ')} | ${mmm(r.idleS, s)} | ${mmm(r.rssMB, n)} MB | ` +
        `${r.watchdog ? mmm(r.watchdog.eventsPerS, n) : '—'} | ${r.watchdog ? r.watchdog.missed.join(', ') : '—'} | ${r.target.met ? 'met' : '**not met**'} |`
    );
  }
  console.log(lines.join('\n'));
}

/** finished jobs | start-up extra | report | RSS, each beside its target. */
function jobsTable(data) {
  console.log(
    `min / median / max of ${data.reps}; ${data.date.slice(0, 10)}, ${data.cores} cores (${data.cpu}), Node ${data.node}\n`
  );
  const n = x => x.toFixed(0);
  const verdict = (value, limit) => (limit === undefined ? '' : value < limit ? ' (met)' : ' (**not met**)');
  const lines = [
    '| finished jobs | start-up to idle (empty workgroup) | extra over empty (target < 1 s) | `meow report --format json`, piped (target < 1 s) | RSS after start-up (target < 150 MB at 10k, < 300 MB at 100k) |',
    '|---|---|---|---|---|'
  ];
  for (const r of data.results) {
    const t = r.target ?? {};
    lines.push(
      `| ${r.jobs.toLocaleString('en')} | ${mmm(r.idleS, s)} (${s(r.emptyIdleS.median)}) | ${mmm(r.startupExtraS, s)}${verdict(r.startupExtraS.median, t.startupExtraS)} | ` +
        `${mmm(r.reportS, s)}${verdict(r.reportS.median, t.reportS)} | ${mmm(r.rssMB, n)} MB${verdict(r.rssMB.median, t.rssMB)} |`
    );
  }
  console.log(lines.join('\n'));
}
