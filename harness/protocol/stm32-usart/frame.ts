/**
 * AN3155 framing: a command is its code and the code's complement; every multi-byte field
 * ends in an XOR checksum so that the XOR of all its bytes, checksum included, is zero.
 * Addresses and 16-bit values go most significant byte first (DfuSe is the other way round).
 */
import { hex8, hex32, UsartCodecError } from "./errors.js";

/** XOR of all bytes; a frame with its checksum XORs to 0. */
export function xor(bytes: Uint8Array, seed = 0): number {
  let x = seed;
  for (const b of bytes) x ^= b;
  return x & 0xff;
}

/** `bytes` followed by their XOR checksum. */
export function withChecksum(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = xor(bytes);
  return out;
}

/** True when the last byte is the XOR of the others. */
export function checksumOk(frame: Uint8Array): boolean {
  return frame.length > 0 && xor(frame) === 0;
}

export function commandFrame(code: number): Uint8Array {
  assertByte(code, "command");
  return Uint8Array.of(code, code ^ 0xff);
}

/** Is this pair a command code and its complement? */
export function isCommandFrame(pair: Uint8Array): boolean {
  return pair.length === 2 && (pair[0]! ^ pair[1]!) === 0xff;
}

export function u32be(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function readU32be(bytes: Uint8Array, offset = 0): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/** 4-byte MSB-first value plus checksum: addresses, and the Get Checksum length/polynomial/init. */
export function u32Frame(value: number, field = "address"): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
    throw new UsartCodecError(field, `expected a 32-bit unsigned integer, got ${value}`);
  return withChecksum(u32be(value));
}

/** Decodes a 5-byte u32Frame. @throws {UsartCodecError} naming the checksum byte. */
export function decodeU32Frame(frame: Uint8Array, field = "address"): number {
  if (frame.length !== 5)
    throw new UsartCodecError(field, `expected 5 bytes (4 + checksum), got ${frame.length}`);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      `${field} checksum`,
      `byte 4 is ${hex8(frame[4]!)}, expected ${hex8(xor(frame.subarray(0, 4)))} for ${hex32(readU32be(frame))}`,
      4,
    );
  return readU32be(frame);
}

/** Read Memory count: N−1 and its complement (not an XOR checksum: the same thing for one byte). */
export function countFrame(count: number, max = 256): Uint8Array {
  if (!Number.isInteger(count) || count < 1 || count > max)
    throw new UsartCodecError("count", `expected 1..${max} bytes, got ${count}`);
  return Uint8Array.of(count - 1, (count - 1) ^ 0xff);
}

/** @returns the byte count (1..256), or undefined when the complement does not match. */
export function decodeCountFrame(pair: Uint8Array): number | undefined {
  return isCommandFrame(pair) ? pair[0]! + 1 : undefined;
}

export function assertByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new UsartCodecError(field, `expected a byte 0..255, got ${value}`);
}
