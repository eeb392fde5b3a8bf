/** The DFU functional descriptor (DFU 1.1 §4.1.3, type 0x21, 9 bytes). */
import { DfuPayloadError } from "./status.js";

export const DFU_FUNCTIONAL_DESCRIPTOR_TYPE = 0x21;
export const DFU_FUNCTIONAL_DESCRIPTOR_LENGTH = 9;
/** bcdDFUVersion of ST's DfuSe extension ("1.1a"). */
export const DFUSE_VERSION = 0x011a;

export const DfuAttributes = {
  canDownload: 0x01,
  canUpload: 0x02,
  manifestationTolerant: 0x04,
  willDetach: 0x08,
} as const;

export interface DfuFunctionalDescriptor {
  bmAttributes: number;
  detachTimeoutMs: number;
  transferSize: number;
  bcdDfuVersion: number;
}

export function encodeFunctionalDescriptor(d: DfuFunctionalDescriptor): Uint8Array {
  const out = new Uint8Array(DFU_FUNCTIONAL_DESCRIPTOR_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = DFU_FUNCTIONAL_DESCRIPTOR_LENGTH;
  out[1] = DFU_FUNCTIONAL_DESCRIPTOR_TYPE;
  out[2] = d.bmAttributes;
  view.setUint16(3, d.detachTimeoutMs, true);
  view.setUint16(5, d.transferSize, true);
  view.setUint16(7, d.bcdDfuVersion, true);
  return out;
}

/**
 * Decodes the descriptor; a 7-byte one (DFU 1.0, no bcdDFUVersion) reads as version 0x0100
 * as dfu-util assumes.
 */
export function decodeFunctionalDescriptor(bytes: Uint8Array): DfuFunctionalDescriptor {
  if (bytes.length < 7 || bytes[0]! < 7)
    throw new DfuPayloadError(`DFU functional descriptor too short: ${bytes.length} bytes`);
  if (bytes[1] !== DFU_FUNCTIONAL_DESCRIPTOR_TYPE)
    throw new DfuPayloadError(`byte 1: descriptor type 0x${bytes[1]!.toString(16)}, expected 0x21`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    bmAttributes: bytes[2]!,
    detachTimeoutMs: view.getUint16(3, true),
    transferSize: view.getUint16(5, true),
    bcdDfuVersion: bytes[0]! >= 9 && bytes.length >= 9 ? view.getUint16(7, true) : 0x0100,
  };
}

export function isDfuSe(d: DfuFunctionalDescriptor): boolean {
  return d.bcdDfuVersion === DFUSE_VERSION;
}
