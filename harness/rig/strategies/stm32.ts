import type { BoardState, Restorable } from "../../seams/strategy.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

const STATES: readonly BoardState[] = ["off", "rom-dfu", "rom-usart", "app"];

/** A lab STM32: BOOT0 (or its strapping) and a power cycle into the ROM; memories stay as they are. */
export class LabStm32Strategy extends ControlsStrategy {
  readonly states = STATES;
  readonly afterFactory = "rom-dfu";
  readonly restores: readonly Restorable[] = [];
  readonly limits = [
    "lab: factoryReset does not restore flash, OTP or option bytes, nor FUS state; an image is not preloaded",
  ];

  on(board: StrategyBoard): LabStm32Strategy {
    return new LabStm32Strategy(board);
  }

  factoryReset(): Promise<void> {
    return this.transition("rom-dfu");
  }
}
