/**
 * How a download is cut up, decided before any transfer: the pages the image touches
 * (each erased once, in address order) and the data blocks of wTransferSize. Every byte must
 * lie in a writable part of the alt's memory map; otherwise the plan names the address.
 */
import {
  type FirmwareImage,
  hex32,
  type MemoryMap,
  type MemorySector,
  sectorsTouched,
} from "../../protocol/dfu/index.js";

export interface DownloadBlock {
  address: number;
  data: Uint8Array;
}

export interface DownloadPlan {
  erase: MemorySector[];
  /** Blocks of one segment share a Set Address Pointer; the block number follows the formula. */
  segments: { address: number; blocks: DownloadBlock[] }[];
  bytes: number;
}

/** Flash programs 64-bit units; the L43x V9.1 ROM corrupts writes > 256 B not a multiple of 8 (AN2606 T165). */
export const WRITE_ALIGN = 8;

export function planDownload(
  image: FirmwareImage,
  map: MemoryMap,
  transferSize: number,
): { ok: true; plan: DownloadPlan } | { ok: false; address: number; detail: string } {
  const erase = new Map<number, MemorySector>();
  const segments: DownloadPlan["segments"] = [];
  let bytes = 0;
  for (const seg of image.segments) {
    const sectors = sectorsTouched(map, seg.address, seg.data.length);
    const bad = sectors ? sectors.find((s) => !s.access.writable) : undefined;
    if (!sectors || bad)
      return {
        ok: false,
        address: bad?.start ?? seg.address,
        detail: `${hex32(seg.address)}+${seg.data.length} from ${image.source} is not writable in "${map.name}"`,
      };
    for (const s of sectors) if (s.access.erasable) erase.set(s.start, s);
    const blocks: DownloadBlock[] = [];
    for (let off = 0; off < seg.data.length; off += transferSize) {
      let data = seg.data.subarray(off, off + transferSize);
      if (data.length % WRITE_ALIGN !== 0) {
        const padded = new Uint8Array(Math.ceil(data.length / WRITE_ALIGN) * WRITE_ALIGN).fill(0xff);
        padded.set(data);
        data = padded;
      }
      blocks.push({ address: seg.address + off, data });
    }
    segments.push({ address: seg.address, blocks });
    bytes += seg.data.length;
  }
  return {
    ok: true,
    plan: { erase: [...erase.values()].sort((a, b) => a.start - b.start), segments, bytes },
  };
}
