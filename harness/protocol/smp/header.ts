/** The 8-byte SMP header. Multi-byte fields are big-endian (Zephyr smp_protocol.rst). */
import { type ErrorCategory, HilError } from "../../seams/errors.js";

export const SMP_HEADER_SIZE = 8;

export const SmpOp = { READ: 0, READ_RSP: 1, WRITE: 2, WRITE_RSP: 3 } as const;
export type SmpOp = (typeof SmpOp)[keyof typeof SmpOp];

/** The ver bits: 0 = "SMP version 1" (legacy errors), 1 = "SMP version 2" (group errors). */
export const SmpVersion = { V1: 0, V2: 1 } as const;

export interface SmpHeader {
  op: SmpOp;
  version: number;
  flags: number;
  /** Length of the CBOR body that follows. */
  length: number;
  group: number;
  seq: number;
  id: number;
}

export class SmpHeaderError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(message: string) {
    super(message);
    this.name = "SmpHeaderError";
  }
}

export function encodeSmpHeader(h: SmpHeader): Uint8Array {
  const out = new Uint8Array(SMP_HEADER_SIZE);
  const v = new DataView(out.buffer);
  out[0] = ((h.version & 0x3) << 3) | (h.op & 0x7);
  out[1] = h.flags & 0xff;
  v.setUint16(2, h.length, false);
  v.setUint16(4, h.group, false);
  out[6] = h.seq & 0xff;
  out[7] = h.id & 0xff;
  return out;
}

export function decodeSmpHeader(bytes: Uint8Array): SmpHeader {
  if (bytes.length < SMP_HEADER_SIZE)
    throw new SmpHeaderError(`SMP header needs 8 bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, SMP_HEADER_SIZE);
  return {
    op: (bytes[0]! & 0x7) as SmpOp,
    version: (bytes[0]! >> 3) & 0x3,
    flags: bytes[1]!,
    length: v.getUint16(2, false),
    group: v.getUint16(4, false),
    seq: bytes[6]!,
    id: bytes[7]!,
  };
}

/** The response op for a request op (always request op + 1). */
export function responseOp(op: SmpOp): SmpOp {
  return (op + 1) as SmpOp;
}
