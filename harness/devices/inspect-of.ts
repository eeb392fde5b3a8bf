import type { EmulatedDevice } from "./emulated-device.js";
import { Nrf52840McubootDevice } from "./nrf52840-mcuboot/device.js";
import { Nrf52840Inspect } from "./nrf52840-mcuboot/inspect.js";
import { SimNorDevice } from "./sim-nor/device.js";
import { SimNorInspect } from "./sim-nor/inspect.js";
import { Stm32Device } from "./stm32/device.js";
import { Stm32Inspect } from "./stm32/inspect.js";
import { TKeyDevice } from "./tkey/device.js";
import { TKeyInspect } from "./tkey/inspect.js";

/** White-box access to any emulated board; `family` tells the kinds apart. */
export type Inspect = Stm32Inspect | TKeyInspect | Nrf52840Inspect | SimNorInspect;

/** Families grouped as `requireInspect` asks for them. */
export interface InspectByKind {
  stm32: Stm32Inspect;
  tkey: TKeyInspect;
  nrf52840: Nrf52840Inspect;
  "sim-nor": SimNorInspect;
}
export type InspectKind = keyof InspectByKind;

export function inspectKind(inspect: Inspect): InspectKind {
  return inspect instanceof Stm32Inspect ? "stm32" : inspect.family;
}

/** The inspect view of an emulator. */
export function inspectOf(device: EmulatedDevice): Inspect {
  if (device instanceof Stm32Device) return new Stm32Inspect(device);
  if (device instanceof TKeyDevice) return new TKeyInspect(device);
  if (device instanceof Nrf52840McubootDevice) return new Nrf52840Inspect(device);
  if (device instanceof SimNorDevice) return new SimNorInspect(device);
  throw new Error(`no inspect view for emulated ${device.family}`);
}
