import { Flash, type FlashResult } from "../../sim/flash.js";
import { OptionBytes, type RdpLevel } from "./option-bytes.js";
import type { Stm32Profile } from "./profiles.js";

/**
 * The memory of an STM32 as its ROM bootloader sees it, shared by the USB DFU and the USART
 * interfaces: main flash (NOR, page erase, 64-bit program), option bytes, OTP, SRAM, and the
 * system memory holding the bootloader ID. Access rules live here once: readout protection,
 * write protection (WRP areas), the WB55 secure area above SFSA, unmapped addresses.
 * Interfaces map the results onto their own status codes (errTARGET/errVENDOR, NACK).
 */

export type Region = "flash" | "option-bytes" | "otp" | "system" | "sram";

export type AccessRefusal =
  /** Not a memory the bootloader exposes (DfuSe errTARGET, USART NACK). */
  | "unmapped"
  /** Readout protection level ≥ 1 forbids it (DfuSe errVENDOR, USART NACK). */
  | "rdp"
  /** Page in a WRP area or in the WB55 secure area above SFSA. */
  | "protected"
  /** The flash controller refused (not erased, misaligned) or an injected failure. */
  | "flash-error";

export type AccessResult<T = undefined> =
  | { ok: true; value: T; busyMs: number }
  | { ok: false; refusal: AccessRefusal; address: number; detail: string };

/** An option-byte write: applies at the next reset, which the interface must trigger. */
export interface WriteEffects {
  optionBytesChanged: boolean;
}

export class Stm32Chip {
  readonly flash: Flash;
  readonly otp: Flash;
  readonly optionBytes: OptionBytes;
  readonly sram: Uint8Array;
  readonly #systemMemory: Uint8Array;

  constructor(
    readonly profile: Stm32Profile,
    seed: number,
  ) {
    const f = profile.flash;
    this.flash = new Flash(
      { base: f.base, sectors: [{ size: f.pageSize, count: f.pages }], programUnit: profile.programUnit },
      { seed, name: `${profile.name} flash` },
    );
    // OTP: programmable once per double word, never erasable (one big sector nobody may erase).
    this.otp = new Flash(
      { base: profile.otp.base, sectors: [{ size: profile.otp.size, count: 1 }], programUnit: 8 },
      { seed, name: `${profile.name} OTP` },
    );
    this.optionBytes = new OptionBytes(profile);
    this.sram = new Uint8Array(profile.sram.size);
    this.#systemMemory = new Uint8Array(profile.systemMemory.size);
    // Bootloader ID at the last-but-one byte of system memory (AN2606: 0x1FFF6FFE).
    this.#systemMemory[profile.systemMemory.size - 2] = profile.bootloaderId;
  }

  get rdpLevel(): RdpLevel {
    return this.optionBytes.rdpLevel;
  }

  regionOf(address: number, length = 1): Region | undefined {
    const p = this.profile;
    // Asked twice per block written: plain comparisons, no closure or range object per call.
    if (within(p.flash.base, p.flash.pageSize * p.flash.pages, address, length)) return "flash";
    if (within(p.optionBytes.base, p.optionBytes.size, address, length)) return "option-bytes";
    if (within(p.otp.base, p.otp.size, address, length)) return "otp";
    if (within(p.systemMemory.base, p.systemMemory.size, address, length)) return "system";
    if (within(p.sram.base, p.sram.size, address, length)) return "sram";
    return undefined;
  }

  /** Page index of a flash address. */
  pageOf(address: number): number {
    return Math.floor((address - this.profile.flash.base) / this.profile.flash.pageSize);
  }

  pageAddress(page: number): number {
    return this.profile.flash.base + page * this.profile.flash.pageSize;
  }

  /** Last page the host may touch + 1: all pages, or SFSA on a WB55. */
  get userPages(): number {
    return Math.min(this.profile.flash.pages, this.optionBytes.sfsa ?? this.profile.flash.pages);
  }

  /** Is this flash page writable and erasable by the bootloader now? */
  pageProtection(page: number): string | undefined {
    if (page >= this.userPages)
      return `page ${page} is in the secure area (SFSA 0x${(this.optionBytes.sfsa ?? 0).toString(16)})`;
    const area = this.optionBytes.isPageWriteProtected(page);
    return area && `page ${page} is write-protected (WRP ${area[0]}..${area[1]})`;
  }

  read(address: number, length: number): AccessResult<Uint8Array> {
    const region = this.regionOf(address, length);
    if (!region) return refuse("unmapped", address, `0x${hex(address)}+${length} is not mapped`);
    const p = this.profile;
    switch (region) {
      case "flash":
        if (this.rdpLevel >= 1)
          return refuse("rdp", address, `flash read refused: RDP level ${this.rdpLevel}`);
        return { ok: true, value: this.flash.peek(address, length), busyMs: 0 };
      case "option-bytes":
        return {
          ok: true,
          value: this.optionBytes.raw.subarray(
            address - p.optionBytes.base,
            address - p.optionBytes.base + length,
          ),
          busyMs: 0,
        };
      case "otp":
        return { ok: true, value: this.otp.peek(address, length), busyMs: 0 };
      case "system":
        return {
          ok: true,
          value: this.#systemMemory.slice(
            address - p.systemMemory.base,
            address - p.systemMemory.base + length,
          ),
          busyMs: 0,
        };
      case "sram":
        if (this.rdpLevel >= 1)
          return refuse("rdp", address, `SRAM read refused: RDP level ${this.rdpLevel}`);
        return {
          ok: true,
          value: this.sram.slice(address - p.sram.base, address - p.sram.base + length),
          busyMs: 0,
        };
    }
  }

  /**
   * Write through the bootloader. Flash data is padded with 0xFF to whole double words (the
   * controller programs 64 bits at a time). Option-byte writes store and report that a reset
   * must follow.
   */
  write(address: number, data: Uint8Array): AccessResult<WriteEffects> {
    const region = this.regionOf(address, data.length);
    if (!region || data.length === 0)
      return refuse("unmapped", address, `0x${hex(address)}+${data.length} is not writable memory`);
    const p = this.profile;
    if (this.rdpLevel >= 1 && region !== "option-bytes")
      return refuse("rdp", address, `write refused: RDP level ${this.rdpLevel}`);
    switch (region) {
      case "flash": {
        for (let page = this.pageOf(address); page <= this.pageOf(address + data.length - 1); page++) {
          const why = this.pageProtection(page);
          if (why) return refuse("protected", address, why);
        }
        const unit = p.programUnit;
        const start = address - ((address - p.flash.base) % unit);
        const end = Math.ceil((address + data.length - p.flash.base) / unit) * unit + p.flash.base;
        // Whole double words already (every full DfuSe block): program the data as it is.
        let padded = data;
        if (start !== address || end !== address + data.length) {
          padded = new Uint8Array(end - start).fill(0xff);
          padded.set(data, address - start);
        }
        const result = this.flash.program(start, padded);
        if (!result.ok) return flashRefusal(result);
        return {
          ok: true,
          value: { optionBytesChanged: false },
          busyMs: (padded.length / 8) * p.timing.doubleWordProgramMs,
        };
      }
      case "otp": {
        const result = this.otp.program(address, data);
        if (!result.ok) return flashRefusal(result);
        return {
          ok: true,
          value: { optionBytesChanged: false },
          busyMs: (data.length / 8) * p.timing.doubleWordProgramMs,
        };
      }
      case "option-bytes":
        if (this.rdpLevel === 2) return refuse("rdp", address, "option bytes are frozen at RDP level 2");
        this.optionBytes.store(data, address - p.optionBytes.base);
        return { ok: true, value: { optionBytesChanged: true }, busyMs: p.timing.pageEraseMs };
      case "sram": {
        const inHostRam =
          address >= p.hostRam.base && address + data.length <= p.hostRam.base + p.hostRam.size;
        if (!inHostRam)
          return refuse("unmapped", address, `0x${hex(address)} is RAM the bootloader itself uses`);
        this.sram.set(data, address - p.sram.base);
        return { ok: true, value: { optionBytesChanged: false }, busyMs: 0 };
      }
      case "system":
        return refuse("unmapped", address, "system memory is read-only");
    }
  }

  erasePage(page: number): AccessResult {
    if (!Number.isInteger(page) || page < 0 || page >= this.profile.flash.pages)
      return refuse("unmapped", this.pageAddress(Math.max(0, page)), `no flash page ${page}`);
    if (this.rdpLevel >= 1)
      return refuse("rdp", this.pageAddress(page), `erase refused: RDP level ${this.rdpLevel}`);
    const why = this.pageProtection(page);
    if (why) return refuse("protected", this.pageAddress(page), why);
    const result = this.flash.erase(page);
    if (!result.ok) return flashRefusal(result);
    return { ok: true, value: undefined, busyMs: this.profile.timing.pageEraseMs };
  }

  /** Whole user flash; refused where the part has no mass erase (WB55). */
  massErase(): AccessResult {
    if (!this.profile.massErase)
      return refuse("protected", this.profile.flash.base, `${this.profile.name} has no mass erase`);
    if (this.rdpLevel >= 1)
      return refuse("rdp", this.profile.flash.base, `mass erase refused: RDP level ${this.rdpLevel}`);
    for (let page = 0; page < this.userPages; page++) {
      if (this.pageProtection(page)) continue;
      const result = this.flash.erase(page);
      if (!result.ok) return flashRefusal(result);
    }
    return { ok: true, value: undefined, busyMs: this.profile.timing.massEraseMs };
  }

  /**
   * Readout unprotect: RDP back to level 0, which the hardware only allows together with a
   * mass erase of the user flash (and SRAM). Not possible from level 2.
   */
  readoutUnprotect(): AccessResult {
    if (this.rdpLevel === 2)
      return refuse("rdp", this.profile.optionBytes.base, "RDP level 2 cannot be undone");
    for (let page = 0; page < this.userPages; page++) {
      const result = this.flash.erase(page);
      if (!result.ok) return flashRefusal(result);
    }
    this.sram.fill(0);
    this.optionBytes.setRdpStored(0);
    return { ok: true, value: undefined, busyMs: this.profile.timing.massEraseMs };
  }

  /** Readout protect: level 1, effective after the reset that follows. */
  readoutProtect(): AccessResult {
    if (this.rdpLevel === 2)
      return refuse("rdp", this.profile.optionBytes.base, "option bytes are frozen at RDP level 2");
    this.optionBytes.setRdpStored(1);
    return { ok: true, value: undefined, busyMs: this.profile.timing.pageEraseMs };
  }

  /**
   * The application's vector table at `address`: initial SP inside SRAM (or its end), reset
   * handler a Thumb address inside flash. Anything else would hard-fault at once.
   */
  vectorTable(address: number): { sp: number; pc: number } | undefined {
    const bytes = this.regionOf(address, 8) === "flash" ? this.flash.peek(address, 8) : undefined;
    if (!bytes) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const sp = view.getUint32(0, true);
    const pc = view.getUint32(4, true);
    const s = this.profile.sram;
    const f = this.profile.flash;
    const spOk = sp > s.base && sp <= s.base + s.size;
    const pcOk = (pc & 1) === 1 && pc - 1 >= f.base && pc - 1 < f.base + f.pageSize * f.pages;
    return spOk && pcOk ? { sp, pc } : undefined;
  }
}

function within(base: number, size: number, address: number, length: number): boolean {
  return address >= base && address + length <= base + size;
}

function refuse(
  refusal: AccessRefusal,
  address: number,
  detail: string,
): { ok: false; refusal: AccessRefusal; address: number; detail: string } {
  return { ok: false, refusal, address, detail };
}

function flashRefusal(result: Extract<FlashResult, { ok: false }>) {
  return refuse(
    result.reason === "write-protected" ? "protected" : "flash-error",
    result.address,
    result.detail,
  );
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
