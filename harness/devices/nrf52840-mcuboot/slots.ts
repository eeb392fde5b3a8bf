import {
  BootFlagState,
  BootMagicState,
  bootMagic,
  type ParsedImage,
  parseImage,
  readTrailer,
  SwapType,
  type TrailerLayout,
  type TrailerState,
  trailerLayout,
} from "../../protocol/mcuboot/index.js";
import type { FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN, NRF52840_FLASH } from "./profile.js";

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

/** img_mgmt_read_info: the header magic and the TLVs parse, with exactly one SHA256; no signature check. */
export function imageInfo(area: FlashArea): ParsedImage | undefined {
  try {
    const p = parseImage(area.read(0, area.size));
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
