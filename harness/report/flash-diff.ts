/**
 * What the flash holds after a fault, sector by sector, as a report shows it: which sectors
 * hold which known image, which are erased, which hold something else (a torn write, a
 * half-copied sector), and where the first byte differs from the image that was expected.
 * Read with `peek`, so looking never counts as a flash operation.
 */
import { firstDifference, firstNotEqualTo } from "../seams/bytes.js";
import type { FlashView as Flash, SectorView as Sector } from "../seams/flash-view.js";

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
    // Most sectors match: compare them word-wise before counting byte by byte.
    if (firstDifference(got, want) < 0) continue;
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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The diff in one line, as an assertion message: how many bytes differ in which sectors,
 * where the first difference is and what both sides hold there ("stm32l432 flash: 1 byte of
 * v2 at 0x08000000 (8192 B) differs, in sector 6; first at 0x08000da2: flash 0xdb, image
 * 0xd9"). `undefined` when every byte matches.
 */
export function flashDiffHeadline(flash: Flash, image: PlacedImage, label = "the image"): string | undefined {
  const diffs = diffFlash(flash, image);
  const first = diffs[0];
  if (!first) return undefined;
  const bytes = diffs.reduce((n, d) => n + d.differing, 0);
  const shown = diffs.slice(0, 8).map((d) => `${d.sector.index}${d.erased ? " (erased)" : ""}`);
  if (diffs.length > shown.length) shown.push(`… ${diffs.length - shown.length} more`);
  const where = `${diffs.length === 1 ? "sector" : "sectors"} ${shown.join(", ")}`;
  const f = first.first;
  return `${flash.name}: ${plural(bytes, "byte")} of ${label} at ${hex(image.address)} (${image.bytes.length} B) ${
    bytes === 1 ? "differs" : "differ"
  }, in ${where}; first at ${hex(f.address)}: flash ${hex(f.got, 2)}, image ${hex(f.want, 2)}`;
}

/**
 * The same for two byte arrays (a read-back, a slot's contents), `address` being where
 * `got[0]` sits: how many bytes differ, the first and last difference, a length mismatch.
 */
export function bytesDiffHeadline(
  got: Uint8Array,
  want: Uint8Array,
  { address = 0, label = "the expected bytes" }: { address?: number; label?: string } = {},
): string | undefined {
  const n = Math.min(got.length, want.length);
  let differing = 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < n; i++)
    if (got[i] !== want[i]) {
      differing++;
      if (first < 0) first = i;
      last = i;
    }
  const parts: string[] = [];
  if (got.length !== want.length) parts.push(`got ${plural(got.length, "byte")}, want ${want.length}`);
  if (first >= 0) {
    parts.push(
      `${plural(differing, "byte")} of ${n} ${differing === 1 ? "differs" : "differ"} from ${label}`,
    );
    parts.push(`first at ${hex(address + first)}: got ${hex(got[first]!, 2)}, want ${hex(want[first]!, 2)}`);
    if (last !== first) parts.push(`last at ${hex(address + last)}`);
  }
  return parts.length ? parts.join("; ") : undefined;
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
    const erased = (bytes: Uint8Array) => firstNotEqualTo(bytes, flash.erasedValue) < 0;
    let mark = erased(got) ? "." : "x";
    if (mark === "x")
      for (const [letter, image] of Object.entries(images)) {
        const off = sector.start - image.address;
        if (off + sector.size <= 0 || off >= image.bytes.length) continue;
        // Past either end of the image the sector must be erased (a short last page).
        const lo = Math.max(0, -off);
        const hi = Math.min(sector.size, image.bytes.length - off);
        const same = firstDifference(got.subarray(lo, hi), image.bytes.subarray(off + lo, off + hi)) < 0;
        if (same && erased(got.subarray(0, lo)) && erased(got.subarray(hi))) {
          mark = letter;
          break;
        }
      }
    map += mark;
  }
  return map;
}
