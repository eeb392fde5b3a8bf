/**
 * White-box access to an emulated board (the `inspect` capability): what a debug probe
 * would give on a lab board, and more. Suites reach it only through `board.inspect` (or
 * `requireInspect`), so a test that needs it skips with the reason where it is absent.
 */
import type { FaultPlan } from "../sim/faults.js";
import type { Flash } from "../sim/flash.js";
import type { SimPower } from "../sim/power.js";
import type { Clock } from "../transport/clock.js";
import type { DeviceEvent, EmulatedDevice } from "./emulated-device.js";

/** What every inspectable board offers. */
export class InspectBase<D extends EmulatedDevice = EmulatedDevice> {
  constructor(protected readonly dev: D) {}

  get seed(): number {
    return this.dev.seed;
  }

  /** The board's device time. */
  get clock(): Clock {
    return this.dev.clock;
  }

  /** Faults to arm (`faults.add`) and the ones that fired. */
  get faults(): FaultPlan {
    return this.dev.faults;
  }

  /** The emulated supply rail, for a cut at an exact moment (inside a client event). */
  get power(): SimPower {
    return this.dev.power;
  }

  /** Every flash of the board (main flash, OTP, ...): peek, counters, cuts. */
  get flashes(): readonly Flash[] {
    return this.dev.flashes;
  }

  /** The device event log (newest kept). */
  get events(): readonly DeviceEvent[] {
    return this.dev.events;
  }

  /** A mark for {@link eventsSince}. */
  get eventCount(): number {
    return this.dev.eventCount;
  }

  eventsSince(mark: number): { events: readonly DeviceEvent[]; dropped: number } {
    return this.dev.eventsSince(mark);
  }
}
