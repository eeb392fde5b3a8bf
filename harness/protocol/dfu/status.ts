/** GETSTATUS (6 bytes) and GETSTATE (1 byte) payloads, DFU 1.1 §6.1.2 and §6.1.5. */

import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { GETSTATUS_LENGTH } from "./requests.js";
import type { DfuState, DfuStatus } from "./states.js";

export interface DfuStatusReply {
  status: DfuStatus;
  /** Milliseconds the host must wait before the next GETSTATUS (24-bit). */
  pollTimeoutMs: number;
  state: DfuState;
  /** Index of a status string descriptor, 0 if none. */
  iString: number;
}

export class DfuPayloadError extends HilError {
  static override readonly category: ErrorCategory = "device";
  override name = "DfuPayloadError";
}

export const MAX_POLL_TIMEOUT_MS = 0xff_ffff;

export function encodeStatus(reply: DfuStatusReply): Uint8Array {
  const t = reply.pollTimeoutMs;
  if (!Number.isInteger(t) || t < 0 || t > MAX_POLL_TIMEOUT_MS)
    throw new RangeError(`bwPollTimeout ${t} does not fit 24 bits`);
  return Uint8Array.of(reply.status, t & 0xff, (t >> 8) & 0xff, (t >> 16) & 0xff, reply.state, reply.iString);
}

/** @throws {DfuPayloadError} when the reply is not exactly 6 bytes (dfu-util treats that as failure too). */
export function decodeStatus(bytes: Uint8Array): DfuStatusReply {
  if (bytes.length !== GETSTATUS_LENGTH)
    throw new DfuPayloadError(`GETSTATUS reply must be ${GETSTATUS_LENGTH} bytes, got ${bytes.length}`);
  return {
    status: bytes[0]! as DfuStatus,
    pollTimeoutMs: bytes[1]! | (bytes[2]! << 8) | (bytes[3]! << 16),
    state: bytes[4]! as DfuState,
    iString: bytes[5]!,
  };
}

export function encodeState(state: DfuState): Uint8Array {
  return Uint8Array.of(state);
}

export function decodeState(bytes: Uint8Array): DfuState {
  if (bytes.length !== 1) throw new DfuPayloadError(`GETSTATE reply must be 1 byte, got ${bytes.length}`);
  return bytes[0]! as DfuState;
}
