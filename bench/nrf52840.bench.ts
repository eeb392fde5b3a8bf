import { SmpClient } from "../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../harness/devices/nrf52840-mcuboot/device.js";
import { sweepSwapCuts } from "../harness/devices/nrf52840-mcuboot/swap-sweep.js";
import {
  generateKey,
  parseImage,
  parseVersion,
  publicOf,
  signImage,
} from "../harness/protocol/mcuboot/index.js";
import { VirtualClock } from "../harness/sim/virtual-clock.js";
import type { BenchResult } from "./harness.js";

const key = generateKey("ecdsa-p256", new TextEncoder().encode("bench test-only key"));
const image = (version: string, size: number) =>
  signImage(
    Uint8Array.from({ length: size }, (_, i) => (i * 13 + size) & 0xff),
    { key, version: parseVersion(version), headerSize: 0x200, slotSize: 0x76000, padHeader: true },
  );

async function board(v1: Uint8Array) {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({ clock, seed: 1, options: { keys: [publicOf(key)] } });
  dev.program(dev.layout.primary.offset, v1);
  await dev.power.on();
  return { clock, dev };
}

/**
 * The MCUboot simulator's exhaustive sweep on the emulated nRF52840 (a 64 KB TEST swap:
 * cut before every flash operation, resume), and upload throughput against the client's
 * packet size. Baseline in the same run: one uninterrupted swap boot.
 */
export async function nrf52840Bench(): Promise<BenchResult> {
  const v1 = image("1.0.0", 60_000);
  const v2 = image("2.0.0", 64_000);
  const { clock, dev } = await board(v1);
  const client = new SmpClient(dev.port("console"), clock);
  await client.upload(v2);
  await client.test(parseImage(v2).hash!);
  await dev.power.off();
  let t0 = performance.now();
  let swapMs = 0;
  const {
    total: cuts,
    failures,
    deviceMs: sweepDeviceMs,
  } = await sweepSwapCuts(
    dev,
    async () => {
      await dev.power.on();
      return dev.runningVersion === "2.0.0" ? undefined : `ended on ${dev.runningVersion}`;
    },
    {
      afterCleanSwap: () => {
        swapMs = performance.now() - t0;
        t0 = performance.now();
      },
    },
  );
  const sweepMs = performance.now() - t0;
  if (failures.length > 0) throw new Error(`sweep: ${failures.join("; ")}`);

  const figures: Record<string, number> = {
    swapOps: cuts,
    swapWallMs: swapMs,
    sweepWallMs: sweepMs,
    sweepDeviceS: sweepDeviceMs / 1000,
  };
  const units: Record<string, string> = {
    swapOps: "cut points",
    swapWallMs: "ms",
    sweepWallMs: "ms",
    sweepDeviceS: "s device time (clean swap and every cut)",
  };
  for (const mtu of [128, 256, 384]) {
    const b = await board(v1);
    const c = new SmpClient(b.dev.port("console"), b.clock, { mtu });
    let requests = 0;
    const w0 = performance.now();
    const d0 = b.clock.now();
    await c.upload(v2, { onProgress: () => requests++ });
    const wall = performance.now() - w0;
    figures[`upload${mtu}KBps`] = v2.length / 1024 / (wall / 1000);
    units[`upload${mtu}KBps`] = "KB/s wall";
    figures[`upload${mtu}Requests`] = requests;
    units[`upload${mtu}Requests`] = "requests";
    figures[`upload${mtu}DeviceMs`] = b.clock.now() - d0;
    units[`upload${mtu}DeviceMs`] = "ms device time";
  }
  return {
    name: "nrf52840-mcuboot",
    figures,
    units,
    ratios: { sweepPerCutOverSwap: sweepMs / cuts / swapMs },
  };
}
