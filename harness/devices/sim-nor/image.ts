import { crc32 } from "node:zlib";

/**
 * Image format of the synthetic `sim-nor` board: a 16-byte header, then the payload.
 *   0  magic "SNOR"   4  version u32le   8  payload length u32le   12  CRC-32 of payload u32le
 */
export const IMAGE_MAGIC = 0x524f4e53; // "SNOR" little-endian
export const IMAGE_HEADER_SIZE = 16;

export interface SimNorImage {
  version: number;
  payload: Uint8Array;
}

export function buildImage(version: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(IMAGE_HEADER_SIZE + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IMAGE_MAGIC, true);
  view.setUint32(4, version, true);
  view.setUint32(8, payload.length, true);
  view.setUint32(12, crc32(payload), true);
  out.set(payload, IMAGE_HEADER_SIZE);
  return out;
}

/** Parses and verifies an image at the start of `bytes`; undefined when it is not a valid image. */
export function verifyImage(bytes: Uint8Array): SimNorImage | undefined {
  if (bytes.length < IMAGE_HEADER_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== IMAGE_MAGIC) return undefined;
  const length = view.getUint32(8, true);
  if (IMAGE_HEADER_SIZE + length > bytes.length) return undefined;
  const payload = bytes.subarray(IMAGE_HEADER_SIZE, IMAGE_HEADER_SIZE + length);
  if (crc32(payload) !== view.getUint32(12, true)) return undefined;
  return { version: view.getUint32(4, true), payload };
}
