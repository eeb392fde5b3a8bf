/**
 * Operation timing inside the Allure report: one Allure result per board and operation,
 * grouped under their own parentSuite, with this night's time per unit against the board's
 * history and the emulator's figure (parameters and description), the chart of the nights
 * as an SVG attachment, and drift as a tag and in the name. They are figures, not tests:
 * always "passed" (drift is a finding about a board, not a failure of the run), written to a
 * directory of their own that `hil report` hands to `allure generate` beside the run's
 * results, which stay as they are; and readers of results drop them ({@link isTimingResult}),
 * so the matrix, the JUnit file and the gate never count them.
 */
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DriftRule, OperationTrend } from "./operation-timing.js";
import { fmt, pct, trendChart } from "./timing-report.js";

/** The Allure section (parentSuite) the timing results are grouped under. */
export const TIMING_SECTION = "operation timing";
/** Label on every timing result (value: the operation): what marks it as a figure, not a test. */
export const TIMING_LABEL = "hil-timing";
/** Their directory in the report directory (reports/, or `hil report --out DIR`). */
export const TIMING_RESULTS_DIR = "allure-results-timing";
/** Tag on a drifting operation's result. */
export const DRIFT_TAG = "drift";

/** Whether a result is one of these timing figures (by its label). */
export function isTimingResult(r: { readonly labels: readonly { name: string; value: string }[] }): boolean {
  return r.labels.some((l) => l.name === TIMING_LABEL);
}

/**
 * When the timing results say they happened: at the end of the run's last test (else `fallback`),
 * so they do not stretch the run's span in Allure's timeline and duration out to the report's time.
 */
export function timingResultTime(results: readonly { readonly stop: number }[], fallback: number): number {
  const ends = results.map((r) => r.stop).filter((t) => Number.isFinite(t) && t > 0);
  return ends.length ? ends.reduce((a, b) => Math.max(a, b)) : fallback;
}

/** A file of the timing results directory: name and content. */
export interface AllureFile {
  readonly name: string;
  readonly content: string;
}

/** A uuid-shaped id from a text, so the same board and operation keep their file names night after night. */
function idOf(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/** What the drift rule says, in words. */
function ruleText(rule: DriftRule): string {
  return `drift is flagged when the median of the last ${rule.nights} nights is more than ${(rule.fraction * 100).toFixed(0)} % above the median of the nights before (at least ${rule.minBaseline} of them)`;
}

/**
 * The figures of one trend: a short name (the report's parameter column is narrow), the
 * description's longer one, and the value (times in ms per unit of the operation).
 */
function figures(t: OperationTrend): [string, string, string][] {
  return [
    ["this night", "this night (ms/unit)", fmt(t.now)],
    ["median before", "history median (ms/unit)", fmt(t.historyMedian)],
    ["range before", "history min–max (ms/unit)", `${fmt(t.historyMin)}–${fmt(t.historyMax)}`],
    ["emulator", "emulator (ms/unit)", fmt(t.emulatorMs)],
    ["change", "change (recent nights vs earlier)", pct(t.change)],
    ["nights", "nights", String(t.series.length)],
  ];
}

/** A drift as words: "26.2 % slower". */
const slower = (change: number) => `${(change * 100).toFixed(1)} % slower`;

/** The Allure result and chart attachment of one board's operation. `at` is the night's time (ms since the epoch). */
export function timingResultFiles(t: OperationTrend, at: number, rule: DriftRule): AllureFile[] {
  const uuid = idOf(`${TIMING_SECTION}\u0000${t.board}\u0000${t.op}`);
  const chart = `${uuid}-attachment.svg`;
  const rows = figures(t);
  const verdict = t.drift
    ? `**Drift**: ${t.op} on ${t.board} is ${slower(t.change)} than its earlier nights.`
    : Number.isNaN(t.change)
      ? "Too few nights to judge drift."
      : "No drift.";
  const description = [
    verdict,
    "",
    `Time per unit (page, block, chunk, KiB) on the board's clock; ${ruleText(rule)}. Not a test: its status says nothing about the run.`,
    "",
    "| figure | value |",
    "|---|---|",
    ...rows.map(([, k, v]) => `| ${k} | ${v} |`),
    "",
  ].join("\n");
  const descriptionHtml = [
    `<p class="hil-timing-verdict">${t.drift ? `<strong>Drift</strong>: ${escapeHtml(`${t.op} on ${t.board} is ${slower(t.change)} than its earlier nights.`)}` : escapeHtml(verdict)}</p>`,
    `<p>Time per unit (page, block, chunk, KiB) on the board's clock; ${escapeHtml(ruleText(rule))}. Not a test: its status says nothing about the run.</p>`,
    `<table>${rows.map(([, k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`,
  ].join("");
  const result = {
    uuid,
    // Allure derives the history id from fullName and the parameters not excluded: board and operation.
    historyId: idOf(`${t.board}\u0000${t.op}`),
    testCaseId: idOf(`${TIMING_SECTION}\u0000${t.board}\u0000${t.op}`),
    name: t.drift ? `${t.op} on ${t.board}: drift ${pct(t.change)}` : `${t.op} on ${t.board}`,
    fullName: `${TIMING_SECTION}: ${t.board}: ${t.op}`,
    status: "passed",
    stage: "finished",
    start: at,
    stop: at,
    description,
    descriptionHtml,
    labels: [
      { name: "parentSuite", value: TIMING_SECTION },
      { name: "suite", value: t.board },
      { name: TIMING_LABEL, value: t.op },
      { name: "tag", value: "timing" },
      ...(t.drift ? [{ name: "tag", value: DRIFT_TAG }] : []),
    ],
    parameters: [
      { name: "board", value: t.board },
      { name: "operation", value: t.op },
      ...rows.map(([name, , value]) => ({ name, value, excluded: true })),
    ],
    attachments: [
      {
        name: `${t.op} on ${t.board}: ms per unit over ${t.series.length} nights`,
        source: chart,
        type: "image/svg+xml",
      },
    ],
    steps: [],
    links: [],
  };
  return [
    { name: `${uuid}-result.json`, content: JSON.stringify(result) },
    { name: chart, content: trendChart(t) },
  ];
}

/**
 * Writes the timing results of `trends` into `dir`, emptied first (it is `hil report`'s own
 * directory, never the run's results). Returns how many results it wrote.
 */
export async function writeTimingResults(
  dir: string,
  trends: readonly OperationTrend[],
  at: number,
  rule: DriftRule,
): Promise<number> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const t of trends)
    for (const f of timingResultFiles(t, at, rule)) await writeFile(join(dir, f.name), f.content);
  return trends.length;
}
