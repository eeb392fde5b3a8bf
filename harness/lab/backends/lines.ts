/**
 * One digital output wired to a board: a relay channel or a GPIO line. Power, boot and
 * reset controls are built on it the same way, whichever drives it:
 *
 * - power: asserted = the board has power;
 * - boot: asserted = BOOT0 high (ROM bootloader on the next reset), released = application;
 * - reset: asserted for `pulseMs` = NRST held low.
 *
 * "Asserted" is the line's active state; inversions (a normally-closed relay contact, an
 * active-low GPIO) are the line's business, so controls never think about polarity.
 */

import type { BootControl, PowerControl, PowerState, ResetControl } from "../../seams/controls.js";
import type { Clock } from "../../transport/clock.js";
import { cycleOffOn } from "./power-cycle.js";

export interface OutputLine {
  /** Rig-file backend name ("relay", "gpio"), for reports. */
  readonly backend: string;
  set(asserted: boolean): Promise<void>;
  /** Read back from the hardware where the backend can; undefined where it cannot. */
  get(): Promise<boolean | undefined>;
}

export class LinePower implements PowerControl {
  constructor(
    private readonly line: OutputLine,
    private readonly clock: Clock,
    private readonly powerOffMs: number,
  ) {}

  get backend(): string {
    return this.line.backend;
  }

  on(): Promise<void> {
    return this.line.set(true);
  }

  off(): Promise<void> {
    return this.line.set(false);
  }

  cycle(offMs = this.powerOffMs): Promise<void> {
    return cycleOffOn(this, this.clock, offMs);
  }

  async state(): Promise<PowerState> {
    const value = await this.line.get();
    return value === undefined ? "unknown" : value ? "on" : "off";
  }
}

export function lineBoot(line: OutputLine): BootControl {
  return {
    backend: line.backend,
    bootloader: () => line.set(true),
    application: () => line.set(false),
  };
}

export function lineReset(line: OutputLine, clock: Clock, pulseMs: number): ResetControl {
  return {
    backend: line.backend,
    reset: async () => {
      await line.set(true);
      try {
        await clock.sleep(pulseMs);
      } finally {
        await line.set(false);
      }
    },
  };
}

/** Default NRST pulse: far above the STM32's minimum (20 µs), short enough not to matter. */
export const DEFAULT_RESET_PULSE_MS = 20;
