/**
 * `hil emulate <stm32 profile> --uart-pty PATH | --usbip [HOST:]PORT`: an emulated STM32
 * served to outside programs. The ROM bootloader's USART goes on a real pty (socat) whose
 * path is the symlink PATH; its USB port (ROM DFU, the application after a leave) on a
 * USB/IP server. `ready PATH` is printed once PATH opens and the ROM answers; `ready usbip
 * HOST:PORT BUSID` once a device is on the port, so an OP_REQ_IMPORT succeeds. It runs until
 * SIGINT/SIGTERM, then saves --state and removes the link. The emulator runs on wall time:
 * its peer is another process, not a client sharing a virtual clock.
 */

import { Stm32Device } from "../devices/stm32/device.js";
import { attachUsbDfu, type UsbPortOptions, usbOptionsFromContext } from "../devices/stm32/dfu/index.js";
import { usartRom } from "../devices/stm32/usart/port.js";
import { loadBoardState, saveBoardState } from "../expose/board-state.js";
import { servePty } from "../expose/uart-pty.js";
import { parseUsbipAddress, serveUsbipPort, type UsbipAddress } from "../expose/usbip-emulate.js";
import type { UsbipSource } from "../expose/usbip-server.js";
import { readCalibration } from "../report/calibration.js";
import { parseFault } from "../sim/faults.js";
import { WallClock } from "../transport/clock.js";
import { emulatorOptions, emulatorSeed, freeUartPtyPath, nestOptions } from "./emulate-args.js";
import type { EmulateOptions } from "./emulate-command.js";
import { exitStatus, runEmulateSession } from "./emulate-session.js";
import { UsageError } from "./usage-error.js";

export async function runEmulateStm32(profile: string, opts: EmulateOptions): Promise<number> {
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
  const options = await stm32EmulatorOptions(opts);
  // The USB port's options (dfu.* quirks, app.*) are checked before anything is served.
  let usbOptions: UsbPortOptions;
  try {
    usbOptions = usbOptionsFromContext(options);
  } catch (e) {
    throw new UsageError(`--option: ${(e as Error).message}`);
  }
  if (link) await freeUartPtyPath(link);

  const clock = new WallClock();
  const device = new Stm32Device({
    clock,
    seed,
    profile,
    options,
    faults: (opts.fault ?? []).map(parseFault),
  });
  const rom = link ? usartRom(device) : undefined;
  const usb = usbipAt ? attachUsbDfu(device, usbOptions) : undefined;
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
  const session = runEmulateSession(device, { log: opts.log, linkLost: bridge?.exited });
  if (link) console.log(`ready ${link}`);
  if (usb && usbip) {
    // The ROM enumerates after its USB connect time: until then an import would be refused.
    const mode = device.mode;
    if (mode.kind === "halted")
      console.error(
        `hil emulate: usbip: nothing on the USB port, the board is halted (${mode.reason}); "ready usbip" follows when a device enumerates`,
      );
    const onBus = await Promise.race([deviceOnPort(usb).then(() => true), session.stopped.then(() => false)]);
    if (onBus) console.log(`ready usbip ${usbip.host}:${usbip.port} ${usbip.busid}`);
  }

  const signal = await session.stopped;
  rom?.detach();
  await bridge?.close();
  await usbip?.close();
  if (opts.state) await saveBoardState(device, opts.state);
  console.error(`hil emulate: stopped (${signal})`);
  return exitStatus(signal);
}

/**
 * The emulator options of `hil emulate <stm32>`: `--boot`, the `--option`s (dotted keys
 * nested: `dfu.l4EraseStall=true`, `timing.pageEraseMs=30`), and a `--calibration` file's
 * figures as `timing`, which `--option timing.*` overrides as a rig file's options do.
 */
export async function stm32EmulatorOptions(opts: EmulateOptions): Promise<Record<string, unknown>> {
  const options: Record<string, unknown> = {
    boot: opts.boot ?? "bootloader",
    ...nestOptions(emulatorOptions(opts.option)),
  };
  if (options.timing !== undefined && typeof options.timing !== "object")
    throw new UsageError("--option timing: give its figures as dotted keys (timing.pageEraseMs=30)");
  // A lab board's measured times (hil calibrate) in place of the datasheet's.
  if (opts.calibration !== undefined)
    options.timing = {
      ...(await readCalibration(opts.calibration)).timing,
      ...(options.timing as Record<string, unknown> | undefined),
    };
  return options;
}

/** Resolves once the port has a device on the bus (at once if it has one now). */
function deviceOnPort(port: UsbipSource): Promise<void> {
  if (port.current()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const stop = port.onChange((change) => {
      if (change.type !== "connect") return;
      stop();
      resolve();
    });
  });
}
