/**
 * The 16-byte DFU file suffix (DFU 1.1 Appendix B), last in the file, little-endian:
 * bcdDevice, idProduct, idVendor, bcdDFU, "UFD", bLength (16), dwCRC.
 */
import { dfuCrc32 } from "./crc32.js";
import { ImageFileError } from "./image-error.js";

export const SUFFIX_LENGTH = 16;
/** 0xFFFF in bcdDevice/idProduct/idVendor matches any device. */
export const SUFFIX_WILDCARD = 0xffff;

export interface DfuSuffix {
  bcdDevice: number;
  idProduct: number;
  idVendor: number;
  bcdDfu: number;
}

/** `body` followed by its suffix, CRC over everything before the CRC field. */
export function appendSuffix(body: Uint8Array, suffix: DfuSuffix): Uint8Array {
  const out = new Uint8Array(body.length + SUFFIX_LENGTH);
  out.set(body);
  const view = new DataView(out.buffer);
  const at = body.length;
  view.setUint16(at, suffix.bcdDevice, true);
  view.setUint16(at + 2, suffix.idProduct, true);
  view.setUint16(at + 4, suffix.idVendor, true);
  view.setUint16(at + 6, suffix.bcdDfu, true);
  out.set([0x55, 0x46, 0x44], at + 8); // "UFD": "DFU" reversed, read from the end
  out[at + 11] = SUFFIX_LENGTH;
  view.setUint32(at + 12, dfuCrc32(out.subarray(0, at + 12)), true);
  return out;
}

/** Whether the file ends in something shaped like a suffix (the "UFD" signature). */
export function hasSuffix(file: Uint8Array): boolean {
  const at = file.length - SUFFIX_LENGTH;
  return at >= 0 && file[at + 8] === 0x55 && file[at + 9] === 0x46 && file[at + 10] === 0x44;
}

/**
 * Reads and checks the suffix: signature, length and CRC (dfu-util trusts nothing else in
 * the file before the CRC matches).
 * @throws {ImageFileError} naming the offset of the bad field.
 */
export function readSuffix(file: Uint8Array, name: string): DfuSuffix {
  const at = file.length - SUFFIX_LENGTH;
  if (at < 0)
    throw new ImageFileError(name, "DFU suffix", 0, `file is ${file.length} bytes, shorter than the suffix`);
  if (!hasSuffix(file)) throw new ImageFileError(name, "DFU suffix signature", at + 8, `expected "UFD"`);
  if (file[at + 11]! < SUFFIX_LENGTH)
    throw new ImageFileError(name, "DFU suffix bLength", at + 11, `${file[at + 11]}, expected 16`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const stored = view.getUint32(at + 12, true);
  const computed = dfuCrc32(file.subarray(0, at + 12));
  if (stored !== computed)
    throw new ImageFileError(
      name,
      "DFU suffix dwCRC",
      at + 12,
      `stored 0x${stored.toString(16).padStart(8, "0")}, computed 0x${computed.toString(16).padStart(8, "0")} (file corrupt or truncated)`,
    );
  return {
    bcdDevice: view.getUint16(at, true),
    idProduct: view.getUint16(at + 2, true),
    idVendor: view.getUint16(at + 4, true),
    bcdDfu: view.getUint16(at + 6, true),
  };
}
