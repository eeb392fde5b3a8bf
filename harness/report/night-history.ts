/**
 * What each night's run leaves for the next: one JSON line per run in the hil history file
 * (reports/hil-history.jsonl beside Allure's own reports/history.jsonl; the nightly job
 * carries both). A record holds sections by name, so more can be added (per-operation
 * timing) without touching the others; a reader ignores sections it does not know. Allure's
 * file is left to Allure: it keeps only the last 20 runs and rewrites its lines.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { BoardTimingNight } from "./operation-timing.js";
import { type HilResult, label } from "./results.js";

export const NIGHT_FORMAT = "update-hil/night@1";

/** The file's name in the report directory (reports/, or `hil report --out DIR`). */
export const HIL_HISTORY_FILE = "hil-history.jsonl";

/** One twin comparison of the night: which test on which lab board, and whether the twin matched. */
export interface TwinNight {
  readonly lab: string;
  readonly test: string;
  readonly equal: boolean | "no lab run";
  /** The divergence in one line, when there was one. */
  readonly divergence?: string;
}

export interface NightRecord {
  readonly format: typeof NIGHT_FORMAT;
  /** When the report was made (ISO 8601). */
  readonly at: string;
  readonly rig?: string | undefined;
  /** Twin comparisons; absent on a run without twins. */
  readonly twin?: readonly TwinNight[];
  /** Per board, each client operation's times this night (report/operation-timing.ts); absent when none ran. */
  readonly timing?: readonly BoardTimingNight[];
  /** Sections other tools add (timing, ...), kept as they are. */
  readonly [section: string]: unknown;
}

/** The twin comparisons among a run's results (labels set by harness/mocha/twin-hooks.ts). */
export function twinNight(results: readonly HilResult[]): TwinNight[] {
  return results
    .filter((r) => label(r, "twin-of") !== undefined)
    .map((r) => {
      const said = label(r, "lab-equals-emulator");
      const divergence = label(r, "twin-divergence");
      return {
        lab: label(r, "twin-of") as string,
        test: r.fullName,
        equal: said === "yes" ? true : said === "no" ? false : ("no lab run" as const),
        ...(divergence ? { divergence } : {}),
      };
    })
    .sort((a, b) => `${a.lab} ${a.test}`.localeCompare(`${b.lab} ${b.test}`));
}

/** The records of the history file, oldest first; lines of another format are skipped. @throws naming the file and line of bad JSON. */
export async function readNights(path: string): Promise<NightRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const nights: NightRecord[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if ((value as { format?: unknown })?.format === NIGHT_FORMAT) nights.push(value as NightRecord);
  });
  return nights;
}

export async function appendNight(path: string, record: NightRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(record)}\n`);
}

/** Divergences that appeared or disappeared since the last night with twin comparisons of the same tests. */
export interface TwinChanges {
  readonly appeared: readonly TwinNight[];
  readonly disappeared: readonly TwinNight[];
}

export function twinChanges(
  previous: readonly TwinNight[] | undefined,
  now: readonly TwinNight[],
): TwinChanges {
  const key = (t: TwinNight) => `${t.lab}\u0000${t.test}`;
  const before = new Map((previous ?? []).map((t) => [key(t), t]));
  const appeared = now.filter((t) => t.equal === false && before.get(key(t))?.equal !== false);
  // Gone: the test ran on both nights and the twin matches now.
  const disappeared = now
    .filter((t) => t.equal === true && before.get(key(t))?.equal === false)
    .map((t) => before.get(key(t)) as TwinNight);
  return { appeared, disappeared };
}

/** Lines for `hil report`: what changed since the last night. */
export function twinChangeLines(changes: TwinChanges): string[] {
  return [
    ...changes.appeared.map(
      (t) => `twin: new divergence on ${t.lab}: ${t.test}: ${t.divergence ?? "diverged"}`,
    ),
    ...changes.disappeared.map(
      (t) => `twin: divergence gone on ${t.lab}: ${t.test} (was ${t.divergence ?? "diverged"})`,
    ),
  ];
}
