import {
  BootMagicState,
  bootMagic,
  compareVersions,
  formatVersion,
  type ParsedImage,
  type PublicKey,
  SwapType,
  validateImage,
} from "../../protocol/mcuboot/index.js";
import type { FlashArea } from "./flash-area.js";
import { hasRequest, overwrite } from "./overwrite.js";
import { MCUBOOT_MAX_ALIGN, type SwapMode } from "./profile.js";
import { imageInfo, layoutOf, swapTypeOf, trailerOf } from "./slots.js";
import { Swap, swapName } from "./swap.js";

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

/**
 * MCUboot's decisions on one boot (loader.c, design.md "High-level operation"):
 * 1. an interrupted swap resumes from its status, without revalidating;
 * 2. a TEST/PERM/REVERT request is honoured only if the secondary validates against the
 *    provisioned keys; otherwise the whole secondary slot is erased and nothing swaps;
 * 3. the primary is validated (BOOT_VALIDATE_SLOT0) before it is started.
 */
export async function bootDecide(
  primary: FlashArea,
  secondary: FlashArea,
  opts: BootOptions,
  log: (detail: string) => void,
  scratch?: FlashArea,
): Promise<BootOutcome> {
  const swap = new Swap(primary, secondary, log, opts.mode === "scratch" ? "scratch" : "move", scratch);
  let swapped: SwapType = SwapType.NONE;
  if (opts.mode === "overwrite-only") {
    if (hasRequest(secondary)) {
      const refusal = secondaryRefusal(primary, secondary, SwapType.TEST, opts);
      if (refusal) {
        log(`Image in the secondary slot is not valid! (${refusal}): erasing it`);
        for (let s = 0; s < secondary.sectorCount; s++) await secondary.eraseSector(s);
      } else {
        await overwrite(primary, secondary, imageInfo(secondary)!.totalSize, log);
        swapped = SwapType.PERM;
      }
    }
  } else if (swap.inProgress()) {
    swapped = trailerOf(primary).swapType as SwapType;
    await swap.resume();
  } else {
    const type = swapTypeOf(trailerOf(primary), trailerOf(secondary));
    if (type !== SwapType.NONE) {
      const refusal = secondaryRefusal(primary, secondary, type, opts);
      if (refusal) {
        log(`Image in the secondary slot is not valid! (${refusal}): erasing it`);
        for (let s = 0; s < secondary.sectorCount; s++) await secondary.eraseSector(s);
      } else {
        const swapSize = Math.max(imageInfo(primary)?.totalSize ?? 0, imageInfo(secondary)?.totalSize ?? 0);
        if (swap.sectorsFor(swapSize) === undefined) {
          log(`${swapName(type)}: images too large for swap-${swap.plan}; erasing the secondary`);
          for (let s = 0; s < secondary.sectorCount; s++) await secondary.eraseSector(s);
        } else {
          // MCUboot does this for swap-using-move; the emulated scratch swap erases the primary
          // trailer at its start too, so it needs the same protection.
          if (type === SwapType.REVERT) await fixupRevert(secondary, swapSize);
          await swap.start(type, swapSize);
          swapped = type;
        }
      }
    }
  }
  const verdict = validateImage(primary.read(0, primary.size), opts.keys);
  if (!verdict.valid) return { kind: "no-image", reason: `primary slot: ${verdict.reason}` };
  log(`booting primary image ${formatVersion(verdict.image.header.version)}`);
  return { kind: "boot", image: verdict.image, swapped };
}

function secondaryRefusal(
  primary: FlashArea,
  secondary: FlashArea,
  type: SwapType,
  opts: BootOptions,
): string | undefined {
  const verdict = validateImage(secondary.read(0, secondary.size), opts.keys);
  if (!verdict.valid) return verdict.reason;
  if (opts.downgradePrevention && type !== SwapType.REVERT) {
    const running = imageInfo(primary);
    if (running && compareVersions(verdict.image.header.version, running.header.version) < 0)
      return `version ${formatVersion(verdict.image.header.version)} is lower than the running ${formatVersion(running.header.version)}`;
  }
  return undefined;
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
