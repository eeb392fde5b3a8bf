import { fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { SmpClient } from "../../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { parseVersion, publicOf, signImage } from "../../../harness/protocol/mcuboot/index.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";

export const goodKey = fixtureKey("test-only-ecdsa-p256");
export const wrongKey = fixtureKey("test-only-wrong-ecdsa-p256");

/** A signed app image of `size` payload bytes (seeded contents), as `hil sign --pad-header` makes it. */
export function app(version: string, size: number, key = goodKey, seed = 1): Uint8Array {
  const r = new Random(seed).fork(version);
  const payload = Uint8Array.from({ length: size }, () => r.byte());
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
  });
}

/**
 * A powered-on board with `v1` factory-programmed in the primary slot, and a client on its
 * UART; `mode` picks the swap (default swap-using-move).
 */
export async function board(v1: Uint8Array, seed = 5, mode?: "scratch" | "overwrite-only") {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({
    clock,
    seed,
    deviceOptions: { keys: [publicOf(goodKey)], ...(mode ? { mode } : {}) },
  });
  dev.program(dev.layout.primary.offset, v1);
  await dev.power.on();
  const client = new SmpClient(dev.host, clock);
  return { clock, dev, client };
}

/**
 * MCUboot's simulator loop on a board powered off with a swap due at the next boot: count
 * the swap's flash operations with one clean boot, then for each N restore the staged flash,
 * cut power before operation N (the boot stops there) and let `check` go on from the cut,
 * returning what was wrong, if anything.
 */
export async function sweepSwapCuts(
  dev: Nrf52840McubootDevice,
  check: (n: number) => Promise<string | undefined>,
): Promise<{ total: number; failures: string[] }> {
  const staged = dev.flash.snapshot();
  const start = dev.flash.counters.ops;
  await dev.power.on();
  const total = dev.flash.counters.ops - start;
  const failures: string[] = [];
  for (let n = 1; n <= total; n++) {
    await dev.power.off();
    dev.flash.restore(staged);
    dev.flash.armCut(start + n);
    await dev.power.on();
    const problem = await check(n);
    if (problem) failures.push(`cut before op ${n}: ${problem}`);
  }
  return { total, failures };
}
