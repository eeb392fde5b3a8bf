/**
 * The USB DFU side of an emulated STM32: attach a port to a Stm32Device, then reach its
 * WebUSB-shaped devices through an EmulatedUsbBus.
 */
import type { EmulatedDevice } from "../../emulated-device.js";
import type { Stm32Device } from "../device.js";
import { EmulatedUsbBus } from "./bus.js";
import { Stm32UsbPort, type UsbPortOptions } from "./port.js";

export { DEFAULT_APP_USB } from "./app-usb.js";
export { EmulatedUsbBus } from "./bus.js";
export * from "./descriptors.js";
export { Stm32UsbPort, type UsbPortOptions } from "./port.js";
export { GET_COMMANDS_REPLY, RomDfu } from "./rom-dfu.js";
export { DFU_TIMING } from "./timing.js";
export { EmulatedUsbDevice } from "./usb-device.js";

const PORTS = new WeakMap<EmulatedDevice, Stm32UsbPort>();

/** Puts the ROM DFU interface (and the app's USB device) on the board's USB port. */
export function attachUsbDfu(device: Stm32Device, opts: UsbPortOptions = {}): Stm32UsbPort {
  const port = new Stm32UsbPort(device, opts);
  PORTS.set(device, port);
  return port;
}

export function usbPortOf(device: EmulatedDevice | undefined): Stm32UsbPort | undefined {
  return device ? PORTS.get(device) : undefined;
}

/** A bus with this board alone on it. */
export function emulatedUsbBus(device: EmulatedDevice): EmulatedUsbBus {
  const port = usbPortOf(device);
  if (!port) throw new Error(`emulated ${device.family} board ${device.serial} has no USB port`);
  return new EmulatedUsbBus([port], device.clock);
}

/** `emulated.options.dfu` keys (skipEraseAfterPowerLoss: a planted defect for fault campaigns). */
const DFU_QUIRK_KEYS = ["l4EraseStall", "startInError", "skipEraseAfterPowerLoss"];

/**
 * Rig-file options (`emulated.options`) for the USB side: `app: { vendorId, productId,
 * product }` and `dfu: { l4EraseStall, startInError }`.
 * @throws {Error} naming the option that has the wrong type.
 */
export function usbOptionsFromContext(options: Record<string, unknown> | undefined): UsbPortOptions {
  const out: UsbPortOptions = {};
  const app = options?.app as Record<string, unknown> | undefined;
  if (app !== undefined) {
    for (const key of ["vendorId", "productId"])
      if (
        app[key] !== undefined &&
        !(Number.isInteger(app[key]) && (app[key] as number) >= 0 && (app[key] as number) <= 0xffff)
      )
        throw new Error(
          `emulated option app.${key}: expected a 16-bit integer, got ${JSON.stringify(app[key])}`,
        );
    if (app.product !== undefined && typeof app.product !== "string")
      throw new Error(`emulated option app.product: expected a string`);
    out.app = app as UsbPortOptions["app"];
  }
  const dfu = options?.dfu as Record<string, unknown> | undefined;
  if (dfu !== undefined) {
    for (const key of Object.keys(dfu))
      if (!DFU_QUIRK_KEYS.includes(key) || typeof dfu[key] !== "boolean")
        throw new Error(`emulated option dfu.${key}: expected ${DFU_QUIRK_KEYS.join(", ")}: true or false`);
    out.quirks = dfu as UsbPortOptions["quirks"];
  }
  return out;
}
