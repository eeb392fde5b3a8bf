/**
 * STM32WB FUS on the emulator: one full wireless-stack install over USB DFU (device time ÷
 * wall time), and the exhaustive power-cut sweep of a full stack install: a cut before every
 * flash operation FUS performs, each followed by recovery and a repeated install (goal: the
 * whole sweep ≤ 30 s wall on this machine).
 */
import { join } from "node:path";
import { STACK_1 } from "../fixtures/fus/build.js";
import { loadRigFileSync } from "../harness/rig/load.js";
import { buildRig } from "../harness/rig/rig.js";
import { factoryReset, openFus } from "../suites/stm32-fus/fixture.js";
import { fusPowerCutSweep } from "../suites/stm32-fus/sweep.js";
import type { BenchResult } from "./harness.js";

function wb55() {
  const path = join(import.meta.dirname, "..", "rigs", "emulated.yaml");
  const board = buildRig(loadRigFileSync(path), path).boards.find((b) => b.family === "stm32wb55");
  if (!board) throw new Error("rigs/emulated.yaml has no stm32wb55 board");
  return board;
}

export async function fusBench(opts: { sweep?: boolean } = {}): Promise<BenchResult> {
  const board = wb55();
  await factoryReset(board, { stack: false });
  const client = await openFus(board, "usb-dfu");
  await client.startFus();
  const image = STACK_1();
  const device0 = board.clock.now();
  const wall0 = performance.now();
  await client.fwUpgrade(image);
  const wallMs = performance.now() - wall0;
  const deviceMs = board.clock.now() - device0;
  await client.link.close();
  const figures: Record<string, number> = { installDeviceMs: deviceMs, installWallMs: wallMs };
  const units: Record<string, string> = {
    installDeviceMs: `ms device time (${image.length} B stack, first install)`,
    installWallMs: "ms wall",
  };
  const ratios: Record<string, number> = { installDeviceOverWall: deviceMs / wallMs };
  if (opts.sweep ?? true) {
    const t0 = performance.now();
    const r = await fusPowerCutSweep(board, "usb-dfu", "install", { sectors: 24 });
    figures.sweepWallS = (performance.now() - t0) / 1000;
    figures.sweepCutPoints = r.points;
    figures.sweepFailures = r.failures.length;
    units.sweepWallS = "s wall (goal ≤ 2)";
    units.sweepCutPoints = "cuts (every FUS flash operation of the install)";
    units.sweepFailures = "cut points not recovered";
  }
  return { name: "fus-install", figures, units, ratios };
}

if (process.argv[1] === import.meta.filename) {
  const { printTable } = await import("./harness.js");
  printTable([await fusBench()]);
}
