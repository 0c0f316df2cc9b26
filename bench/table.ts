// Prints a benchmark's numbers as an aligned two-column table, and runs a module as a script.
import type { BenchModule, BenchResult } from './types';

export function printTable(name: string, result: BenchResult, seconds: number): void {
  const rows = Object.entries(result).map(([key, value]) => [key, typeof value === 'number' ? formatNumber(value) : value]);
  const width = Math.max(...rows.map(([key]) => key.length), 6);
  console.log(`\n## ${name} (${seconds.toFixed(1)} s)`);
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}

/** `node out/bench/x.bench.js` runs that module alone; exit code 1 if it threw. */
export function runAsScript(module: BenchModule): void {
  const started = performance.now();
  module.run().then(
    (result) => printTable(module.name, result, (performance.now() - started) / 1000),
    (error: unknown) => {
      console.error(`## ${module.name}: FAILED\n${error instanceof Error ? error.stack : String(error)}`);
      process.exitCode = 1;
    },
  );
}

/** The p-th percentile (0–100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
