import {
  BootFlagState,
  BootMagicState,
  bootMagic,
  compareVersions,
  formatVersion,
  ImageFlag,
  type ImageVerdict,
  type ParsedImage,
  type PublicKey,
  SwapType,
  validateImage,
} from "../../protocol/mcuboot/index.js";
import type { FlashArea } from "./flash-area.js";
import { hasRequest, overwrite } from "./overwrite.js";
import { MCUBOOT_MAX_ALIGN, type SwapMode } from "./profile.js";
import { imageBytes, imageInfo, layoutOf, maxImageSize, swapTypeOf, trailerOf } from "./slots.js";
import { Swap, swapName } from "./swap.js";
import { ScratchSwap } from "./swap-scratch.js";

export interface BootOptions {
  /** The provisioned public keys (MCUboot's built-in key table). */
  keys: readonly PublicKey[];
  /** MCUBOOT_DOWNGRADE_PREVENTION: refuse an upgrade whose version is lower than the running one. */
  downgradePrevention?: boolean;
  /** Upgrade method: swap-using-move (default), swap-using-scratch or overwrite-only. */
  mode?: SwapMode;
}

export type BootOutcome =
  | { kind: "boot"; image: ParsedImage; swapped: SwapType }
  | { kind: "no-image"; reason: string };

const isUpgrade = (t: SwapType) => t === SwapType.TEST || t === SwapType.PERM || t === SwapType.REVERT;

/**
 * MCUboot's decisions on one boot (loader.c boot_prepare_image_for_update, context_boot_go):
 * 1. an interrupted swap resumes from its status, without revalidating (swap-using-move
 *    with no status entry yet validates the secondary again: restartRecorded);
 * 2. a TEST/PERM/REVERT request is honoured only if the secondary validates against the
 *    provisioned keys and fits (bootutil_img_validate: "TLV beyond image size" past
 *    bootutil_max_image_size); otherwise the whole secondary slot is erased and nothing swaps;
 * 3. the primary is validated (BOOT_VALIDATE_SLOT0, the same checks) before it is started.
 */
export async function bootDecide(
  primary: FlashArea,
  secondary: FlashArea,
  opts: BootOptions,
  log: (detail: string) => void,
  scratch?: FlashArea,
): Promise<BootOutcome> {
  const mode = opts.mode ?? "move";
  const maxSize = maxImageSize(mode, primary, secondary);
  const ctx = { primary, secondary, opts, log, maxSize, mode };
  let swapped: SwapType = SwapType.NONE;
  if (mode === "overwrite-only") {
    if (hasRequest(secondary) && (await secondaryAccepted(ctx, SwapType.TEST))) {
      await overwrite(primary, secondary, imageInfo(secondary)!.totalSize, log);
      swapped = SwapType.PERM;
    }
  } else if (mode === "scratch") {
    if (!scratch) throw new Error("swap-using-scratch needs the scratch area");
    swapped = await scratchBoot(ctx, new ScratchSwap(primary, secondary, scratch, log));
  } else {
    swapped = await moveBoot(ctx, new Swap(primary, secondary, log));
  }
  const verdict = validateSlot(primary, opts.keys, maxSize);
  if (!verdict.valid) {
    log(`Image in the primary slot is not valid! (${verdict.reason})`);
    return { kind: "no-image", reason: `primary slot: ${verdict.reason}` };
  }
  log(`booting primary image ${formatVersion(verdict.image.header.version)}`);
  return { kind: "boot", image: verdict.image, swapped };
}

interface BootContext {
  primary: FlashArea;
  secondary: FlashArea;
  opts: BootOptions;
  log: (detail: string) => void;
  maxSize: number;
  mode: SwapMode;
}

async function moveBoot(ctx: BootContext, swap: Swap): Promise<SwapType> {
  const { primary, secondary, log } = ctx;
  if (swap.inProgress()) {
    const type = trailerOf(primary).swapType as SwapType;
    if (swap.stepsDone() === 0) return restartRecorded(ctx, swap, type);
    await swap.resume();
    return type;
  }
  const type = swapTypeOf(trailerOf(primary), trailerOf(secondary));
  if (!isUpgrade(type) || !(await secondaryAccepted(ctx, type))) return SwapType.NONE;
  const swapSize = copySize(primary, secondary);
  const sectors = swap.sectorsFor(swapSize);
  if (sectors === undefined) {
    // swap_move.c swap_run: the swap is skipped, nothing is erased and the request stays in
    // the secondary; boot_perform_update still goes on with the swap type it was given.
    const { required, available } = swap.space(swapSize);
    log("Not enough free space to run swap upgrade");
    log(`required ${required} bytes but only ${available} are available`);
    await closeUpgrade(primary, type);
    return type;
  }
  if (type === SwapType.REVERT) await fixupRevert(secondary, swapSize);
  await swap.start(type, swapSize);
  return type;
}

/**
 * loader.c boot_prepare_image_for_update with a status from the primary that has no entry
 * (boot_status_is_reset) but a swap type: not boot_complete_partial_swap but
 * boot_validate_slot on the secondary, then boot_perform_update. An invalid secondary is
 * erased (or, header-less, loses its trailer page, and a revert's primary trailer goes too)
 * and the swap type is FAIL, which sets the primary's image_ok (context_boot_go); a valid
 * one runs the swap, where swap_run calls fixup_revert again for a REVERT (the secondary
 * trailer, erased by the first attempt, gets image_ok, swap_size and magic once more before
 * the first move erases it). The primary's record is kept (status source primary: no
 * swap_status_init).
 */
async function restartRecorded(ctx: BootContext, swap: Swap, type: SwapType): Promise<SwapType> {
  const { primary, secondary, log } = ctx;
  log(
    `swap-move ${swapName(type)} recorded in the primary trailer with no step done: validating the secondary again`,
  );
  if (await secondaryInvalid(ctx, type)) {
    // swap_set_image_ok: written whenever it reads unset, over a cleared trailer too.
    if (trailerOf(primary).imageOk === BootFlagState.UNSET)
      await primary.writeField(layoutOf(primary).imageOk, Uint8Array.of(1));
    return SwapType.FAIL;
  }
  if (type === SwapType.REVERT) await fixupRevert(secondary, swap.recordedSize());
  await swap.resume();
  return type;
}

/** swap-using-scratch: the status source decides between resuming, restarting a recorded swap, or the swap table. */
async function scratchBoot(ctx: BootContext, swap: ScratchSwap): Promise<SwapType> {
  const { primary, secondary, log } = ctx;
  const status = swap.readStatus();
  if (status.done > 0) {
    // boot_complete_partial_swap: no revalidation.
    await swap.run(status.swapType, swap.recordedSwapSize(), status.done);
    if (isUpgrade(status.swapType)) await swap.finish(status.swapType);
    return status.swapType;
  }
  // A status without entries but with a swap type (the scratch trailer written at the
  // start of a swap, or the primary's): that swap starts again, once the secondary
  // validates; if it does not, MCUboot sets FAIL, which marks the primary image_ok.
  const recorded = status.swapType !== SwapType.NONE;
  const type = recorded ? status.swapType : swapTypeOf(trailerOf(primary), trailerOf(secondary));
  if (!isUpgrade(type)) return SwapType.NONE;
  if (recorded)
    log(
      `swap-scratch: ${swapName(type)} recorded in the ${status.source} trailer with no step done: starting it again`,
    );
  const invalid = await secondaryInvalid(ctx, type);
  if (invalid) {
    if (!recorded) return SwapType.NONE;
    if (trailerOf(primary).imageOk === BootFlagState.UNSET)
      await primary.writeField(layoutOf(primary).imageOk, Uint8Array.of(1));
    return SwapType.FAIL;
  }
  if (await downgradeRefused(ctx, type)) return SwapType.NONE;
  await swap.run(type, copySize(primary, secondary), 0);
  await swap.finish(type);
  return type;
}

/**
 * boot_perform_update after the swap, with the swap type loader.c decided: image_ok for
 * PERM and REVERT when unset (swap_set_image_ok), copy_done for every upgrade
 * (swap_set_copy_done writes it unconditionally; over a copy_done already 01, which the
 * nRF52840 keeps as 01, the emulator writes nothing).
 */
async function closeUpgrade(primary: FlashArea, type: SwapType): Promise<void> {
  const layout = layoutOf(primary);
  const t = trailerOf(primary);
  if ((type === SwapType.PERM || type === SwapType.REVERT) && t.imageOk === BootFlagState.UNSET)
    await primary.writeField(layout.imageOk, Uint8Array.of(1));
  if (t.copyDone === BootFlagState.UNSET) await primary.writeField(layout.copyDone, Uint8Array.of(1));
}

/** boot_swap_image: the larger of the two images' sizes (the primary's only if its header magic is there). */
function copySize(primary: FlashArea, secondary: FlashArea): number {
  return Math.max(imageInfo(primary)?.totalSize ?? 0, imageInfo(secondary)?.totalSize ?? 0);
}

/** Validation, then downgrade prevention: true when the secondary may be installed. */
async function secondaryAccepted(ctx: BootContext, type: SwapType): Promise<boolean> {
  return !(await secondaryInvalid(ctx, type)) && !(await downgradeRefused(ctx, type));
}

/**
 * boot_validate_slot on the secondary: an invalid image is erased (boot_scramble_slot, the
 * whole slot). A slot whose header magic reads erased (or flagged non-bootable) is no image
 * at all: only its trailer sectors are erased (what a cut in the middle of erasing the slot
 * can leave behind), and swap-using-move also clears the primary trailer when the request
 * was a revert ("stuck revert"): the running image then stays, as if confirmed.
 */
async function secondaryInvalid(ctx: BootContext, type: SwapType): Promise<boolean> {
  const { primary, secondary, opts, log, maxSize } = ctx;
  const flags = new DataView(secondary.read(0, 20).buffer).getUint32(16, true);
  if (secondary.isErased(0, 4) || flags & ImageFlag.NON_BOOTABLE) {
    // Overwrite-only leaves the slot alone (the trailer cleanup is the swap modes' only).
    if (ctx.mode === "overwrite-only") {
      log("No bootable image in the secondary slot");
      return true;
    }
    log("No bootable image in the secondary slot: erasing its trailer");
    await secondary.eraseSector(secondary.sectorCount - 1);
    if (ctx.mode === "move" && type === SwapType.REVERT) {
      await primary.eraseSector(primary.sectorCount - 1);
      log("Cleared image 0 primary slot trailer due to stuck revert");
    }
    return true;
  }
  const verdict = validateSlot(secondary, opts.keys, maxSize);
  if (verdict.valid) return false;
  log(`Image in the secondary slot is not valid! (${verdict.reason}): erasing it`);
  for (let s = 0; s < secondary.sectorCount; s++) await secondary.eraseSector(s);
  return true;
}

/** check_downgrade_prevention (TEST and PERM only): a lower version is erased instead of installed. */
async function downgradeRefused(ctx: BootContext, type: SwapType): Promise<boolean> {
  const { primary, secondary, opts, log } = ctx;
  if (!opts.downgradePrevention || type === SwapType.REVERT) return false;
  const running = imageInfo(primary);
  const next = imageInfo(secondary);
  if (!running || !next || compareVersions(next.header.version, running.header.version) >= 0) return false;
  // loader.c: boot_validate_slot in overwrite-only, check_downgrade_prevention in the swaps.
  const what =
    ctx.mode === "overwrite-only"
      ? "Insufficient version in secondary slot"
      : "Image 0 in slot 1 erased due to downgrade prevention";
  log(
    `${what} (version ${formatVersion(next.header.version)} is lower than the running ${formatVersion(running.header.version)})`,
  );
  for (let s = 0; s < secondary.sectorCount; s++) await secondary.eraseSector(s);
  return true;
}

/**
 * bootutil_img_validate on a slot: hash and signature against the provisioned keys, and the
 * image's end (header, body and TLVs) within bootutil_max_image_size.
 */
function validateSlot(area: FlashArea, keys: readonly PublicKey[], maxSize: number): ImageVerdict {
  const verdict = validateImage(imageBytes(area), keys);
  if (verdict.image && verdict.image.totalSize > maxSize)
    return {
      valid: false,
      reason: `TLV beyond image size: the image ends at ${verdict.image.totalSize}, past the ${maxSize} bytes this upgrade mode allows`,
      image: verdict.image,
    };
  return verdict;
}

/**
 * swap_move.c fixup_revert: the primary trailer holds the only trace of a revert, and the
 * swap is about to erase it. So the secondary first gets what a permanent request looks
 * like (its trailer sector erased, then image_ok, swap_size, magic; no swap_info): a cut
 * between the primary trailer's erase and its new magic then still ends on the old image,
 * confirmed, through a PERM swap. Skipped when the secondary already has a magic.
 */
async function fixupRevert(secondary: FlashArea, swapSize: number): Promise<void> {
  if (trailerOf(secondary).magic !== BootMagicState.UNSET) return;
  const layout = layoutOf(secondary);
  await secondary.eraseSector(secondary.sectorCount - 1);
  await secondary.writeField(layout.imageOk, Uint8Array.of(1));
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, swapSize, true);
  await secondary.writeField(layout.swapSize, size);
  await secondary.writeField(layout.magic, bootMagic(MCUBOOT_MAX_ALIGN));
}
