/**
 * The USB device of the application after a successful leave: another VID/PID (per board,
 * e.g. the product's own), so a suite sees the new firmware run. It answers only the
 * standard descriptors; its class requests stall.
 */
import type { Stm32Device } from "../device.js";
import type { UsbIdentity } from "./descriptors.js";
import type { ControlReply, UsbFunction } from "./usb-device.js";

export interface AppUsbOptions {
  vendorId: number;
  productId: number;
  product: string;
}

/** ST's VCP identity, a stand-in when the rig names none. */
export const DEFAULT_APP_USB: AppUsbOptions = {
  vendorId: 0x0483,
  productId: 0x5740,
  product: "Emulated application",
};

export class AppUsbFunction implements UsbFunction {
  readonly identity: UsbIdentity;

  constructor(device: Stm32Device, opts: AppUsbOptions, entry: number) {
    this.identity = {
      vendorId: opts.vendorId,
      productId: opts.productId,
      bcdDevice: 0x0100,
      manufacturer: "update-hil",
      product: opts.product,
      serial: device.serial,
      interfaceClass: [0xff, 0x00, 0x00],
      alternates: [`application at 0x${entry.toString(16)}`],
    };
  }

  async control(): Promise<ControlReply> {
    return { status: "stall" };
  }

  selectAlternate(): void {}

  async usbReset(): Promise<void> {}
}
