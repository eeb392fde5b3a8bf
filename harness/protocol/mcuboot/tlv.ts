import { TLV_ENTRY_HEADER_SIZE, TLV_INFO_MAGIC, TLV_INFO_SIZE, TLV_PROT_INFO_MAGIC } from "./constants.js";
import { McubootImageError } from "./errors.js";

export interface Tlv {
  type: number;
  value: Uint8Array;
  /** Offset of the TLV's own 4-byte header in the image (set by the decoder). */
  offset?: number;
}

/**
 * One TLV area: `{u16 magic, u16 it_tlv_tot}` then `{u16 type, u16 len, value}` entries.
 * it_tlv_tot counts the 4-byte info header too.
 */
export function encodeTlvArea(magic: number, tlvs: readonly Tlv[]): Uint8Array {
  const total = TLV_INFO_SIZE + tlvs.reduce((n, t) => n + TLV_ENTRY_HEADER_SIZE + t.value.length, 0);
  if (total > 0xffff) throw new RangeError(`TLV area of ${total} bytes does not fit it_tlv_tot`);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint16(0, magic, true);
  v.setUint16(2, total, true);
  let at = TLV_INFO_SIZE;
  for (const t of tlvs) {
    if (t.value.length > 0xffff) throw new RangeError(`TLV 0x${t.type.toString(16)} is too long`);
    v.setUint16(at, t.type, true);
    v.setUint16(at + 2, t.value.length, true);
    out.set(t.value, at + TLV_ENTRY_HEADER_SIZE);
    at += TLV_ENTRY_HEADER_SIZE + t.value.length;
  }
  return out;
}

export const encodeProtectedTlvs = (tlvs: readonly Tlv[]): Uint8Array =>
  tlvs.length === 0 ? new Uint8Array(0) : encodeTlvArea(TLV_PROT_INFO_MAGIC, tlvs);
export const encodeUnprotectedTlvs = (tlvs: readonly Tlv[]): Uint8Array =>
  encodeTlvArea(TLV_INFO_MAGIC, tlvs);

export interface TlvArea {
  magic: number;
  /** Offset of the area's info header in the image. */
  offset: number;
  /** it_tlv_tot: bytes of the area including its info header. */
  size: number;
  tlvs: Tlv[];
}

/** Decodes the TLV area starting at `offset` of `image`, expecting `magic`. */
export function decodeTlvArea(image: Uint8Array, offset: number, magic: number): TlvArea {
  const name = magic === TLV_PROT_INFO_MAGIC ? "protected TLV info" : "TLV info";
  if (offset + TLV_INFO_SIZE > image.length)
    throw new McubootImageError(offset, `${name} runs past the end of the image (${image.length} bytes)`);
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const got = v.getUint16(offset, true);
  if (got !== magic)
    throw new McubootImageError(
      offset,
      `${name} magic 0x${got.toString(16)}, expected 0x${magic.toString(16)}`,
    );
  const size = v.getUint16(offset + 2, true);
  if (size < TLV_INFO_SIZE)
    throw new McubootImageError(offset + 2, `it_tlv_tot ${size} is less than its own header`);
  const end = offset + size;
  if (end > image.length)
    throw new McubootImageError(
      offset + 2,
      `it_tlv_tot ${size} runs past the end of the image (${image.length} bytes)`,
    );
  const tlvs: Tlv[] = [];
  let at = offset + TLV_INFO_SIZE;
  while (at < end) {
    if (at + TLV_ENTRY_HEADER_SIZE > end)
      throw new McubootImageError(at, `TLV header crosses the end of the ${name} area`);
    const type = v.getUint16(at, true);
    const len = v.getUint16(at + 2, true);
    if (at + TLV_ENTRY_HEADER_SIZE + len > end)
      throw new McubootImageError(
        at + 2,
        `TLV 0x${type.toString(16)} length ${len} crosses the end of the area`,
      );
    tlvs.push({
      type,
      value: image.slice(at + TLV_ENTRY_HEADER_SIZE, at + TLV_ENTRY_HEADER_SIZE + len),
      offset: at,
    });
    at += TLV_ENTRY_HEADER_SIZE + len;
  }
  return { magic, offset, size, tlvs };
}
