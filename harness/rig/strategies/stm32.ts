import type { Stm32Device } from "../../devices/stm32/device.js";
import { factoryResetStm32 } from "../../devices/stm32/strategy.js";
import type { BoardState, FactoryOptions, Restorable } from "../../seams/strategy.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

const STATES: readonly BoardState[] = ["off", "rom-dfu", "rom-usart", "app"];

/** An emulated STM32: memories to factory (flash, OTP, option bytes, FUS), then the ROM bootloader. */
export class EmulatedStm32Strategy extends ControlsStrategy {
  readonly states = STATES;
  readonly afterFactory = "rom-dfu";
  readonly restores: readonly Restorable[] = ["flash", "otp", "option-bytes", "fus"];
  readonly limits: readonly string[] = [];

  constructor(
    board: StrategyBoard,
    private readonly dev: Stm32Device,
  ) {
    super(board);
  }

  on(board: StrategyBoard): EmulatedStm32Strategy {
    return new EmulatedStm32Strategy(board, this.dev);
  }

  factoryReset(opts: FactoryOptions = {}): Promise<void> {
    return factoryResetStm32(this.dev, opts);
  }
}

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
