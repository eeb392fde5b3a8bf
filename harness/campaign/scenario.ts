/**
 * A family's update scenario as a campaign runs it: start state, the update under faults,
 * recovery the way the family's documents prescribe, a look at what the board holds, and a
 * clean second update. The runner (run-plan.ts) arms the plan and checks the invariants.
 */
import { categoryOfError } from "../report/failure-categories.mjs";
import type { Board } from "../rig/board.js";
import type { Flash, FlashOp } from "../sim/flash.js";
import type { Transcript } from "../transport/transcript.js";
import type { CampaignFamily } from "./ids.js";
import { clauseOf, type InvariantId, type Violation } from "./invariants.js";
import type { FaultMenu } from "./plan.js";

export interface FamilyScenario {
  readonly family: CampaignFamily;
  /** What may go wrong where in this scenario. */
  readonly menu: FaultMenu;
  /** The flash whose operations plans count (none on a TKey: its app lives in RAM). */
  readonly flash?: Flash;
  /** Back to the start: the old image in place, where the update starts. */
  restore(): Promise<void>;
  /** The update, faults armed. What it throws is the expected end of a faulted update. */
  update(ctx: RunContext): Promise<void>;
  /** Recovery as documented, faults still armed. What it throws ends the recovery. */
  recover(ctx: RunContext): Promise<void>;
  /** Faults disarmed: what the board holds and runs now (violations go to `ctx`). */
  check(ctx: RunContext): Promise<void>;
  /** A clean update from the state left, checked to the byte: if it throws, the board is bricked. */
  cleanUpdate(ctx: RunContext): Promise<void>;
}

/** An operation that did not end within its timeout on the board's clock (never leaves a run). */
class CampaignHangError extends Error {
  override name = "CampaignHangError";
}

/** What a run records while a scenario runs: violations, transcripts, faulted flash ranges. */
export class RunContext {
  readonly violations: Violation[] = [];
  readonly transcripts: { label: string; transcript: Transcript }[] = [];
  /** Flash ranges a fault tore, failed or flipped: they may hold neither image. */
  readonly faulted: { address: number; length: number }[] = [];
  step = "update";

  constructor(
    readonly board: Board,
    readonly family: CampaignFamily,
  ) {}

  violate(invariant: InvariantId, message: string): void {
    this.violations.push({ invariant, clause: clauseOf(invariant, this.family), step: this.step, message });
  }

  /** A client's transcript, for the repro bundle. */
  record(label: string, transcript: Transcript): void {
    const base = `${this.step}-${label}`;
    const n = this.transcripts.filter((t) => t.label === base || t.label.startsWith(`${base}#`)).length;
    this.transcripts.push({ label: n ? `${base}#${n + 1}` : base, transcript });
  }

  /**
   * Runs one client operation with a bound on the board's clock: one that does not end
   * within `limitMs` is a hang (the no-hang invariant) and ends the step.
   */
  async op<T>(label: string, limitMs: number, work: () => Promise<T>): Promise<T> {
    const clock = this.board.clock;
    const stop = new AbortController();
    const timedOut = clock.sleep(limitMs, stop.signal).then(() => "hang" as const);
    try {
      const result = await Promise.race([work().then((value) => ({ value })), timedOut]);
      if (result === "hang") {
        this.violate("no-hang", `${label} did not end within ${limitMs} ms`);
        throw new CampaignHangError(`${label}: no end within ${limitMs} ms`);
      }
      return result.value;
    } finally {
      stop.abort();
    }
  }

  /** An error a step ended with: expected under faults, but never one of the harness's own. */
  ended(err: unknown): void {
    if (err instanceof CampaignHangError) return;
    if (categoryOfError(err) === "harness")
      this.violate("error-category", `${this.step} ended with a harness error: ${describe(err)}`);
  }

  noteFlashFault(op: FlashOp, action: { action: string; torn?: boolean }): void {
    if (action.action !== "cut" || action.torn) this.faulted.push({ address: op.address, length: op.length });
  }

  /** Whether [address, address+length) meets a faulted range. */
  wasFaulted(address: number, length: number): boolean {
    return this.faulted.some((r) => r.address < address + length && address < r.address + r.length);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.split("\n")[0]}`;
  return String(err);
}
