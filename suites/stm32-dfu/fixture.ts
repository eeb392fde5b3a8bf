import { expect } from "chai";
import ihex from "nrf-intel-hex";
import { DfuClient } from "../../harness/clients/dfu/index.js";
import { Stm32Chip } from "../../harness/devices/stm32/chip.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { DEFAULT_APP_USB, emulatedUsbBus, usbPortOf } from "../../harness/devices/stm32/dfu/index.js";
import { profileForFamily, type Stm32Profile } from "../../harness/devices/stm32/profiles.js";
import { buildDfuseFile, type FirmwareImage, loadImage } from "../../harness/protocol/dfu/index.js";
import type { Board } from "../../harness/rig/board.js";
import { usbFilterOf } from "../../harness/rig/locate.js";
import { Random } from "../../harness/sim/random.js";
import { type UsbBus, type UsbFilter, WebUsbBus } from "../../harness/transport/usb.js";

export const DFU_FAMILIES = ["stm32l432", "stm32wb55"] as const;
export const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };

const MemoryMap =
  (ihex as unknown as { default?: typeof ihex.default }).default ?? (ihex as unknown as typeof ihex.default);

/** The emulator behind an emulated board, or undefined on a lab board (flash checks then go over USB). */
export function stm32(board: Board): Stm32Device | undefined {
  return board.emulator instanceof Stm32Device ? board.emulator : undefined;
}

export function emulatedStm32(board: Board): Stm32Device {
  const dev = stm32(board);
  expect(dev, `board ${board.id} is not an emulated STM32`).to.be.instanceOf(Stm32Device);
  return dev!;
}

export function profile(board: Board): Stm32Profile {
  return stm32(board)?.profile ?? profileForFamily(board.family);
}

/** The board's USB: the emulator's bus, or the host's (node-usb WebUSB) on a lab rig. */
export function usbBus(board: Board): UsbBus {
  return board.emulator ? emulatedUsbBus(board.emulator) : new WebUsbBus({ clock: board.clock });
}

/** The ROM bootloader of this board (on a lab rack by the rig file's serial and port path). */
export function romFilter(board: Board): UsbFilter {
  return usbFilterOf(board, ROM_USB);
}

/** The application's USB identity: the emulator's option, or `info.appVid`/`info.appPid` of a lab board. */
export function appFilter(board: Board): UsbFilter {
  const app = usbPortOf(board.emulator)?.app;
  if (app) return { vendorId: app.vendorId, productId: app.productId };
  const vid = board.info.appVid ? Number(board.info.appVid) : DEFAULT_APP_USB.vendorId;
  const pid = board.info.appPid ? Number(board.info.appPid) : DEFAULT_APP_USB.productId;
  // The application reports its own serial, if any: the port path keeps it this board's.
  return board.locator
    ? board.locator.usbFilter({ vendorId: vid, productId: pid })
    : { vendorId: vid, productId: pid };
}

/**
 * Factory state, then the ROM bootloader: on an emulator blank flash and default option
 * bytes (plus `image` preloaded), BOOT0 high, power on; on a lab board BOOT0 and a power cycle.
 */
export async function startInBootloader(board: Board, image?: Uint8Array): Promise<void> {
  const dev = stm32(board);
  if (dev) {
    await dev.power.off();
    const blank = new Stm32Chip(dev.profile, dev.seed);
    dev.chip.flash.restore(blank.flash.snapshot());
    dev.chip.optionBytes.store(blank.optionBytes.raw);
    if (image) dev.chip.flash.load(dev.profile.flash.base, image);
  }
  await board.boot?.bootloader();
  if (dev) await board.power.on();
  else await board.power.cycle();
}

export function connect(board: Board, alt: number | string = 0): Promise<DfuClient> {
  return DfuClient.connect(usbBus(board), romFilter(board), {
    clock: board.clock,
    alt,
    enumerateTimeoutMs: 5000,
  });
}

/** An application image: a valid vector table (SP at the top of SRAM, Thumb reset handler) then seeded bytes. */
export function appImage(board: Board, size: number, label: string): Uint8Array {
  const p = profile(board);
  const r = new Random(board.seed).fork(label);
  const img = Uint8Array.from({ length: size }, () => r.byte());
  const view = new DataView(img.buffer);
  view.setUint32(0, p.sram.base + p.sram.size, true);
  view.setUint32(4, p.flash.base + 0x1c1, true);
  return img;
}

/** The same image as each input format a developer would hand in, read back by loadImage. */
export function asFile(format: "bin" | "hex" | "dfu", address: number, data: Uint8Array): FirmwareImage {
  if (format === "bin") return loadImage("app.bin", data, { address });
  if (format === "hex") {
    const text = new MemoryMap([[address, data]]).asHexString();
    return loadImage("app.hex", new TextEncoder().encode(text));
  }
  return loadImage("app.dfu", buildDfuseFile([{ alt: 0, name: "ST...", elements: [{ address, data }] }]));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
