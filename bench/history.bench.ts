import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { NIGHT_FORMAT, type NightRecord } from "../harness/report/night-history.js";
import { type OperationSample, summariseTiming } from "../harness/report/operation-timing.js";
import { Random } from "../harness/sim/random.js";
import type { BenchResult } from "./harness.js";

const NIGHTS = 365;
const SCENARIOS = 300;
const BOARDS = ["lab-l432-1", "lab-l432-2", "lab-wb55-1", "lab-wb55-2", "lab-tkey", "lab-nrf52840"];
/** What a scenario does, per family: operation, units, ms per unit. */
const OPS: Readonly<Record<string, readonly [string, number, number][]>> = {
  l432: [
    ["page erase", 16, 25],
    ["block program", 16, 26],
    ["DFU download", 32, 26],
    ["re-enumeration after reset", 1, 820],
    ["USART write memory", 64, 23],
  ],
  wb55: [
    ["page erase", 8, 25],
    ["block program", 8, 26],
    ["FUS install", 1, 40_000],
    ["FUS poll", 14, 300],
    ["option-byte reload", 1, 60],
  ],
  tkey: [
    ["TKey app load", 32, 110],
    ["TKey app data", 32, 28],
  ],
  nrf52840: [["MCUboot image upload", 64, 12]],
};

/**
 * A year of nightly history: 365 nights of 300 scenarios, each running its family's
 * operations on one of six lab boards (one L432 wearing: its erase 0.1 % slower a night),
 * summarised per night as hil report writes them; then the time and peak memory a fresh
 * process takes to load it and summarise every board's operations over the year with
 * drift. Goals: ≤ 1 s, ≤ 200 MB.
 */
export async function historyBench(): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), "hil-history-bench-"));
  try {
    const file = join(dir, "hil-history.jsonl");
    const r = new Random(20);
    const lines: string[] = [];
    let operations = 0;
    for (let n = 0; n < NIGHTS; n++) {
      const samples: OperationSample[] = [];
      for (let s = 0; s < SCENARIOS; s++) {
        const board = BOARDS[s % BOARDS.length] as string;
        const family = board.split("-")[1] as string;
        for (const [op, units, ms] of OPS[family] ?? []) {
          const wear = board === "lab-l432-1" && op === "page erase" ? 1.001 ** n : 1;
          samples.push({ board, op, units, ms: units * ms * wear * (0.97 + r.byte() / 4250) });
          operations++;
        }
      }
      const night: NightRecord = {
        format: NIGHT_FORMAT,
        at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
        timing: summariseTiming(samples, (b) => ({
          family: b.split("-")[1],
          emulated: false,
          identity: { serial: b },
        })),
      };
      lines.push(JSON.stringify(night));
    }
    await writeFile(file, `${lines.join("\n")}\n`);
    const size = lines.reduce((n, l) => n + l.length + 1, 0);
    const child = await execa(process.execPath, [
      "--import",
      "tsx",
      join(import.meta.dirname, "history-load.child.ts"),
      file,
    ]);
    const got = JSON.parse(child.stdout) as {
      ms: number;
      maxRssMb: number;
      nights: number;
      trends: number;
      drifting: number;
    };
    return {
      name: "history",
      figures: {
        operations,
        fileMb: size / 2 ** 20,
        loadAndSummariseMs: got.ms,
        peakRssMb: got.maxRssMb,
        trends: got.trends,
        drifting: got.drifting,
      },
      units: {
        operations: "operations in the year (365 nights × 300 scenarios)",
        fileMb: "MB of hil-history.jsonl",
        loadAndSummariseMs: "ms (goal ≤ 1000)",
        peakRssMb: "MB peak RSS of the loading process, node and tsx included (goal ≤ 200)",
        trends: "board × operation series",
        drifting: "flagged (the wearing L432's erase)",
      },
      ratios: {},
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
