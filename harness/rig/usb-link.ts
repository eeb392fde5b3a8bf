/**
 * A board's USB as a suite uses it: the emulator's bus with the board alone on it, the
 * host's (node-usb WebUSB) on a lab rig, or the rack host's USB/IP server when the rig file
 * says `usb: { usbip, busid }`; and the application's USB identity after a leave.
 */
import { DEFAULT_APP_USB, emulatedUsbBus, usbPortOf } from "../devices/registry.js";
import { type UsbBus, type UsbFilter, WebUsbBus } from "../transport/usb.js";
import { UsbipBus } from "../transport/usbip-device.js";
import type { Board } from "./board.js";

export function usbBusOf(board: Board): UsbBus {
  return board.emulator ? emulatedUsbBus(board.emulator) : labUsbBus(board);
}

/** A lab board's USB: imported from its USB/IP server, else the host's own. */
export function labUsbBus(board: Board): UsbBus {
  if (board.usbip)
    return new UsbipBus({
      ...board.usbip,
      clock: board.clock,
      // Each wait on the server within the board's command time (connect, import reply).
      ...(board.timeouts ? { timeoutMs: board.timeouts.commandMs } : {}),
    });
  return new WebUsbBus({ clock: board.clock });
}

/**
 * The application's USB identity: the emulator's option, or `info.appVid`/`info.appPid` of a
 * lab board (default the emulator's); a lab board's port path keeps it this board's.
 */
export function appUsbFilter(board: Board): UsbFilter {
  const app = usbPortOf(board.emulator)?.app;
  if (app) return { vendorId: app.vendorId, productId: app.productId };
  const vid = board.info.appVid ? Number(board.info.appVid) : DEFAULT_APP_USB.vendorId;
  const pid = board.info.appPid ? Number(board.info.appPid) : DEFAULT_APP_USB.productId;
  return board.locator
    ? board.locator.usbFilter({ vendorId: vid, productId: pid })
    : { vendorId: vid, productId: pid };
}
