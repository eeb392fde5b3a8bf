/**
 * `hil emulate nrf52840-mcuboot --uart-pty PATH --key FILE [--option image=FILE]
 * [--option console=uart|usb-cdc] [--option mode=swap-using-move|swap-using-scratch|overwrite-only]
 * [--option misbehave.seed=N --option misbehave.rate=R] [--calibration FILE]`:
 * the emulated nRF52840 DK (MCUboot + Zephyr SMP app)
 * with its console on a real pty, so mcumgr, smpmgr or `hil smp` can talk to it. `key` is
 * the provisioned public (or private) key; `image` a signed image programmed into the
 * primary slot; `console=usb-cdc` makes the port vanish at every reset and come back once
 * the application runs (the nRF52840's own USB CDC ACM); `mode` the upgrade method MCUboot
 * was built with (swap-using-move by default); `--boot bootloader` holds the
 * serial-recovery button; `--state DIR` loads flash.bin at start and saves it at the stop;
 * `--calibration FILE` takes erase/write/boot/upload times from `hil calibrate`.
 * SIGHUP power-cycles the board. Wall time: the peer is another process.
 */

import { Nrf52840McubootDevice } from "../devices/nrf52840-mcuboot/device.js";
import { loadBoardState, saveBoardState } from "../expose/board-state.js";
import { serveNrf52840Console } from "../expose/nrf52840-uart.js";
import { readCalibration } from "../report/calibration.js";
import { parseFault } from "../sim/faults.js";
import { WallClock } from "../transport/clock.js";
import { emulatorOptions, emulatorSeed, freeUartPtyPath, nestOptions } from "./emulate-args.js";
import type { EmulateOptions } from "./emulate-command.js";
import { exitStatus, runEmulateSession } from "./emulate-session.js";
import { UsageError } from "./usage-error.js";

const OPTION_KEYS = [
  "key",
  "image",
  "mode",
  "downgradePrevention",
  "recoveryWhenNoImage",
  "bootloaderInfo",
  "console",
  "misbehave",
];
const STRING_OPTIONS = new Set(["key", "image", "mode", "console", "misbehave"]);
/** Dotted keys, as the rig file's nested options: the misbehaving personality's seed and rate. */
const DOTTED_KEYS = ["misbehave.seed", "misbehave.rate"];

/** `--option`s of `hil emulate nrf52840` as emulator options (`console` among them). */
export function nrf52840EmulatorOptions(pairs: readonly string[] | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(
    nestOptions(emulatorOptions(pairs, [...OPTION_KEYS, ...DOTTED_KEYS])),
  ))
    options[key] = typeof value !== "string" || STRING_OPTIONS.has(key) ? value : value === "true";
  return options;
}

export async function runEmulateNrf52840(opts: EmulateOptions): Promise<number> {
  const link = opts["uart-pty"];
  if (!link) throw new UsageError("emulate: --uart-pty PATH is required");
  if (opts.boot !== undefined && opts.boot !== "app" && opts.boot !== "bootloader")
    throw new UsageError(`emulate: --boot expects app or bootloader, got '${opts.boot}'`);
  const seed = emulatorSeed(opts.seed);
  const options = nrf52840EmulatorOptions(opts.option);
  const consoleKind = options.console ?? "uart";
  delete options.console;
  if (consoleKind !== "uart" && consoleKind !== "usb-cdc")
    throw new UsageError(
      `emulate nrf52840-mcuboot: --option console= expects uart or usb-cdc, got '${consoleKind}'`,
    );
  if (opts.key !== undefined) {
    if (options.key !== undefined && options.key !== opts.key)
      throw new UsageError("emulate nrf52840-mcuboot: --key and --option key= name different files");
    options.key = opts.key;
  }
  if (options.key === undefined)
    throw new UsageError("emulate nrf52840-mcuboot: --key FILE (the provisioned key) is required");
  // A lab board's measured times (hil calibrate) in place of the datasheet's.
  if (opts.calibration !== undefined) options.timing = (await readCalibration(opts.calibration)).timing;
  await freeUartPtyPath(link);

  const clock = new WallClock();
  let device: Nrf52840McubootDevice;
  try {
    device = new Nrf52840McubootDevice({ clock, seed, options, faults: (opts.fault ?? []).map(parseFault) });
  } catch (e) {
    throw new UsageError(`emulate nrf52840-mcuboot: ${(e as Error).message}`);
  }
  if (opts.state) {
    // A saved board replaces the whole flash, a factory `image` included.
    const loaded = await loadBoardState(device, opts.state);
    if (loaded.length > 0) console.error(`hil emulate: loaded ${loaded.join(", ")} from ${opts.state}`);
  }
  if (opts.boot === "bootloader") await device.selectBoot("bootloader");
  await device.power.on();
  const served = await serveNrf52840Console(device, link, clock, consoleKind);
  const session = runEmulateSession(device, { log: opts.log, linkLost: served.lost });
  if (served.pty === undefined)
    console.error(
      `hil emulate: ${link} appears when the application or serial recovery runs (usb-cdc, board ${device.state}); "ready" follows then`,
    );
  const present = await Promise.race([served.appeared.then(() => true), session.stopped.then(() => false)]);
  if (present) console.log(`ready ${link}`);
  const signal = await session.stopped;
  await served.close();
  await device.power.off();
  // Saved as the board is at the stop, mid-swap included: the next start resumes it.
  if (opts.state) await saveBoardState(device, opts.state);
  console.error(`hil emulate: stopped (${signal})`);
  return exitStatus(signal);
}
