import ihex from "nrf-intel-hex";
import { DfuClient } from "../../harness/clients/dfu/index.js";
import {
  appUsbFilter,
  type Board,
  inspectIf,
  profileForFamily,
  Random,
  type Stm32Inspect,
  type Stm32Profile,
  type UsbBus,
  type UsbFilter,
  usbBusOf,
  usbFilterOf,
} from "../../harness/index.js";
import { buildDfuseFile, type FirmwareImage, loadImage } from "../../harness/protocol/dfu/index.js";

export const DFU_FAMILIES = ["stm32l432", "stm32wb55"] as const;
export const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };

const MemoryMap =
  (ihex as unknown as { default?: typeof ihex.default }).default ?? (ihex as unknown as typeof ihex.default);

/** White-box view of an emulated board, or undefined on a lab board (flash checks then go over USB). */
export function stm32(board: Board): Stm32Inspect | undefined {
  return inspectIf(board, "stm32");
}

/**
 * The white-box view, for tests whose BoardNeed asks for `inspect` (a lab board is then
 * skipped with the reason before the test runs).
 */
export function inspected(board: Board): Stm32Inspect {
  const view = stm32(board);
  if (!view) throw new Error(`board ${board.id} was selected without the inspect capability`);
  return view;
}

export function profile(board: Board): Stm32Profile {
  return stm32(board)?.profile ?? profileForFamily(board.family);
}

/** The board's USB: the emulator's bus, or the host's (node-usb WebUSB) on a lab rig. */
export function usbBus(board: Board): UsbBus {
  return usbBusOf(board);
}

/** The ROM bootloader of this board (on a lab rack by the rig file's serial and port path). */
export function romFilter(board: Board): UsbFilter {
  return usbFilterOf(board, ROM_USB);
}

/** The application's USB identity: the emulator's option, or `info.appVid`/`info.appPid` of a lab board. */
export function appFilter(board: Board): UsbFilter {
  return appUsbFilter(board);
}

/**
 * Factory state, then the ROM bootloader (the board's strategy): on an emulator blank flash
 * and default option bytes (plus `image` preloaded); on a lab board BOOT0 and a power cycle.
 */
export async function startInBootloader(board: Board, image?: Uint8Array): Promise<void> {
  await board.strategy.factoryReset(image ? { image } : {});
}

export function connect(board: Board, alt: number | string = 0): Promise<DfuClient> {
  return DfuClient.open(usbBus(board), romFilter(board), {
    clock: board.clock,
    alt,
    timeouts: { enumerateMs: 5000 },
  });
}

/** An application image: a valid vector table (SP at the top of SRAM, Thumb reset handler) then seeded bytes. */
export function appImage(board: Board, size: number, label: string): Uint8Array {
  const p = profile(board);
  const r = new Random(board.seed).fork(label);
  const img = r.bytes(size);
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
