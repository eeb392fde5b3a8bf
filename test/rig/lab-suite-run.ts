/**
 * Runs suites in a child mocha against a rig file (HIL_RIG), the way a rack host runs them,
 * and reads back mocha's JSON report: what passed, failed and was skipped, by full title.
 * The report is written fresh into `dir` (a stale one from an earlier run must not pass);
 * without `dir`, into a scratch directory removed afterwards.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { readResults } from "../../harness/report/results.js";
import { skipReasonOf } from "../../harness/report/skip.js";
import { projectRoot } from "../../harness/rig/load.js";

export interface SuiteRunResult {
  passes: string[];
  failures: string[];
  pending: string[];
  /** With `skipReasons`: each skipped test's recorded reason, by its name in the Allure results. */
  skipReasons?: Map<string, string | undefined>;
  /** The child's stderr, for assertion messages. */
  stderr: string;
}

type SuiteRunOptions = {
  /** A scratch directory; the rig file, report and leases go there. Default: a fresh one, removed after. */
  dir?: string;
  rigYaml: string[];
  suites: string | readonly string[];
  env?: Record<string, string>;
  /** Longest the child mocha may run before it is killed. Default 210 s. */
  timeoutMs?: number;
  /** More mocha arguments (`--grep PATTERN`). */
  args?: readonly string[];
  /** Also run Allure's reporter (results in `dir`), to read back why each skipped test skipped. */
  skipReasons?: boolean;
};

/**
 * The harness's warnings about ports a test left open (harness/mocha/board-link-hooks.ts):
 * a passing test closes what it opened, so a clean run has none.
 */
export function portsLeftOpen(output: string): string[] {
  return output.split("\n").filter((line) => line.includes("closed port(s) the test left open"));
}

export async function runSuitesOnRig(opts: SuiteRunOptions): Promise<SuiteRunResult> {
  if (opts.dir !== undefined) return runIn(opts.dir, opts);
  const dir = await mkdtemp(join(tmpdir(), "hil-lab-run-"));
  try {
    return await runIn(dir, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runIn(dir: string, opts: SuiteRunOptions): Promise<SuiteRunResult> {
  const root = projectRoot();
  const rigFile = join(dir, "rig.yaml");
  const report = join(dir, "report.json");
  await writeFile(rigFile, [...opts.rigYaml, ""].join("\n"));
  const allureDir = join(dir, "allure-results");
  await rm(report, { force: true });
  await rm(allureDir, { recursive: true, force: true });
  const run = await execa(
    join(root, "node_modules/.bin/mocha"),
    [
      "--no-config",
      "--node-option",
      "import=tsx",
      // import() the suites, so a load error shows as itself (see .mocharc.json).
      "--node-option",
      "no-experimental-require-module",
      "--timeout",
      "120000",
      // A port or child a failed test left open must not keep the child (and this run) alive.
      "--exit",
      ...(opts.skipReasons
        ? [
            // Allure records skip reasons (skipWithReason); it hands the run on to the json reporter.
            "--reporter",
            "allure-mocha",
            "--reporter-option",
            `resultsDir=${allureDir}`,
            "--reporter-option",
            "extraReporters=json",
          ]
        : ["--reporter", "json"]),
      "--reporter-option",
      `output=${report}`,
      ...(opts.args ?? []),
      ...(typeof opts.suites === "string" ? [opts.suites] : opts.suites),
    ],
    {
      cwd: root,
      reject: false,
      // Under the callers' own test timeouts, so a stuck child is reported with its stderr.
      timeout: opts.timeoutMs ?? 210_000,
      forceKillAfterDelay: 5_000,
      env: { HIL_RIG: rigFile, HIL_LEASE_DIR: join(dir, "leases"), ...opts.env },
    },
  );
  // Behind Allure, the json reporter does not get its output option: it prints the report last.
  if (opts.skipReasons) {
    const at = run.stdout.lastIndexOf('{\n  "stats"');
    if (at >= 0) await writeFile(report, run.stdout.slice(at));
  }
  const text = await readFile(report, "utf8").catch(() => {
    const how = run.timedOut ? `killed after ${opts.timeoutMs ?? 210_000} ms` : `exit ${run.exitCode}`;
    throw new Error(`mocha wrote no report (${how}): ${run.stderr.slice(-2000)}`);
  });
  const result = JSON.parse(text) as {
    passes: { fullTitle: string }[];
    failures: { fullTitle: string; err: { message: string } }[];
    pending: { fullTitle: string }[];
  };
  const skipReasons = opts.skipReasons
    ? new Map(
        (await readResults(allureDir))
          .filter((r) => r.status === "skipped")
          .map((r) => [r.name, skipReasonOf(r.description)]),
      )
    : undefined;
  return {
    ...(skipReasons ? { skipReasons } : {}),
    passes: result.passes.map((p) => p.fullTitle),
    failures: result.failures.map((f) => `${f.fullTitle}: ${f.err.message}`),
    pending: result.pending.map((p) => p.fullTitle),
    stderr: run.stderr,
  };
}
