/**
 * Shrinking a failing plan, delta-debugging style and deterministic: drop faults, then move
 * each to a simpler kind, then to an earlier position, keeping every step that still breaks
 * the same invariant, until no step helps. The same plan and board give the same minimal plan.
 */
import type { Fault } from "../sim/faults.js";
import type { InvariantId } from "./invariants.js";
import { CAMPAIGN_WHATS, type FaultMenu, whatName, whatOf } from "./plan.js";
import type { PlanVerdict } from "./run-plan.js";

export interface ShrinkResult {
  plan: Fault[];
  verdict: PlanVerdict;
  /** Plans run while shrinking. */
  tries: number;
}

/** Candidate plans one step simpler than `plan`, most ambitious first. */
function* simpler(plan: readonly Fault[], menu: FaultMenu): Generator<Fault[]> {
  // Fewer faults.
  for (let i = 0; i < plan.length; i++) if (plan.length > 1) yield plan.filter((_, j) => j !== i);
  // Simpler kinds: earlier in CAMPAIGN_WHATS and acting at the same place.
  for (let i = 0; i < plan.length; i++) {
    const f = plan[i]!;
    const w = f.where;
    const here =
      w.at === "flash-op" ? menu.flash : w.at === "event" ? (menu.events[w.event] ?? []) : menu.time;
    const rank = CAMPAIGN_WHATS.indexOf(whatName(f.what));
    for (const name of CAMPAIGN_WHATS.slice(0, rank))
      if (here.includes(name)) yield replaceAt(plan, i, { where: w, what: whatOf(name) });
  }
  // Earlier positions: the first, half way, one before.
  for (let i = 0; i < plan.length; i++) {
    const f = plan[i]!;
    const w = f.where;
    const pos = w.at === "flash-op" ? w.op : w.at === "event" ? w.occurrence : w.ms + 1;
    for (const p of new Set([1, Math.floor(pos / 2), pos - 1]))
      if (p >= 1 && p < pos) {
        const where =
          w.at === "flash-op"
            ? { ...w, op: p }
            : w.at === "event"
              ? { ...w, occurrence: p }
              : { at: "time" as const, ms: p - 1 };
        yield replaceAt(plan, i, { where, what: f.what });
      }
  }
}

function replaceAt(plan: readonly Fault[], i: number, f: Fault): Fault[] {
  return plan.map((g, j) => (j === i ? f : g));
}

/**
 * The smallest plan that still breaks `invariant` (the failing plan's first broken one),
 * running at most `maxTries` plans.
 */
export async function shrinkPlan(
  failing: PlanVerdict,
  menu: FaultMenu,
  run: (plan: readonly Fault[]) => Promise<PlanVerdict>,
  maxTries = 400,
): Promise<ShrinkResult> {
  const invariant: InvariantId | undefined = failing.violations[0]?.invariant;
  if (!invariant) throw new Error("shrinkPlan: the plan did not fail");
  let best = { plan: [...failing.plan], verdict: failing };
  let tries = 0;
  let progress = true;
  while (progress && tries < maxTries) {
    progress = false;
    for (const candidate of simpler(best.plan, menu)) {
      if (tries >= maxTries) break;
      tries++;
      const verdict = await run(candidate);
      if (verdict.violations.some((v) => v.invariant === invariant)) {
        best = { plan: candidate, verdict };
        progress = true;
        break;
      }
    }
  }
  return { ...best, tries };
}
