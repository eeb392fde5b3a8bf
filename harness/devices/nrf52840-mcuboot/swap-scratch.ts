import { BootFlagState, BootMagicState, bootMagic, SwapType } from "../../protocol/mcuboot/index.js";
import { copyRegion, type FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN, NRF52840_FLASH } from "./profile.js";
import { layoutOf, recordedSwapType, SCRATCH_TRAILER_SIZE, TRAILER_SIZE, trailerOf } from "./slots.js";
import { swapName } from "./swap.js";

const W = NRF52840_FLASH.writeSize;

/** Where MCUboot reads a swap's status from (swap_scratch.c boot_status_tables). */
export type StatusSource = "none" | "primary" | "scratch";

/** One swap operation: `count` sectors from `first`, moved through the scratch area. */
interface Chunk {
  first: number;
  count: number;
}

/**
 * MCUboot's swap-using-scratch (swap_scratch.c), as MCUboot runs it (facts from the source,
 * not copied):
 *
 * - The image sectors are swapped from the last one down, as many at a time as the scratch
 *   area holds (boot_copy_sz: 2 sectors with this board's 8 KB scratch). Each such operation
 *   has 3 states: secondary → scratch, primary → secondary, scratch → primary; each writes
 *   one status entry (state 1, 2, 3) at 3 × operation + state − 1.
 * - First operation, first state: the scratch area is erased and gets a trailer
 *   (swap_status_init: swap_info, image_ok when the secondary's is set, swap_size, magic),
 *   "a temporary place to store the swap-type while we erase the primary trailer". When the
 *   images stay out of the primary's trailer sector, the primary trailer is then erased and
 *   initialised the same way, the scratch erased again, and the status goes to the primary.
 * - When the images reach into the trailer sector (`use_scratch`), that operation copies
 *   only up to the trailer and keeps its first two status entries in the scratch trailer;
 *   its last state erases the primary trailer sector, copies those entries and the trailer
 *   fields (image_ok, swap_info, swap_size, magic) from the scratch to the primary, writes
 *   its third entry there and erases the scratch backwards (its trailer first).
 * - The secondary's trailer (the request) is erased at the first operation's second state.
 * - On boot, the status source is the scratch when its magic is GOOD (unless the primary
 *   holds a finished swap), else the primary (boot_status_tables). A status with no entry
 *   written but a swap_info makes MCUboot start that swap type again from the beginning
 *   (loader.c boot_prepare_image_for_update): this is what keeps a revert whose primary
 *   trailer was erased resumable; swap_move.c's fixup_revert has no counterpart here.
 */
export class ScratchSwap {
  constructor(
    readonly primary: FlashArea,
    readonly secondary: FlashArea,
    readonly scratch: FlashArea,
    private readonly log: (detail: string) => void,
  ) {}

  /** swap_status_source (swap_scratch.c boot_status_tables, first match wins). */
  statusSource(): StatusSource {
    const p = trailerOf(this.primary);
    const scratchGood = trailerOf(this.scratch).magic === BootMagicState.GOOD;
    if (p.magic === BootMagicState.GOOD && !scratchGood)
      return p.copyDone === BootFlagState.UNSET ? "primary" : "none";
    if (scratchGood) return "scratch";
    if (p.magic === BootMagicState.UNSET && p.copyDone === BootFlagState.UNSET) return "primary";
    return "none";
  }

  /**
   * swap_read_status: the steps done (written status entries before the first erased one,
   * swap_read_status_bytes) and the swap type recorded in the source's swap_info.
   */
  readStatus(): { source: StatusSource; done: number; swapType: SwapType } {
    const source = this.statusSource();
    if (source === "none") return { source, done: 0, swapType: SwapType.NONE };
    const area = source === "scratch" ? this.scratch : this.primary;
    const max = source === "scratch" ? 3 : 3 * 128;
    const off = statusOffset(area, source === "scratch");
    let found = false;
    let foundIdx = 0;
    for (let i = 0; i < max; i++) {
      if (area.isErased(off + i * W, 1)) {
        if (found && !foundIdx) foundIdx = i;
      } else if (!found) found = true;
      else if (foundIdx) {
        this.log("Detected inconsistent status!");
        break;
      }
    }
    const done = found ? foundIdx || max : 0;
    return { source, done, swapType: recordedSwapType(trailerOf(area)) };
  }

  /** boot_find_status: the swap_size of the trailer holding the swap (the scratch's if its magic is GOOD). */
  recordedSwapSize(): number {
    const s = trailerOf(this.scratch);
    return s.magic === BootMagicState.GOOD ? s.swapSize : trailerOf(this.primary).swapSize;
  }

  /** The operations a swap of `copySize` bytes makes (find_last_sector_idx, boot_copy_sz). */
  chunks(copySize: number): Chunk[] {
    const size = this.primary.sectorSize;
    const perOp = Math.max(1, Math.floor(this.scratch.size / size));
    const out: Chunk[] = [];
    for (let last = Math.ceil(copySize / size) - 1; last >= 0; ) {
      const first = Math.max(0, last - perOp + 1);
      out.push({ first, count: last - first + 1 });
      last = first - 1;
    }
    return out;
  }

  /** Runs the swap of `copySize` bytes from step `from` (3 per operation; 0 = a new swap). */
  async run(type: SwapType, copySize: number, from: number): Promise<void> {
    const chunks = this.chunks(copySize);
    this.log(
      from === 0
        ? `swap-scratch ${swapName(type)} over ${chunks.length} operations of up to ${this.scratch.size / this.primary.sectorSize} sectors: start`
        : `swap-scratch ${swapName(type)}: resuming at step ${from} of ${3 * chunks.length}`,
    );
    for (let step = from; step < 3 * chunks.length; step++)
      await this.#step(type, copySize, Math.floor(step / 3), chunks[Math.floor(step / 3)]!, step % 3);
  }

  /** boot_perform_update / boot_complete_partial_swap after the swap: image_ok for PERM and REVERT, copy_done. */
  async finish(type: SwapType): Promise<void> {
    const layout = layoutOf(this.primary);
    const t = trailerOf(this.primary);
    if ((type === SwapType.PERM || type === SwapType.REVERT) && t.imageOk === BootFlagState.UNSET)
      await this.primary.writeField(layout.imageOk, Uint8Array.of(1));
    if (t.copyDone === BootFlagState.UNSET) await this.primary.writeField(layout.copyDone, Uint8Array.of(1));
    this.log(`swap-scratch ${swapName(type)}: done`);
  }

  /** boot_swap_sectors, one state of operation `idx` (0-based). */
  async #step(type: SwapType, copySize: number, idx: number, chunk: Chunk, part: number): Promise<void> {
    const P = this.primary;
    const S = this.secondary;
    const X = this.scratch;
    const sector = P.sectorSize;
    const imgOff = chunk.first * sector;
    const sz = chunk.count * sector;
    const firstTrailerSector = P.sectorCount - Math.ceil(TRAILER_SIZE / sector);
    let copySz = sz;
    if (imgOff + sz > firstTrailerSector * sector)
      copySz = Math.min(P.size - imgOff - TRAILER_SIZE, statusOffset(X, true));
    const useScratch = idx === 0 && copySz !== sz;
    const entry = 3 * idx + part;
    const writeStatus = async (toScratch: boolean) => {
      const area = toScratch ? X : P;
      await area.writeField(statusOffset(area, toScratch) + entry * W, Uint8Array.of(part + 1));
    };
    if (part === 0) {
      await eraseAll(X);
      if (idx === 0) {
        await this.#statusInit(X, type, copySize);
        if (!useScratch) {
          await scrambleTrailer(P);
          await this.#statusInit(P, type, copySize);
          await eraseAll(X);
        }
      }
      await copyRegion(S, imgOff, X, 0, copySz);
      await writeStatus(useScratch);
    } else if (part === 1) {
      let eraseSz = sz;
      if (idx === 0) {
        await scrambleTrailer(S);
        if (useScratch) eraseSz = firstTrailerSector * sector - imgOff;
      }
      await eraseRange(S, imgOff, eraseSz);
      await copyRegion(P, imgOff, S, imgOff, copySz);
      await writeStatus(useScratch);
    } else {
      let eraseSz = sz;
      if (useScratch) {
        await scrambleTrailer(P);
        eraseSz = firstTrailerSector * sector - imgOff;
      }
      await eraseRange(P, imgOff, eraseSz);
      await copyRegion(X, 0, P, imgOff, copySz);
      if (useScratch) {
        // The first two entries, kept in the scratch, go to the primary's status area.
        await copyRegion(X, statusOffset(X, true), P, statusOffset(P, false), 2 * W);
        const s = trailerOf(X);
        const layout = layoutOf(P);
        if (s.imageOk === BootFlagState.SET) await P.writeField(layout.imageOk, Uint8Array.of(1));
        const recorded = recordedSwapType(s);
        if (recorded !== SwapType.NONE) await P.writeField(layout.swapInfo, Uint8Array.of(recorded));
        await P.writeField(layout.swapSize, u32(copySize));
        await P.writeField(layout.magic, bootMagic(MCUBOOT_MAX_ALIGN));
      }
      await writeStatus(false);
      // "Scratch trailers MUST be erased backwards": its magic goes first.
      if (useScratch) await eraseAll(X, true);
    }
  }

  /** swap_misc.c swap_status_init on `area`: swap_info, image_ok if the secondary's is set, swap_size, magic. */
  async #statusInit(area: FlashArea, type: SwapType, copySize: number): Promise<void> {
    const layout = layoutOf(area);
    if (type !== SwapType.NONE) await area.writeField(layout.swapInfo, Uint8Array.of((0 << 4) | type));
    if (trailerOf(this.secondary).imageOk === BootFlagState.SET)
      await area.writeField(layout.imageOk, Uint8Array.of(1));
    await area.writeField(layout.swapSize, u32(copySize));
    await area.writeField(layout.magic, bootMagic(MCUBOOT_MAX_ALIGN));
  }
}

/** boot_status_off: the status area of a slot (3 × 128 entries) or of the scratch (3 entries). */
export function statusOffset(area: FlashArea, isScratch: boolean): number {
  return area.size - (isScratch ? SCRATCH_TRAILER_SIZE : TRAILER_SIZE);
}

/** swap_scramble_trailer_sectors: the sectors holding the trailer, last first. */
async function scrambleTrailer(area: FlashArea): Promise<void> {
  const n = Math.ceil(TRAILER_SIZE / area.sectorSize);
  for (let s = area.sectorCount - 1; s >= area.sectorCount - n; s--) await area.eraseSector(s);
}

async function eraseAll(area: FlashArea, backwards = false): Promise<void> {
  for (let i = 0; i < area.sectorCount; i++) await area.eraseSector(backwards ? area.sectorCount - 1 - i : i);
}

/** boot_erase_region over whole sectors. */
async function eraseRange(area: FlashArea, off: number, size: number): Promise<void> {
  for (let at = off; at < off + size; at += area.sectorSize) await area.eraseSector(at / area.sectorSize);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}
