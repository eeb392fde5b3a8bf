/**
 * Fault campaigns: throughput per family (plans per second of wall time, and device time ÷
 * wall time), single thread and over the machine's worker threads as `hil campaign` runs,
 * and the wall time to shrink the planted DFU defect (dfu.skipEraseAfterPowerLoss) from a
 * three-fault plan to its minimal one. Goals: ≥ 50 DFU plans/s (16 KB image), ≥ 20 MCUboot
 * plans/s, ≥ 10 FUS install plans/s; shrink ≤ 10 s.
 */
import { availableParallelism } from "node:os";
import { defaultRigPath, minimize, prepareCampaign, runCampaign } from "../harness/campaign/campaign.js";
import { campaignFamilies } from "../harness/campaign/families/index.js";
import { parsePlan } from "../harness/campaign/plan.js";
import { runCampaignInWorkers } from "../harness/campaign/workers.js";
import type { BenchResult } from "./harness.js";

const PLANS: Record<string, number> = {
  stm32l432: 200,
  nrf52840: 40,
  "sim-nor": 300,
  "stm32l432-usart": 100,
  tkey: 200,
  stm32wb55: 100,
};
const GOALS: Record<string, string> = {
  stm32l432: " (goal ≥ 50)",
  nrf52840: " (goal ≥ 20)",
  stm32wb55: " (FUS install plans; goal ≥ 10)",
};

export async function campaignBench(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const units: Record<string, string> = {};
  const ratios: Record<string, number> = {};
  const workers = Math.min(2, availableParallelism());
  for (const family of campaignFamilies()) {
    const runs = PLANS[family] ?? 50;
    // Wall time counts the board's set-up and the clean run that measures the fault space.
    const one = await runCampaign({ family, seed: 1, runs, shrink: false });
    figures[`${family}PlansPerS`] = one.plans.length / (one.wallMs / 1000);
    units[`${family}PlansPerS`] = `plans/s, 1 thread, ${runs} plans of 1..3 faults${GOALS[family] ?? ""}`;
    ratios[`${family}DeviceOverWall`] = one.deviceMs / one.wallMs;
    const t0 = performance.now();
    const spread = await runCampaignInWorkers({ family, seed: 1, runs, shrink: false }, workers);
    figures[`${family}PlansPerSWorkers`] = spread.plans.length / ((performance.now() - t0) / 1000);
    units[`${family}PlansPerSWorkers`] = `plans/s over ${workers} worker threads (start-up included)`;
  }
  // The planted defect: a three-fault plan that breaks "never bricked", shrunk to one cut.
  const bench = await prepareCampaign("stm32l432", defaultRigPath(), {
    dfu: { skipEraseAfterPowerLoss: true },
  });
  const failing = await bench.runner.run(
    parsePlan("flash-op:6=bit-flip,event:dfu.dnload.block#4=power-cut,flash-op:19=power-cut"),
  );
  if (failing.violations.length === 0) throw new Error("the planted defect did not break the plan");
  const minimal = await minimize(bench.runner, bench.scenario, failing);
  figures.shrinkPlantedS = minimal.wallMs / 1000;
  units.shrinkPlantedS = `s wall to shrink to ${minimal.plan} (${minimal.tries} plans; goal ≤ 10)`;
  return { name: "campaign", figures, units, ratios };
}

if (process.argv[1] === import.meta.filename) {
  const { printTable } = await import("./harness.js");
  printTable([await campaignBench()]);
}
