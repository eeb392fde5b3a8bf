/**
 * Repro bundles of failing campaign plans, under reports/repro/<id>/ beside those of `hil
 * run`: the campaign's seed and plan index, the original and the minimal plan with their
 * verdicts and client transcripts. `hil replay <id>` runs both plans again.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { reproDir } from "../report/evidence.js";
import { firstDifference } from "../report/transcript-compare.js";
import type { TranscriptJson } from "../transport/transcript.js";
import { type CampaignFailure, prepareCampaign } from "./campaign.js";
import type { CampaignFamily } from "./ids.js";
import type { Violation } from "./invariants.js";
import { parsePlan } from "./plan.js";
import type { PlanVerdict } from "./run-plan.js";

export interface CampaignBundle {
  kind: "campaign";
  family: CampaignFamily;
  rig: string;
  emulatorOptions?: Record<string, unknown>;
  campaignSeed: number;
  index: number;
  planSeed: number;
  original: { plan: string; violations: Violation[]; fired: string[] };
  minimal?: { plan: string; violations: Violation[]; fired: string[] };
}

export function bundleId(family: CampaignFamily, seed: number, index: number): string {
  return `campaign-${family}-s${seed}-p${index}`;
}

const SUFFIX = ".transcript.json";

/** Runs one plan on a fresh board of the family, transcripts kept. */
export async function rerunPlan(
  family: CampaignFamily,
  rig: string,
  plan: string,
  emulatorOptions?: Record<string, unknown>,
): Promise<PlanVerdict> {
  const bench = await prepareCampaign(family, rig, emulatorOptions);
  return bench.runner.run(parsePlan(plan), { transcripts: true });
}

/** Writes the bundle of one failure (both plans rerun for their transcripts); returns its id. */
export async function writeCampaignBundle(
  failure: CampaignFailure,
  campaign: {
    family: CampaignFamily;
    seed: number;
    rig: string;
    emulatorOptions?: Record<string, unknown> | undefined;
  },
): Promise<string> {
  const id = bundleId(campaign.family, campaign.seed, failure.index);
  const dir = join(reproDir(), id);
  await mkdir(dir, { recursive: true });
  const bundle: CampaignBundle = {
    kind: "campaign",
    family: campaign.family,
    rig: campaign.rig,
    ...(campaign.emulatorOptions ? { emulatorOptions: campaign.emulatorOptions } : {}),
    campaignSeed: campaign.seed,
    index: failure.index,
    planSeed: failure.seed,
    original: { plan: failure.plan, violations: failure.violations, fired: failure.fired },
  };
  if (failure.minimal)
    bundle.minimal = {
      plan: failure.minimal.plan,
      violations: failure.minimal.violations,
      fired: failure.minimal.fired,
    };
  await writeFile(join(dir, "repro.json"), `${JSON.stringify(bundle, null, 2)}\n`);
  for (const [which, plan] of [
    ["original", bundle.original.plan],
    ["minimal", bundle.minimal?.plan],
  ] as const) {
    if (plan === undefined) continue;
    const v = await rerunPlan(campaign.family, campaign.rig, plan, campaign.emulatorOptions);
    for (const [label, t] of Object.entries(v.transcripts ?? {}))
      await writeFile(join(dir, `${which}-${label.replace(/\W+/g, "-")}${SUFFIX}`), JSON.stringify(t));
  }
  return id;
}

const key = (vs: readonly Violation[]) => vs.map((v) => `${v.invariant} @${v.step}: ${v.message}`);

/**
 * Runs a bundle's plans again: "same" when each breaks the same invariants with the same
 * messages and its transcripts match entry for entry, times included.
 */
export async function replayCampaignBundle(
  bundle: CampaignBundle,
  readTranscript: (name: string) => Promise<TranscriptJson | undefined>,
): Promise<{ same: boolean; lines: string[] }> {
  const lines: string[] = [];
  let same = true;
  for (const [which, part] of [
    ["original", bundle.original],
    ["minimal", bundle.minimal],
  ] as const) {
    if (!part) continue;
    const v = await rerunPlan(bundle.family, bundle.rig, part.plan, bundle.emulatorOptions);
    const was = key(part.violations);
    const now = key(v.violations);
    if (JSON.stringify(was) === JSON.stringify(now))
      lines.push(
        `${which} plan ${part.plan}: ${now.length ? `still breaks ${now.join("; ")}` : "passes, as it did"}`,
      );
    else {
      same = false;
      lines.push(
        `${which} plan ${part.plan}: was ${was.join("; ") || "passing"}; now ${now.join("; ") || "passing"}`,
      );
    }
    for (const [label, t] of Object.entries(v.transcripts ?? {})) {
      const name = `${which}-${label.replace(/\W+/g, "-")}${SUFFIX}`;
      const old = await readTranscript(name);
      if (!old) continue;
      const d = firstDifference(old, t, { times: true });
      if (d) {
        same = false;
        lines.push(`  transcript ${name}: differs at entry ${d.index + 1}: was ${d.was}; now ${d.now}`);
      } else lines.push(`  transcript ${name}: identical (${old.entries.length} entries, times included)`);
    }
  }
  return { same, lines };
}
