import type { Clock } from "./clock.js";
import type { FaultView } from "./faults-format.js";
import type { FlashView } from "./flash-view.js";

/** One entry of an emulated device's event log, on the device's time axis. */
export interface DeviceEvent {
  t: number;
  /** "state", "reset", "power", "fault", "flash", ... */
  kind: string;
  detail: string;
}

/** The most events a device keeps; past it the oldest half goes (reports read what a test left since its mark). */
export const MAX_EVENTS = 20_000;

/** A fault that fired, as reports show it. */
export interface FiredFaultView {
  /** Device time when it fired. */
  readonly t: number;
  /** What exactly was hit: "flash op 37 (program 0x08004000+2048)". */
  readonly detail: string;
  readonly fault: FaultView;
}

/** A power change of an emulated board. */
export interface PowerEventView {
  readonly t: number;
  readonly event: string;
  readonly reason?: string | undefined;
}

/**
 * What reports read from an emulator after a test: its seed, flashes, event log, power
 * history and fault plan, each with a count to mark where a test started. harness/devices' EmulatedDevice
 * satisfies it.
 */
export interface EmulatorView {
  readonly seed: number;
  /** The device's clock: the time axis of its events. */
  readonly clock: Clock;
  readonly flashes: readonly FlashView[];
  readonly eventCount: number;
  eventsSince(mark: number): { events: readonly DeviceEvent[]; dropped: number };
  readonly power: {
    readonly historyCount: number;
    historySince(mark: number): readonly PowerEventView[];
  };
  readonly faults: {
    /** The plan as written (rig file, command line, suite), for the repro bundle. */
    readonly faults: readonly FaultView[];
    readonly fired: readonly FiredFaultView[];
    readonly firedCount: number;
    firedSince(mark: number): readonly FiredFaultView[];
  };
}
