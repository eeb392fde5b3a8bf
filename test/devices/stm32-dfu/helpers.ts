import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/bus.js";
import {
  attachUsbDfu,
  type Stm32UsbPort,
  type UsbPortOptions,
} from "../../../harness/devices/stm32/dfu/index.js";
import { type DfuStatusReply, decodeStatus } from "../../../harness/protocol/dfu/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import type { UsbDevice } from "../../../harness/transport/usb.js";

export interface Board {
  dev: Stm32Device;
  port: Stm32UsbPort;
  bus: EmulatedUsbBus;
  clock: VirtualClock;
}

export async function poweredBoard(
  profile: "stm32l432kc" | "stm32wb55",
  opts: UsbPortOptions = {},
  seed = 7,
): Promise<Board> {
  const clock = new VirtualClock();
  const dev = new Stm32Device({ clock, seed, profile });
  const port = attachUsbDfu(dev, opts);
  await dev.power.on();
  return { dev, port, bus: new EmulatedUsbBus([port], clock), clock };
}

/** The ROM's device, opened with interface 0 claimed at `alt`. */
export async function openRom(b: Board, alt = 0, notSame?: UsbDevice): Promise<UsbDevice> {
  const d = await b.bus.waitFor({ vendorId: 0x0483, productId: 0xdf11 }, { timeoutMs: 5000, notSame });
  await d.open();
  await d.selectConfiguration(1);
  await d.claimInterface(0);
  await d.selectAlternateInterface(0, alt);
  return d;
}

const setup = (request: number, value = 0) =>
  ({ requestType: "class", recipient: "interface", request, value, index: 0 }) as const;

export async function dnload(d: UsbDevice, block: number, data: Uint8Array): Promise<USBTransferStatus> {
  return (await d.controlTransferOut(setup(1, block), data)).status;
}

export async function upload(d: UsbDevice, block: number, length: number): Promise<USBInTransferResult> {
  return d.controlTransferIn(setup(2, block), length);
}

export async function getStatus(d: UsbDevice): Promise<DfuStatusReply> {
  const r = await d.controlTransferIn(setup(3), 6);
  if (r.status !== "ok") throw new Error(`GETSTATUS ${r.status}`);
  return decodeStatus(new Uint8Array(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength));
}

export async function request(d: UsbDevice, request: number, dir: "in" | "out"): Promise<USBTransferStatus> {
  return dir === "in"
    ? (await d.controlTransferIn(setup(request), request === 3 ? 6 : 1)).status
    : (await d.controlTransferOut(setup(request))).status;
}

export function vectorTable(dev: Stm32Device, entryOffset = 0x101): Uint8Array {
  const vt = new Uint8Array(8);
  const view = new DataView(vt.buffer);
  view.setUint32(0, dev.profile.sram.base + dev.profile.sram.size, true);
  view.setUint32(4, dev.profile.flash.base + entryOffset, true);
  return vt;
}

export const le32 = (code: number, address: number) => {
  const b = new Uint8Array(5);
  b[0] = code;
  new DataView(b.buffer).setUint32(1, address, true);
  return b;
};
