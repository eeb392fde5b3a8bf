import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** One benchmark: what it measured, the figures, and ratios against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  figures: Record<string, number>;
  units: Record<string, string>;
  /** Ratios are what a target is stated against: machine speed cancels out. */
  ratios: Record<string, number>;
}

/** Median wall time of `fn` in ms over `runs` runs after one warm-up. */
export function timeMs(fn: () => void, runs = 7): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export function printTable(results: BenchResult[]): void {
  const rows: string[][] = [["benchmark", "measure", "value", "unit"]];
  for (const r of results) {
    for (const [k, v] of Object.entries(r.figures)) rows.push([r.name, k, fmt(v), r.units[k] ?? ""]);
    for (const [k, v] of Object.entries(r.ratios)) rows.push([r.name, k, fmt(v), "ratio"]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(
      row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  "),
    );
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

export async function writeJson(path: string, results: BenchResult[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const doc = { date: new Date().toISOString(), node: process.version, results };
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
