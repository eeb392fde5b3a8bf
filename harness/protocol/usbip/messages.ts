/**
 * USB/IP messages (Linux Documentation/usb/usbip_protocol.rst), pure encode/decode. All
 * integers are big-endian; the 8-byte setup packet inside CMD_SUBMIT stays in USB (little-
 * endian) order, as the host controller driver hands it over.
 *
 * A connection starts with one operation (OP_REQ_DEVLIST or OP_REQ_IMPORT, 8-byte common
 * header); after a successful import the same connection carries 48-byte URB headers
 * (CMD_SUBMIT / RET_SUBMIT, CMD_UNLINK / RET_UNLINK) plus transfer data.
 */
import { concatBytes as concat } from "../../seams/bytes.js";
import type { SetupPacket } from "../../seams/transcript.js";

export type { SetupPacket };

import { type ErrorCategory, HilError } from "../../seams/errors.js";

export const USBIP_VERSION = 0x0111;

export const OpCode = {
  REQ_DEVLIST: 0x8005,
  REP_DEVLIST: 0x0005,
  REQ_IMPORT: 0x8003,
  REP_IMPORT: 0x0003,
} as const;

export const UrbCommand = {
  CMD_SUBMIT: 1,
  CMD_UNLINK: 2,
  RET_SUBMIT: 3,
  RET_UNLINK: 4,
} as const;

/** `speed` of the device record (enum usb_device_speed). */
export const UsbSpeed = { low: 1, full: 2, high: 3, wireless: 4, super: 5 } as const;

/** Linux errno values a host controller completes URBs with (negated in `status`). */
export const Errno = { EPIPE: 32, ECONNRESET: 104, ENOENT: 2, ESHUTDOWN: 108 } as const;

export const OP_HEADER_SIZE = 8;
export const BUSID_SIZE = 32;
export const PATH_SIZE = 256;
/** The exported device record without its interface list. */
export const DEVICE_RECORD_SIZE = 312;
export const URB_HEADER_SIZE = 48;
export const SETUP_SIZE = 8;
/** Isochronous packet descriptor after the transfer data. */
export const ISO_DESCRIPTOR_SIZE = 16;

/** Raised for bytes that are no valid USB/IP message. */
export class UsbipProtocolError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  constructor(message: string) {
    super(message);
    this.name = "UsbipProtocolError";
  }
}

export interface OpHeader {
  version: number;
  code: number;
  status: number;
}

export interface UsbipInterface {
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
}

export interface UsbipDevice {
  path: string;
  busid: string;
  busnum: number;
  devnum: number;
  speed: number;
  idVendor: number;
  idProduct: number;
  bcdDevice: number;
  bDeviceClass: number;
  bDeviceSubClass: number;
  bDeviceProtocol: number;
  bConfigurationValue: number;
  bNumConfigurations: number;
  bNumInterfaces: number;
}

export interface UsbipDeviceListing extends UsbipDevice {
  interfaces: UsbipInterface[];
}

/** The kernel's devid of an imported device: busnum << 16 | devnum. */
export function devid(d: Pick<UsbipDevice, "busnum" | "devnum">): number {
  return ((d.busnum << 16) | d.devnum) >>> 0;
}

export function encodeOpHeader(h: OpHeader): Uint8Array {
  const b = new Uint8Array(OP_HEADER_SIZE);
  const v = view(b);
  v.setUint16(0, h.version);
  v.setUint16(2, h.code);
  v.setUint32(4, h.status);
  return b;
}

export function decodeOpHeader(b: Uint8Array): OpHeader {
  need(b, OP_HEADER_SIZE, "operation header");
  const v = view(b);
  return { version: v.getUint16(0), code: v.getUint16(2), status: v.getUint32(4) };
}

export function encodeReqDevlist(): Uint8Array {
  return encodeOpHeader({ version: USBIP_VERSION, code: OpCode.REQ_DEVLIST, status: 0 });
}

export function encodeReqImport(busid: string): Uint8Array {
  const b = new Uint8Array(OP_HEADER_SIZE + BUSID_SIZE);
  b.set(encodeOpHeader({ version: USBIP_VERSION, code: OpCode.REQ_IMPORT, status: 0 }));
  b.set(cString(busid, BUSID_SIZE, "busid"), OP_HEADER_SIZE);
  return b;
}

/** The busid of an OP_REQ_IMPORT body (32 bytes after the header). */
export function decodeImportBusid(body: Uint8Array): string {
  need(body, BUSID_SIZE, "OP_REQ_IMPORT busid");
  return readCString(body.subarray(0, BUSID_SIZE));
}

export function encodeDeviceRecord(d: UsbipDevice): Uint8Array {
  const b = new Uint8Array(DEVICE_RECORD_SIZE);
  const v = view(b);
  b.set(cString(d.path, PATH_SIZE, "path"), 0);
  b.set(cString(d.busid, BUSID_SIZE, "busid"), PATH_SIZE);
  let at = PATH_SIZE + BUSID_SIZE;
  for (const n of [d.busnum, d.devnum, d.speed]) {
    v.setUint32(at, n);
    at += 4;
  }
  for (const n of [d.idVendor, d.idProduct, d.bcdDevice]) {
    v.setUint16(at, n);
    at += 2;
  }
  b.set(
    [
      d.bDeviceClass,
      d.bDeviceSubClass,
      d.bDeviceProtocol,
      d.bConfigurationValue,
      d.bNumConfigurations,
      d.bNumInterfaces,
    ],
    at,
  );
  return b;
}

export function decodeDeviceRecord(b: Uint8Array): UsbipDevice {
  need(b, DEVICE_RECORD_SIZE, "device record");
  const v = view(b);
  const at = PATH_SIZE + BUSID_SIZE;
  return {
    path: readCString(b.subarray(0, PATH_SIZE)),
    busid: readCString(b.subarray(PATH_SIZE, at)),
    busnum: v.getUint32(at),
    devnum: v.getUint32(at + 4),
    speed: v.getUint32(at + 8),
    idVendor: v.getUint16(at + 12),
    idProduct: v.getUint16(at + 14),
    bcdDevice: v.getUint16(at + 16),
    bDeviceClass: b[at + 18]!,
    bDeviceSubClass: b[at + 19]!,
    bDeviceProtocol: b[at + 20]!,
    bConfigurationValue: b[at + 21]!,
    bNumConfigurations: b[at + 22]!,
    bNumInterfaces: b[at + 23]!,
  };
}

export function encodeRepDevlist(devices: readonly UsbipDeviceListing[]): Uint8Array {
  const parts: Uint8Array[] = [
    encodeOpHeader({ version: USBIP_VERSION, code: OpCode.REP_DEVLIST, status: 0 }),
    u32(devices.length),
  ];
  for (const d of devices) {
    if (d.interfaces.length !== d.bNumInterfaces)
      throw new RangeError(
        `device ${d.busid}: ${d.interfaces.length} interfaces listed, bNumInterfaces ${d.bNumInterfaces}`,
      );
    parts.push(encodeDeviceRecord(d));
    for (const i of d.interfaces)
      parts.push(Uint8Array.of(i.bInterfaceClass, i.bInterfaceSubClass, i.bInterfaceProtocol, 0));
  }
  return concat(parts);
}

/**
 * OP_REP_DEVLIST after its header: the device count and records.
 * @returns the devices and the number of bytes consumed, or undefined if `body` is incomplete.
 */
export function decodeRepDevlistBody(
  body: Uint8Array,
): { devices: UsbipDeviceListing[]; size: number } | undefined {
  if (body.length < 4) return undefined;
  const count = view(body).getUint32(0);
  if (count > 4096) throw new UsbipProtocolError(`OP_REP_DEVLIST: implausible device count ${count}`);
  let at = 4;
  const devices: UsbipDeviceListing[] = [];
  for (let n = 0; n < count; n++) {
    if (body.length < at + DEVICE_RECORD_SIZE) return undefined;
    const d = decodeDeviceRecord(body.subarray(at, at + DEVICE_RECORD_SIZE));
    at += DEVICE_RECORD_SIZE;
    if (body.length < at + 4 * d.bNumInterfaces) return undefined;
    const interfaces: UsbipInterface[] = [];
    for (let i = 0; i < d.bNumInterfaces; i++, at += 4)
      interfaces.push({
        bInterfaceClass: body[at]!,
        bInterfaceSubClass: body[at + 1]!,
        bInterfaceProtocol: body[at + 2]!,
      });
    devices.push({ ...d, interfaces });
  }
  return { devices, size: at };
}

/** OP_REP_IMPORT: status 0 with the device record, or a non-zero status alone. */
export function encodeRepImport(device: UsbipDevice | undefined): Uint8Array {
  const header = encodeOpHeader({ version: USBIP_VERSION, code: OpCode.REP_IMPORT, status: device ? 0 : 1 });
  return device ? concat([header, encodeDeviceRecord(device)]) : header;
}

/** The fields shared by every URB header (usbip_header_basic). */
export interface UrbBasic {
  command: number;
  seqnum: number;
  devid: number;
  /** 0 = OUT, 1 = IN. */
  direction: number;
  ep: number;
}

export interface CmdSubmit extends UrbBasic {
  command: typeof UrbCommand.CMD_SUBMIT;
  transferFlags: number;
  transferBufferLength: number;
  startFrame: number;
  /** 0 (or 0xffffffff) for non-isochronous transfers. */
  numberOfPackets: number;
  interval: number;
  setup: Uint8Array;
  /** OUT data (transferBufferLength bytes); empty for IN. */
  data: Uint8Array;
}

export interface RetSubmit extends UrbBasic {
  command: typeof UrbCommand.RET_SUBMIT;
  /** 0 or a negative errno (−32 = stall). */
  status: number;
  actualLength: number;
  startFrame: number;
  numberOfPackets: number;
  errorCount: number;
  /** IN data (actualLength bytes); empty for OUT. */
  data: Uint8Array;
}

export interface CmdUnlink extends UrbBasic {
  command: typeof UrbCommand.CMD_UNLINK;
  unlinkSeqnum: number;
}

export interface RetUnlink extends UrbBasic {
  command: typeof UrbCommand.RET_UNLINK;
  /** −ECONNRESET when the URB was unlinked, 0 when it had already completed. */
  status: number;
}

export type UrbMessage = CmdSubmit | RetSubmit | CmdUnlink | RetUnlink;

function basic(v: DataView, m: UrbBasic): void {
  v.setUint32(0, m.command);
  v.setUint32(4, m.seqnum);
  v.setUint32(8, m.devid);
  v.setUint32(12, m.direction);
  v.setUint32(16, m.ep);
}

export function encodeUrb(m: UrbMessage): Uint8Array {
  const h = new Uint8Array(URB_HEADER_SIZE);
  const v = view(h);
  basic(v, m);
  switch (m.command) {
    case UrbCommand.CMD_SUBMIT: {
      if (m.setup.length !== SETUP_SIZE)
        throw new RangeError(`setup packet must be 8 bytes, got ${m.setup.length}`);
      v.setUint32(20, m.transferFlags);
      v.setUint32(24, m.transferBufferLength);
      v.setUint32(28, m.startFrame);
      v.setUint32(32, m.numberOfPackets);
      v.setUint32(36, m.interval);
      h.set(m.setup, 40);
      const out = m.direction === 0;
      if (out && m.data.length !== m.transferBufferLength)
        throw new RangeError(
          `OUT data is ${m.data.length} bytes, transfer_buffer_length ${m.transferBufferLength}`,
        );
      return out ? concat([h, m.data]) : h;
    }
    case UrbCommand.RET_SUBMIT: {
      v.setInt32(20, m.status);
      v.setUint32(24, m.actualLength);
      v.setUint32(28, m.startFrame);
      v.setUint32(32, m.numberOfPackets);
      v.setUint32(36, m.errorCount);
      if (m.data.length !== (m.direction === 1 ? m.actualLength : 0))
        throw new RangeError(`RET_SUBMIT carries ${m.data.length} bytes for actual_length ${m.actualLength}`);
      return m.data.length > 0 ? concat([h, m.data]) : h;
    }
    case UrbCommand.CMD_UNLINK:
      v.setUint32(20, m.unlinkSeqnum);
      return h;
    case UrbCommand.RET_UNLINK:
      v.setInt32(20, m.status);
      return h;
  }
}

/** Upper bound on one transfer's data (the kernel's vhci refuses larger URBs long before). */
export const MAX_TRANSFER = 16 * 1024 * 1024;

/**
 * Decodes the URB message at the start of `b`.
 * @param direction of the request a RET_SUBMIT answers: the header's own field is 0 on the
 *   wire, so the receiver of a RET_SUBMIT names it (`requestDirection(seqnum)`).
 * @returns the message and its size in bytes, or undefined if `b` holds less than one message.
 * @throws {UsbipProtocolError} for an unknown command or impossible lengths.
 */
export function decodeUrb(
  b: Uint8Array,
  requestDirection?: (seqnum: number) => number | undefined,
): { message: UrbMessage; size: number } | undefined {
  if (b.length < URB_HEADER_SIZE) return undefined;
  const v = view(b);
  const base = {
    seqnum: v.getUint32(4),
    devid: v.getUint32(8),
    direction: v.getUint32(12),
    ep: v.getUint32(16),
  };
  const command = v.getUint32(0);
  switch (command) {
    case UrbCommand.CMD_SUBMIT: {
      if (base.direction > 1)
        throw new UsbipProtocolError(`CMD_SUBMIT seqnum ${base.seqnum}: direction ${base.direction}`);
      if (base.ep > 15) throw new UsbipProtocolError(`CMD_SUBMIT seqnum ${base.seqnum}: endpoint ${base.ep}`);
      const length = v.getUint32(24);
      if (length > MAX_TRANSFER)
        throw new UsbipProtocolError(`CMD_SUBMIT seqnum ${base.seqnum}: transfer_buffer_length ${length}`);
      const packets = v.getUint32(32);
      const iso = packets === 0xffffffff ? 0 : packets;
      if (iso > 1024)
        throw new UsbipProtocolError(`CMD_SUBMIT seqnum ${base.seqnum}: number_of_packets ${packets}`);
      const dataLength = base.direction === 0 ? length : 0;
      const size = URB_HEADER_SIZE + dataLength + iso * ISO_DESCRIPTOR_SIZE;
      if (b.length < size) return undefined;
      return {
        size,
        message: {
          command,
          ...base,
          transferFlags: v.getUint32(20),
          transferBufferLength: length,
          startFrame: v.getUint32(28),
          numberOfPackets: packets,
          interval: v.getUint32(36),
          setup: b.slice(40, 48),
          data: b.slice(URB_HEADER_SIZE, URB_HEADER_SIZE + dataLength),
        },
      };
    }
    case UrbCommand.RET_SUBMIT: {
      const actual = v.getUint32(24);
      if (actual > MAX_TRANSFER)
        throw new UsbipProtocolError(`RET_SUBMIT seqnum ${base.seqnum}: actual_length ${actual}`);
      const dir = requestDirection?.(base.seqnum) ?? base.direction;
      const dataLength = dir === 1 ? actual : 0;
      const size = URB_HEADER_SIZE + dataLength;
      if (b.length < size) return undefined;
      return {
        size,
        message: {
          command,
          ...base,
          direction: dir,
          status: v.getInt32(20),
          actualLength: actual,
          startFrame: v.getUint32(28),
          numberOfPackets: v.getUint32(32),
          errorCount: v.getUint32(36),
          data: b.slice(URB_HEADER_SIZE, size),
        },
      };
    }
    case UrbCommand.CMD_UNLINK:
      return { size: URB_HEADER_SIZE, message: { command, ...base, unlinkSeqnum: v.getUint32(20) } };
    case UrbCommand.RET_UNLINK:
      return { size: URB_HEADER_SIZE, message: { command, ...base, status: v.getInt32(20) } };
    default:
      throw new UsbipProtocolError(`unknown URB command 0x${command.toString(16)} (seqnum ${base.seqnum})`);
  }
}

export function decodeSetup(s: Uint8Array): SetupPacket {
  need(s, SETUP_SIZE, "setup packet");
  const v = view(s);
  return {
    bmRequestType: s[0]!,
    bRequest: s[1]!,
    wValue: v.getUint16(2, true),
    wIndex: v.getUint16(4, true),
    wLength: v.getUint16(6, true),
  };
}

export function encodeSetup(p: SetupPacket): Uint8Array {
  const s = new Uint8Array(SETUP_SIZE);
  const v = view(s);
  s[0] = p.bmRequestType;
  s[1] = p.bRequest;
  v.setUint16(2, p.wValue, true);
  v.setUint16(4, p.wIndex, true);
  v.setUint16(6, p.wLength, true);
  return s;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new UsbipProtocolError(`${what}: need ${n} bytes, got ${b.length}`);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setUint32(0, n);
  return b;
}

function cString(s: string, size: number, what: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length >= size) throw new RangeError(`${what} '${s}' does not fit ${size - 1} bytes`);
  const b = new Uint8Array(size);
  b.set(bytes);
  return b;
}

function readCString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
