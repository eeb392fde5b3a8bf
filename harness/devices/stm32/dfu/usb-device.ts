/**
 * A WebUSB-shaped `USBDevice` backed by an emulated USB function, so host clients run
 * unchanged against the emulator. One object per enumeration: once its link drops (USB
 * disconnect, power loss, re-enumeration) every call rejects with a NetworkError, as
 * Chrome's and node-usb's WebUSB do, and the bus hands out a new object.
 *
 * The facade answers the standard GET_DESCRIPTOR requests from the function's identity and
 * passes class/vendor requests to the function. Transfers take device time on the clock.
 */
import { PowerLostError } from "../../../sim/power.js";
import type { Clock } from "../../../transport/clock.js";
import {
  configurationDescriptor,
  deviceDescriptor,
  stringDescriptor,
  type UsbIdentity,
} from "./descriptors.js";

export interface ControlSetup {
  requestType: USBRequestType;
  recipient: USBRecipient;
  request: number;
  value: number;
  index: number;
}

export type ControlReply =
  | {
      status: "ok";
      data?: Uint8Array;
      /** Device work that starts once the reply is on the wire (DfuSe runs commands after the status packet). */
      after?: () => void;
    }
  | { status: "stall" };

/** The device side of a USB function (the ROM's DFU interface, an application). */
export interface UsbFunction {
  readonly identity: UsbIdentity;
  /** A class or vendor request; `data` for OUT, `length` (wLength) for IN. A reply may come at once. */
  control(
    setup: ControlSetup,
    dir: "in" | "out",
    data: Uint8Array | undefined,
    length: number,
  ): ControlReply | Promise<ControlReply>;
  /** SET_INTERFACE on interface 0. */
  selectAlternate(alt: number): void;
  /** USB bus reset signalled by the host. */
  usbReset(): Promise<void>;
}

/** One enumeration: live until dropped. */
export class UsbLink {
  #connected = true;
  constructor(
    readonly address: number,
    readonly bus = "emulated",
  ) {}
  get connected(): boolean {
    return this.#connected;
  }
  drop(): void {
    this.#connected = false;
  }
}

/** Device time a control transfer takes at full speed ([M]: a 1 ms frame plus ~1 ms per KB of data). */
export function controlTransferMs(bytes: number): number {
  return 1 + bytes / 1024;
}

const GET_DESCRIPTOR = 6;

function disconnected(): DOMException {
  return new DOMException("The device was disconnected.", "NetworkError");
}

/** Power lost while the function worked on a request: the host sees the device leave the bus. */
function offTheBus(e: unknown): never {
  if (e instanceof PowerLostError) throw disconnected();
  throw e;
}

export class EmulatedUsbDevice implements USBDevice {
  readonly usbVersionMajor = 1;
  readonly usbVersionMinor = 0;
  readonly usbVersionSubminor = 0;
  readonly deviceClass = 0;
  readonly deviceSubclass = 0;
  readonly deviceProtocol = 0;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly manufacturerName: string;
  readonly productName: string;
  readonly serialNumber: string;
  readonly configurations: USBConfiguration[];
  /** node-usb exposes bus/address; `sameEnumeration` uses them to tell enumerations apart. */
  readonly bus: string;
  readonly address: number;
  #opened = false;
  #configured = false;
  #claimed = false;
  #alternate = 0;

  constructor(
    readonly fn: UsbFunction,
    readonly link: UsbLink,
    readonly clock: Clock,
  ) {
    const id = fn.identity;
    this.vendorId = id.vendorId;
    this.productId = id.productId;
    this.deviceVersionMajor = id.bcdDevice >> 8;
    this.deviceVersionMinor = (id.bcdDevice >> 4) & 0xf;
    this.deviceVersionSubminor = id.bcdDevice & 0xf;
    this.manufacturerName = id.manufacturer;
    this.productName = id.product;
    this.serialNumber = id.serial;
    this.bus = link.bus;
    this.address = link.address;
    this.configurations = [this.#configurationView()];
  }

  get opened(): boolean {
    return this.#opened && this.link.connected;
  }

  get configuration(): USBConfiguration | null {
    return this.#configured ? this.#configurationView() : null;
  }

  async open(): Promise<void> {
    this.#live();
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.#opened = false;
    this.#claimed = false;
  }

  async forget(): Promise<void> {
    await this.close();
  }

  async selectConfiguration(value: number): Promise<void> {
    this.#openLive();
    if (value !== 1) throw new DOMException(`no configuration ${value}`, "NotFoundError");
    this.#configured = true;
  }

  async claimInterface(n: number): Promise<void> {
    this.#openLive();
    if (!this.#configured) throw new DOMException("no configuration selected", "InvalidStateError");
    if (n !== 0) throw new DOMException(`no interface ${n}`, "NotFoundError");
    this.#claimed = true;
  }

  async releaseInterface(n: number): Promise<void> {
    this.#openLive();
    if (n === 0) this.#claimed = false;
  }

  async selectAlternateInterface(n: number, alt: number): Promise<void> {
    this.#openLive();
    if (n !== 0 || !this.#claimed)
      throw new DOMException(`interface ${n} is not claimed`, "InvalidStateError");
    if (alt < 0 || alt >= this.fn.identity.alternates.length)
      throw new DOMException(`no alternate setting ${alt}`, "NotFoundError");
    await this.clock.sleep(controlTransferMs(0));
    this.#live();
    this.#alternate = alt;
    this.fn.selectAlternate(alt);
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    this.#openLive();
    await this.clock.sleep(controlTransferMs(length));
    this.#live();
    let reply: ControlReply | Promise<ControlReply> =
      setup.requestType === "standard"
        ? this.#standardIn(setup)
        : this.fn.control(this.#checkClaimed(setup), "in", undefined, length);
    // Most replies come at once; only a request that waits for the device takes a turn.
    if (reply instanceof Promise) reply = await reply.catch(offTheBus);
    this.#live();
    if (reply.status === "stall") return { status: "stall" } as USBInTransferResult;
    reply.after?.();
    const data = (reply.data ?? new Uint8Array(0)).slice(0, length);
    return {
      status: "ok",
      data: new DataView(data.buffer, data.byteOffset, data.byteLength),
    } as USBInTransferResult;
  }

  async controlTransferOut(
    setup: USBControlTransferParameters,
    data?: ArrayBuffer | ArrayBufferView,
  ): Promise<USBOutTransferResult> {
    this.#openLive();
    const bytes =
      data === undefined
        ? new Uint8Array(0)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data).slice()
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    await this.clock.sleep(controlTransferMs(bytes.length));
    this.#live();
    if (setup.requestType === "standard") return { status: "stall", bytesWritten: 0 } as USBOutTransferResult;
    let reply = this.fn.control(this.#checkClaimed(setup), "out", bytes, bytes.length);
    if (reply instanceof Promise) reply = await reply.catch(offTheBus);
    this.#live();
    if (reply.status === "ok") reply.after?.();
    return {
      status: reply.status,
      bytesWritten: reply.status === "ok" ? bytes.length : 0,
    } as USBOutTransferResult;
  }

  async reset(): Promise<void> {
    this.#openLive();
    await this.fn.usbReset();
    this.#live();
  }

  async clearHalt(): Promise<void> {
    this.#openLive();
  }

  async transferIn(): Promise<USBInTransferResult> {
    throw new DOMException("this device has no bulk/interrupt endpoints", "NotFoundError");
  }

  async transferOut(): Promise<USBOutTransferResult> {
    throw new DOMException("this device has no bulk/interrupt endpoints", "NotFoundError");
  }

  async isochronousTransferIn(): Promise<USBIsochronousInTransferResult> {
    throw new DOMException("no isochronous endpoints", "NotFoundError");
  }

  async isochronousTransferOut(): Promise<USBIsochronousOutTransferResult> {
    throw new DOMException("no isochronous endpoints", "NotFoundError");
  }

  #standardIn(setup: USBControlTransferParameters): { status: "ok"; data: Uint8Array } | { status: "stall" } {
    if (setup.request !== GET_DESCRIPTOR) return { status: "stall" };
    const type = setup.value >> 8;
    const index = setup.value & 0xff;
    const id = this.fn.identity;
    const data =
      type === 1
        ? deviceDescriptor(id)
        : type === 2
          ? configurationDescriptor(id)
          : type === 3
            ? stringDescriptor(id, index)
            : type === 0x21
              ? id.extra
              : undefined;
    return data ? { status: "ok", data } : { status: "stall" };
  }

  #checkClaimed(setup: USBControlTransferParameters): ControlSetup {
    if (setup.recipient === "interface" && (!this.#claimed || (setup.index & 0xff) !== 0))
      throw new DOMException(`interface ${setup.index & 0xff} is not claimed`, "InvalidStateError");
    return setup;
  }

  #configurationView(): USBConfiguration {
    const id = this.fn.identity;
    const [cls, sub, proto] = id.interfaceClass;
    const alternates: USBAlternateInterface[] = id.alternates.map((name, alternateSetting) => ({
      alternateSetting,
      interfaceClass: cls,
      interfaceSubclass: sub,
      interfaceProtocol: proto,
      interfaceName: name,
      endpoints: [],
    }));
    const iface: USBInterface = {
      interfaceNumber: 0,
      alternate: alternates[this.#alternate]!,
      alternates,
      claimed: this.#claimed,
    };
    return { configurationValue: 1, configurationName: null, interfaces: [iface] } as USBConfiguration;
  }

  #live(): void {
    if (!this.link.connected) throw disconnected();
  }

  #openLive(): void {
    this.#live();
    if (!this.#opened) throw new DOMException("The device must be opened first.", "InvalidStateError");
  }
}
