import type { EmulatedStrategyParts } from "../../devices/registry.js";
import type { FactoryOptions } from "../../seams/strategy.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

/**
 * An emulated board's strategy: the states and factory reset its family's emulator hands out
 * (devices/registry.ts), transitions through the board's controls. Its memories go back to
 * factory, so nothing is left for `limits`.
 */
export class EmulatedStrategy extends ControlsStrategy {
  readonly states;
  readonly afterFactory;
  readonly restores;
  readonly limits: readonly string[] = [];

  constructor(
    board: StrategyBoard,
    private readonly parts: EmulatedStrategyParts,
  ) {
    super(board);
    this.states = parts.states;
    this.afterFactory = parts.afterFactory;
    this.restores = parts.restores;
  }

  on(board: StrategyBoard): EmulatedStrategy {
    return new EmulatedStrategy(board, this.parts);
  }

  factoryReset(opts: FactoryOptions = {}): Promise<void> {
    return this.parts.factoryReset(opts);
  }
}
