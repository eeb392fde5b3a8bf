import { rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import Mocha from "mocha";
import { ALLOW_IRREVERSIBLE_ENV, runAllowsIrreversible } from "../lab/interlock.js";
import { TIMING_SAMPLES_ENV } from "../mocha/timing-hooks.js";
import { TWIN_FINDINGS_ENV } from "../mocha/twin-hooks.js";
import { reproDir } from "../report/evidence.js";
import { ResultsWriter } from "../report/results-writer.js";
import { checkRig, formatHealth, identitiesOf, QUARANTINE_ENV, quarantineOf } from "../rig/health.js";
import { IDENTITY_ENV } from "../rig/identify.js";
import { leaseConfigOf } from "../rig/lease-config.js";
import { loadRigFile, resolveRigPath } from "../rig/load.js";
import { buildRig, parseSeed } from "../rig/rig.js";
import { TWIN_ENV } from "../rig/twin.js";
import { workRoot } from "../seams/paths.js";
import { parseFault } from "../sim/faults.js";
import { attachProgressLine } from "./progress-line.js";
import { collectFailures, failureSummary } from "./run-summary.js";
import { runVerdict } from "./run-verdict.js";
import { recordSuiteDirs, suiteDirs, suiteFiles } from "./suite-files.js";
import { UsageError } from "./usage-error.js";

/** Allure results of `hil run`; HIL_RESULTS_DIR moves them (the CLI's own tests do, to keep the main run's). */
export function resultsDir(): string {
  return process.env.HIL_RESULTS_DIR ?? join(workRoot(), "reports", "allure-results");
}

export interface RunOptions {
  rig?: string | undefined;
  grep?: string | undefined;
  seed?: string | undefined;
  fault?: string[] | undefined;
  "keep-results"?: boolean | undefined;
  /** Lets irreversible operations run on boards the rig file marks sacrificial (harness/lab/interlock.ts). */
  "allow-irreversible"?: boolean | undefined;
  /** Skips the health check of lab boards at the start of the run. */
  "skip-check"?: boolean | undefined;
  /** `i/n`: run only the i-th of n deterministic shares of the suite files (1-based). */
  shard?: string | undefined;
  /** Every lab board's scenarios also run on its emulated twin, compared (harness/mocha/twin-hooks.ts). */
  twin?: boolean | undefined;
  /** Folders of suites to run (default: the project's suites/); see suite-files.ts. */
  suites?: string[] | undefined;
  /** Built-in suite packs to run beside them (`stm32-dfu,mcuboot`). */
  pack?: string[] | undefined;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (1 <= i <= n). @throws {UsageError} */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new UsageError(`--shard: expected i/n with 1 <= i <= n, such as 2/3, got '${text}'`);
  return { index, count };
}

/**
 * The suite files of one shard: every n-th file of the list sorted by path relative to
 * the suites folder, starting at the i-th. The same on every host, so n rack jobs with
 * shards 1/n..n/n run every file exactly once.
 */
export function shardFiles(relativePaths: readonly string[], shard: Shard): string[] {
  return [...relativePaths].sort().filter((_, i) => i % shard.count === shard.index - 1);
}

/**
 * `hil run`: the suites under suites/ on one rig, through Mocha's programmatic API, with
 * the spec reporter on the terminal and Allure results under reports/allure-results.
 * The rig, seed and faults reach the suites through HIL_RIG / HIL_SEED / HIL_FAULTS,
 * the same variables a plain `mocha` run reads.
 */
export async function runSuites(opts: RunOptions): Promise<number> {
  const rigPath = resolveRigPath(opts.rig);
  const rigFile = await loadRigFile(rigPath); // a bad rig file is a usage error before any suite runs
  let seed: number | undefined;
  try {
    seed = parseSeed(opts.seed);
  } catch (e) {
    throw new UsageError(`--seed: ${(e as Error).message}`);
  }
  const faults = (opts.fault ?? []).map((text) => parseFault(text));
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  let grep: RegExp | undefined;
  if (opts.grep !== undefined) {
    try {
      grep = new RegExp(opts.grep);
    } catch (e) {
      throw new UsageError(`--grep: ${(e as Error).message}`);
    }
  }

  process.env.HIL_RIG = rigPath;
  if (seed !== undefined) process.env.HIL_SEED = String(seed);
  if (faults.length > 0) process.env.HIL_FAULTS = (opts.fault ?? []).join(",");
  if (opts["allow-irreversible"]) process.env[ALLOW_IRREVERSIBLE_ENV] = "1";
  if (opts.twin) process.env[TWIN_ENV] = "1";
  // Twin comparisons, one JSON line per test, beside the results (`hil report` reads them).
  process.env[TWIN_FINDINGS_ENV] ??= join(dirname(resultsDir()), "twin-findings.jsonl");
  // Each client operation's time on its board, one JSON line each (`hil report` summarises them).
  process.env[TIMING_SAMPLES_ENV] ??= join(dirname(resultsDir()), "timing-samples.jsonl");
  // Reproduction bundles of failed tests sit beside the results (reports/repro/<id>/).
  process.env.HIL_REPRO_DIR ??= join(dirname(resultsDir()), "repro");
  if (!opts["keep-results"]) {
    await rm(resultsDir(), { recursive: true, force: true });
    await rm(reproDir(), { recursive: true, force: true });
    await rm(process.env[TWIN_FINDINGS_ENV], { force: true });
    await rm(process.env[TIMING_SAMPLES_ENV], { force: true });
  }

  const mocha = new Mocha({
    reporter: "allure-mocha",
    reporterOptions: {
      resultsDir: resultsDir(),
      extraReporters: "spec",
      writer: new ResultsWriter(resultsDir()),
    },
    forbidOnly: true,
    timeout: 120_000,
    ...(grep ? { grep } : {}),
  });
  const dirs = await suiteDirs({ suites: opts.suites, pack: opts.pack });
  const root = workRoot();
  const all = (await suiteFiles(dirs)).map((f) => relative(root, f));
  const files = (shard ? shardFiles(all, shard) : all).map((f) => join(root, f));
  await recordSuiteDirs(resultsDir(), dirs);
  for (const f of files) mocha.addFile(f);

  console.log(
    `hil run: rig ${relative(process.cwd(), rigPath) || rigPath}${seed !== undefined ? `, seed ${seed}` : ""}${faults.length ? `, faults ${opts.fault?.join(" ")}` : ""}${runAllowsIrreversible() ? ", irreversible operations allowed on sacrificial boards" : ""}${shard ? `, shard ${shard.index}/${shard.count} (${files.length} of ${all.length} suite files)` : ""}`,
  );
  // Lab boards are checked first; one failing its check is quarantined (its tests skip with
  // the finding), the rest of the rack runs.
  const labBoards = buildRig(rigFile, rigPath).boards.filter((b) => !b.emulated && !b.twinOf);
  if (labBoards.length > 0 && !opts["skip-check"]) {
    const results = await checkRig(labBoards, { leases: leaseConfigOf(rigFile) });
    for (const r of results) if (r.status !== "ok") console.log(formatHealth(r));
    // What each board said it is (bootloader, PID, ...) goes on its results as parameters.
    const identities = identitiesOf(results);
    if (Object.keys(identities).length > 0) process.env[IDENTITY_ENV] = JSON.stringify(identities);
    const quarantine = quarantineOf(results);
    if (Object.keys(quarantine).length > 0) {
      process.env[QUARANTINE_ENV] = JSON.stringify(quarantine);
      console.log(
        `hil run: quarantined for this run (infrastructure): ${Object.keys(quarantine).join(", ")}`,
      );
    }
  }
  await mocha.loadFilesAsync();
  let failed: string[] = [];
  const { failures, stats } = await new Promise<{ failures: number; stats: Mocha.Stats | undefined }>(
    (resolve) => {
      const runner = mocha.run((failures) => resolve({ failures, stats: runner.stats }));
      // On a terminal: scenarios done, the running one, the client operation and its percent.
      attachProgressLine(runner);
      failed = collectFailures(runner);
    },
  );
  if (stats) console.log(`${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped`);
  // Each failed test with its repro id and the command that replays it.
  for (const line of await failureSummary(failed, reproDir())) console.log(line);
  // Boards that could not be tested: their skipped tests say why one by one, the close says it once.
  const verdict = runVerdict(failures);
  for (const line of verdict.lines) console.log(line);
  return verdict.exitCode;
}
