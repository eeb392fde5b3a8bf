/**
 * DfuError: everything a failed DFU step knows, so a report line says what went wrong
 * without a rerun: the operation, the address, the device's bStatus and bState names,
 * and the last transfers of the transcript.
 */
import { hex32 } from "../../protocol/dfu/index.js";
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { ClientError } from "../errors.js";

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

export class DfuError extends ClientError {
  override name = "DfuError";
  readonly kind: DfuErrorKind;
  readonly address: number | undefined;
  readonly status: string | undefined;
  readonly state: string | undefined;

  constructor(init: DfuErrorInit) {
    const at = init.address === undefined ? "" : ` at ${hex32(init.address)}`;
    const dev = init.status || init.state ? ` [${[init.status, init.state].filter(Boolean).join(", ")}]` : "";
    super({
      message: `DFU ${init.operation}${at} failed: ${init.detail}${dev}`,
      operation: init.operation,
      transcript: init.transcript,
      cause: init.cause,
      category: dfuCategory(init.kind),
      source: "dfu client",
    });
    this.kind = init.kind;
    this.address = init.address;
    this.status = init.status;
    this.state = init.state;
  }
}

/**
 * A device leaving the bus mid-operation is the lab's (hub, cable, power), since the ROM
 * bootloader cannot be broken by what is flashed; asking for what the device cannot do
 * (no such alt, outside the map) is the caller's; every other kind is the device's.
 */
function dfuCategory(kind: DfuErrorKind): ErrorCategory {
  return kind === "disconnected" ? "infrastructure" : kind === "usage" ? "usage" : "device";
}

/** WebUSB (NetworkError) and node-usb (LIBUSB_ERROR_NO_DEVICE / _IO) ways of saying the device is gone. */
export function isDisconnect(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  return e?.name === "NetworkError" || /NO_DEVICE|disconnected|LIBUSB_ERROR_IO/i.test(e?.message ?? "");
}
