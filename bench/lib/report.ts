// The one machine-readable channel from a benchmark to the runner (bench/run.ts): each bench
// prints its own human table, then calls `emit` once with the rows that belong in the suite's
// summary. The runner collects the `BENCH_JSON` line from the bench's stdout, so a bench stays
// a plain script that also runs alone (`npx tsx bench/NAME.ts`).
//
// Why a printed line and not a file: benches run in their own process (so one cannot warm or
// starve another) and may be run by hand; stdout is the one thing both cases share.

export const MARKER = 'BENCH_JSON ';

export interface Row {
  /** What was measured, e.g. "typing, one character: bytes per update". */
  scenario: string;
  /** Our figure, in `unit`; null when it could not be measured in this run. */
  ours: number | null;
  unit: string;
  /** The baseline measured in the same run (same unit), when there is one. */
  baseline?: number | null;
  /** What the baseline is, e.g. "x11vnc ZRLE" or "socat". */
  baselineName?: string;
  /** The aim in words, e.g. "< 30 ms" or ">= 0.8x socat". */
  aim?: string;
  /** Whether the aim is met; null when there is no aim or it could not be judged. */
  met?: boolean | null;
  note?: string;
}

export interface BenchReport {
  bench: string;
  rows: Row[];
}

/** Prints the report line the runner collects. Call once, at the end of the bench. */
export function emit(bench: string, rows: Row[]): void {
  process.stdout.write(`${MARKER}${JSON.stringify({ bench, rows } satisfies BenchReport)}\n`);
}

/** Parses a report line, or null when the line is not one. */
export function parseReport(line: string): BenchReport | null {
  if (!line.startsWith(MARKER)) return null;
  try {
    const v = JSON.parse(line.slice(MARKER.length)) as BenchReport;
    return typeof v.bench === 'string' && Array.isArray(v.rows) ? v : null;
  } catch {
    // A bench that printed a broken line has no figures in the summary; its own output stays.
    return null;
  }
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile (q in 0..1) of the samples; 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** A figure rounded for tables: 3 significant digits, integers stay integers. */
export function fig(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v) || Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}
