/**
 * Allure result files (`*-result.json` under reports/allure-results) read back into the few
 * fields the JUnit XML and the qualification matrix need. Retries of one test (same
 * historyId, board and parameters) collapse to the last attempt.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { categoryOf, errorNameOf, type FailureCategoryId } from "./categories.js";

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
  const status = STATUSES.includes(raw.status as ResultStatus) ? (raw.status as ResultStatus) : "unknown";
  const pairs = (v: unknown) =>
    Array.isArray(v)
      ? v
          .filter((p): p is Record<string, unknown> => typeof p === "object" && p !== null)
          .map((p) => ({ name: str(p.name), value: str(p.value) }))
      : [];
  const labels = pairs(raw.labels);
  const message = str(details.message);
  const trace = str(details.trace);
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
    category: categoryOf({ status, labels, errorName: errorNameOf(trace) ?? errorNameOf(message) }),
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

/** Reads every `*-result.json` in `dir` (a missing directory reads as no results). */
export async function readResults(dir: string): Promise<HilResult[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const results: HilResult[] = [];
  for (const name of names.filter((n) => n.endsWith("-result.json")).sort()) {
    const raw = JSON.parse(await readFile(join(dir, name), "utf8")) as Record<string, unknown>;
    results.push(toHilResult(raw));
  }
  return lastAttempts(results);
}
