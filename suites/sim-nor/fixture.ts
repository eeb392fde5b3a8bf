import { expect } from "chai";
import { SimNorDevice } from "../../harness/devices/sim-nor/device.js";
import { buildImage } from "../../harness/devices/sim-nor/image.js";
import type { Board } from "../../harness/rig/board.js";
import { Random } from "../../harness/sim/random.js";

/** The emulator behind a sim-nor board (these suites need flash-level access). */
export function simNor(board: Board): SimNorDevice {
  const dev = board.emulator;
  expect(dev, `board ${board.id} is not an emulated sim-nor board`).to.be.instanceOf(SimNorDevice);
  return dev as SimNorDevice;
}

/** Two images of different sizes and contents, derived from the board's seed. */
export function images(board: Board): { v1: Uint8Array; v2: Uint8Array } {
  const r = new Random(board.seed).fork("images");
  const payload = (n: number) => Uint8Array.from({ length: n }, () => r.byte());
  return { v1: buildImage(1, payload(5000)), v2: buildImage(2, payload(7000)) };
}

/** Factory state: v1 in the primary slot, the rest erased, board powered off. */
export async function factoryReset(dev: SimNorDevice, v1: Uint8Array): Promise<void> {
  await dev.power.off();
  const blank = new SimNorDevice({ clock: dev.clock, seed: dev.seed });
  dev.flash.restore(blank.flash.snapshot());
  dev.flash.load(dev.slotAddress("primary"), v1);
}

export function slot(dev: SimNorDevice, which: "primary" | "secondary", length: number): Uint8Array {
  return dev.flash.peek(dev.slotAddress(which), length);
}
