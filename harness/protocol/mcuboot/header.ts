import { IMAGE_HEADER_SIZE, IMAGE_MAGIC, IMAGE_MAGIC_V1 } from "./constants.js";
import { McubootImageError } from "./errors.js";
import type { ImageVersion } from "./version.js";

/** `struct image_header`: 32 bytes, little-endian, padded to `hdrSize` in the image. */
export interface ImageHeader {
  magic: number;
  loadAddr: number;
  hdrSize: number;
  protectTlvSize: number;
  imgSize: number;
  flags: number;
  version: ImageVersion;
}

export function encodeHeader(h: ImageHeader): Uint8Array {
  const out = new Uint8Array(IMAGE_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, h.magic >>> 0, true);
  v.setUint32(4, h.loadAddr >>> 0, true);
  v.setUint16(8, h.hdrSize, true);
  v.setUint16(10, h.protectTlvSize, true);
  v.setUint32(12, h.imgSize >>> 0, true);
  v.setUint32(16, h.flags >>> 0, true);
  v.setUint8(20, h.version.major);
  v.setUint8(21, h.version.minor);
  v.setUint16(22, h.version.revision, true);
  v.setUint32(24, h.version.build >>> 0, true);
  return out;
}

/** Decodes and checks the header at the start of `bytes`; errors name the field's offset. */
export function decodeHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < IMAGE_HEADER_SIZE)
    throw new McubootImageError(
      bytes.length,
      `image header needs ${IMAGE_HEADER_SIZE} bytes, got ${bytes.length}`,
    );
  const v = new DataView(bytes.buffer, bytes.byteOffset, IMAGE_HEADER_SIZE);
  const magic = v.getUint32(0, true);
  if (magic !== IMAGE_MAGIC) {
    const what = magic === IMAGE_MAGIC_V1 ? "legacy V1 magic" : magic === 0xffffffff ? "erased" : "bad magic";
    throw new McubootImageError(
      0,
      `ih_magic 0x${magic.toString(16)} (${what}), expected 0x${IMAGE_MAGIC.toString(16)}`,
    );
  }
  const h: ImageHeader = {
    magic,
    loadAddr: v.getUint32(4, true),
    hdrSize: v.getUint16(8, true),
    protectTlvSize: v.getUint16(10, true),
    imgSize: v.getUint32(12, true),
    flags: v.getUint32(16, true),
    version: {
      major: v.getUint8(20),
      minor: v.getUint8(21),
      revision: v.getUint16(22, true),
      build: v.getUint32(24, true),
    },
  };
  if (h.hdrSize < IMAGE_HEADER_SIZE)
    throw new McubootImageError(
      8,
      `ih_hdr_size ${h.hdrSize} is smaller than the ${IMAGE_HEADER_SIZE}-byte header`,
    );
  return h;
}
