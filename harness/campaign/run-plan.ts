/**
 * One plan on one board: back to the start, the plan armed, the update, recovery, then the
 * faults disarmed, a look at the board and a clean update. The verdict lists every broken
 * invariant with its clause, the faults that fired and what the run covered.
 */
import type { Board } from "../rig/board.js";
import type { Fault, FaultPlan } from "../sim/faults.js";
import { formatFault } from "../sim/faults.js";
import type { TranscriptJson } from "../transport/transcript.js";
import type { Violation } from "./invariants.js";
import { armPlan } from "./plan.js";
import { describe, type FamilyScenario, RunContext } from "./scenario.js";

export interface PlanVerdict {
  plan: readonly Fault[];
  violations: Violation[];
  /** The plan's faults that fired, in the text form, with what they hit. */
  fired: string[];
  /** Flash operations the update and recovery ran (the clean update not counted). */
  flashOps: number;
  /** How often each event of the family's menu happened in the update and recovery. */
  events: Record<string, number>;
  /** Device time of the whole run. */
  deviceMs: number;
  /** Client transcripts of the run, by step and client (only when asked for). */
  transcripts?: Record<string, TranscriptJson>;
}

/** A scenario bound to its board, with the flash fault hook that notes what faults hit. */
export class PlanRunner {
  #ctx: RunContext | undefined;

  constructor(
    readonly board: Board,
    readonly scenario: FamilyScenario,
    readonly faults: FaultPlan,
  ) {
    // The device's own hook, plus a note of the range a tearing or failing fault hit.
    scenario.flash?.setFaultHook((op) => {
      const action = faults.onFlashOp(op, board.clock.now());
      if (action) this.#ctx?.noteFlashFault(op, action);
      return action;
    });
  }

  async run(plan: readonly Fault[], opts: { transcripts?: boolean } = {}): Promise<PlanVerdict> {
    const { board, scenario, faults } = this;
    const t0 = board.clock.now();
    await scenario.restore();
    const c = scenario.flash?.counters ?? { ops: 0, erases: 0, programs: 0 };
    const origin = { ops: c.ops, erases: c.erases, programs: c.programs, nowMs: board.clock.now() };
    const ctx = new RunContext(board, scenario.family);
    this.#ctx = ctx;
    const mark = faults.firedCount;
    const events: Record<string, number> = {};
    const armed = armPlan(plan, origin);
    faults.replace(armed);
    try {
      for (const [step, work] of [
        ["update", () => scenario.update(ctx)],
        ["recovery", () => scenario.recover(ctx)],
      ] as const) {
        ctx.step = step;
        const before = faults.firedCount;
        await work().catch((e: unknown) => {
          ctx.ended(e);
          // With no fault in it, the update or the documented recovery is a clean update.
          if (faults.firedCount === before)
            ctx.violate("never-bricked", `${step} failed with no fault during it: ${describe(e)}`);
        });
      }
    } finally {
      for (const e of Object.keys(scenario.menu.events)) events[e] = faults.eventCount(e);
      faults.replace([]);
    }
    // In the plan's own terms: a time fault is armed at the board's clock, which runs on
    // from plan to plan (and differs between shards), so it is told from the run's start.
    const fired = faults.firedSince(mark).map((f) => {
      const at = armed.indexOf(f.fault);
      const fault = at >= 0 ? (plan[at] as Fault) : f.fault;
      const detail =
        f.fault.where.at === "time" ? `time ${Math.round((f.t - origin.nowMs) * 1000) / 1000} ms` : f.detail;
      return `${formatFault(fault)} (${detail})`;
    });
    const flashOps = (scenario.flash?.counters.ops ?? 0) - origin.ops;
    ctx.step = "check";
    await scenario.check(ctx).catch((e: unknown) => {
      ctx.ended(e);
      ctx.violate("never-bricked", `the board could not be inspected: ${String(e)}`);
    });
    ctx.step = "clean update";
    await scenario.cleanUpdate(ctx).catch((e: unknown) => {
      ctx.ended(e);
      ctx.violate("never-bricked", `the clean update failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.#ctx = undefined;
    const verdict: PlanVerdict = {
      plan,
      violations: ctx.violations,
      fired,
      flashOps,
      events,
      // To the microsecond: the same plan later on the board's clock differs in the last float bits.
      deviceMs: Math.round((board.clock.now() - t0) * 1000) / 1000,
    };
    if (opts.transcripts)
      verdict.transcripts = Object.fromEntries(ctx.transcripts.map((t) => [t.label, t.transcript.toJSON()]));
    return verdict;
  }
}
