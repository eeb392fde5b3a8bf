/**
 * `npm run regress` as a developer runs it: `hil run` on the default rack (every suite, in a
 * child process, as the CLI starts it), then `hil report`. Wall time of each, and how many
 * scenarios ran.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { BenchResult } from "./harness.js";

const root = join(import.meta.dirname, "..");

function hil(args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "bin", "hil.js"), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, ms: performance.now() - t0 }));
  });
}

export async function regressBench(): Promise<BenchResult> {
  const run = await hil(["run"]);
  const report = await hil(["report"]);
  const counts = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(run.stdout);
  if (!counts) throw new Error(`hil run (exit ${run.code}) printed no summary line`);
  return {
    name: "regress",
    figures: {
      regressWallS: (run.ms + report.ms) / 1000,
      runWallS: run.ms / 1000,
      reportWallS: report.ms / 1000,
      scenarios: Number(counts[1]) + Number(counts[2]) + Number(counts[3]),
      failed: Number(counts[2]),
    },
    units: {
      regressWallS: "s wall, hil run + hil report (goal ≤ 30)",
      runWallS: "s wall, hil run (default rack)",
      reportWallS: "s wall, hil report",
      scenarios: "scenarios run",
      failed: "scenarios failed",
    },
    ratios: {},
  };
}
