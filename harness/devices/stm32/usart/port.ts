/**
 * The USART pins of an emulated STM32 board: one bootloader personality per device
 * (created on first use, so the shared device model needs no USART code), and a way to
 * plug a host into it: an in-memory pair on the device's clock (emulated rigs) or any
 * evented stream (a pty bridge, harness/expose/).
 */

import { createBytePair, type HostEnd } from "../../../transport/byte-pair.js";
import type { EmulatedDevice, PortOpenOptions } from "../../emulated-device.js";
import type { Stm32Device } from "../device.js";
import { fusUsartHandler } from "../fus/usart.js";
import { Stm32UsartRom } from "./bootloader.js";
import { quirksFromOptions } from "./quirks.js";

const personalities = new WeakMap<Stm32Device, Stm32UsartRom>();

/** The USART bootloader of `device`. @throws when the device is not an emulated STM32. */
export function usartRom(
  device: EmulatedDevice | undefined,
  options?: Record<string, unknown>,
): Stm32UsartRom {
  if (!isStm32(device))
    throw new Error(`no emulated STM32 behind this board (got ${device?.family ?? "a lab board"})`);
  let bl = personalities.get(device);
  if (!bl) {
    bl = new Stm32UsartRom(device, quirksFromOptions(options ?? device.options));
    // WB55: FUS commands over the special read/write commands 0x50/0x51 (AN5185 §7.1).
    if (device.fus) bl.setSpecialHandler(fusUsartHandler(device.fus));
    personalities.set(device, bl);
  }
  return bl;
}

// By family, not instanceof: device.ts opens its "usart" port through this module.
function isStm32(device: EmulatedDevice | undefined): device is Stm32Device {
  return device?.family === "stm32l432" || device?.family === "stm32wb55";
}

/**
 * A fresh serial line to the device's USART (what a USB-serial adapter would be): the host
 * end of an in-memory pair on the device's clock, opened at `opts.baudRate` (the ROM
 * auto-bauds to it; `usartBaud` when not given). Replaces any earlier line.
 */
export function connectUsart(device: EmulatedDevice | undefined, opts: PortOpenOptions = {}): HostEnd {
  const bl = usartRom(device);
  const { host, device: end } = createBytePair({
    clock: bl.device.clock,
    name: `${bl.device.profile.name}:usart`,
  });
  bl.attach(end, opts.baudRate);
  return host;
}
