/**
 * Records what a client does to a USBDevice: control transfers with their SETUP packet,
 * data and status (a STALL is a value in WebUSB, and DFU reports errors that way, so it
 * must stand out in the transcript), bulk transfers, and lifecycle calls such as reset().
 */
import { intercept } from "./intercept.js";
import type { SetupPacket, Transcript, TranscriptDir, TranscriptEntry } from "./transcript.js";

const REQUEST_TYPE: Record<USBRequestType, number> = { standard: 0, class: 1, vendor: 2 };
const RECIPIENT: Record<USBRecipient, number> = { device: 0, interface: 1, endpoint: 2, other: 3 };

/** The SETUP packet a WebUSB control transfer puts on the wire (USB 2.0 §9.3). */
export function setupPacket(
  setup: USBControlTransferParameters,
  dirIn: boolean,
  wLength: number,
): SetupPacket {
  return {
    bmRequestType: (dirIn ? 0x80 : 0) | (REQUEST_TYPE[setup.requestType] << 5) | RECIPIENT[setup.recipient],
    bRequest: setup.request,
    wValue: setup.value,
    wIndex: setup.index,
    wLength,
  };
}

// BufferSource, spelled out: the DOM lib that names it is not loaded.
function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The transfer's promise; a device that throws instead of rejecting is recorded the same way. */
function issue<R>(start: () => Promise<R>): Promise<R> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Lifecycle calls worth a line in the transcript; results pass through untouched. */
const LIFECYCLE = [
  "open",
  "close",
  "reset",
  "forget",
  "selectConfiguration",
  "claimInterface",
  "releaseInterface",
  "selectAlternateInterface",
  "clearHalt",
] as const;

/** The same device, recording into `transcript`. Errors are recorded (status "error") and rethrown. */
export function recordUsb<D extends USBDevice>(device: D, transcript: Transcript): D {
  // One entry per transfer, stamped when the host issued it and appended when it ends; built
  // here from private copies and adopted, since every 2 KB DNLOAD block passes through.
  function transfer<R extends USBInTransferResult | USBOutTransferResult>(
    dir: TranscriptDir,
    setup: SetupPacket | undefined,
    note: string | undefined,
    start: () => Promise<R>,
    bytesOfResult: (result: R) => Uint8Array | undefined,
  ): Promise<R> {
    const t = transcript.clock.now();
    return issue(start).then(
      (result) => {
        const entry: TranscriptEntry = { t, dir };
        const bytes = bytesOfResult(result);
        if (bytes) entry.bytes = bytes;
        if (note !== undefined) entry.note = note;
        if (setup) entry.setup = setup;
        entry.status = result.status ?? "ok";
        transcript.adopt(entry);
        return result;
      },
      (error: unknown) => {
        const entry: TranscriptEntry = {
          t,
          dir,
          note: [note, (error as Error).message].filter(Boolean).join(": "),
        };
        if (setup) entry.setup = setup;
        entry.status = "error";
        transcript.adopt(entry);
        throw error;
      },
    );
  }
  const inBytes = (r: USBInTransferResult) => (r.data ? bytesOf(r.data).slice() : undefined);

  const overrides: Partial<USBDevice> = {
    controlTransferIn: (setup, length) =>
      transfer(
        "ctrl-in",
        setupPacket(setup, true, length),
        undefined,
        () => device.controlTransferIn(setup, length),
        inBytes,
      ),
    controlTransferOut: (setup, data) => {
      const sent = data === undefined ? undefined : bytesOf(data).slice();
      const wLength = sent?.length ?? 0;
      return transfer(
        "ctrl-out",
        setupPacket(setup, false, wLength),
        undefined,
        () => device.controlTransferOut(setup, data),
        () => sent,
      );
    },
    transferIn: (ep, length) =>
      transfer("rx", undefined, `bulk/int IN ep ${ep}`, () => device.transferIn(ep, length), inBytes),
    transferOut: (ep, data) => {
      const sent = bytesOf(data).slice();
      return transfer(
        "tx",
        undefined,
        `bulk/int OUT ep ${ep}`,
        () => device.transferOut(ep, data),
        () => sent,
      );
    },
  };
  for (const name of LIFECYCLE) {
    const method = device[name] as ((...args: unknown[]) => Promise<void>) | undefined;
    if (typeof method !== "function") continue;
    (overrides as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const call = `usb ${name}(${args.join(", ")})`;
      try {
        await method.apply(device, args);
        transcript.note(call);
      } catch (error) {
        transcript.note(`${call} failed: ${(error as Error).message}`);
        throw error;
      }
    };
  }
  return intercept(device, overrides as Partial<D>);
}
