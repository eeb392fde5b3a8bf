import { fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { SmpClient } from "../../../harness/clients/smp/index.js";
import {
  Nrf52840McubootDevice,
  type Nrf52840Options,
} from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { parseVersion, publicOf, signImage } from "../../../harness/protocol/mcuboot/index.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";

export const goodKey = fixtureKey("test-only-ecdsa-p256");
export const wrongKey = fixtureKey("test-only-wrong-ecdsa-p256");

/** A signed app image of `size` payload bytes (seeded contents), as `hil sign --pad-header` makes it. */
export function app(version: string, size: number, key = goodKey, seed = 1): Uint8Array {
  const r = new Random(seed).fork(version);
  const payload = r.bytes(size);
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
  });
}

/**
 * A signed app image whose whole length (header, payload, TLVs) is `total` bytes, give or
 * take the few bytes a DER signature varies by; `pad`/`confirm` as imgtool's (the request
 * written in its trailer, for programming straight into the secondary).
 */
export function appOfTotal(
  version: string,
  total: number,
  opts: { pad?: boolean; confirm?: boolean } = {},
): Uint8Array {
  const overhead = app(version, 1000).length - 1000;
  const size = total - overhead;
  const r = new Random(1).fork(version);
  const payload = r.bytes(size);
  return signImage(payload, {
    key: goodKey,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
    // The write size only shapes the trailer `pad` writes (imgtool's room check uses it too).
    align: opts.pad || opts.confirm ? 4 : 1,
    ...opts,
  });
}

/** A board with nothing booted yet (power off): program its slots, then power it on. */
export function offBoard(seed = 5, mode?: "scratch" | "overwrite-only") {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({
    clock,
    seed,
    options: { keys: [publicOf(goodKey)], ...(mode ? { mode } : {}) },
  });
  return { clock, dev };
}

/**
 * A powered-on board with `v1` factory-programmed in the primary slot, and a client on its
 * UART; `mode` picks the swap (default swap-using-move), `options` any other device option.
 */
export async function board(
  v1: Uint8Array,
  seed = 5,
  mode?: "scratch" | "overwrite-only",
  options: Nrf52840Options = {},
) {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({
    clock,
    seed,
    options: { keys: [publicOf(goodKey)], ...(mode ? { mode } : {}), ...options },
  });
  dev.program(dev.layout.primary.offset, v1);
  await dev.power.on();
  const client = new SmpClient(dev.port("console"), clock);
  return { clock, dev, client };
}
