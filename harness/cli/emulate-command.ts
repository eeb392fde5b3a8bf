/**
 * `hil emulate <profile> --uart-pty PATH`: an emulated board served to outside programs.
 * The STM32 ROM bootloader's USART goes on a real pty (socat) whose path is the symlink
 * PATH; the process prints `ready PATH` once the port accepts bytes and runs until
 * SIGINT/SIGTERM, then saves --state and removes the link; SIGHUP power-cycles the board (a
 * lab rig's power command can send it). The emulator runs on wall time:
 * its peer is another process, not a client sharing a virtual clock.
 */

import { Stm32Device } from "../devices/stm32/device.js";
import { attachUsbDfu } from "../devices/stm32/dfu/index.js";
import { usartRom } from "../devices/stm32/usart/port.js";
import { loadBoardState, saveBoardState } from "../expose/board-state.js";
import { servePty } from "../expose/uart-pty.js";
import { parseUsbipAddress, serveUsbipPort, type UsbipAddress } from "../expose/usbip-emulate.js";
import { parseFault } from "../sim/faults.js";
import { WallClock } from "../transport/clock.js";
import { emulatorOptions, emulatorSeed } from "./emulate-args.js";
import { emulateFamily, emulateNames, stm32ProfileOf } from "./emulate-families.js";
import { runEmulateNrf52840 } from "./emulate-nrf52840.js";
import { exitStatus, runEmulateSession } from "./emulate-session.js";
import { runEmulateTKey } from "./emulate-tkey.js";
import { UsageError } from "./usage-error.js";

export const EMULATE_OPTIONS = {
  "uart-pty": { type: "string" },
  usbip: { type: "string" },
  seed: { type: "string" },
  state: { type: "string" },
  fault: { type: "string", multiple: true },
  boot: { type: "string" },
  option: { type: "string", multiple: true },
  /** nrf52840-mcuboot: the provisioned key (same as --option key=FILE). */
  key: { type: "string" },
  log: { type: "boolean" },
} as const;

export interface EmulateOptions {
  "uart-pty"?: string | undefined;
  usbip?: string | undefined;
  seed?: string | undefined;
  state?: string | undefined;
  fault?: string[] | undefined;
  boot?: string | undefined;
  option?: string[] | undefined;
  key?: string | undefined;
  log?: boolean | undefined;
}

export async function runEmulate(opts: EmulateOptions, positionals: string[]): Promise<number> {
  const [name, ...extra] = positionals;
  const family = emulateFamily(name);
  const nrf = family === "nrf52840";
  if (opts.key !== undefined && !nrf) throw new UsageError(`emulate: --key is for nrf52840, not '${name}'`);
  if (family === "tkey" && extra.length === 0) return runEmulateTKey(opts);
  if (nrf && extra.length === 0) return runEmulateNrf52840(opts);
  if (!name || extra.length > 0)
    throw new UsageError(`emulate: expected one board family (${emulateNames()})`);
  if (family !== "stm32l432" && family !== "stm32wb55")
    throw new UsageError(`emulate: unknown board family '${name}' (known: ${emulateNames()})`);
  const profile = stm32ProfileOf(family);
  const link = opts["uart-pty"];
  let usbipAt: UsbipAddress | undefined;
  try {
    usbipAt = opts.usbip === undefined ? undefined : parseUsbipAddress(opts.usbip);
  } catch (e) {
    throw new UsageError(`--usbip: ${(e as Error).message}`);
  }
  if (!link && !usbipAt) throw new UsageError("emulate: --uart-pty PATH or --usbip [HOST:]PORT is required");
  if (opts.boot !== undefined && opts.boot !== "app" && opts.boot !== "bootloader")
    throw new UsageError(`emulate: --boot expects app or bootloader, got '${opts.boot}'`);
  const seed = emulatorSeed(opts.seed);
  const options: Record<string, unknown> = {
    boot: opts.boot ?? "bootloader",
    ...emulatorOptions(opts.option),
  };

  const clock = new WallClock();
  const device = new Stm32Device({
    clock,
    seed,
    profile,
    options,
    faults: (opts.fault ?? []).map(parseFault),
  });
  const rom = link ? usartRom(device) : undefined;
  const usb = usbipAt ? attachUsbDfu(device) : undefined;
  if (opts.state) {
    const loaded = await loadBoardState(device, opts.state);
    if (loaded.length > 0) console.error(`hil emulate: loaded ${loaded.join(", ")} from ${opts.state}`);
  }
  await device.power.on();
  const bridge = link ? await servePty(link, clock) : undefined;
  if (bridge) rom?.attach(bridge.line);
  const usbip =
    usb && usbipAt
      ? await serveUsbipPort(usb, usbipAt, (line) => console.error(`hil emulate: ${line}`))
      : undefined;
  // SIGHUP: a power cycle, as on the other profiles; BOOT0 decides where the board comes up.
  const cycle = () =>
    void device.power.cycle().catch((e: Error) => console.error(`hil emulate: ${e.message}`));
  const session = runEmulateSession(device, { log: opts.log, linkLost: bridge?.exited, onHangup: cycle });
  if (link) console.log(`ready ${link}`);
  if (usbip) console.log(`ready usbip ${usbip.host}:${usbip.port} ${usbip.busid}`);

  const signal = await session.stopped;
  rom?.detach();
  await bridge?.close();
  await usbip?.close();
  if (opts.state) await saveBoardState(device, opts.state);
  console.error(`hil emulate: stopped (${signal})`);
  return exitStatus(signal);
}
