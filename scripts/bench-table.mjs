// Print the README's network benchmark tables from bench/results/network.json,
// so the figures in the README are the benchmark's own (npm run bench writes it).
import { readFileSync } from 'fs';

const file = process.argv[2] ?? 'bench/results/network.json';
const data = JSON.parse(readFileSync(file, 'utf8'));
const s = x => (x < 0.1 ? `${(x * 1000).toFixed(x < 0.01 ? 1 : 0)} ms` : `${x.toFixed(2)} s`);
const row = r =>
  `| ${r.experiment === 'single' ? r.messages.toLocaleString('en') : r.listeners.toLocaleString('en')} | ${s(r.min)} / ${s(r.avg)} / ${s(r.max)} | ${s(r.storedAvg)} | ${s(r.paper.min)} / ${s(r.paper.avg)} / ${s(r.paper.max)} |`;
const head = first => [`| ${first} | meow min / avg / max | meow: all stored | paper (desktop) min / avg / max |`, '|---|---|---|---|'];
console.log(`${data.repetitions} repetitions, ${data.date.slice(0, 10)}, ${data.machine.cores} cores (${data.machine.cpu}), Node ${data.machine.node}\n`);
console.log('One listener, n messages:\n');
console.log([...head('messages'), ...data.results.filter(r => r.experiment === 'single').map(row)].join('\n'));
console.log('\n1,000 messages spread over L listeners (one pattern each):\n');
console.log([...head('listeners'), ...data.results.filter(r => r.experiment === 'multi').map(row)].join('\n'));
