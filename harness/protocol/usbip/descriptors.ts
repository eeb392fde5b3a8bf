/**
 * The USB 2.0 standard descriptors (§9.6) an importer reads from a device it imported over
 * USB/IP, to build the WebUSB view a browser or node-usb would build: device, configuration
 * (with its interfaces, alternate settings and endpoints; class-specific descriptors are
 * skipped) and string descriptors. Pure decoding; bad bytes throw a {@link UsbipProtocolError}
 * naming the descriptor and field.
 */
import { UsbipProtocolError } from "./messages.js";

export const DescriptorType = { device: 1, configuration: 2, string: 3, interface: 4, endpoint: 5 } as const;
export const DEVICE_DESCRIPTOR_SIZE = 18;
export const CONFIGURATION_HEADER_SIZE = 9;

export interface DeviceDescriptor {
  bcdUSB: number;
  bDeviceClass: number;
  bDeviceSubClass: number;
  bDeviceProtocol: number;
  bMaxPacketSize0: number;
  idVendor: number;
  idProduct: number;
  bcdDevice: number;
  iManufacturer: number;
  iProduct: number;
  iSerialNumber: number;
  bNumConfigurations: number;
}

export interface EndpointDescriptor {
  bEndpointAddress: number;
  bmAttributes: number;
  wMaxPacketSize: number;
}

export interface AlternateDescriptor {
  bAlternateSetting: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  iInterface: number;
  endpoints: EndpointDescriptor[];
}

export interface InterfaceDescriptors {
  bInterfaceNumber: number;
  /** In the order the configuration lists them. */
  alternates: AlternateDescriptor[];
}

export interface ConfigurationDescriptor {
  wTotalLength: number;
  bConfigurationValue: number;
  iConfiguration: number;
  bmAttributes: number;
  interfaces: InterfaceDescriptors[];
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function header(b: Uint8Array, at: number, what: string, type: number, size: number): void {
  if (b.length < at + 2)
    throw new UsbipProtocolError(`${what}: need 2 bytes at offset ${at}, got ${b.length - at}`);
  if (b[at + 1] !== type)
    throw new UsbipProtocolError(`${what}: bDescriptorType ${b[at + 1]} at offset ${at}, expected ${type}`);
  if (b[at]! < size)
    throw new UsbipProtocolError(`${what}: bLength ${b[at]} at offset ${at}, expected ≥ ${size}`);
  if (b.length < at + b[at]!)
    throw new UsbipProtocolError(`${what}: bLength ${b[at]} at offset ${at}, only ${b.length - at} bytes`);
}

export function decodeDeviceDescriptor(b: Uint8Array): DeviceDescriptor {
  header(b, 0, "device descriptor", DescriptorType.device, DEVICE_DESCRIPTOR_SIZE);
  return {
    bcdUSB: u16(b, 2),
    bDeviceClass: b[4]!,
    bDeviceSubClass: b[5]!,
    bDeviceProtocol: b[6]!,
    bMaxPacketSize0: b[7]!,
    idVendor: u16(b, 8),
    idProduct: u16(b, 10),
    bcdDevice: u16(b, 12),
    iManufacturer: b[14]!,
    iProduct: b[15]!,
    iSerialNumber: b[16]!,
    bNumConfigurations: b[17]!,
  };
}

/** wTotalLength from the first 9 bytes of a configuration descriptor (to ask for the whole). */
export function configurationTotalLength(b: Uint8Array): number {
  header(b, 0, "configuration descriptor", DescriptorType.configuration, CONFIGURATION_HEADER_SIZE);
  const total = u16(b, 2);
  if (total < CONFIGURATION_HEADER_SIZE)
    throw new UsbipProtocolError(
      `configuration descriptor: wTotalLength ${total} < ${CONFIGURATION_HEADER_SIZE}`,
    );
  return total;
}

/**
 * The whole configuration descriptor (wTotalLength bytes): interfaces grouped by number,
 * alternates and their endpoints in order; other descriptors (class-specific) are skipped.
 */
export function decodeConfigurationDescriptor(b: Uint8Array): ConfigurationDescriptor {
  const total = configurationTotalLength(b);
  if (b.length !== total)
    throw new UsbipProtocolError(`configuration descriptor: wTotalLength ${total}, got ${b.length} bytes`);
  const interfaces: InterfaceDescriptors[] = [];
  let current: AlternateDescriptor | undefined;
  for (let at = b[0]!; at < total; at += b[at]!) {
    if (total - at < 2 || b[at]! < 2)
      throw new UsbipProtocolError(`configuration descriptor: bLength ${b[at]} at offset ${at}`);
    const type = b[at + 1]!;
    if (type === DescriptorType.interface) {
      header(b, at, "interface descriptor", DescriptorType.interface, 9);
      current = {
        bAlternateSetting: b[at + 3]!,
        bInterfaceClass: b[at + 5]!,
        bInterfaceSubClass: b[at + 6]!,
        bInterfaceProtocol: b[at + 7]!,
        iInterface: b[at + 8]!,
        endpoints: [],
      };
      const number = b[at + 2]!;
      let group = interfaces.find((i) => i.bInterfaceNumber === number);
      if (!group) {
        group = { bInterfaceNumber: number, alternates: [] };
        interfaces.push(group);
      }
      group.alternates.push(current);
    } else if (type === DescriptorType.endpoint) {
      header(b, at, "endpoint descriptor", DescriptorType.endpoint, 7);
      if (!current)
        throw new UsbipProtocolError(
          `configuration descriptor: endpoint descriptor at offset ${at} before any interface`,
        );
      current.endpoints.push({
        bEndpointAddress: b[at + 2]!,
        bmAttributes: b[at + 3]!,
        wMaxPacketSize: u16(b, at + 4),
      });
    } else if (at + b[at]! > total)
      throw new UsbipProtocolError(
        `configuration descriptor: bLength ${b[at]} at offset ${at} runs past wTotalLength ${total}`,
      );
  }
  return {
    wTotalLength: total,
    bConfigurationValue: b[5]!,
    iConfiguration: b[6]!,
    bmAttributes: b[7]!,
    interfaces,
  };
}

/** A string descriptor's text (UTF-16LE). */
export function decodeStringDescriptor(b: Uint8Array): string {
  header(b, 0, "string descriptor", DescriptorType.string, 2);
  if (b[0]! % 2 !== 0) throw new UsbipProtocolError(`string descriptor: bLength ${b[0]} is odd`);
  let text = "";
  for (let at = 2; at < b[0]!; at += 2) text += String.fromCharCode(u16(b, at));
  return text;
}

/** The language IDs of string descriptor 0. */
export function decodeLanguageIds(b: Uint8Array): number[] {
  header(b, 0, "string descriptor 0 (languages)", DescriptorType.string, 2);
  const ids: number[] = [];
  for (let at = 2; at + 1 < b[0]!; at += 2) ids.push(u16(b, at));
  return ids;
}
