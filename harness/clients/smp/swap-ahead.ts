/**
 * What MCUboot will do at the next reset, as far as the host can tell over SMP: the image
 * state it last read (image list, or the answer to image test / confirm) says whether a swap
 * is pending, and the image it last uploaded how many flash sectors the swap moves. Used to
 * name the reset's timed operation ("MCUboot swap" per sector, or a plain "MCUboot reset").
 */
import type { ImageSlotState } from "./client.js";

/**
 * A swap happens at the next boot when the secondary slot's image is pending (test or
 * permanent), or when the primary runs a tested image nobody confirmed (MCUboot reverts it).
 */
export function swapPending(images: readonly ImageSlotState[] | undefined): boolean {
  if (!images) return false;
  return images.some(
    (i) =>
      (i.image ?? 0) === 0 &&
      ((i.slot === 1 && i.pending === true) || (i.slot === 0 && i.active === true && i.confirmed === false)),
  );
}

/**
 * Flash sectors a swap of an image of `imageBytes` moves (swap-using-move and -scratch swap
 * whole sectors, as many as the image file covers). SMP tells nothing of the running image's
 * size: when it is larger, MCUboot swaps its sectors too, which this count misses.
 */
export function swapSectors(imageBytes: number, sectorBytes: number): number {
  return Math.max(1, Math.ceil(imageBytes / sectorBytes));
}

/** The reset's operation title: report/operation-timing.ts names these "MCUboot swap" (units: sectors) and "MCUboot reset". */
export function resetTitle(swap: { sectors: number } | undefined): string {
  return swap ? `reset and swap ${swap.sectors} sectors` : "reset and boot";
}
