/**
 * Identifier of STM32 boards (L432, WB55): into the ROM bootloader (boot control, then reset
 * or power cycle, and a lab board goes back to its application after; without boot control
 * a reset or power cycle with BOOT0 as strapped), then ask it over USB DFU when the board has `usb-dfu`, else over USART
 * (a board with neither is reported as not checked):
 *
 * - USB DFU: the ROM's bcdDevice (its MSB is the DFU bootloader version, fact sheet §2.7),
 *   bcdDFUVersion of the functional descriptor (0x011A = DfuSe), Get Commands, the USB serial.
 * - USART (AN3155): Get Version (protocol version byte), Get ID (PID).
 * - Both: the bootloader ID byte at the end of system memory − 1 (AN2606: 0x91 on L432,
 *   0xD5 on WB55), where readout protection lets it be read.
 * - `fus` boards: FUS and wireless-stack versions from the FUS device information table
 *   (AN5185 §6.1.1). Read from SRAM2a, never by FUS_GET_STATE: a second GET_STATE to a
 *   running stack reboots the chip into FUS.
 */

import { DfuClient, DfuError } from "../clients/dfu/index.js";
import { DfuFusLink, FusClient, type FusLink, UsartFusLink } from "../clients/fus/index.js";
import { NackError, UsartClient } from "../clients/stm32-usart/index.js";
import { emulatedUsbBus, stm32ProfileOf } from "../devices/registry.js";
import { InfrastructureError, SkipScenario } from "../lab/errors.js";
import { usbFilterOf } from "../lab/locate.js";
import { formatVersion } from "../protocol/fus/footer.js";
import type { UsbBus, UsbFilter } from "../transport/usb.js";
import type { Board } from "./board.js";
import type { Identity } from "./identify.js";
import { openUsartLink } from "./usart-link.js";
import { labUsbBus } from "./usb-link.js";

/** Every STM32 ROM bootloader's USB DFU identity (AN2606): present only while the ROM runs. */
export const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };

export interface Stm32IdentifyOptions {
  /** A lab board's USB bus; default the host's (the `usb` package's WebUSB). */
  readonly labUsb?: (board: Board) => UsbBus;
}

/** The STM32 identifier; `identifyStm32` is it with the host's USB. */
export function stm32Identifier(opts: Stm32IdentifyOptions = {}): (board: Board) => Promise<Identity> {
  const labUsb = opts.labUsb ?? labUsbBus;
  return async (board) => {
    if (board.capabilities.has("usb-dfu"))
      return identifyOverDfu(board, board.emulator ? emulatedUsbBus(board.emulator) : labUsb(board));
    if (board.capabilities.has("usart")) return identifyOverUsart(board);
    // Nothing in the rig file says how to reach the ROM: shown as not checked, not guessed.
    throw new SkipScenario(
      `board ${board.id} names neither usb-dfu nor usart: no bootloader interface to ask`,
    );
  };
}

export const identifyStm32 = stm32Identifier();

/**
 * A lab board without boot control is brought to its ROM the way it is strapped: BOOT0 high
 * (rig file `boot.startsIn: bootloader`, the default) starts the ROM on every reset and
 * power-up, so a reset, else a power cycle, gets there whatever the last run left running
 * (a USART update ends with Go into the application). Done before its port is opened: a
 * power cycle can take the port with it. A board strapped to its application cannot be
 * brought there: not checked, with the reason. Boards with boot control: {@link inBootloader}.
 */
async function restartAsStrapped(board: Board): Promise<void> {
  if (board.emulator || board.boot) return;
  if (board.startsIn === "application")
    throw new SkipScenario(
      `board ${board.id} has no boot control and starts its application (boot.startsIn: application): its ROM cannot be reached`,
    );
  await restart(board);
}

/**
 * Runs `body` with the board in its ROM bootloader: BOOT0 (or its equivalent) for the ROM,
 * then a reset, or a power cycle where there is no reset line. Afterwards a lab board whose
 * boot selection this changed is sent back to its application the same way, also when
 * `body` failed: a health check must not leave a rack of products sitting in their ROMs.
 * Emulated boards stay (suites set up their own state).
 */
async function inBootloader<T>(board: Board, body: () => Promise<T>): Promise<T> {
  if (board.boot) {
    await board.boot.bootloader();
    await restart(board);
  } // else strapped to the ROM and restarted already (restartAsStrapped), or an emulator's default
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await leaveBootloader(board).catch(() => {}); // the identify failure is the one to report
    throw error;
  }
  await leaveBootloader(board);
  return result;
}

async function leaveBootloader(board: Board): Promise<void> {
  if (board.emulator || !board.boot) return;
  await board.boot.application();
  await restart(board);
}

async function restart(board: Board): Promise<void> {
  if (board.reset) await board.reset.reset();
  else if (board.power.backend !== "manual") await board.power.cycle();
}

/** Address of the bootloader ID byte: end of system memory − 1 (AN2606). */
function bootloaderIdAddress(board: Board): number {
  const p = stm32Profile(board);
  return p.systemMemory.base + p.systemMemory.size - 2;
}

function stm32Profile(board: Board) {
  return stm32ProfileOf(board.family, board.emulator);
}

async function identifyOverDfu(board: Board, bus: UsbBus): Promise<Identity> {
  await restartAsStrapped(board);
  return inBootloader(board, async () => {
    // Lab: the rig file's serial and port path pin the board down; emulated: the board's serial.
    const filter: UsbFilter = usbFilterOf(board, ROM_USB);
    const dfu = await DfuClient.open(bus, filter, {
      clock: board.clock,
      timeouts: { enumerateMs: board.timeouts?.enumerateMs ?? 5000 },
    });
    try {
      const device = dfu.device;
      const identity: Record<string, string> = {};
      const id = await readBootloaderId(() => dfu.upload(bootloaderIdAddress(board), 1));
      if (id !== undefined) identity.bootloader = id;
      const major = device.deviceVersionMajor;
      identity["dfu-bootloader"] = `${major >> 4}.${major & 0xf}`;
      identity.bcdDFU = `0x${hex(dfu.functionalDescriptor.bcdDfuVersion, 4)}`;
      identity.commands = (await dfu.getCommands()).map((c) => hex(c, 2)).join(" ");
      if (device.serialNumber) identity.serial = device.serialNumber;
      if (board.capabilities.has("fus")) Object.assign(identity, await fusVersions(DfuFusLink.over(dfu)));
      return identity;
    } finally {
      await dfu.close();
    }
  });
}

async function identifyOverUsart(board: Board): Promise<Identity> {
  await restartAsStrapped(board);
  // Open before boot control: DTR/RTS boot and reset sequences run on the port the client holds.
  const stream = await openUsartLink(board);
  try {
    return await inBootloader(board, async () => {
      const usart = new UsartClient(stream, { clock: board.clock });
      await usart.connect();
      const version = await usart.getVersion();
      const pid = await usart.getId();
      const identity: Record<string, string> = {};
      const id = await readBootloaderId(() => usart.readMemory(bootloaderIdAddress(board), 1));
      if (id !== undefined) identity.bootloader = id;
      identity["usart-protocol"] = `${version.version >> 4}.${version.version & 0xf}`;
      identity.pid = `0x${pid.toString(16)}`;
      if (board.capabilities.has("fus"))
        Object.assign(identity, await fusVersions(new UsartFusLink(stream, board.clock, usart)));
      return identity;
    });
  } finally {
    await stream.close();
  }
}

/** The ID byte, or undefined where the ROM refuses the read (readout protection): that is no failure of identity. */
async function readBootloaderId(read: () => Promise<Uint8Array>): Promise<string | undefined> {
  try {
    const [id] = await read();
    return id === undefined ? undefined : `0x${hex(id, 2)}`;
  } catch (error) {
    if (isRefusal(error)) return undefined;
    throw error;
  }
}

/** A NACK or a DFU error status is the ROM saying no; a timeout or a garbled reply is not. */
function isRefusal(error: unknown): boolean {
  return error instanceof NackError || (error instanceof DfuError && error.kind === "status");
}

async function fusVersions(link: FusLink): Promise<Record<string, string>> {
  const info = await (await FusClient.open(link, { clock: link.clock })).readDeviceInfo();
  if (!info.valid)
    throw new InfrastructureError(
      `FUS device information table is not valid (first word 0x${info.state.toString(16)})`,
    );
  return {
    fus: formatVersion(info.fusVersion),
    stack: info.stackInstalled ? formatVersion(info.wirelessStackVersion) : "none",
  };
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}
