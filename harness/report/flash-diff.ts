/**
 * What the flash holds after a fault, sector by sector, as a report shows it: which sectors
 * hold which known image, which are erased, which hold something else (a torn write, a
 * half-copied sector), and where the first byte differs from the image that was expected.
 * Read with `peek`, so looking never counts as a flash operation.
 */
import type { Flash, Sector } from "../sim/flash.js";

/** An image as it should sit in flash. */
export interface PlacedImage {
  address: number;
  bytes: Uint8Array;
}

/** How one sector compares with the expected image. */
export interface SectorDifference {
  sector: Sector;
  /** Bytes of the sector (within the image) that differ. */
  differing: number;
  /** First differing address, what flash holds there and what the image has. */
  first: { address: number; got: number; want: number };
  /** The whole compared range is erased. */
  erased: boolean;
}

function hex(n: number, width = 8): string {
  return `0x${(n >>> 0).toString(16).padStart(width, "0")}`;
}

/** Sectors overlapping `image` whose bytes differ from it, in address order. */
export function diffFlash(flash: Flash, image: PlacedImage): SectorDifference[] {
  const out: SectorDifference[] = [];
  const end = image.address + image.bytes.length;
  for (const sector of flash.sectors) {
    const from = Math.max(sector.start, image.address);
    const to = Math.min(sector.start + sector.size, end);
    if (from >= to) continue;
    const got = flash.peek(from, to - from);
    const want = image.bytes.subarray(from - image.address, to - image.address);
    let differing = 0;
    let firstAt = -1;
    let erased = true;
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== flash.erasedValue) erased = false;
      if (got[i] !== want[i]) {
        differing++;
        if (firstAt < 0) firstAt = i;
      }
    }
    if (differing > 0)
      out.push({
        sector,
        differing,
        erased,
        first: { address: from + firstAt, got: got[firstAt]!, want: want[firstAt]! },
      });
  }
  return out;
}

/** The text attachment: one line per differing sector, or that the image is intact. */
export function renderFlashDiff(flash: Flash, image: PlacedImage, label = "expected image"): string {
  const diffs = diffFlash(flash, image);
  const head = `${flash.name}: ${label} at ${hex(image.address)}, ${image.bytes.length} bytes`;
  if (diffs.length === 0) return `${head}\nevery byte matches`;
  const lines = diffs.map((d) => {
    const what = d.erased ? "erased" : `${d.differing} byte(s) differ`;
    const f = d.first;
    return `sector ${d.sector.index} @${hex(d.sector.start)} (${d.sector.size} B): ${what}; first at ${hex(f.address)}: flash ${hex(f.got, 2)}, image ${hex(f.want, 2)}`;
  });
  return [`${head}\n${diffs.length} sector(s) differ:`, ...lines].join("\n");
}

/**
 * One character per sector of `range`: which known image it holds (the image's letter),
 * `.` erased, `x` anything else. "NNNN.OOO" after a cut in a swap reads at a glance.
 */
export function sectorMap(
  flash: Flash,
  range: { address: number; length: number },
  images: Record<string, PlacedImage>,
): string {
  let map = "";
  const end = range.address + range.length;
  for (const sector of flash.sectors) {
    if (sector.start + sector.size <= range.address || sector.start >= end) continue;
    const got = flash.peek(sector.start, sector.size);
    let mark = got.every((b) => b === flash.erasedValue) ? "." : "x";
    if (mark === "x")
      for (const [letter, image] of Object.entries(images)) {
        const off = sector.start - image.address;
        if (off + sector.size <= 0 || off >= image.bytes.length) continue;
        // Past either end of the image the sector must be erased (a short last page).
        const want = (i: number) => image.bytes[off + i] ?? flash.erasedValue;
        if (got.every((b, i) => b === want(i))) {
          mark = letter;
          break;
        }
      }
    map += mark;
  }
  return map;
}
