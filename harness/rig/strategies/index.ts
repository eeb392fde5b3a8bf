import type { EmulatedStrategyParts } from "../../devices/registry.js";
import type { ControlsStrategy, StrategyBoard } from "./controls.js";
import { EmulatedStrategy } from "./emulated.js";
import { LabNrf52840Strategy } from "./nrf52840.js";
import { PowerOnlyStrategy, TKeyStrategy } from "./simple.js";
import { LabStm32Strategy } from "./stm32.js";

export { ControlsStrategy, type StrategyBoard } from "./controls.js";

/**
 * The board's strategy: the emulator's (devices/registry.ts hands out its parts) when
 * `emulated` is given, else the family's lab one.
 */
export function strategyFor(board: StrategyBoard, emulated?: EmulatedStrategyParts): ControlsStrategy {
  if (emulated) return new EmulatedStrategy(board, emulated);
  switch (board.family) {
    case "stm32l432":
    case "stm32wb55":
      return new LabStm32Strategy(board);
    case "tkey":
      return new TKeyStrategy(board);
    case "nrf52840":
      return new LabNrf52840Strategy(board);
    case "sim-nor":
      return new PowerOnlyStrategy(board);
  }
}
