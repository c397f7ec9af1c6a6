// `npm run bench`: runs every benchmark in bench/ one after the other, each in its own
// process so one cannot warm or starve another, shows each one's own output, collects the
// `BENCH_JSON` line each prints (bench/lib/report.ts), writes bench/results.json and ends with
// one summary table: scenario, our figure, baseline, aim, met or missed. Benchmarks print
// figures; none passes or fails on time (the exit status only says whether a bench crashed).
//
//   npm run bench                 every bench except the slow families below
//   npm run bench -- relay vnc    only files whose name contains "relay" or "vnc"
//
// Skipped unless named: files starting with `_`, and the long load/abuse families
// (`load-*`, `abuse-*`), which take many minutes and belong to their own runs.
import { spawn } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { fig, parseReport, type BenchReport } from './lib/report.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const SLOW = /^(load|abuse)-/;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => (only.length === 0 ? !SLOW.test(f) : only.some((o) => f.includes(o))))
  .sort();

interface Outcome {
  file: string;
  status: number | string;
  seconds: number;
  report: BenchReport | null;
}

function runOne(file: string): Promise<Outcome> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', `${dir}${file}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let report: BenchReport | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const r = parseReport(line);
    if (r) report = r;
    else console.log(line);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ file, status: code ?? signal ?? 'unknown', seconds: (performance.now() - t0) / 1000, report }));
  });
}

const started = new Date();
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  freeGiB: Math.round(freemem() / 2 ** 30),
  loadAverageAtStart: loadavg().map((v) => Number(v.toFixed(2))),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
const outcomes: Outcome[] = [];
for (const file of files) {
  console.log(`\n=== bench/${file}`);
  const o = await runOne(file);
  outcomes.push(o);
  if (o.status !== 0) console.log(`(bench/${file} exited with ${o.status}; its figures above are incomplete)`);
}

writeFileSync(
  `${dir}results.json`,
  `${JSON.stringify({ date: started.toISOString(), seconds: Math.round((Date.now() - started.getTime()) / 1000), machine: { ...machine, loadAverageAtEnd: loadavg().map((v) => Number(v.toFixed(2))) }, benches: outcomes.map((o) => ({ file: o.file, status: o.status, seconds: Number(o.seconds.toFixed(1)), rows: o.report?.rows ?? null })) }, null, 2)}\n`,
);

// The summary: one line per row every bench reported, in file order.
const table: string[][] = [['bench', 'scenario', 'ours', 'baseline', 'aim', '']];
for (const o of outcomes) {
  const name = o.file.replace(/\.ts$/, '');
  if (!o.report) {
    table.push([name, o.status === 0 ? '(reported no figures)' : `(exited with ${o.status})`, '', '', '', '']);
    continue;
  }
  for (const r of o.report.rows) {
    const base = r.baseline === undefined ? '' : `${fig(r.baseline)} ${r.unit}${r.baselineName ? ` (${r.baselineName})` : ''}`;
    table.push([name, r.scenario, `${fig(r.ours)} ${r.unit}`, base, r.aim ?? '', r.met === true ? 'met' : r.met === false ? 'MISSED' : '']);
  }
}
const widths = table[0]!.map((_, c) => Math.min(64, Math.max(...table.map((row) => row[c]!.length))));
console.log(`\n=== summary (${machine.cpus} cores, load at start ${machine.loadAverageAtStart.join(' ')}, ${Math.round((Date.now() - started.getTime()) / 1000)} s; bench/results.json)`);
for (const row of table) console.log(row.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
process.exitCode = outcomes.some((o) => o.status !== 0) ? 1 : 0;
