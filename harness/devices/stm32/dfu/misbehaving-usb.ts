/**
 * The `misbehave` personality at the USB boundary of the ROM's DFU function: each class
 * request's reply may go wrong as the engine decides (harness/devices/misbehave.ts). The
 * function underneath still runs every request it is handed, so the device's memories
 * change only by what it really did; what goes wrong is what the host is told.
 */
import type { Clock } from "../../../transport/clock.js";
import type { Misbehaviour, Mischief } from "../../misbehave.js";
import type { ControlReply, ControlSetup, UsbFunction } from "./usb-device.js";

/** A control transfer has no length of its own to lie about beyond wLength, and no frames to duplicate. */
const USB_MISCHIEF: readonly Mischief[] = [
  "short",
  "long",
  "corrupt",
  "status",
  "stale",
  "garbage",
  "stall",
  "delay",
  "silence",
  "reset",
];

/** What the wrapper needs of the chip. */
export interface MisbehavingUsbHost {
  readonly clock: Clock;
  log(kind: string, detail: string): void;
  /** Resets the chip (the USB link drops with it). */
  reset(reason: string): void;
}

const GETSTATUS = 3;

export class MisbehavingUsbFunction implements UsbFunction {
  /** The last IN reply's data (for "stale"). */
  #previousIn: Uint8Array | undefined;

  constructor(
    readonly inner: UsbFunction,
    readonly engine: Misbehaviour,
    readonly host: MisbehavingUsbHost,
  ) {}

  get identity() {
    return this.inner.identity;
  }

  selectAlternate(alt: number): void {
    this.inner.selectAlternate(alt);
  }

  usbReset(): Promise<void> {
    return this.inner.usbReset();
  }

  async control(
    setup: ControlSetup,
    dir: "in" | "out",
    data: Uint8Array | undefined,
    length: number,
  ): Promise<ControlReply> {
    const kind = this.engine.next(USB_MISCHIEF);
    const reply = await this.inner.control(setup, dir, data, length);
    const previous = this.#previousIn;
    if (dir === "in" && reply.status === "ok") this.#previousIn = reply.data;
    if (kind === undefined) return reply;
    this.host.log(
      "misbehave",
      `${kind} on request ${setup.request} ${dir} (reply ${this.engine.replies - 1})`,
    );
    const e = this.engine;
    switch (kind) {
      case "stall":
        // The device did the work; the host hears a STALL (a hub or cable lost the reply).
        if (reply.status === "ok") reply.after?.();
        return { status: "stall" };
      case "silence":
        // A device that NAKs for ever: only the host's timeout ends the transfer.
        if (reply.status === "ok") reply.after?.();
        return new Promise<never>(() => {});
      case "delay":
        await this.host.clock.sleep(e.delayMs());
        return reply;
      case "reset":
        // The chip resets before the reply's data stage: the host sees the device leave.
        this.host.reset("misbehave: reset mid-reply");
        throw new DOMException("The device was disconnected.", "NetworkError");
    }
    if (reply.status !== "ok" || dir === "out") return reply;
    const bytes = reply.data ?? new Uint8Array(0);
    const mutated = (d: Uint8Array): ControlReply => ({ status: "ok", data: d, after: reply.after });
    switch (kind) {
      case "short":
        return mutated(e.shorten(bytes));
      case "long":
        return mutated(e.lengthen(bytes));
      case "corrupt":
        return mutated(e.corrupt(bytes));
      case "status":
        return mutated(setup.request === GETSTATUS ? wrongStatus(bytes, e) : e.corrupt(bytes));
      case "stale":
        return mutated(previous ?? e.garbage(length + 1));
      default:
        return mutated(e.garbage(Math.max(1, length)));
    }
  }
}

/** A GETSTATUS reply with another bStatus or bState (DFU 1.1 §6.1.2: bytes 0 and 4). */
function wrongStatus(bytes: Uint8Array, e: Misbehaviour): Uint8Array {
  const out = bytes.slice();
  if (out.length < 6) return out;
  if (e.random.below(2) === 0) out[0] = 1 + e.random.below(15);
  else out[4] = e.random.below(11);
  // Sometimes a huge bwPollTimeout (bytes 1..3, little-endian) too.
  if (e.random.below(4) === 0) out.set([e.random.byte(), e.random.byte(), e.random.byte()], 1);
  return out;
}
