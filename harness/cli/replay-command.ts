/**
 * `hil replay <id>`: reruns a failed scenario from its bundle under reports/repro/<id>/ (same
 * rig, run seed, run faults, the one test by its full title) and says whether it still fails
 * the same way: same status and the same first line of the error message.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { reproDir } from "../report/evidence.js";
import { readResults } from "../report/results.js";
import { projectRoot } from "../rig/load.js";
import { UsageError } from "./usage-error.js";

export const REPLAY_OPTIONS = { rig: { type: "string" } } as const;

interface Bundle {
  test: string;
  rig: string | null;
  runSeed: string | null;
  runFaults: string | null;
  category: string;
  error: { name?: string; message?: string; value?: string };
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
  const grep = `^${bundle.test.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
  const args = ["bin/hil.js", "run", "--grep", grep];
  const rig = opts.rig ?? bundle.rig;
  if (rig) args.push("--rig", rig);
  if (bundle.runSeed) args.push("--seed", bundle.runSeed);
  for (const f of (bundle.runFaults ?? "").split(",").filter(Boolean)) args.push("--fault", f);

  const work = await mkdtemp(join(tmpdir(), "hil-replay-"));
  try {
    console.log(`hil replay ${id}: ${bundle.test}`);
    await execa(process.execPath, args, {
      cwd: projectRoot(),
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
    return verdict === "same" ? 0 : 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
