/**
 * The speed goals `npm run bench` reports on, each a figure of one benchmark in this run
 * against its bound: one line per goal saying whether this machine met it.
 */
import type { BenchResult } from "./harness.js";

export interface SpeedGoal {
  /** BenchResult.name and the figure or ratio within it. */
  bench: string;
  figure: string;
  at: "most" | "least";
  bound: number;
  what: string;
}

export const SPEED_GOALS: readonly SpeedGoal[] = [
  {
    bench: "dfu",
    figure: "deviceVsWallTimeMedian",
    at: "least",
    bound: 300,
    what: "256 KB DFU update, device ÷ wall",
  },
  { bench: "dfu", figure: "sweepWallS", at: "most", bound: 5, what: "exhaustive DFU sweep, s wall" },
  { bench: "fus-install", figure: "sweepWallS", at: "most", bound: 2, what: "FUS install sweep, s wall" },
  {
    bench: "nrf52840-mcuboot",
    figure: "sweepWallMs",
    at: "most",
    bound: 1000,
    what: "MCUboot swap sweep, ms wall",
  },
  { bench: "regress", figure: "regressWallS", at: "most", bound: 30, what: "npm run regress, s wall" },
];

export interface GoalVerdict extends SpeedGoal {
  value: number | undefined;
  met: boolean;
}

export function judgeGoals(results: readonly BenchResult[], goals = SPEED_GOALS): GoalVerdict[] {
  return goals.map((g) => {
    const r = results.find((x) => x.name === g.bench);
    const value = r?.figures[g.figure] ?? r?.ratios[g.figure];
    const met = value !== undefined && (g.at === "most" ? value <= g.bound : value >= g.bound);
    return { ...g, value, met };
  });
}

export function printGoals(verdicts: readonly GoalVerdict[]): void {
  const rows = verdicts.map((v) => [
    v.what,
    v.value === undefined ? "not measured" : v.value.toFixed(v.value >= 100 ? 0 : 2),
    `${v.at === "most" ? "≤" : "≥"} ${v.bound}`,
    v.met ? "met" : "NOT met",
  ]);
  rows.unshift(["goal", "value", "bound", "verdict"]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log("");
  for (const [i, row] of rows.entries()) {
    console.log(
      row.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  "),
    );
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}
