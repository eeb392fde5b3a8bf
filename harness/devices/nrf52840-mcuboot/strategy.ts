import type { FlashSnapshot } from "../../sim/flash.js";
import { Nrf52840McubootDevice } from "./device.js";

const blanks = new WeakMap<Nrf52840McubootDevice, FlashSnapshot>();

/**
 * Factory state: everything erased, `image` (if any) programmed into the primary slot as
 * over SWD, powered on. With an image, MCUboot must boot it.
 */
export async function factoryResetNrf52840(dev: Nrf52840McubootDevice, image?: Uint8Array): Promise<void> {
  await dev.power.off();
  let blank = blanks.get(dev);
  if (!blank) {
    blank = new Nrf52840McubootDevice({
      clock: dev.clock,
      seed: dev.seed,
      options: { keys: [] },
    }).flash.snapshot();
    blanks.set(dev, blank);
  }
  dev.flash.restore(blank);
  if (image) dev.program(dev.layout.primary.offset, image);
  await dev.power.on();
  if (image && dev.state !== "running")
    throw new Error(`nrf52840 emulator: the factory image does not boot (state ${dev.state})`);
}
