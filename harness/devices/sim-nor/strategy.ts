import { SimNorDevice } from "./device.js";

/** Factory state: `image` (if any) in the primary slot, the rest erased, the board powered off. */
export async function factoryResetSimNor(dev: SimNorDevice, image?: Uint8Array): Promise<void> {
  await dev.power.off();
  const blank = new SimNorDevice({ clock: dev.clock, seed: dev.seed });
  dev.flash.restore(blank.flash.snapshot());
  if (image) dev.flash.load(dev.slotAddress("primary"), image);
}
