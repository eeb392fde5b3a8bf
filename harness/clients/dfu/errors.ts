/**
 * DfuError: everything a failed DFU step knows, so a report line says what went wrong
 * without a rerun: the operation, the address, the device's bStatus and bState names,
 * and the last transfers of the transcript.
 */
import { hex32 } from "../../protocol/dfu/index.js";
import type { Transcript } from "../../transport/transcript.js";

export type DfuErrorKind =
  /** The device reported a bStatus other than OK (errTARGET, errVENDOR, ...). */
  | "status"
  /** The device was in a state the operation cannot continue from. */
  | "state"
  /** A request was stalled (and not a tolerated L4 stall). */
  | "stall"
  /** A transfer did not complete in time. */
  | "timeout"
  /** The device left the bus mid-operation. */
  | "disconnected"
  /** The handle belongs to an enumeration that is gone; reconnect first. */
  | "stale"
  /** The caller asked for something the device cannot do (no such alt, outside the map). */
  | "usage";

export interface DfuErrorInit {
  kind: DfuErrorKind;
  operation: string;
  address?: number;
  /** bStatus name from the last GETSTATUS, when there was one. */
  status?: string;
  /** bState name from the last GETSTATUS. */
  state?: string;
  detail: string;
  transcript?: Transcript;
  cause?: unknown;
}

/** How many transcript entries a DfuError keeps. */
const TAIL_ENTRIES = 8;

export class DfuError extends Error {
  override name = "DfuError";
  readonly kind: DfuErrorKind;
  readonly operation: string;
  readonly address: number | undefined;
  readonly status: string | undefined;
  readonly state: string | undefined;
  /** The last transfers before the failure, rendered (hex dumps cut to a few lines each). */
  readonly transcriptTail: string;

  constructor(init: DfuErrorInit) {
    const at = init.address === undefined ? "" : ` at ${hex32(init.address)}`;
    const dev = init.status || init.state ? ` [${[init.status, init.state].filter(Boolean).join(", ")}]` : "";
    super(
      `DFU ${init.operation}${at} failed: ${init.detail}${dev}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.kind = init.kind;
    this.operation = init.operation;
    this.address = init.address;
    this.status = init.status;
    this.state = init.state;
    // Hex dumps cut to their first and last lines: a 2 KB block must not bury the failing request.
    this.transcriptTail = init.transcript?.renderTail(TAIL_ENTRIES, { headLines: 1, tailLines: 1 }) ?? "";
  }

  /**
   * The failure category reports give it (report/categories.ts reads `category` before the
   * name): a device leaving the bus mid-operation is the lab's (hub, cable, power), since
   * the ROM bootloader cannot be broken by what is flashed; every other kind is the device's.
   */
  get category(): "infrastructure" | undefined {
    return this.kind === "disconnected" ? "infrastructure" : undefined;
  }
}

/** WebUSB (NetworkError) and node-usb (LIBUSB_ERROR_NO_DEVICE / _IO) ways of saying the device is gone. */
export function isDisconnect(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  return e?.name === "NetworkError" || /NO_DEVICE|disconnected|LIBUSB_ERROR_IO/i.test(e?.message ?? "");
}
