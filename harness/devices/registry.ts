import type { Family } from "../seams/family.js";
import type { EmulatedDevice, EmulatorContext } from "./emulated-device.js";
import { Nrf52840McubootDevice } from "./nrf52840-mcuboot/device.js";
import { SimNorDevice } from "./sim-nor/device.js";
import { Stm32Device } from "./stm32/device.js";
import { TKeyDevice } from "./tkey/device.js";

type Factory = (ctx: EmulatorContext) => EmulatedDevice;

/**
 * Emulators by family. Each family issue adds its line here (stm32l432/stm32wb55: DfuSe and
 * USART issues; tkey; nrf52840); a rig naming an emulated board of a family without one
 * fails to build with the list of families that have one.
 */
const FACTORIES: Partial<Record<Family, Factory>> = {
  "sim-nor": (ctx) => new SimNorDevice(ctx),
  nrf52840: (ctx) => new Nrf52840McubootDevice(ctx),
  stm32l432: (ctx) => stm32(ctx, "stm32l432"),
  stm32wb55: (ctx) => stm32(ctx, "stm32wb55"),
  tkey: (ctx) => new TKeyDevice(ctx),
};

/** One chip model, its ROM interfaces attached side by side (USB DFU here; USART beside it). */
function stm32(ctx: EmulatorContext, family: "stm32l432" | "stm32wb55"): Stm32Device {
  const device = new Stm32Device({ ...ctx, family });
  device.usb(); // attached now, so the port follows every mode change from the first boot
  return device;
}

export function emulatedFamilies(): Family[] {
  return Object.keys(FACTORIES) as Family[];
}

export function createEmulator(family: Family, ctx: EmulatorContext): EmulatedDevice {
  const factory = FACTORIES[family];
  if (!factory)
    throw new Error(
      `no emulator for family '${family}' yet (emulated families: ${emulatedFamilies().join(", ")})`,
    );
  return factory(ctx);
}
