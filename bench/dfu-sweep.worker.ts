/**
 * One share of the DfuSe power-cut sweep (cut points n ≡ share mod shares), on its own
 * emulated L432, so the bench can spread the sweep over the machine's cores.
 */
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { loadRigFileSync } from "../harness/rig/load.js";
import { buildRig } from "../harness/rig/rig.js";
import { shareOf } from "../harness/sim/sweep.js";
import { powerCutSweep } from "../suites/stm32-dfu/sweep.js";

const { share, shares, imageSize } = workerData as { share: number; shares: number; imageSize: number };
const path = join(import.meta.dirname, "..", "rigs", "emulated.yaml");
const board = buildRig(loadRigFileSync(path), path).boards.find((b) => b.family === "stm32l432");
if (!board) throw new Error("rigs/emulated.yaml has no stm32l432 board");
const r = await powerCutSweep(board, {
  imageSize,
  cut: { kind: "flash-op", torn: false },
  points: (total) => shareOf(total, share, shares),
});
parentPort?.postMessage({ points: r.points, failures: r.failures, deviceMs: r.deviceMs });
