/**
 * DfuSe `.dfu` files (UM0391): an 11-byte prefix, targets (one per alt setting) holding
 * elements (address, size, data), then the DFU suffix with bcdDFU 0x011A. All LE.
 *
 * DFUImageSize is written two ways in the wild: dfu-util's dfuse-pack counts the whole
 * file, Flipper's bin2dfu the file less its suffix (and qFlipper insists on that). Both parse.
 */
import { DFUSE_VERSION } from "./functional-descriptor.js";
import { ImageFileError } from "./image-error.js";
import { appendSuffix, type DfuSuffix, readSuffix, SUFFIX_LENGTH } from "./suffix.js";

export const DFUSE_PREFIX_LENGTH = 11;
export const TARGET_PREFIX_LENGTH = 274;
export const TARGET_NAME_LENGTH = 255;
const ELEMENT_HEADER_LENGTH = 8;

export interface DfuseElement {
  address: number;
  data: Uint8Array;
}

export interface DfuseTarget {
  alt: number;
  /** Present when bTargetNamed is non-zero. */
  name?: string;
  elements: DfuseElement[];
}

export interface DfuseFile {
  suffix: DfuSuffix;
  targets: DfuseTarget[];
  /** Which DFUImageSize convention the file used. */
  imageSize: "with-suffix" | "without-suffix";
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const SIGNATURE = ascii("DfuSe");
const TARGET_SIGNATURE = ascii("Target");

export function isDfuseFile(bytes: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

/** @throws {ImageFileError} naming the offset of the first bad or truncated field; the CRC is checked first. */
export function parseDfuseFile(bytes: Uint8Array, name: string): DfuseFile {
  const suffix = readSuffix(bytes, name);
  const end = bytes.length - SUFFIX_LENGTH;
  const fail = (field: string, offset: number, detail: string) =>
    new ImageFileError(name, field, offset, detail);
  if (suffix.bcdDfu !== DFUSE_VERSION)
    throw fail("DFU suffix bcdDFU", end + 6, `0x${suffix.bcdDfu.toString(16)}, expected 0x011a (DfuSe)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, field: string) => {
    if (at + n > end)
      throw fail(field, at, `needs ${n} bytes, only ${Math.max(0, end - at)} left before the suffix`);
  };
  need(0, DFUSE_PREFIX_LENGTH, "DfuSe prefix");
  if (!isDfuseFile(bytes)) throw fail("DfuSe prefix szSignature", 0, 'expected "DfuSe"');
  if (bytes[5] !== 0x01) throw fail("DfuSe prefix bVersion", 5, `${bytes[5]}, expected 1`);
  const imageSize = view.getUint32(6, true);
  const convention =
    imageSize === bytes.length ? "with-suffix" : imageSize === end ? "without-suffix" : undefined;
  if (!convention)
    throw fail(
      "DfuSe prefix DFUImageSize",
      6,
      `${imageSize}, expected the file length ${bytes.length} or ${end} without the suffix`,
    );
  const targetCount = bytes[10]!;
  const targets: DfuseTarget[] = [];
  let at = DFUSE_PREFIX_LENGTH;
  for (let t = 0; t < targetCount; t++) {
    const field = (f: string) => `target ${t} ${f}`;
    need(at, TARGET_PREFIX_LENGTH, field("prefix"));
    if (!TARGET_SIGNATURE.every((b, i) => bytes[at + i] === b))
      throw fail(field("szSignature"), at, 'expected "Target"');
    const alt = bytes[at + 6]!;
    const named = view.getUint32(at + 7, true) !== 0;
    const rawName = bytes.subarray(at + 11, at + 11 + TARGET_NAME_LENGTH);
    const nul = rawName.indexOf(0);
    const targetName = String.fromCharCode(...rawName.subarray(0, nul < 0 ? rawName.length : nul));
    const targetSize = view.getUint32(at + 266, true);
    const elementCount = view.getUint32(at + 270, true);
    const bodyStart = at + TARGET_PREFIX_LENGTH;
    need(bodyStart, targetSize, field("dwTargetSize"));
    at = bodyStart;
    const elements: DfuseElement[] = [];
    for (let e = 0; e < elementCount; e++) {
      const ef = (f: string) => field(`element ${e} ${f}`);
      need(at, ELEMENT_HEADER_LENGTH, ef("header"));
      const address = view.getUint32(at, true);
      const size = view.getUint32(at + 4, true);
      need(at + ELEMENT_HEADER_LENGTH, size, ef("dwElementSize"));
      if (address + size > 0x1_0000_0000)
        throw fail(ef("dwElementAddress"), at, "element runs past 0xFFFFFFFF");
      elements.push({
        address,
        data: bytes.slice(at + ELEMENT_HEADER_LENGTH, at + ELEMENT_HEADER_LENGTH + size),
      });
      at += ELEMENT_HEADER_LENGTH + size;
    }
    if (at - bodyStart !== targetSize)
      throw fail(
        field("dwTargetSize"),
        bodyStart - 8,
        `${targetSize}, but its elements take ${at - bodyStart} bytes`,
      );
    targets.push(named ? { alt, name: targetName, elements } : { alt, elements });
  }
  if (at !== end) throw fail("after the last target", at, `${end - at} unexpected bytes before the suffix`);
  return { suffix, targets, imageSize: convention };
}

export interface BuildDfuseOptions {
  suffix?: Partial<DfuSuffix>;
  /** Default "with-suffix", as dfu-util's dfuse-pack writes. */
  imageSize?: "with-suffix" | "without-suffix";
}

export function buildDfuseFile(targets: readonly DfuseTarget[], opts: BuildDfuseOptions = {}): Uint8Array {
  const bodies = targets.map((t) => {
    const size = t.elements.reduce((n, e) => n + ELEMENT_HEADER_LENGTH + e.data.length, 0);
    const out = new Uint8Array(TARGET_PREFIX_LENGTH + size);
    const view = new DataView(out.buffer);
    out.set(TARGET_SIGNATURE, 0);
    out[6] = t.alt;
    if (t.name !== undefined) {
      view.setUint32(7, 1, true);
      out.set(ascii(t.name.slice(0, TARGET_NAME_LENGTH - 1)), 11);
    }
    view.setUint32(266, size, true);
    view.setUint32(270, t.elements.length, true);
    let at = TARGET_PREFIX_LENGTH;
    for (const e of t.elements) {
      view.setUint32(at, e.address, true);
      view.setUint32(at + 4, e.data.length, true);
      out.set(e.data, at + ELEMENT_HEADER_LENGTH);
      at += ELEMENT_HEADER_LENGTH + e.data.length;
    }
    return out;
  });
  const bodyLength = DFUSE_PREFIX_LENGTH + bodies.reduce((n, b) => n + b.length, 0);
  const body = new Uint8Array(bodyLength);
  body.set(SIGNATURE, 0);
  body[5] = 0x01;
  const total = (opts.imageSize ?? "with-suffix") === "with-suffix" ? bodyLength + SUFFIX_LENGTH : bodyLength;
  new DataView(body.buffer).setUint32(6, total, true);
  body[10] = targets.length;
  let at = DFUSE_PREFIX_LENGTH;
  for (const b of bodies) {
    body.set(b, at);
    at += b.length;
  }
  return appendSuffix(body, {
    bcdDevice: opts.suffix?.bcdDevice ?? 0xffff,
    idProduct: opts.suffix?.idProduct ?? 0xdf11,
    idVendor: opts.suffix?.idVendor ?? 0x0483,
    bcdDfu: DFUSE_VERSION,
  });
}
