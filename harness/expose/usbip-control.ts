/**
 * Control transfers as a host controller delivers them (raw SETUP packet + data stage),
 * mapped onto a WebUSB-shaped `USBDevice` (the emulator's facade): the reverse of what
 * Chrome or node-usb do when they turn WebUSB calls into SETUP packets.
 *
 * - GET_DESCRIPTOR goes to the device, which answers from its identity; the device
 *   qualifier and other-speed descriptors stall for a full-speed device (USB 2.0 §9.6.2).
 * - SET_CONFIGURATION / SET_INTERFACE become selectConfiguration (+ claiming every
 *   interface, as the host's interface drivers would) / selectAlternateInterface; GET_STATUS,
 *   GET_CONFIGURATION and GET_INTERFACE are answered from the facade's state.
 * - Class and vendor requests pass through; a STALL is status −EPIPE (−32), a short IN reply
 *   is a short read (actual_length < wLength).
 * - SetPortFeature(PORT_RESET) sent as a URB (the form usbip's stub driver recognises) is a
 *   USB bus reset: `device.reset()`.
 */
import { Errno, type SetupPacket } from "../protocol/usbip/index.js";
import { type ErrorCategory, HilError } from "../seams/errors.js";

export interface ControlResult {
  /** 0 or a negative errno. */
  status: number;
  /** IN data (at most wLength bytes). */
  data: Uint8Array;
  /** Bytes moved in the data stage. */
  actualLength: number;
}

/** The device is gone (link dropped): the transfer has no completion to report on this import. */
export class DeviceGoneError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  constructor(cause: unknown) {
    super("the device was disconnected", { cause });
    this.name = "DeviceGoneError";
  }
}

const TYPES: (USBRequestType | undefined)[] = ["standard", "class", "vendor", undefined];
const RECIPIENTS: (USBRecipient | undefined)[] = ["device", "interface", "endpoint", "other"];

const Std = {
  GET_STATUS: 0,
  CLEAR_FEATURE: 1,
  SET_FEATURE: 3,
  SET_ADDRESS: 5,
  GET_DESCRIPTOR: 6,
  SET_DESCRIPTOR: 7,
  GET_CONFIGURATION: 8,
  SET_CONFIGURATION: 9,
  GET_INTERFACE: 10,
  SET_INTERFACE: 11,
  SYNCH_FRAME: 12,
} as const;

const DESCRIPTOR_DEVICE_QUALIFIER = 6;
const DESCRIPTOR_OTHER_SPEED = 7;
const PORT_RESET = 4;
const FEATURE_ENDPOINT_HALT = 0;

const STALL: ControlResult = { status: -Errno.EPIPE, data: new Uint8Array(0), actualLength: 0 };

function ok(data: Uint8Array = new Uint8Array(0), actualLength = data.length): ControlResult {
  return { status: 0, data, actualLength };
}

/**
 * Runs one control transfer on `device` (opened by the caller).
 * @param out the OUT data stage (wLength bytes); ignored for IN.
 * @param log receives a line for requests the device refuses with an exception (mapped to STALL).
 * @throws {DeviceGoneError} when the device dropped off the bus during the transfer.
 */
export async function deliverControl(
  device: USBDevice,
  setup: SetupPacket,
  out: Uint8Array,
  log: (line: string) => void = () => {},
): Promise<ControlResult> {
  try {
    return await deliver(device, setup, out);
  } catch (e) {
    if (e instanceof DOMException && e.name === "NetworkError") throw new DeviceGoneError(e);
    if (e instanceof DOMException) {
      log(`${describeSetup(setup)}: ${e.name} (${e.message}): STALL`);
      return STALL;
    }
    throw e;
  }
}

async function deliver(device: USBDevice, s: SetupPacket, out: Uint8Array): Promise<ControlResult> {
  const dirIn = (s.bmRequestType & 0x80) !== 0;
  const type = TYPES[(s.bmRequestType >> 5) & 3];
  const recipient = RECIPIENTS[s.bmRequestType & 0x1f];
  if (type === undefined || recipient === undefined) return STALL;
  if (
    type === "class" &&
    recipient === "other" &&
    s.bRequest === Std.SET_FEATURE &&
    s.wValue === PORT_RESET
  ) {
    await device.reset();
    return ok();
  }
  if (type === "standard") return standard(device, s, recipient, dirIn);
  const params: USBControlTransferParameters = {
    requestType: type,
    recipient,
    request: s.bRequest,
    value: s.wValue,
    index: s.wIndex,
  };
  if (dirIn) {
    const r = await device.controlTransferIn(params, s.wLength);
    if (r.status !== "ok") return STALL;
    return ok(bytes(r.data, s.wLength));
  }
  const r = await device.controlTransferOut(params, out.subarray(0, s.wLength));
  return r.status === "ok" ? ok(new Uint8Array(0), r.bytesWritten) : STALL;
}

async function standard(
  device: USBDevice,
  s: SetupPacket,
  recipient: USBRecipient,
  dirIn: boolean,
): Promise<ControlResult> {
  const config = device.configuration;
  switch (s.bRequest) {
    case Std.GET_DESCRIPTOR: {
      if (!dirIn) return STALL;
      const type = s.wValue >> 8;
      // Full speed only: no device qualifier, no other-speed configuration.
      if (type === DESCRIPTOR_DEVICE_QUALIFIER || type === DESCRIPTOR_OTHER_SPEED) return STALL;
      const r = await device.controlTransferIn(
        { requestType: "standard", recipient, request: s.bRequest, value: s.wValue, index: s.wIndex },
        s.wLength,
      );
      return r.status === "ok" ? ok(bytes(r.data, s.wLength)) : STALL;
    }
    case Std.GET_STATUS: {
      if (!dirIn || s.wLength < 2) return STALL;
      // Device: self-powered (the configuration's bmAttributes 0xC0), no remote wakeup.
      if (recipient === "device") return ok(Uint8Array.of(await selfPowered(device), 0));
      if (recipient === "interface" && config && interfaceOf(config, s.wIndex))
        return ok(Uint8Array.of(0, 0));
      if (recipient === "endpoint" && (s.wIndex & 0x7f) === 0) return ok(Uint8Array.of(0, 0));
      return STALL;
    }
    case Std.CLEAR_FEATURE:
      // Halt on endpoint 0 clears by itself; the devices have no other endpoints or features.
      return !dirIn &&
        recipient === "endpoint" &&
        s.wValue === FEATURE_ENDPOINT_HALT &&
        (s.wIndex & 0x7f) === 0
        ? ok()
        : STALL;
    case Std.SET_ADDRESS:
      // The host controller driver (vhci) handles it; accepted if one arrives anyway.
      return dirIn ? STALL : ok();
    case Std.GET_CONFIGURATION:
      return dirIn && s.wLength >= 1 ? ok(Uint8Array.of(config?.configurationValue ?? 0)) : STALL;
    case Std.SET_CONFIGURATION: {
      if (dirIn || recipient !== "device") return STALL;
      const value = s.wValue & 0xff;
      if (value === 0) {
        // Back to the address state: interfaces are released (the facade has no unconfigure).
        for (const i of config?.interfaces ?? [])
          if (i.claimed) await device.releaseInterface(i.interfaceNumber);
        return ok();
      }
      await device.selectConfiguration(value);
      for (const i of device.configuration?.interfaces ?? [])
        if (!i.claimed) await device.claimInterface(i.interfaceNumber);
      return ok();
    }
    case Std.GET_INTERFACE: {
      if (!dirIn || recipient !== "interface" || !config || s.wLength < 1) return STALL;
      const iface = interfaceOf(config, s.wIndex);
      return iface ? ok(Uint8Array.of(iface.alternate.alternateSetting)) : STALL;
    }
    case Std.SET_INTERFACE:
      if (dirIn || recipient !== "interface" || !config) return STALL;
      await device.selectAlternateInterface(s.wIndex & 0xff, s.wValue & 0xff);
      return ok();
    default:
      // SET_FEATURE (no remote wakeup, no test modes at full speed), SET_DESCRIPTOR, SYNCH_FRAME.
      return STALL;
  }
}

function interfaceOf(config: USBConfiguration, wIndex: number): USBInterface | undefined {
  return config.interfaces.find((i) => i.interfaceNumber === (wIndex & 0xff));
}

/** Bit 0 of GET_STATUS(device) from bmAttributes bit 6 of the configuration descriptor. */
async function selfPowered(device: USBDevice): Promise<number> {
  const r = await device.controlTransferIn(
    { requestType: "standard", recipient: "device", request: Std.GET_DESCRIPTOR, value: 0x0200, index: 0 },
    9,
  );
  const d = r.status === "ok" ? bytes(r.data, 9) : new Uint8Array(0);
  return d.length >= 8 && (d[7]! & 0x40) !== 0 ? 1 : 0;
}

function bytes(view: DataView | undefined, max: number): Uint8Array {
  if (!view) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, Math.min(view.byteLength, max)).slice();
}

export function describeSetup(s: SetupPacket): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, "0");
  return `SETUP ${h(s.bmRequestType, 2)} ${h(s.bRequest, 2)} wValue ${h(s.wValue, 4)} wIndex ${h(s.wIndex, 4)} wLength ${s.wLength}`;
}
