import type { TrailerState } from "../../protocol/mcuboot/index.js";
import type { Flash } from "../../sim/flash.js";
import { InspectBase } from "../inspect.js";
import type { Nrf52840McubootDevice, Nrf52840State } from "./device.js";
import type { FlashArea } from "./flash-area.js";
import type { McubootLayout } from "./profile.js";
import { trailerOf } from "./slots.js";
import { sweepDoubleCuts, sweepSwapCuts } from "./swap-sweep.js";

/** An emulated nRF52840 + MCUboot seen from inside: flash, slots and trailers, what MCUboot booted. */
export class Nrf52840Inspect extends InspectBase<Nrf52840McubootDevice> {
  get family(): "nrf52840" {
    return this.dev.family;
  }

  get flash(): Flash {
    return this.dev.flash;
  }

  get layout(): McubootLayout {
    return this.dev.layout;
  }

  get primary(): FlashArea {
    return this.dev.primary;
  }

  get secondary(): FlashArea {
    return this.dev.secondary;
  }

  get state(): Nrf52840State {
    return this.dev.state;
  }

  /** The version MCUboot booted last, undefined when nothing runs. */
  get runningVersion(): string | undefined {
    return this.dev.runningVersion;
  }

  /** `length` bytes from the start of slot 0 (primary) or 1 (secondary). */
  slot(slot: 0 | 1, length: number): Uint8Array {
    return (slot === 0 ? this.dev.primary : this.dev.secondary).read(0, length);
  }

  trailers(): { primary: TrailerState; secondary: TrailerState } {
    return { primary: trailerOf(this.dev.primary), secondary: trailerOf(this.dev.secondary) };
  }

  /**
   * With the board powered off and a swap due: a cut before each flash operation of the
   * swap, `check` after each (harness/devices/nrf52840-mcuboot/swap-sweep.ts).
   */
  sweepSwapCuts(
    check: (n: number) => Promise<string | undefined>,
    opts: { afterCleanSwap?: (total: number) => void } = {},
  ): Promise<{ total: number; failures: string[] }> {
    return sweepSwapCuts(this.dev, check, opts);
  }

  /** Two cuts in one swap, at the pairs `pairs(total)` picks; `check` on the end state. */
  sweepDoubleCuts(
    pairs: (total: number) => [a: number, b: number][],
    check: () => string | undefined,
  ): Promise<string[]> {
    return sweepDoubleCuts(this.dev, pairs, check);
  }
}
