import {
  BOOT_MAX_IMG_SECTORS,
  BootFlagState,
  BootMagicState,
  bootMagic,
  SwapType,
} from "../../protocol/mcuboot/index.js";
import { copyRegion, type FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN, NRF52840_FLASH } from "./profile.js";
import { layoutOf, TRAILER_SIZE, trailerOf } from "./slots.js";

/**
 * MCUboot's swap-using-move (docs/design.md, swap_move.c), as a list of sector copies: every
 * image sector of the primary moves up by one (top down), then for each index i the new
 * sector i comes from the secondary and the old one (now at i+1) goes to secondary i. Needs
 * one spare sector in the primary, no scratch. (swap-using-scratch is swap-scratch.ts.)
 *
 * Progress lives in the primary slot's trailer, as MCUboot writes it (swap_misc.c
 * swap_status_init, swap_move.c, bootutil_misc.c boot_write_status): the trailer sector is
 * erased, then swap_info (image << 4 | type), image_ok when the secondary's is set (a PERM
 * request, or a revert after its fixup), swap_size (the larger image's size in bytes) and
 * the magic last, so a GOOD magic means the record is whole. Then the secondary's trailer
 * sector is erased (the request is consumed) and every finished step writes one status
 * entry of one write unit: its first byte is the step's state number (1, 2), the rest
 * erased. The n move steps go to entries 0..n-1 and the 2 swap steps of sector i to
 * BOOT_MAX_IMG_SECTORS + 2i + {0, 1}. Every step is idempotent given the entries before
 * it, so a power cut before any flash operation resumes on the next boot from the first
 * missing entry; copy_done (and image_ok for PERM/REVERT) close the swap.
 */
export class Swap {
  constructor(
    readonly primary: FlashArea,
    readonly secondary: FlashArea,
    private readonly log: (detail: string) => void,
  ) {}

  /**
   * swap_move.c swap_run's check before a new swap: the image sectors (find_last_idx, at
   * least 1) must end before the first trailer sector, less the spare sector the move needs.
   */
  space(bytes: number): { sectors: number; required: number; available: number } {
    const size = this.primary.sectorSize;
    const sectors = Math.max(1, Math.ceil(bytes / size));
    const firstTrailer = this.primary.sectorCount - Math.ceil(TRAILER_SIZE / size);
    return { sectors, required: (sectors + 1) * size, available: firstTrailer * size };
  }

  /** Image sectors a swap of `bytes` moves; undefined when swap_run finds "Not enough free space". */
  sectorsFor(bytes: number): number | undefined {
    const { sectors, required, available } = this.space(bytes);
    return required <= available ? sectors : undefined;
  }

  /** Records a new swap of `swapSize` bytes (the larger image) in the primary trailer, then runs it. */
  async start(type: SwapType, swapSize: number): Promise<void> {
    const layout = layoutOf(this.primary);
    const sectors = this.sectorsFor(swapSize)!;
    this.log(`swap-move ${swapName(type)} over ${sectors} sectors: start`);
    const secondaryOk = trailerOf(this.secondary).imageOk === BootFlagState.SET;
    await this.primary.eraseSector(this.primary.sectorCount - 1);
    await this.primary.writeField(layout.swapInfo, Uint8Array.of((0 << 4) | type));
    if (secondaryOk) await this.primary.writeField(layout.imageOk, Uint8Array.of(1));
    await this.primary.writeField(layout.swapSize, u32(swapSize));
    await this.primary.writeField(layout.magic, bootMagic(MCUBOOT_MAX_ALIGN));
    await this.#run(type, sectors, 0);
  }

  /**
   * swap_status_source: the primary trailer holds a swap that has not finished (magic GOOD,
   * copy_done unset) and the secondary's request is consumed (its magic not GOOD). With the
   * request still there, the swap has not touched an image yet and starts again.
   */
  inProgress(): boolean {
    const t = trailerOf(this.primary);
    return (
      t.magic === BootMagicState.GOOD &&
      t.copyDone === BootFlagState.UNSET &&
      trailerOf(this.secondary).magic !== BootMagicState.GOOD
    );
  }

  /** Status entries the recorded swap has written (0: recorded, no step finished). */
  stepsDone(): number {
    const t = trailerOf(this.primary);
    return this.#doneSteps(Math.max(1, Math.ceil(t.swapSize / this.primary.sectorSize)));
  }

  /** The recorded swap's swap_size. */
  recordedSize(): number {
    return trailerOf(this.primary).swapSize;
  }

  /** Continues the recorded swap from its first missing status entry. */
  async resume(): Promise<void> {
    const t = trailerOf(this.primary);
    const sectors = Math.max(1, Math.ceil(t.swapSize / this.primary.sectorSize));
    const done = this.#doneSteps(sectors);
    this.log(`swap-move ${swapName(t.swapType as SwapType)}: resuming at step ${done} of ${3 * sectors}`);
    await this.#run(t.swapType as SwapType, sectors, done);
  }

  #doneSteps(sectors: number): number {
    let k = 0;
    while (k < 3 * sectors && !this.primary.isErased(this.#entryOffset(k, sectors), NRF52840_FLASH.writeSize))
      k++;
    return k;
  }

  /** Where step `step` of an n-sector swap records itself in the primary slot. */
  #entryOffset(step: number, n: number): number {
    return layoutOf(this.primary).status + statusEntry(step, n).index * NRF52840_FLASH.writeSize;
  }

  async #run(type: SwapType, n: number, from: number): Promise<void> {
    const layout = layoutOf(this.primary);
    // The request in the secondary trailer is consumed once the primary holds the record:
    // boot_move_sector_up erases it (swap_erase_trailer_sectors, erased or not) whenever it
    // runs the first move (status index 0), a new swap or one restarted with no entry.
    if (from === 0) await this.secondary.eraseSector(this.secondary.sectorCount - 1);
    for (let step = from; step < 3 * n; step++) {
      await this.#step(step, n);
      await this.primary.writeField(this.#entryOffset(step, n), Uint8Array.of(statusEntry(step, n).state));
    }
    const t = trailerOf(this.primary);
    if ((type === SwapType.PERM || type === SwapType.REVERT) && t.imageOk === BootFlagState.UNSET)
      await this.primary.writeField(layout.imageOk, Uint8Array.of(1));
    if (t.copyDone === BootFlagState.UNSET) await this.primary.writeField(layout.copyDone, Uint8Array.of(1));
    this.log(`swap-move ${swapName(type)}: done`);
  }

  /** Step `step` of 3n: each one copies one sector whose source the earlier steps left intact. */
  async #step(step: number, n: number): Promise<void> {
    const P = this.primary;
    const S = this.secondary;
    if (step < n) {
      const j = n - 1 - step;
      await this.#copy(P, j, P, j + 1);
    } else {
      const i = Math.floor((step - n) / 2);
      if ((step - n) % 2 === 0) await this.#copy(S, i, P, i);
      else await this.#copy(P, i + 1, S, i);
    }
  }

  /** boot_erase_region of the destination sector, then boot_copy_region (1 KB chunks, every one written). */
  async #copy(src: FlashArea, srcSector: number, dst: FlashArea, dstSector: number): Promise<void> {
    const size = src.sectorSize;
    await dst.eraseSector(dstSector);
    await copyRegion(src, srcSector * size, dst, dstSector * size, size);
  }
}

/**
 * The status entry of step `step` of an n-sector swap-using-move: its index in the status
 * area (in write units) and the state number MCUboot writes there (boot_status_internal_off).
 */
export function statusEntry(step: number, n: number): { index: number; state: number } {
  if (step < n) return { index: step, state: 1 };
  const k = step - n;
  return { index: BOOT_MAX_IMG_SECTORS + k, state: (k % 2) + 1 };
}

export function swapName(type: SwapType | number): string {
  return (["", "none", "test", "perm", "revert", "fail"][type] ?? `0x${type.toString(16)}`).toUpperCase();
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}
