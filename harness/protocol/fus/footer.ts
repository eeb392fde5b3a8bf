/**
 * Image and signature footers (AN5185 §6.4, Figures 7–9, Tables 12–14; byte order as the
 * fact sheet §5.6 decodes real files: 32-bit little-endian words). A FUS/stack file is
 *
 *   body | image footer (20 B) | ST signature (64 B) | ST signature footer (20 B)
 *        [| customer signature (64 B) | customer signature footer (20 B)]
 *
 * All elements are 4-byte multiples and 4-byte aligned (§6.4). Parsers reject anything else
 * with the offset of the offending byte. Every ST file measured (STM32CubeWB 1.1.0–1.24.0)
 * has this shape, with no customer signature; where it lies in flash is placement.ts.
 */

import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { FusMagic, SAFEBOOT_INFO1, ST_SIGNATURE_SOURCE_BYTE } from "./constants.js";

export const FOOTER_SIZE = 20;
export const SIGNATURE_SIZE = 64;

export class FusFooterError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  constructor(
    readonly field: string,
    /** Offset in the buffer handed to the parser. */
    readonly offset: number,
    message: string,
  ) {
    super(`FUS footer ${field} at offset ${offset} (0x${offset.toString(16)}): ${message}`);
    this.name = "FusFooterError";
  }
}

export interface FusVersion {
  major: number;
  minor: number;
  sub: number;
  branch: number;
  build: number;
}

/** Version word (Table 4, Figure 8): major[31:24] minor[23:16] sub[15:8] branch[7:4] build[3:0]. */
export function encodeVersion(v: FusVersion): number {
  for (const [k, max] of [
    ["major", 0xff],
    ["minor", 0xff],
    ["sub", 0xff],
    ["branch", 0xf],
    ["build", 0xf],
  ] as const)
    if (!Number.isInteger(v[k]) || v[k] < 0 || v[k] > max)
      throw new RangeError(`version ${k}: expected 0..${max}, got ${v[k]}`);
  return ((v.major << 24) | (v.minor << 16) | (v.sub << 8) | (v.branch << 4) | v.build) >>> 0;
}

export function decodeVersion(word: number): FusVersion {
  return {
    major: (word >>> 24) & 0xff,
    minor: (word >>> 16) & 0xff,
    sub: (word >>> 8) & 0xff,
    branch: (word >>> 4) & 0xf,
    build: word & 0xf,
  };
}

export function formatVersion(v: FusVersion | number): string {
  const d = typeof v === "number" ? decodeVersion(v) : v;
  return `${d.major}.${d.minor}.${d.sub}`;
}

/** Compare major.minor.sub (branch/build ignored). */
export function compareVersion(a: number, b: number): number {
  return (a >>> 8) - (b >>> 8);
}

export interface MemorySize {
  /** Flash, 4 KB sectors. */
  flashSectors: number;
  /** SRAM2a, 1 KB sectors. */
  sram2aKb: number;
  /** SRAM2b, 1 KB sectors. */
  sram2bKb: number;
}

/** Memory size word (Table 4, Figure 8): SRAM2b[31:24] SRAM2a[23:16] reserved[15:8] flash[7:0]. */
export function encodeMemorySize(m: MemorySize, reserved = 0xff): number {
  for (const k of ["flashSectors", "sram2aKb", "sram2bKb"] as const)
    if (!Number.isInteger(m[k]) || m[k] < 0 || m[k] > 0xff)
      throw new RangeError(`memory size ${k}: expected 0..255, got ${m[k]}`);
  return ((m.sram2bKb << 24) | (m.sram2aKb << 16) | ((reserved & 0xff) << 8) | m.flashSectors) >>> 0;
}

export function decodeMemorySize(word: number): MemorySize {
  return { flashSectors: word & 0xff, sram2aKb: (word >>> 16) & 0xff, sram2bKb: (word >>> 24) & 0xff };
}

export type ImageKind = "wireless-stack" | "fus" | "safeboot" | "other";

export interface ImageFooter {
  info1: number;
  info2: number;
  memory: MemorySize;
  version: FusVersion;
  magic: number;
  kind: ImageKind;
  /** A stack in the format the release notes mark "FUSv2 only" (magic 0xB10C8B99). */
  fusV2Only: boolean;
}

export type SignatureSource = "st" | "customer";

export interface SignatureFooter {
  /** Signature size in bytes, without footer (Table 13). */
  size: number;
  /** Table 13 source byte as read (Table 13: 0x00 ST, 0x01 customer; every ST file has 0x57). */
  sourceByte: number;
  version: FusVersion;
  magic: number;
  source: SignatureSource;
}

const IMAGE_MAGICS: ReadonlyMap<number, ImageKind> = new Map([
  [FusMagic.WIRELESS_STACK, "wireless-stack"],
  [FusMagic.WIRELESS_STACK_V2, "wireless-stack"],
  [FusMagic.FUS, "fus"],
  [FusMagic.SAFEBOOT, "safeboot"],
  [FusMagic.OTHER, "other"],
]);

const SIG_MAGICS: ReadonlyMap<number, SignatureSource> = new Map([
  [FusMagic.ST_SIGNATURE, "st"],
  [FusMagic.CUSTOMER_SIGNATURE, "customer"],
]);

/** The kind a magic names; Safeboot 2.0.0 carries the stack magic and is told apart by info1. */
export function imageKindOfMagic(magic: number, info1?: number): ImageKind | undefined {
  const kind = IMAGE_MAGICS.get(magic >>> 0);
  return kind === "wireless-stack" && magic >>> 0 === FusMagic.WIRELESS_STACK && info1 === SAFEBOOT_INFO1
    ? "safeboot"
    : kind;
}

export function signatureSourceOfMagic(magic: number): SignatureSource | undefined {
  return SIG_MAGICS.get(magic >>> 0);
}

export function encodeImageFooter(
  f: Omit<ImageFooter, "kind" | "fusV2Only"> & { memoryReserved?: number },
): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, f.info1 >>> 0, true);
  v.setUint32(4, f.info2 >>> 0, true);
  v.setUint32(8, encodeMemorySize(f.memory, f.memoryReserved ?? 0xff), true);
  v.setUint32(12, encodeVersion(f.version), true);
  v.setUint32(16, f.magic >>> 0, true);
  return out;
}

export function encodeSignatureFooter(f: {
  source: SignatureSource;
  version: FusVersion;
  size?: number;
  sourceByte?: number;
}): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x12341234, true);
  v.setUint32(4, 0xabcdabcd, true);
  out[8] = f.size ?? SIGNATURE_SIZE;
  // ST files carry 0x57 where Table 13 says 0x00; customer footers keep Table 13's 0x01.
  out[9] = f.sourceByte ?? (f.source === "st" ? ST_SIGNATURE_SOURCE_BYTE : 0x01);
  out[10] = 0xff;
  out[11] = 0xff;
  v.setUint32(12, encodeVersion(f.version), true);
  v.setUint32(16, f.source === "st" ? FusMagic.ST_SIGNATURE : FusMagic.CUSTOMER_SIGNATURE, true);
  return out;
}

function footerView(bytes: Uint8Array, offset: number, what: string): DataView {
  if (!Number.isInteger(offset) || offset < 0 || offset + FOOTER_SIZE > bytes.length)
    throw new FusFooterError(
      what,
      Math.max(0, Math.min(offset, bytes.length)),
      `needs ${FOOTER_SIZE} bytes, ${Math.max(0, bytes.length - offset)} available`,
    );
  if (offset % 4 !== 0) throw new FusFooterError(what, offset, "not 4-byte aligned (AN5185 §6.4)");
  return new DataView(bytes.buffer, bytes.byteOffset + offset, FOOTER_SIZE);
}

/** @throws {FusFooterError} naming the offset of a short, misaligned or unknown footer. */
export function parseImageFooter(bytes: Uint8Array, offset = bytes.length - FOOTER_SIZE): ImageFooter {
  const v = footerView(bytes, offset, "image footer");
  const magic = v.getUint32(16, true);
  const info1 = v.getUint32(0, true);
  const kind = imageKindOfMagic(magic, info1);
  if (!kind)
    throw new FusFooterError(
      "image footer magic",
      offset + 16,
      `0x${magic.toString(16).padStart(8, "0")} is not an image magic (Table 14)`,
    );
  const memory = decodeMemorySize(v.getUint32(8, true));
  if (memory.flashSectors === 0)
    throw new FusFooterError("image footer memory size", offset + 8, "flash size is 0 sectors");
  return {
    info1,
    info2: v.getUint32(4, true),
    memory,
    version: decodeVersion(v.getUint32(12, true)),
    magic,
    kind,
    fusV2Only: magic === FusMagic.WIRELESS_STACK_V2,
  };
}

/** @throws {FusFooterError} naming the offset of a short, misaligned or unknown signature footer. */
export function parseSignatureFooter(
  bytes: Uint8Array,
  offset = bytes.length - FOOTER_SIZE,
): SignatureFooter {
  const v = footerView(bytes, offset, "signature footer");
  const magic = v.getUint32(16, true);
  const source = signatureSourceOfMagic(magic);
  if (!source)
    throw new FusFooterError(
      "signature footer magic",
      offset + 16,
      `0x${magic.toString(16).padStart(8, "0")} is not a signature magic (Table 14)`,
    );
  const size = v.getUint8(8);
  if (size === 0 || size % 4 !== 0)
    throw new FusFooterError("signature footer size", offset + 8, `${size} is not a 4-byte multiple > 0`);
  return { size, sourceByte: v.getUint8(9), version: decodeVersion(v.getUint32(12, true)), magic, source };
}

/** A whole image file taken apart from its end. */
export interface FusImageLayout {
  /** Offset and length of the body. */
  bodyLength: number;
  imageFooterOffset: number;
  image: ImageFooter;
  st: { signatureOffset: number; footerOffset: number; footer: SignatureFooter };
  customer?: { signatureOffset: number; footerOffset: number; footer: SignatureFooter };
  /** Bytes from the body start to the end of the last footer. */
  totalLength: number;
}

/**
 * Parse a file (or a flash window) that ends with the last footer. Order from the end: an
 * optional customer signature + footer, then the ST signature + footer, then the image footer.
 * @throws {FusFooterError} with the offset of the first malformed element.
 */
export function parseImageFile(bytes: Uint8Array): FusImageLayout {
  if (bytes.length % 4 !== 0)
    throw new FusFooterError("file", bytes.length, `length ${bytes.length} is not a 4-byte multiple`);
  let end = bytes.length;
  const last = parseSignatureFooter(bytes, end - FOOTER_SIZE);
  let customer: FusImageLayout["customer"];
  if (last.source === "customer") {
    const footerOffset = end - FOOTER_SIZE;
    const signatureOffset = footerOffset - last.size;
    if (signatureOffset < 0) throw new FusFooterError("customer signature", 0, "file too short");
    customer = { signatureOffset, footerOffset, footer: last };
    end = signatureOffset;
  }
  const stFooterOffset = end - FOOTER_SIZE;
  const stFooter = customer ? parseSignatureFooter(bytes, stFooterOffset) : last;
  if (stFooter.source !== "st")
    throw new FusFooterError("ST signature footer", stFooterOffset + 16, "expected the ST signature magic");
  const stSigOffset = stFooterOffset - stFooter.size;
  const imageFooterOffset = stSigOffset - FOOTER_SIZE;
  if (imageFooterOffset < 0)
    throw new FusFooterError("image footer", 0, "file too short for an image footer");
  const image = parseImageFooter(bytes, imageFooterOffset);
  return {
    bodyLength: imageFooterOffset,
    imageFooterOffset,
    image,
    st: { signatureOffset: stSigOffset, footerOffset: stFooterOffset, footer: stFooter },
    customer,
    totalLength: bytes.length,
  };
}
