import type { Board } from "../../rig/board.js";
import type { Family } from "../../seams/family.js";
import type { CampaignFamily } from "../ids.js";
import type { FamilyScenario } from "../scenario.js";
import { nrf52840McubootScenario } from "./nrf52840-mcuboot.js";
import { simNorScenario } from "./sim-nor.js";
import { stm32DfuScenario } from "./stm32-dfu.js";
import { stm32UsartScenario } from "./stm32-usart.js";
import { stm32wb55FusScenario } from "./stm32wb55-fus.js";
import { tkeyScenario } from "./tkey.js";

interface Campaign {
  /** The board family it runs on. */
  board: Family;
  make(board: Board, id: CampaignFamily): Promise<FamilyScenario>;
}

/** Campaigns, in the order `hil campaign` runs them. */
const CAMPAIGNS: Record<CampaignFamily, Campaign> = {
  stm32l432: { board: "stm32l432", make: (board, id) => stm32DfuScenario(board, id) },
  nrf52840: { board: "nrf52840", make: (board, id) => nrf52840McubootScenario(board, id) },
  "sim-nor": { board: "sim-nor", make: (board, id) => simNorScenario(board, id) },
  "stm32l432-usart": { board: "stm32l432", make: (board, id) => stm32UsartScenario(board, id) },
  tkey: { board: "tkey", make: (board, id) => tkeyScenario(board, id) },
  stm32wb55: { board: "stm32wb55", make: (board, id) => stm32wb55FusScenario(board, id) },
};

export function campaignFamilies(): CampaignFamily[] {
  return Object.keys(CAMPAIGNS);
}

function campaign(id: CampaignFamily): Campaign {
  const c = CAMPAIGNS[id];
  if (!c) throw new Error(`no campaign '${id}' (have: ${campaignFamilies().join(", ")})`);
  return c;
}

/** The board family campaign `id` runs on. */
export function boardFamilyOf(id: CampaignFamily): Family {
  return campaign(id).board;
}

export function scenarioFor(id: CampaignFamily, board: Board): Promise<FamilyScenario> {
  return campaign(id).make(board, id);
}
