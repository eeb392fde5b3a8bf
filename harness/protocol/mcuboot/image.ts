import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes as concat } from "../../seams/bytes.js";
import {
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  ImageFlag,
  TLV_INFO_MAGIC,
  TLV_INFO_SIZE,
  TLV_PROT_INFO_MAGIC,
  TlvType,
  UNPROTECTED_ALLOWED,
} from "./constants.js";
import { McubootImageError } from "./errors.js";
import { decodeHeader, encodeHeader, type ImageHeader } from "./header.js";
import { encodeSpki, keyHash, type PrivateKey, type PublicKey } from "./keys.js";
import { signatureTlvType, signMessage, verifyMessage } from "./signature.js";
import { decodeTlvArea, encodeProtectedTlvs, encodeUnprotectedTlvs, type Tlv } from "./tlv.js";
import { overwriteOnlyTrailerSize, padToSlot, trailerLayout, trailerSize } from "./trailer.js";
import { checkVersion, type ImageVersion } from "./version.js";

/** The options of `imgtool sign` that matter here. */
export interface SignOptions {
  key: PrivateKey;
  version: ImageVersion;
  /** `-H`: ih_hdr_size. */
  headerSize: number;
  /** `-S`: slot size, checked against image + trailer and used by `pad`. */
  slotSize: number;
  /**
   * `--pad-header`: prepend headerSize bytes of the erased value (imgtool `load`), else the
   * input must start with headerSize zero bytes, whatever the erased value.
   */
  padHeader?: boolean;
  /** `--align`: flash write size (trailer status entries). Default 1, as imgtool. */
  align?: number;
  /** `--max-align`: BOOT_MAX_ALIGN (trailer field spacing, magic form). Default max(8, align), as imgtool. */
  maxAlign?: number;
  /** `--pad`: fill to slot size with the trailer magic written (pending test on arrival). */
  pad?: boolean;
  /** `--confirm`: `pad` plus image_ok = 1 (permanent on arrival). */
  confirm?: boolean;
  /** `--pad-sig`: P-256 DER signatures padded to 72 bytes. */
  padSig?: boolean;
  /** `--public-key-format`: KEYHASH (hash, default) or the whole key (full, PUBKEY). */
  publicKeyFormat?: "hash" | "full";
  /** `--pure`: Ed25519 over the image itself, no SHA256 TLV. */
  pure?: boolean;
  /** `-L`: ih_load_addr; non-zero also sets IMAGE_F_RAM_LOAD, as imgtool `add_header`. */
  loadAddr?: number;
  flags?: number;
  /** `--security-counter`: a protected SEC_CNT TLV; "auto" is major<<24 + minor<<16 + revision. */
  securityCounter?: number | "auto";
  /** `-d`: protected DEPENDENCY TLVs, one per entry, in the order given. */
  dependencies?: readonly ImageDependency[];
  /** `--overwrite-only`: the smaller trailer (no swap status), and --confirm leaves image_ok erased. */
  overwriteOnly?: boolean;
  /** `--erased-val`: 0xff (default) or 0; fills --pad-header and the --pad/--confirm padding. */
  erasedValue?: number;
}

/** One `-d "(image_id, X.Y.Z+B)"` entry. */
export interface ImageDependency {
  imageId: number;
  version: ImageVersion;
}

/** imgtool `sign`: header + payload + protected TLVs + unprotected TLVs (+ trailer when padding). */
export function signImage(input: Uint8Array, o: SignOptions): Uint8Array {
  checkVersion(o.version);
  if (!Number.isInteger(o.headerSize) || o.headerSize < IMAGE_HEADER_SIZE || o.headerSize > 0xffff)
    throw new RangeError(`header size ${o.headerSize} must be ${IMAGE_HEADER_SIZE}..65535`);
  if (o.pure && o.key.type !== "ed25519") throw new RangeError("--pure needs an ed25519 key");
  const erased = o.erasedValue ?? 0xff;
  if (erased !== 0 && erased !== 0xff) throw new RangeError(`erased value ${erased} must be 0 or 0xff`);
  const align = o.align ?? 1;
  const maxAlign = o.maxAlign ?? Math.max(8, align);
  let payload: Uint8Array;
  // The header replaces the first 32 bytes of the padding; the rest stays as padded and is hashed.
  let headerRoom: Uint8Array;
  if (o.padHeader) {
    payload = input;
    headerRoom = new Uint8Array(o.headerSize).fill(erased);
  } else {
    if (input.length < o.headerSize || input.subarray(0, o.headerSize).some((b) => b !== 0))
      throw new RangeError(
        `header padding was not requested (--pad-header) and the input does not begin with ${o.headerSize} zero bytes`,
      );
    payload = input.subarray(o.headerSize);
    headerRoom = new Uint8Array(o.headerSize);
  }
  const prot: Tlv[] = [];
  if (o.securityCounter !== undefined) prot.push({ type: TlvType.SEC_CNT, value: u32(securityCounter(o)) });
  for (const d of o.dependencies ?? []) prot.push({ type: TlvType.DEPENDENCY, value: dependencyValue(d) });
  if (o.pure) prot.push({ type: TlvType.SIG_PURE, value: Uint8Array.of(1) });
  const protArea = encodeProtectedTlvs(prot);
  const header: ImageHeader = {
    magic: IMAGE_MAGIC,
    loadAddr: o.loadAddr ?? 0,
    hdrSize: o.headerSize,
    protectTlvSize: protArea.length,
    imgSize: payload.length,
    flags: (o.flags ?? 0) | (o.loadAddr ? ImageFlag.RAM_LOAD : 0),
    version: o.version,
  };
  const hdr = headerRoom;
  hdr.set(encodeHeader(header));
  const signed = concat([hdr, payload, protArea]);
  const digest = sha256(signed);
  const tlvs: Tlv[] = [];
  if (!o.pure) tlvs.push({ type: TlvType.SHA256, value: digest });
  tlvs.push(
    o.publicKeyFormat === "full"
      ? { type: TlvType.PUBKEY, value: encodeSpki(o.key) }
      : { type: TlvType.KEYHASH, value: keyHash(o.key) },
  );
  tlvs.push({ type: signatureTlvType(o.key), value: signMessage(o.key, o.pure ? signed : digest, o.padSig) });
  const image = concat([signed, encodeUnprotectedTlvs(tlvs)]);
  const room =
    o.slotSize - (o.overwriteOnly ? overwriteOnlyTrailerSize(maxAlign) : trailerSize(align, maxAlign));
  if (image.length > room)
    throw new RangeError(`image is ${image.length} bytes; slot ${o.slotSize} minus trailer leaves ${room}`);
  if (!(o.pad || o.confirm)) return image;
  const layout = trailerLayout(o.slotSize, align, maxAlign);
  return concat([image, padToSlot(image.length, layout, !!o.confirm && !o.overwriteOnly, erased)]);
}

function securityCounter(o: SignOptions): number {
  if (o.securityCounter !== "auto") return o.securityCounter!;
  return ((o.version.major << 24) >>> 0) + (o.version.minor << 16) + o.version.revision;
}

/** struct image_dependency: u8 image_id, 3 pad bytes (zero), then struct image_version. */
function dependencyValue(d: ImageDependency): Uint8Array {
  if (!Number.isInteger(d.imageId) || d.imageId < 0 || d.imageId > 0xff)
    throw new RangeError(`dependency image id ${d.imageId} must be 0..255`);
  checkVersion(d.version);
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setUint8(0, d.imageId);
  v.setUint8(4, d.version.major);
  v.setUint8(5, d.version.minor);
  v.setUint16(6, d.version.revision, true);
  v.setUint32(8, d.version.build, true);
  return out;
}

/** A parsed image: where everything is, and the TLVs MCUboot and img_mgmt look at. */
export interface ParsedImage {
  header: ImageHeader;
  payloadOffset: number;
  /** End of the hashed/signed region: header + payload + protected TLV area. */
  signedEnd: number;
  protectedTlvs: Tlv[];
  tlvs: Tlv[];
  /** Total bytes through the end of the unprotected TLV area. */
  totalSize: number;
  /** The SHA256 TLV value (what `image list` shows as "hash"). */
  hash: Uint8Array | undefined;
}

/**
 * Parses an image (or a slot's contents: trailing bytes are ignored). Throws
 * McubootImageError naming the offset of the first problem.
 */
export function parseImage(bytes: Uint8Array): ParsedImage {
  const header = decodeHeader(bytes);
  const payloadEnd = header.hdrSize + header.imgSize;
  if (header.hdrSize > bytes.length)
    throw new McubootImageError(8, `ih_hdr_size ${header.hdrSize} runs past the end (${bytes.length} bytes)`);
  if (payloadEnd > bytes.length)
    throw new McubootImageError(
      12,
      `ih_img_size ${header.imgSize} runs past the end (${bytes.length} bytes)`,
    );
  let protectedTlvs: Tlv[] = [];
  if (header.protectTlvSize > 0) {
    const area = decodeTlvArea(bytes, payloadEnd, TLV_PROT_INFO_MAGIC);
    if (area.size !== header.protectTlvSize)
      throw new McubootImageError(
        payloadEnd + 2,
        `protected it_tlv_tot ${area.size} != ih_protect_tlv_size ${header.protectTlvSize}`,
      );
    protectedTlvs = area.tlvs;
  } else if (header.protectTlvSize !== 0 && header.protectTlvSize < TLV_INFO_SIZE)
    throw new McubootImageError(10, `ih_protect_tlv_size ${header.protectTlvSize} is too small`);
  const signedEnd = payloadEnd + header.protectTlvSize;
  const area = decodeTlvArea(bytes, signedEnd, TLV_INFO_MAGIC);
  for (const t of area.tlvs)
    if (!UNPROTECTED_ALLOWED.has(t.type))
      throw new McubootImageError(
        t.offset ?? signedEnd,
        `TLV 0x${t.type.toString(16)} must be in the protected area`,
      );
  const hashes = area.tlvs.filter((t) => t.type === TlvType.SHA256);
  if (hashes.length > 1) throw new McubootImageError(hashes[1]!.offset!, "more than one SHA256 TLV");
  const hash = hashes[0];
  if (hash && hash.value.length !== 32)
    throw new McubootImageError(hash.offset! + 2, `SHA256 TLV length ${hash.value.length}, expected 32`);
  return {
    header,
    payloadOffset: header.hdrSize,
    signedEnd,
    protectedTlvs,
    tlvs: area.tlvs,
    totalSize: signedEnd + area.size,
    hash: hash?.value,
  };
}

export type ImageVerdict =
  | { valid: true; keyIndex: number; image: ParsedImage }
  | { valid: false; reason: string; image?: ParsedImage };

/**
 * bootutil_img_validate: the SHA256 TLV must match; the KEYHASH (or PUBKEY) must name one
 * of `keys`, else the signature is skipped and the image is invalid; then the signature must
 * verify with that key.
 */
export function validateImage(bytes: Uint8Array, keys: readonly PublicKey[]): ImageVerdict {
  let image: ParsedImage;
  try {
    image = parseImage(bytes);
  } catch (e) {
    return { valid: false, reason: (e as Error).message };
  }
  const signed = bytes.subarray(0, image.signedEnd);
  const pure = image.protectedTlvs.some((t) => t.type === TlvType.SIG_PURE);
  const digest = sha256(signed);
  if (!pure) {
    if (!image.hash) return { valid: false, reason: "no SHA256 TLV", image };
    if (!bytesEqual(image.hash, digest))
      return { valid: false, reason: "SHA256 TLV does not match the image", image };
  }
  const keyTlv = image.tlvs.find((t) => t.type === TlvType.KEYHASH || t.type === TlvType.PUBKEY);
  if (!keyTlv) return { valid: false, reason: "no KEYHASH or PUBKEY TLV", image };
  const wanted = keyTlv.type === TlvType.KEYHASH ? keyTlv.value : sha256(keyTlv.value);
  const keyIndex = keys.findIndex((k) => bytesEqual(keyHash(k), wanted));
  if (keyIndex < 0) return { valid: false, reason: "key hash matches no provisioned key", image };
  const key = keys[keyIndex]!;
  const sig = image.tlvs.find((t) => t.type === signatureTlvType(key));
  if (!sig) return { valid: false, reason: `no ${key.type} signature TLV`, image };
  if (!verifyMessage(key, pure ? signed : digest, sig.value))
    return { valid: false, reason: "signature does not verify", image };
  return { valid: true, keyIndex, image };
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}
