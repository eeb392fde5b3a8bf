import { InspectBase } from "../inspect.js";
import type { Stm32Chip } from "./chip.js";
import { describeMode, type Stm32Device, type Stm32Mode } from "./device.js";
import type { Cpu2 } from "./fus/cpu2.js";
import type { Stm32Profile } from "./profiles.js";
import { usartRom } from "./usart/port.js";
import type { UsartQuirks } from "./usart/quirks.js";

/** An emulated STM32 seen from inside: memories, boot mode, CPU2 (WB55), the USART ROM's quirks and log. */
export class Stm32Inspect extends InspectBase<Stm32Device> {
  get family(): "stm32l432" | "stm32wb55" {
    return this.dev.family;
  }

  get profile(): Stm32Profile {
    return this.dev.profile;
  }

  /** Flash, OTP, option bytes and readout protection. */
  get chip(): Stm32Chip {
    return this.dev.chip;
  }

  get mode(): Stm32Mode {
    return this.dev.mode;
  }

  /** The mode in words ("bootloader", "application at 0x8000000", "halted: ..."). */
  get state(): string {
    return describeMode(this.dev.mode);
  }

  /** WB55: CPU2 (FUS, wireless stack, its NV state); undefined on an L4. */
  get fus(): Cpu2 | undefined {
    return this.dev.fus;
  }

  /** A system reset (as after an option-byte launch). */
  systemReset(reason: string): Promise<void> {
    return this.dev.systemReset(reason);
  }

  /** How often the USART bootloader logged `kind` (e.g. "usart.write"). */
  usartEventCount(kind: string): number {
    return usartRom(this.dev).eventCount(kind);
  }

  /**
   * Runs `work` with the USART bootloader switched to another documented personality
   * (e.g. Erase 0x43 instead of 0x44), restoring it after.
   */
  async withUsartQuirks<T>(quirks: Partial<UsartQuirks>, work: () => Promise<T>): Promise<T> {
    const current = usartRom(this.dev).quirks;
    const saved = { ...current };
    Object.assign(current, quirks);
    try {
      return await work();
    } finally {
      Object.assign(current, saved);
    }
  }
}
