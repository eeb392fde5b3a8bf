/**
 * A board's USB as a suite uses it: the emulator's bus with the board alone on it, or the
 * host's (node-usb WebUSB) on a lab rig; and the application's USB identity after a leave.
 */
import { DEFAULT_APP_USB, emulatedUsbBus, usbPortOf } from "../devices/registry.js";
import { type UsbBus, type UsbFilter, WebUsbBus } from "../transport/usb.js";
import type { Board } from "./board.js";

export function usbBusOf(board: Board): UsbBus {
  return board.emulator ? emulatedUsbBus(board.emulator) : new WebUsbBus({ clock: board.clock });
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
