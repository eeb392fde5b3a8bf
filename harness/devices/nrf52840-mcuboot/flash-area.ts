import { type ErrorCategory, HilError } from "../../seams/errors.js";
import type { Flash } from "../../sim/flash.js";
import { NRF52840_FLASH, NRF52840_TIMING, type Nrf52840Timing, type Partition } from "./profile.js";

/** loader.c BUF_SZ: boot_copy_region's buffer (1024, BOOT_MAX_ALIGN being smaller). */
export const BOOT_COPY_BUF_SZ = 1024;

/**
 * loader.c boot_copy_region into erased flash: read and write `len` bytes in BUF_SZ chunks
 * (the last one shorter), one flash write per chunk, all-0xFF chunks included, as the
 * bootloader does; so a power cut before operation N lands where it lands on a board.
 */
export async function copyRegion(
  src: FlashArea,
  srcOff: number,
  dst: FlashArea,
  dstOff: number,
  len: number,
): Promise<void> {
  for (let done = 0; done < len; done += BOOT_COPY_BUF_SZ) {
    const n = Math.min(BOOT_COPY_BUF_SZ, len - done);
    await dst.write(dstOff + done, src.read(srcOff + done, n));
  }
}

/** Thrown when the flash refuses an operation (a flash-fail fault, a driver bug). */
export class FlashAreaError extends HilError {
  static override readonly category: ErrorCategory = "harness";
  constructor(message: string) {
    super(message);
    this.name = "FlashAreaError";
  }
}

/**
 * One partition as MCUboot's flash_area API sees it: offsets relative to the partition,
 * whole-page erases, word-aligned writes, and the time of each operation (the datasheet's
 * or the board's timing overlay) spent
 * on the device clock (so a power cut can land in the middle of a long erase sequence).
 */
export class FlashArea {
  constructor(
    readonly flash: Flash,
    readonly part: Partition,
    readonly name: string,
    private readonly busy: (ms: number) => Promise<void>,
    /** The board's erase and write times (its timing overlay, else the datasheet's). */
    readonly timing: Pick<Nrf52840Timing, "pageEraseMs" | "wordWriteMs"> = NRF52840_TIMING,
  ) {}

  get size(): number {
    return this.part.size;
  }

  get sectorSize(): number {
    return NRF52840_FLASH.pageSize;
  }

  get sectorCount(): number {
    return this.part.size / NRF52840_FLASH.pageSize;
  }

  read(off: number, len: number): Uint8Array {
    return this.flash.read(this.flash.base + this.part.offset + off, len);
  }

  isErased(off: number, len: number): boolean {
    return this.flash.isErased(this.flash.base + this.part.offset + off, len);
  }

  async eraseSector(index: number): Promise<void> {
    const address = this.flash.base + this.part.offset + index * this.sectorSize;
    const result = this.flash.eraseRange(address, this.sectorSize);
    await this.busy(this.timing.pageEraseMs);
    if (!result.ok)
      throw new FlashAreaError(`${this.name}: erase of sector ${index} failed: ${result.detail}`);
  }

  async write(off: number, data: Uint8Array): Promise<void> {
    const result = this.flash.program(this.flash.base + this.part.offset + off, data);
    await this.busy((data.length / NRF52840_FLASH.writeSize) * this.timing.wordWriteMs);
    if (!result.ok)
      throw new FlashAreaError(
        `${this.name}: write at 0x${off.toString(16)}+${data.length} failed: ${result.detail}`,
      );
  }

  /** One field of the trailer: `value` padded with the erased value to a whole write unit. */
  async writeField(off: number, value: Uint8Array): Promise<void> {
    const unit = Math.ceil(value.length / NRF52840_FLASH.writeSize) * NRF52840_FLASH.writeSize;
    const data = new Uint8Array(unit).fill(this.flash.erasedValue);
    data.set(value);
    await this.write(off, data);
  }
}
