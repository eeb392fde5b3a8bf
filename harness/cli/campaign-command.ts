/**
 * `hil campaign`: seeded multi-fault plans on each family's update scenario, the invariants
 * checked after each, failing plans shrunk to a minimal one and written as repro bundles that
 * `hil replay` runs. Sharded over worker threads and over `--shard I/N` jobs.
 */
import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { writeCampaignBundle } from "../campaign/bundle.js";
import { DEFAULT_MAX_FAULTS } from "../campaign/campaign.js";
import { boardFamilyOf, campaignFamilies } from "../campaign/families/index.js";
import type { CampaignFamily } from "../campaign/ids.js";
import { CAMPAIGN_WHATS, parseWhats } from "../campaign/plan.js";
import { summaryLines } from "../campaign/summary.js";
import { runCampaignInWorkers } from "../campaign/workers.js";
import { loadRigFileSync, resolveRigPath } from "../rig/load.js";
import { parseShard } from "./run-command.js";
import { UsageError } from "./usage-error.js";

export const CAMPAIGN_OPTIONS = {
  rig: { type: "string" },
  family: { type: "string", multiple: true },
  runs: { type: "string" },
  budget: { type: "string" },
  seed: { type: "string" },
  "max-faults": { type: "string" },
  what: { type: "string" },
  shard: { type: "string" },
  workers: { type: "string" },
  plant: { type: "string" },
} as const;

/** Planted emulator defects a campaign can be shown to find (off unless named). */
const PLANTS: Record<string, { family: CampaignFamily; options: Record<string, unknown> }> = {
  "dfu-skip-erase": { family: "stm32l432", options: { dfu: { skipEraseAfterPowerLoss: true } } },
  "fus-half-installed": { family: "stm32wb55", options: { fusStartHalfInstalledStack: true } },
};

export interface CampaignCliOptions {
  rig?: string | undefined;
  family?: string[] | undefined;
  runs?: string | undefined;
  budget?: string | undefined;
  seed?: string | undefined;
  "max-faults"?: string | undefined;
  what?: string | undefined;
  shard?: string | undefined;
  workers?: string | undefined;
  plant?: string | undefined;
}

function whole(text: string, option: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`--${option}: expected a whole number >= ${min}, got '${text}'`);
  return Number(text);
}

/** `90s`, `10m`, `1h` (or plain seconds) in milliseconds. */
export function parseBudget(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text);
  if (!m) throw new UsageError(`--budget: expected a duration such as 90s, 10m or 1h, got '${text}'`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "s" | "m" | "h"];
}

export async function runCampaignCommand(opts: CampaignCliOptions): Promise<number> {
  const rig = resolveRigPath(opts.rig);
  const file = loadRigFileSync(rig);
  const onRig = new Set(file.boards.filter((b) => b.kind === "emulated").map((b) => b.family));
  const known = campaignFamilies();
  const families = opts.family?.length ? opts.family : known.filter((f) => onRig.has(boardFamilyOf(f)));
  for (const f of families) {
    if (!known.includes(f))
      throw new UsageError(`--family: no campaign for '${f}' (have: ${known.join(", ")})`);
    if (!onRig.has(boardFamilyOf(f)))
      throw new UsageError(`--family ${f}: rig ${rig} has no emulated ${boardFamilyOf(f)} board`);
  }
  if (opts.runs !== undefined && opts.budget !== undefined)
    throw new UsageError("--runs and --budget: give one");
  const budgetMs = opts.budget === undefined ? undefined : parseBudget(opts.budget);
  const runs = opts.runs === undefined ? 100 : whole(opts.runs, "runs", 1);
  const seed = opts.seed === undefined ? Date.now() % 1_000_000 : whole(opts.seed, "seed", 0);
  const maxFaults =
    opts["max-faults"] === undefined ? DEFAULT_MAX_FAULTS : whole(opts["max-faults"], "max-faults", 1);
  let whats: readonly (typeof CAMPAIGN_WHATS)[number][] = CAMPAIGN_WHATS;
  try {
    if (opts.what !== undefined) whats = parseWhats(opts.what);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const workers =
    opts.workers === undefined ? Math.min(2, availableParallelism()) : whole(opts.workers, "workers", 1);
  const plant = opts.plant === undefined ? undefined : PLANTS[opts.plant];
  if (opts.plant !== undefined && !plant)
    throw new UsageError(
      `--plant: unknown defect '${opts.plant}' (known: ${Object.keys(PLANTS).join(", ")})`,
    );

  const shown = relative(process.cwd(), rig) || rig;
  console.log(
    `hil campaign: rig ${shown}, seed ${seed}, ${budgetMs === undefined ? `${runs} plans` : `budget ${opts.budget}`} per family, 1..${maxFaults} faults of ${whats.join(", ")}${shard ? `, shard ${shard.index}/${shard.count}` : ""}, ${workers} worker${workers === 1 ? "" : "s"}${plant ? `, planted defect ${opts.plant}` : ""}`,
  );
  let failed = 0;
  for (const family of families) {
    const emulatorOptions = plant?.family === family ? plant.options : undefined;
    const result = await runCampaignInWorkers(
      {
        family,
        seed,
        runs,
        maxFaults,
        whats,
        rigPath: rig,
        ...(budgetMs === undefined ? {} : { budgetMs }),
        ...(shard ? { shard: { index: shard.index - 1, count: shard.count } } : {}),
        ...(emulatorOptions ? { emulatorOptions } : {}),
      },
      workers,
    );
    for (const line of summaryLines(result)) console.log(line);
    for (const f of result.failures) {
      const id = await writeCampaignBundle(f, { family, seed, rig, emulatorOptions });
      console.log(`    repro: hil replay ${id}`);
    }
    failed += result.failures.length;
  }
  return failed ? 1 : 0;
}
