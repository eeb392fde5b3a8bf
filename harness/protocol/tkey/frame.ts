/**
 * TKey framing: one header byte, then a payload of 1, 4, 32 or 128 bytes (the header is
 * not counted). The same layout serves commands and responses:
 *
 *   bit 7     reserved ("protocol version"), must be 0
 *   bits 6..5 frame ID, echoed by the response
 *   bits 4..3 endpoint: 0 reserved, 1 hardware, 2 firmware, 3 device app
 *   bit 2     command: must be 0; response: 0 OK, 1 NOK
 *   bits 1..0 payload length code: 0→1, 1→4, 2→32, 3→128 bytes
 */
import { type ErrorCategory, HilError } from "../../seams/errors.js";

export const Endpoint = { reserved: 0, hardware: 1, firmware: 2, app: 3 } as const;
export type Endpoint = (typeof Endpoint)[keyof typeof Endpoint];

/** Payload lengths by length code. */
export const FRAME_LENGTHS = [1, 4, 32, 128] as const;
export type FrameLength = (typeof FRAME_LENGTHS)[number];
export type LengthCode = 0 | 1 | 2 | 3;

/** The largest frame on the wire: header plus 128 bytes. */
export const MAX_FRAME_BYTES = 129;

export interface FrameHeader {
  id: number;
  endpoint: Endpoint;
  /** Response status bit (NOK); in a command this bit must be clear. */
  nok: boolean;
  length: FrameLength;
}

/** A decoded header byte, including the bits a receiver must reject. */
export interface DecodedHeader extends FrameHeader {
  lengthCode: LengthCode;
  /** Bit 7: must be 0; the firmware treats 1 as an error. */
  reservedBit: boolean;
}

export class TKeyFrameError extends HilError {
  static override readonly category: ErrorCategory = "device";
  override name = "TKeyFrameError";
}

export function lengthCodeOf(length: number): LengthCode {
  const code = FRAME_LENGTHS.indexOf(length as FrameLength);
  if (code < 0) throw new TKeyFrameError(`frame payload length must be 1, 4, 32 or 128, got ${length}`);
  return code as LengthCode;
}

/** `id<<5 | endpoint<<3 | nok<<2 | lengthCode`. */
export function encodeHeader(h: FrameHeader): number {
  if (!Number.isInteger(h.id) || h.id < 0 || h.id > 3)
    throw new TKeyFrameError(`frame ID must be 0..3, got ${h.id}`);
  if (!Number.isInteger(h.endpoint) || h.endpoint < 0 || h.endpoint > 3)
    throw new TKeyFrameError(`endpoint must be 0..3, got ${h.endpoint}`);
  return (h.id << 5) | (h.endpoint << 3) | (h.nok ? 4 : 0) | lengthCodeOf(h.length);
}

/** Every byte decodes; whether to accept it (reserved bit, NOK bit) is the receiver's rule. */
export function decodeHeader(byte: number): DecodedHeader {
  if (!Number.isInteger(byte) || byte < 0 || byte > 0xff)
    throw new TKeyFrameError(`header must be a byte, got ${byte}`);
  const lengthCode = (byte & 3) as LengthCode;
  return {
    reservedBit: (byte & 0x80) !== 0,
    id: (byte >> 5) & 3,
    endpoint: ((byte >> 3) & 3) as Endpoint,
    nok: (byte & 4) !== 0,
    lengthCode,
    length: FRAME_LENGTHS[lengthCode],
  };
}

/** Header plus payload, zero-padded to the header's length (a shorter payload is the padding rule, a longer one an error). */
export function encodeFrame(h: FrameHeader, payload: Uint8Array): Uint8Array {
  if (payload.length > h.length)
    throw new TKeyFrameError(`payload of ${payload.length} bytes does not fit a ${h.length}-byte frame`);
  const frame = new Uint8Array(1 + h.length);
  frame[0] = encodeHeader(h);
  frame.set(payload, 1);
  return frame;
}

export interface Frame {
  header: DecodedHeader;
  payload: Uint8Array;
}

/** Splits one whole frame; the byte count must match the header's length code exactly. */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length === 0) throw new TKeyFrameError("empty frame");
  const header = decodeHeader(bytes[0]!);
  if (bytes.length !== 1 + header.length)
    throw new TKeyFrameError(
      `header 0x${bytes[0]!.toString(16).padStart(2, "0")} announces ${header.length} payload bytes, got ${bytes.length - 1}`,
    );
  return { header, payload: bytes.subarray(1) };
}
