import type { BoardState, Restorable } from "../../seams/strategy.js";
import { closeTKeyLink } from "../tkey-link.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

/** A TKey, emulated or lab: unplug and replug is its whole factory reset (the app lives in RAM). */
export class TKeyStrategy extends ControlsStrategy {
  readonly states: readonly BoardState[] = ["off", "firmware"];
  readonly afterFactory = "firmware";
  readonly restores: readonly Restorable[] = [];
  readonly limits: readonly string[] = [];

  on(board: StrategyBoard): TKeyStrategy {
    return new TKeyStrategy(board);
  }

  /** A lab TKey's port goes with the unplug: it is closed first, not left locked. */
  override async transition(to: BoardState): Promise<void> {
    await closeTKeyLink(this.board.id);
    return super.transition(to);
  }

  factoryReset(): Promise<void> {
    return this.transition("firmware");
  }
}

/** A lab board of a family without a lab strategy of its own: power only. */
export class PowerOnlyStrategy extends ControlsStrategy {
  readonly states: readonly BoardState[] = ["off", "app"];
  readonly afterFactory = "app";
  readonly restores: readonly Restorable[] = [];
  readonly limits = ["lab: factoryReset is a power cycle; memories are not restored"];

  on(board: StrategyBoard): PowerOnlyStrategy {
    return new PowerOnlyStrategy(board);
  }

  factoryReset(): Promise<void> {
    return this.board.power.cycle();
  }
}
