/**
 * `hil report`: turns the Allure results of `hil run` into what a lab and a qualification
 * rest on, all under reports/:
 * - junit.xml for CI systems (failure type = failure category);
 * - qualification-matrix.md / .html (clause × rig/board, a summary per document, gaps
 *   from the suites' declared clauses, which it loads without running them);
 * - environment.json / environment.properties (rig, boards, seeds, faults, versions, commit);
 * - the single-file Allure 3 report allure-report/index.html with history in history.jsonl
 *   (allure generate with allurerc.mjs, which reads environment.json and the failure
 *   categories); --out DIR puts all of these under DIR instead of reports/;
 * - with --gate, the quality gate verdict (exit 3 when it fails).
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";
import { emulatorOperationMs } from "../devices/operation-profile.js";
import { TIMING_SAMPLES_ENV } from "../mocha/timing-hooks.js";
import { collectDeclaredTests } from "../report/declared.js";
import { runFacts, toolFacts, toProperties } from "../report/environment.js";
import { checkGate } from "../report/gate.js";
import { toJunitXml } from "../report/junit.js";
import { buildMatrix, loadCatalogue, matrixHtml, matrixMarkdown } from "../report/matrix.js";
import {
  appendNight,
  HIL_HISTORY_FILE,
  NIGHT_FORMAT,
  type NightRecord,
  readNights,
  twinChangeLines,
  twinChanges,
  twinNight,
} from "../report/night-history.js";
import {
  type BoardTimingNight,
  DEFAULT_DRIFT,
  type DriftRule,
  readTimingSamples,
  timingTrends,
} from "../report/operation-timing.js";
import { readMergedResults, readResults, settleResults } from "../report/results.js";
import { TIMING_RESULTS_DIR, timingResultTime, writeTimingResults } from "../report/timing-allure.js";
import { timingHtml, timingMarkdown } from "../report/timing-report.js";
import { projectRoot, workRoot } from "../seams/paths.js";
import { resultsDir } from "./run-command.js";
import { recordedSuiteDirs, suiteDirs, suiteFiles } from "./suite-files.js";
import { UsageError } from "./usage-error.js";

export const REPORT_OPTIONS = {
  results: { type: "string", multiple: true },
  out: { type: "string" },
  "no-allure": { type: "boolean" },
  gate: { type: "boolean" },
  "min-success-rate": { type: "string" },
  require: { type: "string", multiple: true },
  suites: { type: "string", multiple: true },
  pack: { type: "string", multiple: true },
  drift: { type: "string" },
} as const;

export interface ReportOptions {
  /** One run's results, or several (rack hosts' shards) merged into one report. */
  results?: string[] | undefined;
  out?: string | undefined;
  "no-allure"?: boolean | undefined;
  gate?: boolean | undefined;
  "min-success-rate"?: string | undefined;
  require?: string[] | undefined;
  /** The suites whose declared clauses the matrix lists (default: those the last `hil run` ran). */
  suites?: string[] | undefined;
  pack?: string[] | undefined;
  /** When timing drift is flagged: `FRACTION[/NIGHTS]` (default 0.1/5). */
  drift?: string | undefined;
}

/** Exit code when the quality gate fails (1 is a failed run, 2 a usage error). */
export const GATE_FAILED = 3;

/** The `allure` package's CLI script, from the team's project first, else update-hil's own install. */
function allureCli(roots: readonly string[]): string | undefined {
  for (const root of roots)
    for (let dir = root; ; dir = dirname(dir)) {
      const cli = join(dir, "node_modules", "allure", "cli.js");
      if (existsSync(cli)) return cli;
      if (dirname(dir) === dir) break;
    }
  return undefined;
}

/** `--drift FRACTION[/NIGHTS]`: a lab's own threshold for flagging an operation that slows. */
export function parseDriftRule(text: string | undefined): DriftRule {
  if (text === undefined) return DEFAULT_DRIFT;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(text);
  const fraction = Number(m?.[1]);
  const nights = m?.[2] === undefined ? DEFAULT_DRIFT.nights : Number(m[2]);
  if (!m || !(fraction > 0) || !(nights >= 1))
    throw new UsageError(
      `--drift: expected FRACTION[/NIGHTS] (slower by more than FRACTION over the last NIGHTS nights, e.g. 0.1/5), got '${text}'`,
    );
  return { ...DEFAULT_DRIFT, fraction, nights };
}

/** The run's timing samples: where `hil run` put them (beside the results), unless the environment says. */
function timingSamplesFile(results: string): string {
  return process.env[TIMING_SAMPLES_ENV] ?? join(dirname(results), "timing-samples.jsonl");
}

export async function runReport(opts: ReportOptions): Promise<number> {
  const root = projectRoot();
  const out = opts.out ?? join(workRoot(), "reports");
  const dirs = opts.results?.length ? opts.results : [resultsDir()];
  // Several hosts' results: one directory of all of them, for Allure and the environment file.
  const results =
    dirs.length === 1 ? dirs[0]! : await mergeResultDirs(dirs, join(out, "allure-results-merged"));
  let minSuccessRate: number | undefined;
  if (opts["min-success-rate"] !== undefined) {
    minSuccessRate = Number(opts["min-success-rate"]);
    if (!Number.isFinite(minSuccessRate) || minSuccessRate < 0 || minSuccessRate > 1)
      throw new UsageError(
        `--min-success-rate: expected a number from 0 to 1, got '${opts["min-success-rate"]}'`,
      );
  }

  const drift = parseDriftRule(opts.drift);

  // Status from the category, skip reasons as messages: the Allure report reads the files.
  for (const dir of dirs) await settleResults(dir);
  const all = dirs.length === 1 ? await readResults(results) : await readMergedResults(dirs);
  if (all.length === 0)
    throw new UsageError(`no Allure results in ${dirs.join(", ")} (run \`hil run\` first)`);
  const facts = { ...runFacts(all), ...(await toolFacts(root)) };
  // Which clauses have a test at all: the suites say, not the results (a --grep run is not a gap).
  const chosen = opts.suites !== undefined || opts.pack !== undefined;
  const suiteFolders = (!chosen && (await recordedSuiteDirs(results))) || (await suiteDirs(opts));
  const declared = await suiteFiles(suiteFolders)
    .then((files) => collectDeclaredTests(files))
    .catch((e: unknown) => {
      console.warn(
        `hil report: could not load the suites to list their clauses (${(e as Error).message.split("\n")[0]}); gaps and "not run" come from the results alone`,
      );
      return undefined;
    });
  const matrix = buildMatrix(await loadCatalogue(), all, declared);

  await mkdir(out, { recursive: true });
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const written: string[] = [];
  const write = async (name: string, text: string) => {
    await writeFile(join(out, name), text);
    written.push(rel(join(out, name)));
  };
  await write("junit.xml", toJunitXml(all, { name: "update-hil", properties: facts }));
  await write("qualification-matrix.md", matrixMarkdown(matrix));
  await write("qualification-matrix.html", matrixHtml(matrix));
  await write("environment.json", `${JSON.stringify(facts, null, 2)}\n`);
  // Allure 2 readers (classic plugin) take the environment block from the results directory.
  await writeFile(join(results, "environment.properties"), toProperties(facts));

  // Twin comparisons and operation timing go into the hil history; what changed since the last night is said.
  const twins = twinNight(all);
  const timing = await readTimingSamples(timingSamplesFile(results));
  // The timing as Allure results of their own, beside the run's (which stay as they are).
  let timingResults: string | undefined;
  if (twins.length > 0 || timing.length > 0) {
    const history = join(out, HIL_HISTORY_FILE);
    const nights = await readNights(history);
    const previous = [...nights].reverse().find((n) => n.twin !== undefined)?.twin;
    if (twins.length > 0) for (const line of twinChangeLines(twinChanges(previous, twins))) console.log(line);
    const night: NightRecord = {
      format: NIGHT_FORMAT,
      at: new Date().toISOString(),
      ...(twins.length > 0 ? { twin: twins } : {}),
      ...(timing.length > 0 ? { timing } : {}),
    };
    await appendNight(history, night);
    written.push(rel(history));
    if (timing.length > 0) {
      // The emulator's figure: its twin's this night where the board ran with one, else the profile's.
      const emulatorMs = (board: BoardTimingNight, op: string) =>
        timing.find((t) => t.twinOf === board.board)?.ops[op]?.msPerUnit ?? emulatorOperationMs(board, op);
      const trends = timingTrends([...nights, night], drift, emulatorMs);
      for (const t of trends.filter((x) => x.drift))
        console.log(`timing: drift on ${t.board}: ${t.op} ${(t.change * 100).toFixed(1)} % slower`);
      await write("timing.md", timingMarkdown(trends));
      await write("timing.html", timingHtml(trends));
      timingResults = join(out, TIMING_RESULTS_DIR);
      const at = timingResultTime(all, Date.parse(night.at));
      await writeTimingResults(timingResults, trends, at, drift);
    }
  }

  const failed = all.filter((r) => r.status === "failed" || r.status === "broken");
  const byCategory = new Map<string, number>();
  for (const r of failed)
    byCategory.set(r.category ?? "harness", (byCategory.get(r.category ?? "harness") ?? 0) + 1);
  console.log(
    `hil report: ${all.length} results, ${failed.length} failed${
      failed.length ? ` (${[...byCategory].map(([c, n]) => `${n} ${c}`).join(", ")})` : ""
    }; ${matrix.gaps.length} clauses without a test`,
  );

  const allure = opts["no-allure"] ? undefined : allureCli([workRoot(), root]);
  if (!opts["no-allure"] && !allure)
    console.log(
      "hil report: no Allure 3 CLI installed, so no allure-report/ (npm install --save-dev allure; the results are complete without it)",
    );
  if (allure) {
    const config = join(root, "allurerc.mjs");
    const timingDirs = timingResults ? [timingResults] : [];
    await execa(process.execPath, [allure, "generate", "--config", config, results, ...timingDirs], {
      cwd: root,
      stdio: "inherit",
      env: {
        HIL_REPORT_ENVIRONMENT: join(out, "environment.json"),
        HIL_REPORT_OUTPUT: join(out, "allure-report"),
        HIL_REPORT_HISTORY: join(out, "history.jsonl"),
      },
    });
    written.push(rel(join(out, "allure-report")));
  }
  console.log(`wrote ${written.join(", ")}`);

  if (opts.gate) {
    const gate = checkGate(all, matrix, { minSuccessRate, requireSets: opts.require ?? [] });
    if (!gate.ok) {
      console.error(`quality gate FAILED:\n${gate.violations.map((v) => `  - ${v}`).join("\n")}`);
      return GATE_FAILED;
    }
    console.log(`quality gate passed (success rate ${(gate.successRate * 100).toFixed(1)}%)`);
  }
  return 0;
}

/** Copies the result and attachment files of every directory into `into` (file names are uuids). */
async function mergeResultDirs(dirs: readonly string[], into: string): Promise<string> {
  await mkdir(into, { recursive: true });
  for (const dir of dirs) {
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") throw new UsageError(`--results ${dir}: no such directory`);
      throw e;
    });
    for (const name of names)
      if (name !== "environment.properties") await copyFile(join(dir, name), join(into, name));
  }
  return into;
}
