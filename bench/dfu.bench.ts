import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { loadRigFileSync } from "../harness/rig/load.js";
import { buildRig } from "../harness/rig/rig.js";
import { appImage, asFile, connect, startInBootloader } from "../suites/stm32-dfu/fixture.js";
import type { BenchResult } from "./harness.js";

const KB = 1024;

/** The emulated L432 of the default rack (a fresh rig, so runs do not share device state). */
function l432() {
  const path = join(import.meta.dirname, "..", "rigs", "emulated.yaml");
  const board = buildRig(loadRigFileSync(path), path).boards.find((b) => b.family === "stm32l432");
  if (!board) throw new Error("rigs/emulated.yaml has no stm32l432 board");
  return board;
}

/**
 * A 256 KB DfuSe update of the emulated L432 (the whole flash): virtual device time against
 * wall time, GETSTATUS requests per DNLOAD, and the exhaustive power-cut sweep of the same
 * update (every flash operation, each followed by power-on, recovery and a byte-exact check).
 */
export async function dfuBench(opts: { sweep?: boolean } = {}): Promise<BenchResult> {
  const { deviceMs, wallMs, cpuMs, getStatus, dnloads } = await update();
  // The first update also warms the JIT up; the goal is stated on updates after it.
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const u = await update();
    warm.push(u.deviceMs / u.wallMs);
  }
  warm.sort((a, b) => a - b);

  const figures: Record<string, number> = {
    updateDeviceMs: deviceMs,
    updateWallMs: wallMs,
    updateCpuMs: cpuMs,
    getStatusPerDnload: getStatus / dnloads,
  };
  const units: Record<string, string> = {
    updateDeviceMs: "ms device time (256 KB)",
    updateWallMs: "ms wall",
    updateCpuMs: "ms CPU (wall is noisy on a shared machine)",
    getStatusPerDnload: "requests (goal ≤ 2.05)",
  };
  if (opts.sweep ?? true) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await sweepOnAllCores(256 * KB);
    figures.sweepWallS = (performance.now() - t0) / 1000;
    figures.sweepCpuS = cpuSince(c0) / 1000;
    units.sweepCpuS = "s CPU, all workers";
    figures.sweepCutPoints = r.points;
    figures.sweepFailures = r.failures.length;
    figures.sweepWorkers = r.workers;
    units.sweepWallS = "s wall (goal ≤ 5)";
    units.sweepCutPoints = "cut points (every flash op)";
    units.sweepFailures = "cut points not recovered";
    units.sweepWorkers = "worker threads";
    for (const f of r.failures.slice(0, 5)) console.error(`sweep: ${f}`);
  }
  return {
    name: "dfu",
    figures,
    units,
    ratios: {
      deviceVsWallTime: deviceMs / wallMs,
      deviceVsCpuTime: deviceMs / cpuMs,
      deviceVsWallTimeMedian: warm[Math.floor(warm.length / 2)]!,
    },
  };
}

/** One 256 KB update of a fresh emulated L432, from its bootloader. */
async function update() {
  const board = l432();
  const base = 0x0800_0000;
  const data = appImage(board, 256 * KB, "bench");
  await startInBootloader(board);
  const client = await connect(board);
  let getStatus = 0;
  client.events.on("status", () => getStatus++);
  const device0 = board.clock.now();
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  await client.download(asFile("bin", base, data));
  const wallMs = performance.now() - wall0;
  const cpuMs = cpuSince(cpu0);
  const deviceMs = board.clock.now() - device0;
  const dnloads = client.transcript.entries.filter(
    (e) => e.setup?.bRequest === 1 && e.dir === "ctrl-out",
  ).length;
  return { deviceMs, wallMs, cpuMs, getStatus, dnloads };
}

/** The exhaustive sweep split over one worker per core (each with its own emulated board). */
async function sweepOnAllCores(
  imageSize: number,
): Promise<{ points: number; failures: string[]; workers: number }> {
  const shares = Math.max(1, availableParallelism());
  const url = new URL("./dfu-sweep.worker.ts", import.meta.url);
  const parts = await Promise.all(
    Array.from(
      { length: shares },
      (_, share) =>
        new Promise<{ points: number; failures: string[] }>((resolve, reject) => {
          // Node 20 workers do not inherit tsx's loader: register it, then load the TypeScript worker.
          const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
          const worker = new Worker(boot, { eval: true, workerData: { share, shares, imageSize } });
          worker.once("message", resolve);
          worker.once("error", reject);
        }),
    ),
  );
  return {
    points: parts.reduce((n, p) => n + p.points, 0),
    failures: parts.flatMap((p) => p.failures),
    workers: shares,
  };
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}
