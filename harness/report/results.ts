/**
 * Allure result files (`*-result.json` under reports/allure-results) read back into the few
 * fields the JUnit XML and the qualification matrix need. Retries of one test (same
 * historyId, board and parameters) collapse to the last attempt.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { categoryOf, errorNameOf, type FailureCategoryId, statusOfCategory } from "./categories.js";
import { skipReasonOf } from "./skip.js";
import { isTimingResult } from "./timing-allure.js";

export type ResultStatus = "passed" | "failed" | "broken" | "skipped" | "unknown";

export interface HilResult {
  uuid: string;
  historyId: string;
  name: string;
  fullName: string;
  status: ResultStatus;
  message: string;
  trace: string;
  /** Milliseconds since the epoch. */
  start: number;
  stop: number;
  labels: { name: string; value: string }[];
  parameters: { name: string; value: string }[];
  /** Set for failed and broken results. */
  category: FailureCategoryId | undefined;
  /** The result's description (a test that skips itself puts its reason there: "Skipped: …"). */
  description?: string;
}

/** Every label value of `name`, in order. */
export function labelValues(r: Pick<HilResult, "labels">, name: string): string[] {
  return r.labels.filter((l) => l.name === name).map((l) => l.value);
}

/** The last value of label `name`, if any. */
export function label(r: Pick<HilResult, "labels">, name: string): string | undefined {
  return labelValues(r, name).at(-1);
}

const STATUSES: readonly ResultStatus[] = ["passed", "failed", "broken", "skipped", "unknown"];

/** One Allure result object (as allure-js writes it) as a {@link HilResult}. */
export function toHilResult(raw: Record<string, unknown>): HilResult {
  const str = (v: unknown): string =>
    typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
  const details = (raw.statusDetails ?? {}) as Record<string, unknown>;
  const written = STATUSES.includes(raw.status as ResultStatus) ? (raw.status as ResultStatus) : "unknown";
  const pairs = (v: unknown) =>
    Array.isArray(v)
      ? v
          .filter((p): p is Record<string, unknown> => typeof p === "object" && p !== null)
          .map((p) => ({ name: str(p.name), value: str(p.value) }))
      : [];
  const labels = pairs(raw.labels);
  const message = str(details.message);
  const trace = str(details.trace);
  const category = categoryOf({
    status: written,
    labels,
    errorName: errorNameOf(trace) ?? errorNameOf(message),
  });
  // Allure wrote "failed" for any message matching /assert/i: the category decides instead.
  const status = category === undefined ? written : statusOfCategory(category);
  return {
    uuid: str(raw.uuid),
    historyId: str(raw.historyId),
    name: str(raw.name),
    fullName: str(raw.fullName) || str(raw.name),
    status,
    message,
    trace,
    start: Number(raw.start ?? 0),
    stop: Number(raw.stop ?? raw.start ?? 0),
    labels,
    parameters: pairs(raw.parameters),
    category,
    description: str(raw.description),
  };
}

/**
 * Keeps the last attempt of each test: results with the same historyId and board (retries
 * carry an excluded `Retry` parameter but the same historyId).
 */
export function lastAttempts(results: readonly HilResult[]): HilResult[] {
  const byKey = new Map<string, HilResult>();
  for (const r of results) {
    const key = `${r.historyId || r.fullName}\u0000${label(r, "board") ?? ""}`;
    const prev = byKey.get(key);
    if (!prev || prev.stop <= r.stop) byKey.set(key, r);
  }
  return [...byKey.values()].sort(compareResults);
}

/** Stable order for reports: by full name, then board, then start. */
export function compareResults(a: HilResult, b: HilResult): number {
  return (
    a.fullName.localeCompare(b.fullName) ||
    (label(a, "board") ?? "").localeCompare(label(b, "board") ?? "") ||
    a.start - b.start
  );
}

/**
 * Settles what allure-mocha guessed in the result files of `dir`, before any report reads
 * them: a failed or broken result gets the status of its category (Allure's guess comes
 * from /assert/i anywhere in the message, so a TypeError reading `assertErased` was
 * "failed"); a skipped result whose reason was recorded gets it as its message (instead of
 * allure-mocha's "Test skipped"). Returns how many files changed.
 */
export async function settleResults(dir: string): Promise<number> {
  let changed = 0;
  for (const name of await resultFiles(dir)) {
    const path = join(dir, name);
    const raw = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    const r = toHilResult(raw);
    const details = (raw.statusDetails ?? {}) as Record<string, unknown>;
    let dirty = false;
    if ((raw.status === "failed" || raw.status === "broken") && raw.status !== r.status) {
      raw.status = r.status;
      dirty = true;
    }
    const reason = r.status === "skipped" ? skipReasonOf(r.description) : undefined;
    if (reason !== undefined && details.message !== reason) {
      raw.statusDetails = { ...details, message: reason };
      dirty = true;
    }
    if (!dirty) continue;
    await writeFile(path, JSON.stringify(raw));
    changed++;
  }
  return changed;
}

async function resultFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith("-result.json")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/**
 * Reads every `*-result.json` in `dir` (a missing directory reads as no results). Operation
 * timing figures (report/timing-allure.ts) are not test results and are left out.
 */
export async function readResults(dir: string): Promise<HilResult[]> {
  const results: HilResult[] = [];
  for (const name of await resultFiles(dir)) {
    const raw = JSON.parse(await readFile(join(dir, name), "utf8")) as Record<string, unknown>;
    const r = toHilResult(raw);
    if (!isTimingResult(r)) results.push(r);
  }
  return lastAttempts(results);
}

/**
 * The results of several runs as one (`hil report --results A --results B`: rack hosts
 * running shards of one rig). A test run on one host and skipped on another (its board was
 * leased away there) counts as run; otherwise the last attempt wins, as within one run.
 */
export async function readMergedResults(dirs: readonly string[]): Promise<HilResult[]> {
  const all = (await Promise.all(dirs.map((d) => readResults(d)))).flat();
  const byKey = new Map<string, HilResult>();
  for (const r of all) {
    const key = `${r.historyId || r.fullName}\u0000${label(r, "board") ?? ""}`;
    const prev = byKey.get(key);
    const ran = (x: HilResult) => x.status !== "skipped";
    if (!prev || (ran(r) && !ran(prev)) || (ran(r) === ran(prev) && prev.stop <= r.stop)) byKey.set(key, r);
  }
  return [...byKey.values()].sort(compareResults);
}
