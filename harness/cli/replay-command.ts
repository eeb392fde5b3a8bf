/**
 * `hil replay <id>`: reruns a failed scenario from its bundle under reports/repro/<id>/ (same
 * rig, run seed, run faults, the one test by its full title) and says whether it still fails
 * the same way: same status and the same first line of the error message, and, on an
 * emulated board, the same client transcripts entry for entry, times included (a lab board's
 * transcripts are compared without times, for information).
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { type CampaignBundle, replayCampaignBundle } from "../campaign/bundle.js";
import { reproDir } from "../report/evidence.js";
import { readResults } from "../report/results.js";
import { firstDifference } from "../report/transcript-compare.js";
import { projectRoot, workRoot } from "../seams/paths.js";
import type { TranscriptJson } from "../transport/transcript.js";
import { resultsDir } from "./run-command.js";
import { recordedSuiteDirs } from "./suite-files.js";
import { UsageError } from "./usage-error.js";

export const REPLAY_OPTIONS = { rig: { type: "string" } } as const;

interface Bundle {
  test: string;
  rig: string | null;
  runSeed: string | null;
  runFaults: string | null;
  category: string;
  error: { name?: string; message?: string; value?: string };
  board?: { emulated?: boolean };
}

/** Exit codes: 0 the same failure again, 1 it passed or failed differently. */
export type ReplayVerdict = "same" | "different" | "passed" | "not run";

const firstLine = (s: string | undefined) => (s ?? "").split("\n")[0]?.trim() ?? "";

export function compareReplay(
  bundle: Pick<Bundle, "error">,
  replay: { status: string; message: string } | undefined,
): ReplayVerdict {
  if (!replay || replay.status === "skipped") return "not run";
  if (replay.status === "passed") return "passed";
  return firstLine(replay.message) === firstLine(bundle.error.message ?? bundle.error.value)
    ? "same"
    : "different";
}

export async function runReplay(opts: { rig?: string | undefined }, positionals: string[]): Promise<number> {
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0)
    throw new UsageError("usage: hil replay <id> [--rig FILE]  (ids: ls reports/repro)");
  const dir = join(reproDir(), id);
  let bundle: Bundle;
  try {
    bundle = JSON.parse(await readFile(join(dir, "repro.json"), "utf8")) as Bundle;
  } catch {
    const known = await readdir(reproDir()).catch(() => [] as string[]);
    throw new UsageError(`no bundle ${dir}${known.length ? ` (known: ${known.join(", ")})` : ""}`);
  }
  if ((bundle as { kind?: string }).kind === "campaign")
    return replayCampaign(dir, bundle as unknown as CampaignBundle);
  const grep = `^${bundle.test.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
  const args = [join(projectRoot(), "bin", "hil.js"), "run", "--grep", grep];
  // The suite folders of the run that failed (a team's own, packs), where it noted them.
  for (const dir of (await recordedSuiteDirs(resultsDir())) ?? []) args.push("--suites", dir);
  const rig = opts.rig ?? bundle.rig;
  if (rig) args.push("--rig", rig);
  if (bundle.runSeed) args.push("--seed", bundle.runSeed);
  for (const f of (bundle.runFaults ?? "").split(",").filter(Boolean)) args.push("--fault", f);

  const work = await mkdtemp(join(tmpdir(), "hil-replay-"));
  try {
    console.log(`hil replay ${id}: ${bundle.test}`);
    await execa(process.execPath, args, {
      cwd: workRoot(),
      reject: false,
      stdio: "inherit",
      // Only what the bundle says: no seed, faults or rig from this shell's environment.
      env: {
        HIL_RESULTS_DIR: join(work, "allure-results"),
        HIL_REPRO_DIR: join(work, "repro"),
        HIL_SEED: "",
        HIL_FAULTS: "",
        HIL_RIG: "",
      },
    });
    const results = await readResults(join(work, "allure-results"));
    const verdict = compareReplay(bundle, results[0]);
    const was = firstLine(bundle.error.message ?? bundle.error.value);
    const now = results[0] ? firstLine(results[0].message) : "";
    const say: Record<ReplayVerdict, string> = {
      same: `still fails the same way (${bundle.category}): ${was}`,
      different: `fails differently: was "${was}", now "${now}"`,
      passed: `passes now; it failed with "${was}"`,
      "not run": "the test did not run (renamed, or skipped on this rig)",
    };
    console.log(`hil replay: ${say[verdict]}`);
    if (verdict !== "same") return 1;
    const emulated = bundle.board?.emulated ?? true;
    const transcripts = await compareTranscripts(dir, join(work, "repro", id), emulated);
    for (const line of transcripts.lines) console.log(`hil replay: ${line}`);
    if (transcripts.differ && emulated) {
      console.log("hil replay: same failure, other exchanges: the scenario did not replay exactly");
      return 1;
    }
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Each client transcript of the bundle against the replay's: identical, or where they part.
 * `times`: compare the entries' times too (emulated boards, on the virtual clock).
 */
async function compareTranscripts(
  bundleDir: string,
  replayDir: string,
  times: boolean,
): Promise<{ lines: string[]; differ: boolean }> {
  const SUFFIX = ".transcript.json";
  const names = (await readdir(bundleDir)).filter((n) => n.endsWith(SUFFIX)).sort();
  const lines: string[] = [];
  let differ = false;
  for (const name of names) {
    const label = `transcript ${name.slice(0, -SUFFIX.length)}`;
    const was = JSON.parse(await readFile(join(bundleDir, name), "utf8")) as TranscriptJson;
    const text = await readFile(join(replayDir, name), "utf8").catch(() => undefined);
    if (text === undefined) {
      differ = true;
      lines.push(`${label}: the replay recorded none`);
      continue;
    }
    const d = firstDifference(was, JSON.parse(text) as TranscriptJson, { times });
    if (d) differ = true;
    lines.push(
      d
        ? `${label}: differs at entry ${d.index + 1} of ${was.entries.length}: was ${d.was}; now ${d.now}`
        : `${label}: identical (${was.entries.length} entries${times ? ", times included" : ", times not compared"})`,
    );
  }
  return { lines, differ };
}

/** A campaign bundle: both plans run again in this process, verdicts and transcripts compared. */
async function replayCampaign(dir: string, bundle: CampaignBundle): Promise<number> {
  console.log(`hil replay: campaign plan ${bundle.index} of ${bundle.family}, seed ${bundle.campaignSeed}`);
  const { same, lines } = await replayCampaignBundle(bundle, async (name) => {
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as TranscriptJson);
  });
  for (const line of lines) console.log(`hil replay: ${line}`);
  console.log(
    `hil replay: ${same ? "same verdicts and transcripts" : "the plans did not replay the same way"}`,
  );
  return same ? 0 : 1;
}
