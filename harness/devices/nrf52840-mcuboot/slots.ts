import {
  BOOT_MAX_IMG_SECTORS,
  BootFlagState,
  BootMagicState,
  bootMagic,
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  type ParsedImage,
  parseImage,
  readTrailer,
  SwapType,
  TLV_INFO_SIZE,
  type TrailerLayout,
  type TrailerState,
  trailerLayout,
  trailerSize,
} from "../../protocol/mcuboot/index.js";
import type { FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN, NRF52840_FLASH, type SwapMode } from "./profile.js";

/** The trailer layout of a slot on this board (write size 4, BOOT_MAX_ALIGN 8). */
export function layoutOf(area: FlashArea): TrailerLayout {
  return trailerLayout(area.size, NRF52840_FLASH.writeSize, MCUBOOT_MAX_ALIGN);
}

/** The trailer as the bootloader and img_mgmt read it. */
export function trailerOf(area: FlashArea): TrailerState {
  const layout = layoutOf(area);
  const tail = area.read(layout.status, area.size - layout.status);
  const shifted = { ...layout } as TrailerLayout;
  for (const k of ["magic", "imageOk", "copyDone", "swapInfo", "swapSize", "status"] as const)
    shifted[k] = layout[k] - layout.status;
  return readTrailer(tail, shifted, area.flash.erasedValue);
}

/** BOOT_TRAILER_SZ for this board (bootutil_area.c boot_trailer_sz): status area + info + magic. */
export const TRAILER_SIZE = trailerSize(NRF52840_FLASH.writeSize, MCUBOOT_MAX_ALIGN);

/**
 * The trailer a swap-using-scratch keeps in the scratch area (bootutil_area.c
 * boot_scratch_trailer_sz): one sector's 3 status entries, then the same info and magic
 * fields as a slot's, at the same offsets from the area's end.
 */
export const SCRATCH_TRAILER_SIZE = TRAILER_SIZE - (BOOT_MAX_IMG_SECTORS - 1) * 3 * NRF52840_FLASH.writeSize;

/**
 * bootutil_max_image_size (bootutil_misc.c), the largest image (header + body + TLVs) that
 * bootutil_img_validate accepts in either slot ("TLV beyond image size"):
 * - swap-using-move, swap_move.c app_max_size: the smaller of the primary less its
 *   trailer sectors and the spare sector the move needs, and the secondary less its trailer
 *   sectors;
 * - swap-using-scratch, swap_scratch.c app_max_size_adjust_to_trailer: up to the slot's
 *   trailer, less any padding the scratch trailer needs (none on this board: the trailer's
 *   sector holds more of the trailer than the scratch trailer's size);
 * - overwrite-only: up to swap_info (boot_swap_info_off).
 */
export function maxImageSize(mode: SwapMode, primary: FlashArea, secondary: FlashArea): number {
  const sector = primary.sectorSize;
  const trailerSectors = Math.ceil(TRAILER_SIZE / sector) * sector;
  if (mode === "move")
    return Math.min(
      primary.sectorCount * sector - trailerSectors - sector,
      secondary.sectorCount * sector - trailerSectors,
    );
  if (mode === "scratch") {
    const trailerOff = primary.size - TRAILER_SIZE;
    const inFirstSector = primary.size - trailerSectors + sector - trailerOff;
    return trailerOff - Math.max(0, SCRATCH_TRAILER_SIZE - inFirstSector);
  }
  return layoutOf(primary).swapInfo;
}

/** The swap type a trailer's swap_info records; erased or out of range reads NONE (boot_read_swap_state). */
export function recordedSwapType(t: TrailerState): SwapType {
  return t.swapType >= SwapType.NONE && t.swapType <= SwapType.REVERT
    ? (t.swapType as SwapType)
    : SwapType.NONE;
}

/**
 * The slot's bytes through the end of the image its header and TLV info describe, for
 * parseImage and validateImage (which ignore what follows the TLVs): a boot looks at both
 * slots several times, and a slot is far larger than its image. When the header or the TLV
 * info point past the slot, or the protected TLV info disagrees with the header, the whole
 * slot is read, so a broken image is judged (and its error worded) exactly as before.
 */
export function imageBytes(area: FlashArea): Uint8Array {
  const whole = () => area.read(0, area.size);
  if (area.size < IMAGE_HEADER_SIZE) return whole();
  const header = area.read(0, IMAGE_HEADER_SIZE);
  const head = new DataView(header.buffer);
  // No image (erased, say): the header alone fails as the whole slot would.
  if (head.getUint32(0, true) !== IMAGE_MAGIC) return header;
  const protectTlvSize = head.getUint16(10, true);
  const payloadEnd = head.getUint16(8, true) + head.getUint32(12, true);
  if (protectTlvSize > 0 && tlvTotalAt(area, payloadEnd) !== protectTlvSize) return whole();
  const tlvTotal = tlvTotalAt(area, payloadEnd + protectTlvSize);
  if (tlvTotal === undefined) return whole();
  return area.read(0, payloadEnd + protectTlvSize + tlvTotal);
}

/**
 * it_tlv_tot of the TLV info at `off`, when the info and the area it spans fit in the slot.
 * A total smaller than the info itself is left to the whole slot, whose parse names it.
 */
function tlvTotalAt(area: FlashArea, off: number): number | undefined {
  if (off + TLV_INFO_SIZE > area.size) return undefined;
  const total = new DataView(area.read(off, TLV_INFO_SIZE).buffer).getUint16(2, true);
  return total >= TLV_INFO_SIZE && off + total <= area.size ? total : undefined;
}

/** img_mgmt_read_info: the header magic and the TLVs parse, with exactly one SHA256; no signature check. */
export function imageInfo(area: FlashArea): ParsedImage | undefined {
  try {
    const p = parseImage(imageBytes(area));
    return p.hash ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * boot_swap_type (bootutil_public.c boot_swap_tables), first match wins:
 * secondary {GOOD, image_ok UNSET} → TEST; secondary {GOOD, SET} → PERM;
 * primary {GOOD, image_ok UNSET, copy_done SET} → REVERT; otherwise NONE.
 */
export function swapTypeOf(primary: TrailerState, secondary: TrailerState): SwapType {
  if (secondary.magic === BootMagicState.GOOD && secondary.imageOk === BootFlagState.UNSET)
    return SwapType.TEST;
  if (secondary.magic === BootMagicState.GOOD && secondary.imageOk === BootFlagState.SET)
    return SwapType.PERM;
  if (
    primary.magic === BootMagicState.GOOD &&
    primary.imageOk === BootFlagState.UNSET &&
    primary.copyDone === BootFlagState.SET
  )
    return SwapType.REVERT;
  return SwapType.NONE;
}

/**
 * boot_set_next (bootutil_public.c), shared by img_mgmt and serial recovery. For the active
 * slot confirm is forced and only image_ok is written; for the other slot an unset magic is
 * written, then image_ok when confirming, then swap_info (TEST or PERM). Returns an error
 * name when the trailer forbids it.
 */
export async function setNext(
  area: FlashArea,
  active: boolean,
  confirm: boolean,
): Promise<"ok" | "EBADVECT" | "EBADIMAGE"> {
  const layout = layoutOf(area);
  const t = trailerOf(area);
  if (t.magic === BootMagicState.BAD) return active ? "EBADVECT" : "EBADIMAGE";
  if (active) {
    if (t.magic === BootMagicState.GOOD && t.imageOk === BootFlagState.UNSET)
      await area.writeField(layout.imageOk, Uint8Array.of(1));
    return "ok";
  }
  if (t.magic === BootMagicState.GOOD) return "ok";
  await area.writeField(layout.magic, bootMagic(MCUBOOT_MAX_ALIGN).subarray(0, 16));
  if (confirm) await area.writeField(layout.imageOk, Uint8Array.of(1));
  await area.writeField(layout.swapInfo, Uint8Array.of(confirm ? SwapType.PERM : SwapType.TEST));
  return "ok";
}
