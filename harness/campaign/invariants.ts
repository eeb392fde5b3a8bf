/**
 * The invariants a campaign checks after every plan, each named by its clause in
 * harness/report/clauses.yaml (the qualification matrix has a line per clause).
 */
import type { CampaignFamily } from "./ids.js";

export type InvariantId = "never-bricked" | "old-or-new" | "no-hang" | "error-category";

export const INVARIANT_IDS: readonly InvariantId[] = [
  "never-bricked",
  "old-or-new",
  "no-hang",
  "error-category",
];

const COMMON: Record<Exclude<InvariantId, "old-or-new">, string> = {
  "never-bricked": "design.md: fault campaign: never bricked (a clean update from the state left succeeds)",
  "no-hang": "design.md: fault campaign: every client operation ends within its timeout (virtual clock)",
  "error-category": "design.md: fault campaign: no client error is the harness's",
};

/** What "neither the old nor the new image" means differs by family: so does its clause. */
const IMAGE: Partial<Record<CampaignFamily, string>> = {
  stm32l432: "AN3156 §5 / design.md: application area holds the old image, the new one or is erased",
  "stm32l432-usart": "AN3155 / design.md: application area holds the old image, the new one or is erased",
  nrf52840: "MCUboot design.md: never boots an unverified image; a confirmed image is never lost",
  tkey: "TKey firmware protocol: a loaded app runs only if its digest is BLAKE2s(app)",
  "sim-nor": "design.md: sim-nor A/B updater boots the old image or the new one, never another",
  stm32wb55: "AN5185 Table 3 / Table 10: no half-installed stack starts; FUS takes only documented states",
};

/** The clause an invariant is checked against on `family`. */
export function clauseOf(invariant: InvariantId, family: CampaignFamily): string {
  if (invariant !== "old-or-new") return COMMON[invariant];
  const clause = IMAGE[family];
  if (!clause) throw new Error(`no image invariant clause for family ${family}`);
  return clause;
}

/** Every clause the campaign checks on `family`, by invariant. */
export function clausesOf(family: CampaignFamily): Record<InvariantId, string> {
  return Object.fromEntries(INVARIANT_IDS.map((i) => [i, clauseOf(i, family)])) as Record<
    InvariantId,
    string
  >;
}

/** One broken invariant in one plan's run. */
export interface Violation {
  invariant: InvariantId;
  clause: string;
  /** Which step of the run: update, recovery, check, clean update. */
  step: string;
  message: string;
}
