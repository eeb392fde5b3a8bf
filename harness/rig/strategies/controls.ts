import type { BoardState, FactoryOptions, Restorable, Strategy } from "../../seams/strategy.js";
import type { Board } from "../board.js";

/** The board a strategy drives (itself aside). */
export type StrategyBoard = Omit<Board, "strategy" | "inspect">;

/**
 * Transitions over a board's power and boot controls, the same for an emulator and a lab
 * board; subclasses say what a factory reset is. `on(board)` gives the same strategy on
 * another view of the board (the stepped one, so its power and boot calls nest as steps).
 */
export abstract class ControlsStrategy implements Strategy {
  abstract readonly states: readonly BoardState[];
  abstract readonly afterFactory: BoardState;
  abstract readonly restores: readonly Restorable[];
  abstract readonly limits: readonly string[];

  constructor(protected readonly board: StrategyBoard) {}

  abstract on(board: StrategyBoard): ControlsStrategy;

  abstract factoryReset(opts?: FactoryOptions): Promise<void>;

  async transition(to: BoardState): Promise<void> {
    if (!this.states.includes(to))
      throw new Error(
        `board ${this.board.id} (${this.board.family}) has no state '${to}' (states: ${this.states.join(", ")})`,
      );
    const { power } = this.board;
    switch (to) {
      case "off":
        return power.off();
      case "rom-dfu":
      case "rom-usart":
        return this.#powerInto("bootloader");
      case "app":
        return this.#powerInto("application");
      case "firmware":
        // No boot pins: every power-on starts the firmware.
        return power.cycle();
    }
  }

  /** Boot pins to `mode` (or the strapping already says so), then a power cycle. */
  async #powerInto(mode: "bootloader" | "application"): Promise<void> {
    const { boot, power, startsIn } = this.board;
    if (boot) await boot[mode]();
    else if (startsIn !== undefined && startsIn !== mode)
      throw new Error(
        `board ${this.board.id} has no boot control and starts in its ${startsIn}: it cannot be brought into the ${mode}`,
      );
    await power.cycle();
  }
}
