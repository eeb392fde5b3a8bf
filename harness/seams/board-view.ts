import type { BootControl, PowerControl, ResetControl } from "./controls.js";
import type { EmulatorView } from "./device-log.js";
import type { Family } from "./family.js";
import type { Strategy } from "./strategy.js";

/**
 * A board as reports see it: who it is, its controls (to step them) and, on an emulated
 * board, what its emulator logged. harness/rig's Board satisfies it.
 */
export interface BoardView {
  readonly id: string;
  readonly family: Family;
  readonly serial: string | undefined;
  readonly emulated: boolean;
  readonly seed: number;
  /** Versions and identities read from the board or the rig file, for report labels. */
  readonly info: Record<string, string>;
  readonly power: PowerControl;
  readonly boot: BootControl | undefined;
  readonly reset: ResetControl | undefined;
  readonly emulator: EmulatorView | undefined;
  /** How the board reaches its states (stepped in reports so its control calls nest inside). */
  readonly strategy?: Strategy;
}
