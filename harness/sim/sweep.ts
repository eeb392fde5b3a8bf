/**
 * The power-cut sweep loop of MCUboot's simulator, once for every device: one clean run
 * counts the cut points (flash operations, DNLOAD blocks, swap steps), then for each point
 * the start state comes back, a cut is armed at that point, the operation runs (and is
 * expected to fail), and a check says where the board came back and what was wrong.
 *
 * Device-agnostic: the spec's callbacks know the device; this module only walks the points,
 * labels the failures, tallies the outcomes and measures device time.
 */
import type { Clock } from "../seams/clock.js";

/** What one cut point came to: `outcome` is tallied, each `problem` is a failure. */
export interface SweepOutcome {
  outcome?: string;
  problem?: string | readonly string[];
}

export interface SweepSpec<P = number> {
  /** One clean run; returns how many cut points it had. */
  count(): Promise<number>;
  /** The points to try (default: 1..total). A lab rig passes a sample, a bench worker its share. */
  points?(total: number): Iterable<P>;
  /**
   * Back to the start state, cut armed at `point`, the operation run. What it throws is the
   * expected end of an interrupted operation: it is not a failure, and `check` gets it.
   */
  run(point: P, total: number): Promise<void>;
  /**
   * After the cut: a problem (string), an outcome to tally, or nothing. What it throws is a
   * failure of this point; the sweep goes on with the next one.
   */
  check(point: P, total: number, thrown: unknown): Promise<SweepOutcome | string | undefined>;
  /** The point in failure lines, "flash op 7/120 (torn)"; default "cut 7". */
  label?(point: P, total: number): string;
  /** For {@link SweepResult.deviceMs}; without one it is 0. */
  clock?: Clock;
}

export interface SweepResult {
  /** Cut points the clean run had. */
  total: number;
  /** Cut points tried. */
  points: number;
  /** "<label>: <problem>", one line per problem. */
  failures: string[];
  /** How many points came to each outcome. */
  outcomes: Record<string, number>;
  /** Device milliseconds the whole sweep took, clean run included. */
  deviceMs: number;
}

/** 1..total, the default points. */
export function* everyPoint(total: number): Generator<number> {
  for (let n = 1; n <= total; n++) yield n;
}

/** The points n of 1..total with n mod shares = share: one worker's part of a sweep. */
export function* shareOf(total: number, share: number, shares: number): Generator<number> {
  if (!Number.isInteger(shares) || shares < 1 || !Number.isInteger(share) || share < 0 || share >= shares)
    throw new RangeError(`sweep share ${share} of ${shares}: expected 0 <= share < shares`);
  for (let n = 1; n <= total; n++) if (n % shares === share) yield n;
}

export async function sweep<P = number>(spec: SweepSpec<P>): Promise<SweepResult> {
  const t0 = spec.clock?.now() ?? 0;
  const total = await spec.count();
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError(`sweep: count() returned ${total}, expected a whole number of cut points`);
  const points = spec.points?.(total) ?? (everyPoint(total) as Iterable<unknown> as Iterable<P>);
  const label = (p: P) => spec.label?.(p, total) ?? `cut ${String(p)}`;
  const failures: string[] = [];
  const outcomes: Record<string, number> = {};
  let tried = 0;
  for (const point of points) {
    tried++;
    let thrown: unknown;
    try {
      await spec.run(point, total);
    } catch (e) {
      thrown = e;
    }
    let result: SweepOutcome | string | undefined;
    try {
      result = await spec.check(point, total, thrown);
    } catch (e) {
      failures.push(`${label(point)}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const { outcome, problem } =
      typeof result === "string" ? { outcome: undefined, problem: result } : (result ?? {});
    if (outcome !== undefined) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    for (const p of typeof problem === "string" ? [problem] : (problem ?? []))
      failures.push(`${label(point)}: ${p}`);
  }
  return { total, points: tried, failures, outcomes, deviceMs: (spec.clock?.now() ?? 0) - t0 };
}

/** A flash as far as cutting goes (sim/Flash has it). */
export interface CuttableFlash {
  readonly counters: { readonly ops: number };
  armCut(beforeOp: number, options?: { torn?: boolean }): void;
}

/**
 * Arms a cut before the n-th operation of `flash` from now: call it in `run` after the start
 * state is back and right before the operation.
 */
export function flashOpCut(flash: CuttableFlash, torn = false): (n: number) => void {
  return (n) => flash.armCut(flash.counters.ops + n, { torn });
}
