import type { Board } from "../../rig/board.js";
import type { Family } from "../../seams/family.js";
import type { FamilyScenario } from "../scenario.js";
import { nrf52840McubootScenario } from "./nrf52840-mcuboot.js";
import { simNorScenario } from "./sim-nor.js";
import { stm32DfuScenario } from "./stm32-dfu.js";

/** Families a campaign can run, in the order `hil campaign` runs them. */
const SCENARIOS: Partial<Record<Family, (board: Board) => Promise<FamilyScenario>>> = {
  stm32l432: (board) => stm32DfuScenario(board),
  nrf52840: (board) => nrf52840McubootScenario(board),
  "sim-nor": (board) => simNorScenario(board),
};

export function campaignFamilies(): Family[] {
  return Object.keys(SCENARIOS) as Family[];
}

export function scenarioFor(board: Board): Promise<FamilyScenario> {
  const make = SCENARIOS[board.family];
  if (!make)
    throw new Error(
      `no campaign scenario for family ${board.family} (have: ${campaignFamilies().join(", ")})`,
    );
  return make(board);
}
