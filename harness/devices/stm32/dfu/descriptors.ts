/**
 * USB identity of the STM32 ROM DFU bootloader (fact sheet §1.5, §2.7): device, configuration
 * (one interface, one alt setting per memory, no endpoints, the DFU functional descriptor
 * after the alt settings) and string descriptors, plus the WebUSB view of the same.
 */
import { DFUSE_VERSION, DfuAttributes, encodeFunctionalDescriptor } from "../../../protocol/dfu/index.js";
import type { Stm32Profile } from "../profiles.js";

export const DFU_TRANSFER_SIZE = 2048;
export const DFU_DETACH_TIMEOUT_MS = 255;
/** Download | Upload | WillDetach; manifestation intolerant (ST ROM lsusb). */
export const DFU_ATTRIBUTES = DfuAttributes.canDownload | DfuAttributes.canUpload | DfuAttributes.willDetach;
/** bcdDevice of the ROM DFU device; its MSB is the DFU bootloader version (0x22 seen on L4). */
export const DFU_BCD_DEVICE = 0x2200;

export const FUNCTIONAL_DESCRIPTOR = encodeFunctionalDescriptor({
  bmAttributes: DFU_ATTRIBUTES,
  detachTimeoutMs: DFU_DETACH_TIMEOUT_MS,
  transferSize: DFU_TRANSFER_SIZE,
  bcdDfuVersion: DFUSE_VERSION,
});

/** Where "@Device Feature" points; its contents belong to the FUS model (not this one). */
export const DEVICE_FEATURE_BASE = 0xffff_0000;

const hex8 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, "0")}`;
const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** Alt-setting names as the parts spell them (spacing copied from the published strings). */
export function altSettingNames(p: Stm32Profile): string[] {
  const flash =
    p.family === "stm32l432"
      ? `@Internal Flash  /${hex8(p.flash.base)}/${pad(p.flash.pages, 4)}*${pad(p.flash.pageSize / 1024, 4)}Kg`
      : `@Internal Flash   /${hex8(p.flash.base)}/${p.flash.pages}*${pad(p.flash.pageSize / 1024, 2)}Kg`;
  return [
    flash,
    `@Option Bytes  /${hex8(p.optionBytes.base)}/01*${pad(p.optionBytes.size, 3)} e`,
    `@OTP Memory /${hex8(p.otp.base)}/01*${pad(p.otp.size / 1024, 4)}Ke`,
    `@Device Feature/${hex8(DEVICE_FEATURE_BASE)}/01*004 e`,
  ];
}

export interface UsbIdentity {
  vendorId: number;
  productId: number;
  bcdDevice: number;
  manufacturer: string;
  product: string;
  serial: string;
  /** bInterfaceClass/SubClass/Protocol and name of each alternate of interface 0. */
  interfaceClass: [number, number, number];
  alternates: string[];
  /** Class-specific descriptor appended after the interface descriptors. */
  extra?: Uint8Array;
}

export function romIdentity(p: Stm32Profile, serial: string): UsbIdentity {
  return {
    vendorId: p.usb.vendorId,
    productId: p.usb.productId,
    bcdDevice: DFU_BCD_DEVICE,
    manufacturer: p.usb.manufacturer,
    product: p.usb.product,
    serial,
    interfaceClass: [0xfe, 0x01, 0x02],
    alternates: altSettingNames(p),
    extra: FUNCTIONAL_DESCRIPTOR,
  };
}

/** String descriptor indices: 1 manufacturer, 2 product, 3 serial, 4+n alternate n. */
export const STRING_INDEX = { manufacturer: 1, product: 2, serial: 3, firstAlternate: 4 } as const;

export function deviceDescriptor(id: UsbIdentity): Uint8Array {
  const d = new Uint8Array(18);
  const v = new DataView(d.buffer);
  d.set([18, 0x01]);
  v.setUint16(2, 0x0100, true); // bcdUSB 1.00, as the ROM reports
  d.set([0, 0, 0, 64], 4); // class per interface; bMaxPacketSize0 64
  v.setUint16(8, id.vendorId, true);
  v.setUint16(10, id.productId, true);
  v.setUint16(12, id.bcdDevice, true);
  d.set([STRING_INDEX.manufacturer, STRING_INDEX.product, STRING_INDEX.serial, 1], 14);
  return d;
}

export function configurationDescriptor(id: UsbIdentity): Uint8Array {
  const extra = id.extra ?? new Uint8Array(0);
  const total = 9 + 9 * id.alternates.length + extra.length;
  const d = new Uint8Array(total);
  const v = new DataView(d.buffer);
  d.set([9, 0x02]);
  v.setUint16(2, total, true);
  d.set([1, 1, 0, 0xc0, 50], 4); // 1 interface, configuration 1, self-powered, 100 mA
  id.alternates.forEach((_, alt) => {
    const at = 9 + 9 * alt;
    d.set([9, 0x04, 0, alt, 0, ...id.interfaceClass, STRING_INDEX.firstAlternate + alt], at);
  });
  d.set(extra, 9 + 9 * id.alternates.length);
  return d;
}

/** String descriptor `index` (0 = language IDs, en-US), UTF-16LE; undefined if there is none. */
export function stringDescriptor(id: UsbIdentity, index: number): Uint8Array | undefined {
  if (index === 0) return Uint8Array.of(4, 0x03, 0x09, 0x04);
  const text =
    index === STRING_INDEX.manufacturer
      ? id.manufacturer
      : index === STRING_INDEX.product
        ? id.product
        : index === STRING_INDEX.serial
          ? id.serial
          : id.alternates[index - STRING_INDEX.firstAlternate];
  if (text === undefined) return undefined;
  const d = new Uint8Array(2 + 2 * text.length);
  d[0] = d.length;
  d[1] = 0x03;
  for (let i = 0; i < text.length; i++) new DataView(d.buffer).setUint16(2 + 2 * i, text.charCodeAt(i), true);
  return d;
}
