/**
 * The USB seam. Clients drive a W3C WebUSB `USBDevice`; a `UsbBus` finds one by
 * VID/PID/serial (and physical port path) and waits for it to come back after a reset. On
 * a lab rig the bus is the `usb` package's WebUSB; an emulated rig implements UsbBus over
 * its device facades (and can reuse `waitForDevice`).
 *
 * A reset or a DFU manifestation re-enumerates the device: the handle held before is
 * stale for good, so `waitFor(..., { notSame })` never returns it, nor a fresh handle to
 * the same enumeration (same bus and address).
 */
import { type Clock, TimeoutError, WallClock } from "./clock.js";

export { recordUsb, setupPacket } from "./usb-record.js";

export type UsbDevice = USBDevice;

export interface UsbFilter {
  vendorId: number;
  productId?: number;
  serialNumber?: string;
  /** Physical port path as sysfs names it (`1-2.3`): stable across re-enumeration; see {@link usbPortPath}. */
  portPath?: string;
}

export interface WaitForOptions {
  timeoutMs: number;
  /** Default a WallClock. */
  clock?: Clock;
  /** The handle from before the reset: it, and anything from the same enumeration, is skipped. */
  notSame?: UsbDevice;
  /** Poll interval in clock ms (default 50); connect/disconnect events cut a poll short. */
  pollMs?: number;
}

export interface UsbBus {
  /** Devices present now, optionally only those matching `filter`. */
  list(filter?: UsbFilter): Promise<UsbDevice[]>;
  find(filter: UsbFilter): Promise<UsbDevice | undefined>;
  /**
   * Resolves with the first matching device (other than `notSame`'s enumeration).
   * @throws {TimeoutError} after `timeoutMs`; its `cause` is the last listing error, if any.
   */
  waitFor(filter: UsbFilter, opts: WaitForOptions): Promise<UsbDevice>;
}

export function matchesFilter(device: UsbDevice, filter: UsbFilter): boolean {
  return (
    device.vendorId === filter.vendorId &&
    (filter.productId === undefined || device.productId === filter.productId) &&
    (filter.serialNumber === undefined || device.serialNumber === filter.serialNumber) &&
    (filter.portPath === undefined || usbPortPath(device) === filter.portPath)
  );
}

/**
 * A device's physical port path in sysfs form (`1-2.3`: bus 1, root port 2, hub port 3), from
 * the `bus` and `ports` (port chain) the `usb` package adds to its WebUSB devices; undefined
 * for devices without them (emulated facades, root hubs). The bus is a decimal string on
 * Linux (nusb's bus_id), possibly zero-padded.
 */
export function usbPortPath(device: UsbDevice): string | undefined {
  const d = device as Partial<{ bus: string; ports: readonly number[] }>;
  if (typeof d.bus !== "string" || !/^\d+$/.test(d.bus) || !Array.isArray(d.ports) || d.ports.length === 0)
    return undefined;
  return `${Number.parseInt(d.bus, 10)}-${d.ports.join(".")}`;
}

/** "0483:df11 serial 206A3..." for messages. */
export function describeFilter(filter: UsbFilter): string {
  const hex4 = (v: number) => v.toString(16).padStart(4, "0");
  const pid = filter.productId === undefined ? "*" : hex4(filter.productId);
  return `${hex4(filter.vendorId)}:${pid}${filter.serialNumber === undefined ? "" : ` serial ${filter.serialNumber}`}${filter.portPath === undefined ? "" : ` at port ${filter.portPath}`}`;
}

/**
 * Whether two handles belong to one enumeration. Linux gives a re-enumerated device a new
 * address, so bus+address (node-usb) tells them apart even when the objects differ.
 * Handles without an address compare by identity: such buses must hand out a new object
 * per enumeration.
 */
export function sameEnumeration(a: UsbDevice, b: UsbDevice): boolean {
  if (a === b) return true;
  const x = a as Partial<{ bus: string; address: number }>;
  const y = b as Partial<{ bus: string; address: number }>;
  return x.bus !== undefined && x.address !== undefined && x.bus === y.bus && x.address === y.address;
}

export interface DeviceChange {
  type: "connect" | "disconnect";
  device: UsbDevice;
}

/** What `waitForDevice` needs from a bus: a listing, and optionally change events to poll sooner. */
export interface DeviceSource {
  list(filter: UsbFilter): Promise<UsbDevice[]>;
  onChange?(listener: (change: DeviceChange) => void): () => void;
}

/**
 * Polls `source` on `clock` until a device matches. The first listing error is thrown (no
 * bus at all); later ones are taken as transient, as listing can fail mid-re-enumeration.
 */
export async function waitForDevice(
  source: DeviceSource,
  filter: UsbFilter,
  opts: WaitForOptions,
): Promise<UsbDevice> {
  const clock = opts.clock ?? new WallClock();
  const deadline = clock.now() + opts.timeoutMs;
  const stale = opts.notSame;
  // Once the stale enumeration has been seen gone, a device at its old address is a new one.
  let staleGone = stale === undefined;
  let wake = new AbortController();
  let unsubscribe: (() => void) | undefined;
  let listedOnce = false;
  let lastError: unknown;
  try {
    for (;;) {
      let devices: UsbDevice[] | undefined;
      try {
        devices = await source.list(filter);
        listedOnce = true;
      } catch (error) {
        if (!listedOnce) throw error;
        lastError = error;
      }
      if (devices) {
        if (stale && !devices.some((d) => sameEnumeration(d, stale))) staleGone = true;
        const found = devices.find((d) => d !== stale && (staleGone || !sameEnumeration(d, stale!)));
        if (found) return found;
      }
      // Subscribed only after a listing worked: node-usb's hotplug throws asynchronously without a USB subsystem.
      unsubscribe ??= source.onChange?.((change) => {
        if (stale && change.type === "disconnect" && sameEnumeration(change.device, stale)) staleGone = true;
        wake.abort();
      });
      const left = deadline - clock.now();
      if (left <= 0) {
        const what = `USB device ${describeFilter(filter)}${stale ? " to re-enumerate" : ""}`;
        throw Object.assign(
          new TimeoutError(what, opts.timeoutMs),
          lastError === undefined ? {} : { cause: lastError },
        );
      }
      await clock.sleep(Math.min(opts.pollMs ?? 50, left), wake.signal);
      if (wake.signal.aborted) wake = new AbortController();
    }
  } finally {
    unsubscribe?.();
  }
}

/** The part of the `usb` package's WebUSB (or navigator.usb) the bus uses; tests pass a fake. */
export interface WebUsbLike {
  getDevices(): Promise<USBDevice[]>;
  /** Events are USBConnectionEvents; typed as Event so an EventTarget-based fake fits. */
  addEventListener(type: "connect" | "disconnect", listener: (event: Event) => void): void;
  removeEventListener(type: "connect" | "disconnect", listener: (event: Event) => void): void;
}

export interface WebUsbBusOptions {
  /** Default `new WebUSB({ allowAllDevices: true })` from the `usb` package, created on first use. */
  webusb?: WebUsbLike;
  /** Default clock for waitFor; default a WallClock. */
  clock?: Clock;
  /** Default poll interval for waitFor, ms (default 50). */
  pollMs?: number;
}

/** UsbBus over real USB (lab rigs). */
export class WebUsbBus implements UsbBus {
  #webusb: WebUsbLike | undefined;
  readonly #clock: Clock;
  readonly #pollMs: number;

  constructor(opts: WebUsbBusOptions = {}) {
    this.#webusb = opts.webusb;
    this.#clock = opts.clock ?? new WallClock();
    this.#pollMs = opts.pollMs ?? 50;
  }

  async list(filter?: UsbFilter): Promise<UsbDevice[]> {
    const devices = await (await this.#usb()).getDevices();
    return filter ? devices.filter((d) => matchesFilter(d, filter)) : devices;
  }

  async find(filter: UsbFilter): Promise<UsbDevice | undefined> {
    return (await this.list(filter))[0];
  }

  waitFor(filter: UsbFilter, opts: WaitForOptions): Promise<UsbDevice> {
    const source: DeviceSource = {
      list: (f) => this.list(f),
      onChange: (listener) => this.#onChange(listener),
    };
    return waitForDevice(source, filter, {
      ...opts,
      clock: opts.clock ?? this.#clock,
      pollMs: opts.pollMs ?? this.#pollMs,
    });
  }

  #onChange(listener: (change: DeviceChange) => void): () => void {
    const webusb = this.#webusb!; // set by the list() that precedes any subscription
    const device = (event: Event) => (event as USBConnectionEvent).device;
    const onConnect = (event: Event) => listener({ type: "connect", device: device(event) });
    const onDisconnect = (event: Event) => listener({ type: "disconnect", device: device(event) });
    webusb.addEventListener("connect", onConnect);
    webusb.addEventListener("disconnect", onDisconnect);
    return () => {
      webusb.removeEventListener("connect", onConnect);
      webusb.removeEventListener("disconnect", onDisconnect);
    };
  }

  async #usb(): Promise<WebUsbLike> {
    // Loaded on demand so emulated runs never load the native addon.
    if (!this.#webusb) {
      const { WebUSB } = await import("usb");
      this.#webusb = new WebUSB({ allowAllDevices: true });
    }
    return this.#webusb;
  }
}
