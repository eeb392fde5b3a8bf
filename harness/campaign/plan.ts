/**
 * Fault plans of a campaign: 1..K faults in the `WHERE=WHAT` grammar of harness/sim/faults.ts,
 * drawn from a run's seed over the fault space a family's clean update measured.
 *
 * Positions in a campaign plan count from the start of the run (the faulty update, then
 * recovery): flash op 1 is the first flash operation of the update, event #1 its first
 * occurrence, time 0 its start. {@link armPlan} turns them into the board's own numbering.
 */
import type { FlashOpKind } from "../seams/flash-view.js";
import { type Fault, FaultPlanError, type FaultWhat, formatFault, parseFault } from "../sim/faults.js";
import { Random } from "../sim/random.js";

/** The kinds a campaign draws, simplest first: shrinking moves a fault towards the front. */
export const CAMPAIGN_WHATS = [
  "power-cut",
  "usb-disconnect",
  "usb-stall",
  "serial-drop",
  "serial-corrupt",
  "flash-fail",
  "power-cut-torn",
  "bit-flip",
] as const;
export type CampaignWhat = (typeof CAMPAIGN_WHATS)[number];

export function isCampaignWhat(name: string): name is CampaignWhat {
  return (CAMPAIGN_WHATS as readonly string[]).includes(name);
}

/** The fault of a WHAT name (`power-cut-torn` is a torn power cut). */
export function whatOf(name: CampaignWhat): FaultWhat {
  return name === "power-cut-torn" ? { do: "power-cut", torn: true } : ({ do: name } as FaultWhat);
}

export function whatName(what: FaultWhat): CampaignWhat {
  if (what.do === "power-cut") return what.torn ? "power-cut-torn" : "power-cut";
  if (!isCampaignWhat(what.do)) throw new FaultPlanError(`fault '${what.do}' is not one a campaign draws`);
  return what.do;
}

/** Which kinds act where, on one family (a flash fault on a flash op, a USB stall on a request). */
export interface FaultMenu {
  flash: readonly CampaignWhat[];
  events: Readonly<Record<string, readonly CampaignWhat[]>>;
  time: readonly CampaignWhat[];
}

/** How far each WHERE reaches in a clean run of the scenario (update and recovery). */
export interface FaultSpace {
  flashOps: number;
  events: Readonly<Record<string, number>>;
  durationMs: number;
}

/** One place faults may land: its positions run 1..size (time: 0..size-1 ms). */
interface Slot {
  where: "flash-op" | "event" | "time";
  event?: string;
  size: number;
  whats: readonly CampaignWhat[];
}

function slotsOf(menu: FaultMenu, space: FaultSpace, allowed: readonly CampaignWhat[]): Slot[] {
  const keep = (ws: readonly CampaignWhat[]) => ws.filter((w) => allowed.includes(w));
  const slots: Slot[] = [{ where: "flash-op", size: space.flashOps, whats: keep(menu.flash) }];
  for (const [event, whats] of Object.entries(menu.events))
    slots.push({ where: "event", event, size: space.events[event] ?? 0, whats: keep(whats) });
  slots.push({ where: "time", size: Math.floor(space.durationMs), whats: keep(menu.time) });
  return slots.filter((s) => s.size > 0 && s.whats.length > 0);
}

/**
 * A plan of 1..maxFaults faults drawn from `seed` alone: the same seed, menu, space and
 * kinds give the same plan on any machine.
 */
export function drawPlan(
  seed: number,
  menu: FaultMenu,
  space: FaultSpace,
  maxFaults: number,
  allowed: readonly CampaignWhat[] = CAMPAIGN_WHATS,
): Fault[] {
  const slots = slotsOf(menu, space, allowed);
  if (slots.length === 0)
    throw new FaultPlanError(`no fault of ${allowed.join(", ")} applies to this scenario`);
  const r = new Random(seed);
  const count = 1 + r.below(maxFaults);
  const plan: Fault[] = [];
  for (let i = 0; i < count; i++) {
    const slot = slots[r.below(slots.length)]!;
    const what = whatOf(slot.whats[r.below(slot.whats.length)]!);
    const at = r.below(slot.size);
    if (slot.where === "flash-op") plan.push({ where: { at: "flash-op", op: at + 1 }, what });
    else if (slot.where === "event")
      plan.push({ where: { at: "event", event: slot.event!, occurrence: at + 1 }, what });
    else plan.push({ where: { at: "time", ms: at }, what });
  }
  return plan;
}

/** Where a run starts on the board's own counters. */
export interface PlanOrigin {
  ops: number;
  erases: number;
  programs: number;
  nowMs: number;
}

/** A campaign plan (positions from the run's start) in the board's numbering (event counts restart at 0). */
export function armPlan(plan: readonly Fault[], origin: PlanOrigin): Fault[] {
  return plan.map((f) => {
    const w = f.where;
    if (w.at === "time") return { where: { at: "time", ms: w.ms + origin.nowMs }, what: f.what };
    if (w.at !== "flash-op") return f;
    const base = w.kind === "erase" ? origin.erases : w.kind === "program" ? origin.programs : origin.ops;
    return { where: { ...w, op: w.op + base }, what: f.what };
  });
}

/** `flash-op:3=power-cut,event:dfu.dnload.block#2=usb-disconnect`. */
export function formatPlan(plan: readonly Fault[]): string {
  return plan.map(formatFault).join(",");
}

export function parsePlan(text: string): Fault[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseFault);
}

/** Parses the `--what` list; an unknown kind is a usage error naming it. */
export function parseWhats(text: string): CampaignWhat[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!isCampaignWhat(n))
      throw new FaultPlanError(`--what: unknown fault kind '${n}' (known: ${CAMPAIGN_WHATS.join(", ")})`);
  return names as CampaignWhat[];
}

export type { FlashOpKind };
