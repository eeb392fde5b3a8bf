/**
 * How a board is brought into a known state (labgrid's strategy idea): suites ask for a
 * state or a factory reset and never branch on emulator versus lab. Each family has one
 * implementation for its emulator and one for lab boards; both drive the board's own power
 * and boot controls, so every call shows as an Allure step.
 */

/** States a suite can ask for. STM32 `rom-dfu` and `rom-usart` are one state (the system memory), named by the interface used. */
export type BoardState = "off" | "rom-dfu" | "rom-usart" | "app" | "firmware";

/** Memories a factory reset brings back to their factory contents. */
export type Restorable = "flash" | "otp" | "option-bytes" | "fus";

export interface FactoryOptions {
  /** Preloaded into the main image location (STM32 flash base, MCUboot primary slot, sim-nor primary slot). */
  readonly image?: Uint8Array;
  /** STM32WB: a wireless stack installed behind FUS (default true); false leaves FUS alone in CPU2. */
  readonly stack?: boolean;
}

export interface Strategy {
  /** The states this board can be brought into. */
  readonly states: readonly BoardState[];
  /** Where {@link factoryReset} leaves the board. */
  readonly afterFactory: BoardState;
  /** What {@link factoryReset} restores: a change to anything else is for good (needs a sacrificial board). */
  readonly restores: readonly Restorable[];
  /** What this implementation cannot do, for reports and skip reasons ("lab: flash not restored"). */
  readonly limits: readonly string[];
  /** Bring the board into `to`; throws naming the board when it cannot get there. */
  transition(to: BoardState): Promise<void>;
  /** Memories to factory as far as this implementation can, then {@link afterFactory}. */
  factoryReset(opts?: FactoryOptions): Promise<void>;
}
