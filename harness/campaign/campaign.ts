/**
 * A fault campaign on one family: plan i of a campaign is drawn from a seed derived from the
 * campaign seed, the family and i alone, so any subset of indices (a shard, a worker's share)
 * gives the same verdicts as the full run. Failing plans are shrunk to a minimal plan.
 */
import { performance } from "node:perf_hooks";
import type { Board } from "../rig/board.js";
import { loadRigFileSync } from "../rig/load.js";
import { buildRig } from "../rig/rig.js";
import type { BoardSpec, RigFile } from "../rig/schema.js";
import type { Family } from "../seams/family.js";
import type { Fault } from "../sim/faults.js";
import { Random } from "../sim/random.js";
import { boardFamilyOf, scenarioFor } from "./families/index.js";
import type { CampaignFamily } from "./ids.js";
import type { Violation } from "./invariants.js";
import { CAMPAIGN_WHATS, type CampaignWhat, drawPlan, type FaultSpace, formatPlan } from "./plan.js";
import { PlanRunner, type PlanVerdict } from "./run-plan.js";
import type { FamilyScenario } from "./scenario.js";
import { shrinkPlan } from "./shrink.js";

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export interface CampaignOptions {
  family: CampaignFamily;
  seed: number;
  /** Plans to run (indices 0..runs-1, this shard's share of them). */
  runs: number;
  /** Or: stop starting plans after this much wall time (indices in order, this shard's share). */
  budgetMs?: number;
  maxFaults?: number;
  whats?: readonly CampaignWhat[];
  shard?: Shard;
  /** Of this shard's indices, every count-th from index on: one worker thread's share. */
  worker?: Shard;
  /** Shrink failing plans (default true). */
  shrink?: boolean;
  /** Rig file with the family's emulated board (default rigs/emulated.yaml). */
  rigPath?: string;
  /** Merged into the board's `emulated.options` (e.g. a planted defect). */
  emulatorOptions?: Record<string, unknown>;
  /** Transcripts of failing plans (original and minimal), for a repro bundle. */
  transcripts?: boolean;
}

export interface PlanRecord {
  index: number;
  seed: number;
  plan: string;
  violations: Violation[];
  fired: string[];
  flashOps: number;
  deviceMs: number;
}

export interface MinimalPlan {
  plan: string;
  violations: Violation[];
  fired: string[];
  tries: number;
  wallMs: number;
  transcripts?: PlanVerdict["transcripts"];
}

export interface CampaignFailure extends PlanRecord {
  minimal?: MinimalPlan;
  transcripts?: PlanVerdict["transcripts"];
}

export interface CampaignResult {
  family: CampaignFamily;
  seed: number;
  board: string;
  space: FaultSpace;
  plans: PlanRecord[];
  failures: CampaignFailure[];
  /** Faults drawn, and those that fired. */
  faults: number;
  faultsFired: number;
  flashOps: number;
  deviceMs: number;
  wallMs: number;
}

export const DEFAULT_MAX_FAULTS = 3;

/** The seed of plan `index`: a function of the campaign seed, the family and the index only. */
export function planSeed(seed: number, family: CampaignFamily, index: number): number {
  return new Random(seed).fork(`${family}#${index}`).nextU32();
}

export function* shardIndices(runs: number, shard: Shard = { index: 0, count: 1 }): Generator<number> {
  if (!(Number.isInteger(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count))
    throw new RangeError(`shard ${shard.index + 1}/${shard.count}: expected 1 <= I <= N`);
  for (let i = shard.index; i < runs; i += shard.count) yield i;
}

/** A family's emulated board from a rig file, options merged in. */
export function campaignBoard(
  family: Family,
  rigPath: string,
  emulatorOptions?: Record<string, unknown>,
): Board {
  const file = loadRigFileSync(rigPath);
  const spec = file.boards.find((b) => b.family === family && b.kind === "emulated");
  if (spec?.kind !== "emulated")
    throw new Error(`rig ${rigPath} has no emulated ${family} board for a campaign`);
  const merged: BoardSpec = emulatorOptions
    ? { ...spec, emulated: { ...spec.emulated, options: { ...spec.emulated.options, ...emulatorOptions } } }
    : spec;
  const one: RigFile = { ...file, boards: [merged] };
  return buildRig(one, rigPath).boards[0]!;
}

/** A board, its scenario and runner, and the fault space a clean run measured. */
export interface CampaignBench {
  board: Board;
  scenario: FamilyScenario;
  runner: PlanRunner;
  space: FaultSpace;
}

export async function prepareCampaign(
  family: CampaignFamily,
  rigPath: string,
  emulatorOptions?: Record<string, unknown>,
): Promise<CampaignBench> {
  const board = campaignBoard(boardFamilyOf(family), rigPath, emulatorOptions);
  const scenario = await scenarioFor(family, board);
  const faults = board.inspect?.faults;
  if (!faults) throw new Error(`board ${board.id} has no fault plan`);
  const runner = new PlanRunner(board, scenario, faults);
  const clean = await runner.run([]);
  if (clean.violations.length)
    throw new Error(
      `a clean ${family} run breaks an invariant: ${clean.violations.map((v) => v.message).join("; ")}`,
    );
  // Faults reach into recovery: the space is twice a clean update.
  const events = Object.fromEntries(
    Object.keys(scenario.menu.events).map((e) => [e, 2 * (clean.events[e] ?? 0)]),
  );
  const space: FaultSpace = { flashOps: 2 * clean.flashOps, events, durationMs: 2 * clean.deviceMs };
  return { board, scenario, runner, space };
}

export function defaultRigPath(): string {
  return new URL("../../rigs/emulated.yaml", import.meta.url).pathname;
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const bench = await prepareCampaign(opts.family, opts.rigPath ?? defaultRigPath(), opts.emulatorOptions);
  const { runner, scenario, space } = bench;
  const maxFaults = opts.maxFaults ?? DEFAULT_MAX_FAULTS;
  const whats = opts.whats ?? CAMPAIGN_WHATS;
  const result: CampaignResult = {
    family: opts.family,
    seed: opts.seed,
    board: bench.board.id,
    space,
    plans: [],
    failures: [],
    faults: 0,
    faultsFired: 0,
    flashOps: 0,
    deviceMs: 0,
    wallMs: 0,
  };
  const runs = opts.budgetMs === undefined ? opts.runs : Number.MAX_SAFE_INTEGER;
  const worker = opts.worker ?? { index: 0, count: 1 };
  let k = -1;
  for (const index of shardIndices(runs, opts.shard)) {
    if (++k % worker.count !== worker.index) continue;
    if (opts.budgetMs !== undefined && performance.now() - t0 >= opts.budgetMs) break;
    const seed = planSeed(opts.seed, opts.family, index);
    const plan = drawPlan(seed, scenario.menu, space, maxFaults, whats);
    const verdict = await runner.run(plan, { transcripts: opts.transcripts });
    const record: PlanRecord = {
      index,
      seed,
      plan: formatPlan(plan),
      violations: verdict.violations,
      fired: verdict.fired,
      flashOps: verdict.flashOps,
      deviceMs: verdict.deviceMs,
    };
    result.plans.push(record);
    result.faults += plan.length;
    result.faultsFired += verdict.fired.length;
    result.flashOps += verdict.flashOps;
    if (verdict.violations.length === 0) continue;
    const failure: CampaignFailure = { ...record };
    if (verdict.transcripts) failure.transcripts = verdict.transcripts;
    if (opts.shrink ?? true) failure.minimal = await minimize(runner, scenario, verdict, opts.transcripts);
    result.failures.push(failure);
  }
  result.deviceMs = totalDeviceMs(result.plans);
  result.wallMs = performance.now() - t0;
  return result;
}

/** Shrinks a failing verdict and reruns the minimal plan for its transcripts. */
export async function minimize(
  runner: PlanRunner,
  scenario: FamilyScenario,
  failing: PlanVerdict,
  transcripts = false,
): Promise<MinimalPlan> {
  const t0 = performance.now();
  const shrunk = await shrinkPlan(failing, scenario.menu, (p) => runner.run(p));
  const final = transcripts ? await runner.run(shrunk.plan, { transcripts: true }) : shrunk.verdict;
  const minimal: MinimalPlan = {
    plan: formatPlan(shrunk.plan),
    violations: final.violations,
    fired: final.fired,
    tries: shrunk.tries,
    wallMs: performance.now() - t0,
  };
  if (final.transcripts) minimal.transcripts = final.transcripts;
  return minimal;
}

/** Summed in index order, to the microsecond: the same total however the plans were shared out. */
function totalDeviceMs(plans: readonly PlanRecord[]): number {
  return Math.round(plans.reduce((s, p) => s + p.deviceMs, 0) * 1000) / 1000;
}

/** Results of shards or workers of one campaign, as the unsharded run would have them. */
export function mergeResults(parts: readonly CampaignResult[]): CampaignResult {
  const first = parts[0];
  if (!first) throw new Error("mergeResults: no results");
  const byIndex = <T extends { index: number }>(xs: T[]) => xs.sort((a, b) => a.index - b.index);
  return {
    ...first,
    plans: byIndex(parts.flatMap((p) => p.plans)),
    failures: byIndex(parts.flatMap((p) => p.failures)),
    faults: parts.reduce((s, p) => s + p.faults, 0),
    faultsFired: parts.reduce((s, p) => s + p.faultsFired, 0),
    flashOps: parts.reduce((s, p) => s + p.flashOps, 0),
    deviceMs: totalDeviceMs(byIndex(parts.flatMap((p) => p.plans))),
    wallMs: Math.max(...parts.map((p) => p.wallMs)),
  };
}

export type { Fault };
