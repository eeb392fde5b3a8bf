import {
  BOOT_MAGIC_ALIGN8,
  BOOT_MAGIC_SIZE,
  BOOT_MAGIC_TAIL,
  BOOT_MAX_IMG_SECTORS,
  BootFlagState,
  BootMagicState,
} from "./constants.js";

/**
 * The image trailer at the end of each slot (MCUboot design.md "Image trailer"), for
 * BOOT_MAX_ALIGN = `maxAlign` and no encryption. Offsets are from the slot start.
 */
export interface TrailerLayout {
  slotSize: number;
  writeSize: number;
  maxAlign: number;
  magic: number;
  imageOk: number;
  copyDone: number;
  swapInfo: number;
  swapSize: number;
  /** First byte of the swap status area (BOOT_MAX_IMG_SECTORS × 3 entries of writeSize). */
  status: number;
}

export function trailerLayout(slotSize: number, writeSize = 8, maxAlign = 8): TrailerLayout {
  if (!isPow2(writeSize) || !isPow2(maxAlign) || writeSize > maxAlign)
    throw new RangeError(
      `trailer: write size ${writeSize} / max align ${maxAlign} must be powers of two, write <= max`,
    );
  const magic = slotSize - BOOT_MAGIC_SIZE;
  const imageOk = alignDown(magic - maxAlign, maxAlign);
  const copyDone = imageOk - maxAlign;
  const swapInfo = copyDone - maxAlign;
  const swapSize = swapInfo - maxAlign;
  const status = swapSize - BOOT_MAX_IMG_SECTORS * 3 * writeSize;
  return { slotSize, writeSize, maxAlign, magic, imageOk, copyDone, swapInfo, swapSize, status };
}

/** Bytes reserved at the end of a slot for the trailer (imgtool checks image + this fits the slot). */
export function trailerSize(writeSize = 8, maxAlign = 8): number {
  return BOOT_MAX_IMG_SECTORS * 3 * writeSize + 4 * maxAlign + Math.max(BOOT_MAGIC_SIZE, maxAlign);
}

/** imgtool `--overwrite-only`: no swap status, only image_ok/copy_done room and the magic. */
export function overwriteOnlyTrailerSize(maxAlign = 8): number {
  return 2 * maxAlign + Math.max(BOOT_MAGIC_SIZE, maxAlign);
}

/** The 16 magic bytes: the classic value when max align is 8, else u16 LE align + a fixed tail. */
export function bootMagic(maxAlign = 8): Uint8Array {
  if (maxAlign === 8) return BOOT_MAGIC_ALIGN8.slice();
  const out = new Uint8Array(BOOT_MAGIC_SIZE);
  out[0] = maxAlign & 0xff;
  out[1] = maxAlign >> 8;
  out.set(BOOT_MAGIC_TAIL, 2);
  return out;
}

export interface TrailerState {
  magic: BootMagicState;
  imageOk: BootFlagState;
  copyDone: BootFlagState;
  /** Low nibble of swap_info (erased reads as 0xf); the high nibble is the image number. */
  swapType: number;
  imageNum: number;
  swapSize: number;
}

/** Decodes the trailer from the whole slot's bytes (or at least its tail, passed as `slot` with `layout`). */
export function readTrailer(slot: Uint8Array, layout: TrailerLayout, erased = 0xff): TrailerState {
  const magicBytes = slot.subarray(layout.magic, layout.magic + BOOT_MAGIC_SIZE);
  const expected = bootMagic(layout.maxAlign);
  const magic = magicBytes.every((b) => b === erased)
    ? BootMagicState.UNSET
    : magicBytes.every((b, i) => b === expected[i])
      ? BootMagicState.GOOD
      : BootMagicState.BAD;
  const info = slot[layout.swapInfo]!;
  const size = new DataView(slot.buffer, slot.byteOffset + layout.swapSize, 4).getUint32(0, true);
  return {
    magic,
    imageOk: flag(slot[layout.imageOk]!, erased),
    copyDone: flag(slot[layout.copyDone]!, erased),
    swapType: info & 0x0f,
    imageNum: info >> 4,
    swapSize: size,
  };
}

function flag(b: number, erased: number): BootFlagState {
  return b === erased ? BootFlagState.UNSET : b === 0x01 ? BootFlagState.SET : BootFlagState.BAD;
}

/**
 * imgtool `--pad` / `--confirm`: erased bytes from the image end to the slot end, with the
 * magic written (so the image is pending test as soon as it lands) and image_ok = 1 when
 * confirmed. `imageLength` is the signed image's length.
 */
export function padToSlot(
  imageLength: number,
  layout: TrailerLayout,
  confirm: boolean,
  erased = 0xff,
): Uint8Array {
  const out = new Uint8Array(layout.slotSize - imageLength).fill(erased);
  const at = (slotOffset: number) => slotOffset - imageLength;
  if (confirm) out[at(layout.imageOk)] = 0x01;
  out.set(bootMagic(layout.maxAlign), at(layout.magic));
  return out;
}

function alignDown(n: number, a: number): number {
  return Math.floor(n / a) * a;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
