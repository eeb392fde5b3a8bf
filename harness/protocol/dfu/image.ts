/**
 * Firmware inputs for a DfuSe download, all turned into address-tagged segments before any
 * transfer: a raw `.bin` plus its address, Intel HEX (nrf-intel-hex parses it), or a DfuSe
 * `.dfu`. Bad input throws ImageFileError naming file, field and offset/line.
 */
import ihex from "nrf-intel-hex";
import { parseDfuseFile } from "./dfuse-file.js";
import { ImageFileError } from "./image-error.js";

type MemoryMapClass = typeof ihex.default;
// CommonJS at run time (module.exports = MemoryMap) but typed as an ES default export: take either shape.
const MemoryMap: MemoryMapClass =
  (ihex as unknown as { default?: MemoryMapClass }).default ?? (ihex as unknown as MemoryMapClass);

export interface ImageSegment {
  address: number;
  data: Uint8Array;
}

export interface FirmwareImage {
  /** File name, for messages. */
  source: string;
  format: "bin" | "hex" | "dfu";
  /** Non-overlapping, in address order. */
  segments: ImageSegment[];
  /** For `.dfu`: the alt setting of the target (one target per download). */
  alt?: number;
  /** USB identity from a `.dfu` suffix (0xFFFF = any). */
  vendorId?: number;
  productId?: number;
}

export type ImageFormat = FirmwareImage["format"];

export function formatFromName(name: string): ImageFormat | undefined {
  const m = /\.(bin|hex|ihex|dfu)$/i.exec(name);
  if (!m) return undefined;
  const ext = m[1]!.toLowerCase();
  return ext === "ihex" ? "hex" : (ext as ImageFormat);
}

export interface LoadImageOptions {
  /** Load address of a raw binary (required for .bin, refused for the others). */
  address?: number;
  /** Overrides the format guessed from the file name. */
  format?: ImageFormat;
}

export function loadImage(name: string, bytes: Uint8Array, opts: LoadImageOptions = {}): FirmwareImage {
  const format = opts.format ?? formatFromName(name);
  if (!format) throw new ImageFileError(name, "file name", undefined, "extension must be .bin, .hex or .dfu");
  if (format !== "bin" && opts.address !== undefined)
    throw new ImageFileError(name, "address", undefined, `a ${format} file carries its own addresses`);
  switch (format) {
    case "bin":
      return binImage(name, bytes, opts.address);
    case "hex":
      return hexImage(name, bytes);
    case "dfu":
      return dfuImage(name, bytes);
  }
}

function binImage(name: string, bytes: Uint8Array, address: number | undefined): FirmwareImage {
  if (address === undefined)
    throw new ImageFileError(name, "address", undefined, "a .bin needs a load address");
  if (!Number.isInteger(address) || address < 0 || address + bytes.length > 0x1_0000_0000)
    throw new ImageFileError(
      name,
      "address",
      undefined,
      `0x${address.toString(16)}+${bytes.length} is outside 32 bits`,
    );
  if (bytes.length === 0) throw new ImageFileError(name, "data", 0, "file is empty");
  return { source: name, format: "bin", segments: [{ address, data: bytes }] };
}

function hexImage(name: string, bytes: Uint8Array): FirmwareImage {
  const text = new TextDecoder("latin1").decode(bytes);
  let map: InstanceType<MemoryMapClass>;
  try {
    map = MemoryMap.fromHex(text).join();
  } catch (e) {
    const message = (e as Error).message;
    // nrf-intel-hex names the record ("at record N (:10...)"): point at its line.
    const record = /record (\d+)/.exec(message);
    const line = record ? Number(record[1]) : undefined;
    throw new ImageFileError(name, "Intel HEX record", undefined, message, line);
  }
  const segments = [...map].map(([address, data]) => ({ address, data }));
  if (segments.length === 0) throw new ImageFileError(name, "Intel HEX", undefined, "no data records");
  return { source: name, format: "hex", segments };
}

function dfuImage(name: string, bytes: Uint8Array): FirmwareImage {
  const file = parseDfuseFile(bytes, name);
  if (file.targets.length !== 1)
    throw new ImageFileError(
      name,
      "DfuSe prefix bTargets",
      10,
      `${file.targets.length} targets; one per download is supported`,
    );
  const target = file.targets[0]!;
  const segments = [...target.elements]
    .filter((e) => e.data.length > 0)
    .sort((a, b) => a.address - b.address)
    .map((e) => ({ address: e.address, data: e.data }));
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    if (prev.address + prev.data.length > segments[i]!.address)
      throw new ImageFileError(
        name,
        `target 0 element at 0x${segments[i]!.address.toString(16)}`,
        undefined,
        "overlaps the previous element",
      );
  }
  if (segments.length === 0) throw new ImageFileError(name, "target 0", undefined, "no element carries data");
  return {
    source: name,
    format: "dfu",
    segments,
    alt: target.alt,
    vendorId: file.suffix.idVendor,
    productId: file.suffix.idProduct,
  };
}

/** Total bytes over all segments. */
export function imageSize(image: FirmwareImage): number {
  return image.segments.reduce((n, s) => n + s.data.length, 0);
}
