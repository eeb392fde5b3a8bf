import type { EmulatedDevice } from "../../devices/emulated-device.js";
import { Nrf52840McubootDevice } from "../../devices/nrf52840-mcuboot/device.js";
import { SimNorDevice } from "../../devices/sim-nor/device.js";
import { Stm32Device } from "../../devices/stm32/device.js";
import type { ControlsStrategy, StrategyBoard } from "./controls.js";
import { EmulatedNrf52840Strategy, LabNrf52840Strategy } from "./nrf52840.js";
import { EmulatedSimNorStrategy, PowerOnlyStrategy, TKeyStrategy } from "./simple.js";
import { EmulatedStm32Strategy, LabStm32Strategy } from "./stm32.js";

export { ControlsStrategy, type StrategyBoard } from "./controls.js";

/** The board's strategy: its family's emulator implementation when `device` is given, else the lab one. */
export function strategyFor(board: StrategyBoard, device?: EmulatedDevice): ControlsStrategy {
  if (device instanceof Stm32Device) return new EmulatedStm32Strategy(board, device);
  if (device instanceof Nrf52840McubootDevice) return new EmulatedNrf52840Strategy(board, device);
  if (device instanceof SimNorDevice) return new EmulatedSimNorStrategy(board, device);
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
