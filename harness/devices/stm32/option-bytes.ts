import type { Stm32Profile } from "./profiles.js";

/**
 * Option bytes as the flash controller stores them: 32-bit words, each followed by its
 * complement (8 bytes per word, fact sheet §5.5). Writes go to the stored copy; the chip
 * only acts on them after an option-byte reload (a system reset), as on the real part.
 *
 * Word offsets shared by L4 and WB: 0x00 OPTR (RDP[7:0], nBOOT1 bit 23, nSWBOOT0 bit 26,
 * nBOOT0 bit 27), 0x18 WRP1AR and 0x20 WRP1BR (start page [7:0], end page [23:16]; an area
 * with start > end protects nothing). WB55 only: 0x70 SFSA[7:0], 0x78 SBRV[17:0].
 * (L4 layout per RM0394 [M]; WB per qFlipper optionbytes.h [V].)
 */
export const RDP_LEVEL0 = 0xaa;
export const RDP_LEVEL2 = 0xcc;

export const OB = {
  OPTR: 0x00,
  WRP1AR: 0x18,
  WRP1BR: 0x20,
  SFSA: 0x70,
  SBRV: 0x78,
} as const;

const OPTR_NBOOT1 = 1 << 23;
const OPTR_NSWBOOT0 = 1 << 26;
const OPTR_NBOOT0 = 1 << 27;

/** Factory defaults: RDP level 0, boot from the BOOT0 pin, WRP areas disabled. */
function factoryWords(profile: Stm32Profile): Map<number, number> {
  const words = new Map<number, number>([
    [OB.OPTR, 0xffef_f8aa],
    [OB.WRP1AR, 0x0000_00ff],
    [OB.WRP1BR, 0x0000_00ff],
  ]);
  if (profile.family === "stm32wb55") {
    // SFSA 0xD0: secure area from 0x080D0000 (BLE full stack install address); SBRV 0x32800.
    words.set(OB.SFSA, 0x0000_00d0);
    words.set(OB.SBRV, 0x0003_2800);
  }
  return words;
}

export type RdpLevel = 0 | 1 | 2;

interface DecodedOptionBytes {
  rdpLevel: RdpLevel;
  wrp: Array<[number, number]>;
  sfsa: number | undefined;
}

export class OptionBytes {
  readonly size: number;
  #stored: Uint8Array;
  #active: Uint8Array;
  /** What the active words decode to; the chip asks for every page it writes, so decoded once per reload. */
  #decoded: DecodedOptionBytes | undefined;

  constructor(readonly profile: Stm32Profile) {
    this.size = profile.optionBytes.size;
    this.#stored = new Uint8Array(this.size).fill(0xff);
    for (let off = 0; off + 8 <= this.size; off += 8) writeWord(this.#stored, off, 0xffff_ffff);
    for (const [off, value] of factoryWords(profile))
      if (off + 8 <= this.size) writeWord(this.#stored, off, value);
    this.#active = this.#stored.slice();
  }

  /** The stored bytes (what a memory read of the option-byte area returns). */
  get raw(): Uint8Array {
    return this.#stored.slice();
  }

  /** Replace the stored bytes (a write to the option-byte area); takes effect at reload. */
  store(bytes: Uint8Array, offset = 0): void {
    if (offset < 0 || offset + bytes.length > this.size)
      throw new RangeError(
        `option bytes: ${bytes.length} bytes at +0x${offset.toString(16)} exceed ${this.size}`,
      );
    this.#stored.set(bytes, offset);
  }

  /** Set one stored word (value and complement). */
  setWord(offset: number, value: number): void {
    writeWord(this.#stored, offset, value);
  }

  storedWord(offset: number): number {
    return readWord(this.#stored, offset);
  }

  /** What a reset does: the chip now acts on the stored values. */
  reload(): void {
    this.#active = this.#stored.slice();
    this.#decoded = undefined;
  }

  activeWord(offset: number): number {
    if (offset + 8 > this.size) return 0xffff_ffff;
    const value = readWord(this.#active, offset);
    const complement = readWord(this.#active, offset + 4);
    // A word whose complement does not match loads as "option byte error": the part falls
    // back to the most protective reading (RDP level 1), like the hardware's OPTVERR path.
    if ((value ^ complement) >>> 0 !== 0xffff_ffff) return offset === OB.OPTR ? 0xffef_f8ff : 0xffff_ffff;
    return value;
  }

  get rdpLevel(): RdpLevel {
    return this.#decode().rdpLevel;
  }

  setRdpStored(level: RdpLevel): void {
    const byte = level === 0 ? RDP_LEVEL0 : level === 2 ? RDP_LEVEL2 : 0xbb;
    this.setWord(OB.OPTR, ((this.storedWord(OB.OPTR) & ~0xff) | byte) >>> 0);
  }

  get nBoot0(): boolean {
    return (this.activeWord(OB.OPTR) & OPTR_NBOOT0) !== 0;
  }

  get nSwBoot0(): boolean {
    return (this.activeWord(OB.OPTR) & OPTR_NSWBOOT0) !== 0;
  }

  get nBoot1(): boolean {
    return (this.activeWord(OB.OPTR) & OPTR_NBOOT1) !== 0;
  }

  /** Write-protected page ranges [start, end] (inclusive page numbers) in force. */
  get writeProtectedPages(): Array<[number, number]> {
    return this.#decode().wrp.map(([start, end]) => [start, end]);
  }

  /** WB55: first page of the secure (CPU2) area; pages from here on are not writable/erasable by the host. */
  get sfsa(): number | undefined {
    return this.#decode().sfsa;
  }

  /** Is `page` inside a write-protected area in force? (No array per call: asked for every page written.) */
  isPageWriteProtected(page: number): [number, number] | undefined {
    for (const area of this.#decode().wrp) if (page >= area[0] && page <= area[1]) return area;
    return undefined;
  }

  #decode(): DecodedOptionBytes {
    if (this.#decoded) return this.#decoded;
    const rdp = this.activeWord(OB.OPTR) & 0xff;
    const wrp: Array<[number, number]> = [];
    for (const off of [OB.WRP1AR, OB.WRP1BR]) {
      const w = this.activeWord(off);
      const start = w & 0xff;
      const end = (w >>> 16) & 0xff;
      if (start <= end) wrp.push([start, end]);
    }
    this.#decoded = {
      rdpLevel: rdp === RDP_LEVEL0 ? 0 : rdp === RDP_LEVEL2 ? 2 : 1,
      wrp,
      sfsa: this.profile.family === "stm32wb55" ? this.activeWord(OB.SFSA) & 0xff : undefined,
    };
    return this.#decoded;
  }
}

function writeWord(bytes: Uint8Array, offset: number, value: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, ~value >>> 0, true);
}

function readWord(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}
