/**
 * A board's USB on another host, served by its usbipd (or `hil emulate --usbip`): a `UsbBus`
 * that imports the device at `host:port` by bus id in user space (no vhci-hcd, no root), and
 * the imported device as a WebUSB `USBDevice`, so `DfuClient` and the FUS-over-DFU link run
 * on it unchanged.
 *
 * - Listing imports the device when no live import of it exists (OP_REQ_IMPORT; a refusal,
 *   the device being off the bus for now, lists nothing) and reads its descriptors the way a
 *   host does at enumeration. A server that does not answer throws
 *   {@link UsbipUnreachableError}, naming host and port.
 * - The server exports a device to one importer at a time, so this process keeps one import
 *   per remote device, shared by every bus object; `close()` ends it (the server then resets
 *   the device, as usbip's stub driver does) so another process can import it.
 * - When the device re-enumerates (DFU leave, manifestation, FUS reset) the server ends the
 *   import: the handle is gone for good (transfers reject with a NetworkError, as WebUSB's
 *   do for a device that left), and the next listing imports the new enumeration. `bus` and
 *   `address` (the server's devnum) let `sameEnumeration` tell them apart.
 * - Control transfers only: a STALL (−EPIPE) is status "stall", −EOVERFLOW "babble"; any
 *   other error, a dropped connection or bytes that are no USB/IP end as a NetworkError
 *   naming the remote. A URB unanswered for `transferTimeoutMs` is unlinked.
 */
import {
  type ConfigurationDescriptor,
  configurationTotalLength,
  DEVICE_DESCRIPTOR_SIZE,
  DescriptorType,
  type DeviceDescriptor,
  decodeConfigurationDescriptor,
  decodeDeviceDescriptor,
  decodeLanguageIds,
  decodeStringDescriptor,
  Errno,
  type SetupPacket,
} from "../protocol/usbip/index.js";
import { type Clock, TimeoutError, WallClock } from "./clock.js";
import {
  matchesFilter,
  type UsbBus,
  type UsbDevice,
  type UsbFilter,
  type WaitForOptions,
  waitForDevice,
} from "./usb.js";
import { setupPacket } from "./usb-record.js";
import { type ControlReply, UsbipImport, UsbipImportRefusedError } from "./usbip-client.js";

export { UsbipImportRefusedError, UsbipUnreachableError } from "./usbip-client.js";

/** Where a board's USB is: the rack host's USB/IP server and the device's bus id there. */
export interface UsbipRemote {
  host: string;
  port: number;
  busid: string;
}

export interface UsbipBusOptions extends UsbipRemote {
  /** Waits run on it (wall time: the server is another host). Default a WallClock. */
  clock?: Clock;
  /** Per wait on the server (connect, operation reply), default 5000 ms. */
  timeoutMs?: number;
  /** Longest a URB may wait for RET_SUBMIT before it is unlinked, default 30000 ms. */
  transferTimeoutMs?: number;
  /** Default poll interval for waitFor, ms (default 50). */
  pollMs?: number;
}

/** "127.0.0.1:3240 busid 1-1", for messages. */
export function describeUsbipRemote(r: UsbipRemote): string {
  return `${r.host}:${r.port} busid ${r.busid}`;
}

const LANGUAGE_EN_US = 0x0409;
const STRING_MAX = 255;
const EOVERFLOW = 75;

/** The live import of each remote device in this process, by {@link describeUsbipRemote}. */
const imported = new Map<string, UsbipUsbDevice>();
/** Imports under way, so two listings at once do not race for the server's one import. */
const importing = new Map<string, Promise<UsbipUsbDevice | undefined>>();

export class UsbipBus implements UsbBus {
  readonly remote: UsbipRemote;
  readonly #opts: UsbipBusOptions;
  readonly #clock: Clock;

  constructor(opts: UsbipBusOptions) {
    this.remote = { host: opts.host, port: opts.port, busid: opts.busid };
    this.#opts = opts;
    this.#clock = opts.clock ?? new WallClock();
  }

  async list(filter?: UsbFilter): Promise<UsbDevice[]> {
    const device = await this.#device();
    return device && (!filter || matchesFilter(device, filter)) ? [device] : [];
  }

  async find(filter: UsbFilter): Promise<UsbDevice | undefined> {
    return (await this.list(filter))[0];
  }

  waitFor(filter: UsbFilter, opts: WaitForOptions): Promise<UsbDevice> {
    return waitForDevice({ list: (f) => this.list(f) }, filter, {
      ...opts,
      clock: opts.clock ?? this.#clock,
      pollMs: opts.pollMs ?? this.#opts.pollMs ?? 50,
    });
  }

  #device(): Promise<UsbipUsbDevice | undefined> {
    const key = describeUsbipRemote(this.remote);
    const live = imported.get(key);
    if (live && !live.gone) return Promise.resolve(live);
    let pending = importing.get(key);
    if (!pending) {
      pending = this.#import(key).finally(() => importing.delete(key));
      importing.set(key, pending);
    }
    return pending;
  }

  async #import(key: string): Promise<UsbipUsbDevice | undefined> {
    let link: UsbipImport;
    try {
      link = await UsbipImport.attach(this.remote.busid, {
        host: this.remote.host,
        port: this.remote.port,
        clock: this.#clock,
        ...(this.#opts.timeoutMs === undefined ? {} : { timeoutMs: this.#opts.timeoutMs }),
      });
    } catch (e) {
      // Not on the bus right now (re-enumerating), or still held by an import that is ending.
      if (e instanceof UsbipImportRefusedError) return undefined;
      throw e;
    }
    link.socket.unref();
    let device: UsbipUsbDevice;
    try {
      device = await UsbipUsbDevice.enumerate(link, this.remote, {
        clock: this.#clock,
        transferTimeoutMs: this.#opts.transferTimeoutMs ?? 30_000,
      });
    } catch (e) {
      const gone = link.isClosed;
      await link.close();
      // The device left while it was being enumerated: the next look finds its successor.
      if (gone && !link.failure) return undefined;
      throw e;
    }
    imported.set(key, device);
    void link.closed.then(() => {
      if (imported.get(key) === device) imported.delete(key);
    });
    return device;
  }
}

function networkError(message: string): DOMException {
  return new DOMException(message, "NetworkError");
}

function standardIn(value: number, index: number, length: number): SetupPacket {
  return { bmRequestType: 0x80, bRequest: 6, wValue: value, wIndex: index, wLength: length };
}

/** An imported device as WebUSB shows one. Built by {@link UsbipBus}; see the file comment. */
export class UsbipUsbDevice implements USBDevice {
  readonly usbVersionMajor: number;
  readonly usbVersionMinor: number;
  readonly usbVersionSubminor: number;
  readonly deviceClass: number;
  readonly deviceSubclass: number;
  readonly deviceProtocol: number;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  readonly configurations: USBConfiguration[];
  /** The remote, as node-usb's `bus`: `sameEnumeration` compares it with `address`. */
  readonly bus: string;
  /** The server's devnum: a new one per enumeration. */
  readonly address: number;
  #opened = false;
  #configurationValue: number;
  readonly #alternates = new Map<number, number>();
  readonly #claimed = new Set<number>();

  private constructor(
    readonly link: UsbipImport,
    readonly remote: UsbipRemote,
    readonly clock: Clock,
    readonly transferTimeoutMs: number,
    device: DeviceDescriptor,
    configurations: { descriptor: ConfigurationDescriptor; names: Map<number, string> }[],
    strings: Map<number, string>,
  ) {
    this.usbVersionMajor = device.bcdUSB >> 8;
    this.usbVersionMinor = (device.bcdUSB >> 4) & 0xf;
    this.usbVersionSubminor = device.bcdUSB & 0xf;
    this.deviceClass = device.bDeviceClass;
    this.deviceSubclass = device.bDeviceSubClass;
    this.deviceProtocol = device.bDeviceProtocol;
    this.vendorId = device.idVendor;
    this.productId = device.idProduct;
    this.deviceVersionMajor = device.bcdDevice >> 8;
    this.deviceVersionMinor = (device.bcdDevice >> 4) & 0xf;
    this.deviceVersionSubminor = device.bcdDevice & 0xf;
    this.manufacturerName = strings.get(device.iManufacturer) ?? null;
    this.productName = strings.get(device.iProduct) ?? null;
    this.serialNumber = strings.get(device.iSerialNumber) ?? null;
    this.bus = `usbip:${remote.host}:${remote.port}/${remote.busid}`;
    this.address = link.device.devnum;
    this.#configurationValue = link.device.bConfigurationValue;
    this.configurations = configurations.map((c) => this.#configurationView(c.descriptor, strings));
  }

  /**
   * Reads the device's descriptors over `link` (device, every configuration, the strings they
   * name, in the first language) and builds its WebUSB view.
   */
  static async enumerate(
    link: UsbipImport,
    remote: UsbipRemote,
    opts: { clock: Clock; transferTimeoutMs: number },
  ): Promise<UsbipUsbDevice> {
    const get = async (setup: SetupPacket, what: string): Promise<Uint8Array | undefined> => {
      const r = await urb(link, remote, opts, setup, undefined, what);
      if (r.status === -Errno.EPIPE) return undefined;
      if (r.status !== 0)
        throw networkError(`${what} from ${describeUsbipRemote(remote)}: status ${r.status}`);
      return r.data;
    };
    const required = async (setup: SetupPacket, what: string): Promise<Uint8Array> => {
      const data = await get(setup, what);
      if (!data) throw networkError(`${what} from ${describeUsbipRemote(remote)} stalled`);
      return data;
    };
    const device = decodeDeviceDescriptor(
      await required(
        standardIn(DescriptorType.device << 8, 0, DEVICE_DESCRIPTOR_SIZE),
        "GET_DESCRIPTOR(device)",
      ),
    );
    const configurations: { descriptor: ConfigurationDescriptor; names: Map<number, string> }[] = [];
    for (let i = 0; i < device.bNumConfigurations; i++) {
      const what = `GET_DESCRIPTOR(configuration ${i})`;
      const value = (DescriptorType.configuration << 8) | i;
      const total = configurationTotalLength(await required(standardIn(value, 0, 9), what));
      const descriptor = decodeConfigurationDescriptor(await required(standardIn(value, 0, total), what));
      configurations.push({ descriptor, names: new Map() });
    }
    const indices = new Set<number>([device.iManufacturer, device.iProduct, device.iSerialNumber]);
    for (const { descriptor } of configurations) {
      indices.add(descriptor.iConfiguration);
      for (const i of descriptor.interfaces) for (const a of i.alternates) indices.add(a.iInterface);
    }
    indices.delete(0);
    const strings = new Map<number, string>();
    if (indices.size > 0) {
      const languages = await get(
        standardIn(DescriptorType.string << 8, 0, STRING_MAX),
        "GET_DESCRIPTOR(string 0)",
      );
      const language = (languages && decodeLanguageIds(languages)[0]) ?? LANGUAGE_EN_US;
      for (const index of indices) {
        const bytes = await get(
          standardIn((DescriptorType.string << 8) | index, language, STRING_MAX),
          `GET_DESCRIPTOR(string ${index})`,
        );
        if (bytes) strings.set(index, decodeStringDescriptor(bytes));
      }
    }
    return new UsbipUsbDevice(
      link,
      remote,
      opts.clock,
      opts.transferTimeoutMs,
      device,
      configurations,
      strings,
    );
  }

  /** The import ended: the device left the bus, the connection dropped or was closed. */
  get gone(): boolean {
    return this.link.isClosed;
  }

  get opened(): boolean {
    return this.#opened && !this.gone;
  }

  get configuration(): USBConfiguration | null {
    return this.configurations.find((c) => c.configurationValue === this.#configurationValue) ?? null;
  }

  async open(): Promise<void> {
    this.#live();
    this.#opened = true;
  }

  /** Ends the import: the server resets the device and may export it to another importer. */
  async close(): Promise<void> {
    this.#opened = false;
    this.#claimed.clear();
    await this.link.close();
  }

  forget(): Promise<void> {
    return this.close();
  }

  async selectConfiguration(value: number): Promise<void> {
    this.#openLive();
    if (!this.configurations.some((c) => c.configurationValue === value))
      throw new DOMException(`no configuration ${value}`, "NotFoundError");
    await this.#standardOut(
      { bmRequestType: 0x00, bRequest: 9, wValue: value, wIndex: 0, wLength: 0 },
      "SET_CONFIGURATION",
    );
    this.#configurationValue = value;
    this.#alternates.clear();
    this.#claimed.clear();
  }

  async claimInterface(n: number): Promise<void> {
    this.#openLive();
    this.#interface(n);
    this.#claimed.add(n);
  }

  async releaseInterface(n: number): Promise<void> {
    this.#openLive();
    this.#claimed.delete(n);
  }

  async selectAlternateInterface(n: number, alt: number): Promise<void> {
    this.#openLive();
    const iface = this.#interface(n);
    if (!this.#claimed.has(n)) throw new DOMException(`interface ${n} is not claimed`, "InvalidStateError");
    if (!iface.alternates.some((a) => a.alternateSetting === alt))
      throw new DOMException(`interface ${n} has no alternate setting ${alt}`, "NotFoundError");
    await this.#standardOut(
      { bmRequestType: 0x01, bRequest: 11, wValue: alt, wIndex: n, wLength: 0 },
      "SET_INTERFACE",
    );
    this.#alternates.set(n, alt);
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    this.#openLive();
    const r = await this.#urb(setupPacket(setup, true, length), undefined);
    if (r.status !== "ok") return { status: r.status } as USBInTransferResult;
    return {
      status: "ok",
      data: new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength),
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
          ? new Uint8Array(data)
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const r = await this.#urb(setupPacket(setup, false, bytes.length), bytes);
    return { status: r.status, bytesWritten: r.status === "ok" ? r.actualLength : 0 } as USBOutTransferResult;
  }

  /** A USB bus reset: SetPortFeature(PORT_RESET) as a URB, the form usbip's stub driver takes. */
  async reset(): Promise<void> {
    this.#openLive();
    await this.#urb(
      { bmRequestType: 0x23, bRequest: 3, wValue: 4, wIndex: 0, wLength: 0 },
      new Uint8Array(0),
    );
  }

  async clearHalt(): Promise<void> {
    throw new DOMException("control transfers only over this USB/IP import", "NotSupportedError");
  }

  async transferIn(): Promise<USBInTransferResult> {
    throw new DOMException("control transfers only over this USB/IP import", "NotSupportedError");
  }

  async transferOut(): Promise<USBOutTransferResult> {
    throw new DOMException("control transfers only over this USB/IP import", "NotSupportedError");
  }

  async isochronousTransferIn(): Promise<USBIsochronousInTransferResult> {
    throw new DOMException("control transfers only over this USB/IP import", "NotSupportedError");
  }

  async isochronousTransferOut(): Promise<USBIsochronousOutTransferResult> {
    throw new DOMException("control transfers only over this USB/IP import", "NotSupportedError");
  }

  async #standardOut(setup: SetupPacket, what: string): Promise<void> {
    const r = await this.#urb(setup, new Uint8Array(0));
    if (r.status !== "ok") throw new DOMException(`${what} ${r.status}`, "InvalidStateError");
  }

  async #urb(
    setup: SetupPacket,
    out: Uint8Array | undefined,
  ): Promise<{ status: USBTransferStatus; data: Uint8Array; actualLength: number }> {
    const r = await urb(
      this.link,
      this.remote,
      { clock: this.clock, transferTimeoutMs: this.transferTimeoutMs },
      setup,
      out,
      `control transfer ${setup.bmRequestType.toString(16).padStart(2, "0")}/${setup.bRequest}`,
    );
    if (r.status === 0) return { status: "ok", data: r.data, actualLength: r.actualLength };
    if (r.status === -Errno.EPIPE) return { status: "stall", data: new Uint8Array(0), actualLength: 0 };
    if (r.status === -EOVERFLOW) return { status: "babble", data: r.data, actualLength: r.actualLength };
    throw networkError(`transfer failed on ${describeUsbipRemote(this.remote)}: status ${r.status}`);
  }

  #interface(n: number): USBInterface {
    const config = this.configuration;
    if (!config) throw new DOMException("no configuration selected", "InvalidStateError");
    const iface = config.interfaces.find((i) => i.interfaceNumber === n);
    if (!iface) throw new DOMException(`no interface ${n}`, "NotFoundError");
    return iface;
  }

  #live(): void {
    if (this.gone) throw this.#goneError();
  }

  #openLive(): void {
    this.#live();
    if (!this.#opened) throw new DOMException("the device is not open", "InvalidStateError");
  }

  #goneError(): DOMException {
    return goneError(this.link, this.remote);
  }

  #configurationView(c: ConfigurationDescriptor, strings: Map<number, string>): USBConfiguration {
    const device = this;
    const interfaces = c.interfaces.map((i): USBInterface => {
      const alternates = i.alternates.map(
        (a): USBAlternateInterface => ({
          alternateSetting: a.bAlternateSetting,
          interfaceClass: a.bInterfaceClass,
          interfaceSubclass: a.bInterfaceSubClass,
          interfaceProtocol: a.bInterfaceProtocol,
          interfaceName: strings.get(a.iInterface) ?? null,
          // Control endpoints other than 0 have no WebUSB type; no device class here uses one.
          endpoints: a.endpoints
            .filter((e) => (e.bmAttributes & 3) !== 0)
            .map(
              (e): USBEndpoint => ({
                endpointNumber: e.bEndpointAddress & 0x0f,
                direction: e.bEndpointAddress & 0x80 ? "in" : "out",
                type: (["bulk", "isochronous", "bulk", "interrupt"] as const)[e.bmAttributes & 3]!,
                packetSize: e.wMaxPacketSize & 0x7ff,
              }),
            ),
        }),
      );
      return {
        interfaceNumber: i.bInterfaceNumber,
        alternates,
        get alternate() {
          const want = device.#alternates.get(i.bInterfaceNumber) ?? 0;
          return alternates.find((a) => a.alternateSetting === want) ?? alternates[0]!;
        },
        get claimed() {
          return device.#claimed.has(i.bInterfaceNumber);
        },
      };
    });
    return {
      configurationValue: c.bConfigurationValue,
      configurationName: strings.get(c.iConfiguration) ?? null,
      interfaces,
    };
  }
}

function goneError(link: UsbipImport, remote: UsbipRemote): DOMException {
  const why = link.failure
    ? link.failure.message
    : "the import ended (device left the bus, or the connection dropped)";
  return networkError(`USB/IP ${describeUsbipRemote(remote)}: ${why}`);
}

/**
 * One URB and its RET_SUBMIT, waited for at most `transferTimeoutMs` (then unlinked and a
 * TimeoutError). A closed import rejects with a NetworkError.
 */
async function urb(
  link: UsbipImport,
  remote: UsbipRemote,
  opts: { clock: Clock; transferTimeoutMs: number },
  setup: SetupPacket,
  out: Uint8Array | undefined,
  what: string,
): Promise<ControlReply> {
  if (link.isClosed) throw goneError(link, remote);
  const { seqnum, reply } = link.submit(setup, out);
  const timer = new AbortController();
  const expired = opts.clock.sleep(opts.transferTimeoutMs, timer.signal).then(() => "expired" as const);
  try {
    const r = await Promise.race([reply, expired]);
    if (r === "expired") {
      await link.unlink(seqnum).catch(() => {});
      throw new TimeoutError(
        `RET_SUBMIT of ${what} from ${describeUsbipRemote(remote)}`,
        opts.transferTimeoutMs,
      );
    }
    if (!r) throw goneError(link, remote);
    return r;
  } finally {
    timer.abort();
  }
}
