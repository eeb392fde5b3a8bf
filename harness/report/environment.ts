/**
 * What makes a run reproducible, collected from its results: rigs, boards, seeds, injected
 * faults, versions read from the boards, plus the harness version, commit and Node. The
 * generated report shows it as its environment block, JUnit carries it as properties.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type HilResult, label, labelValues } from "./results.js";

export const VERSION_LABEL_PREFIX = "version.";

/** Run facts derivable from results alone (deterministic: sorted, deduplicated). */
export function runFacts(results: readonly HilResult[]): Record<string, string> {
  const facts: Record<string, string> = {};
  const uniq = (values: Iterable<string>) => [...new Set(values)].sort().join(", ");
  const rigs = uniq(results.flatMap((r) => labelValues(r, "rig")));
  if (rigs) facts.rig = rigs;
  const hosts = uniq(results.flatMap((r) => labelValues(r, "host")));
  if (hosts) facts.host = hosts;
  const boards = new Map<string, HilResult>();
  for (const r of results) {
    const b = label(r, "board");
    if (b !== undefined && !boards.has(b)) boards.set(b, r);
  }
  for (const [board, r] of [...boards].sort(([a], [b]) => a.localeCompare(b))) {
    const parts = [
      label(r, "family"),
      label(r, "board.kind"),
      label(r, "board.serial") && `serial ${label(r, "board.serial")}`,
    ];
    for (const l of r.labels.filter((x) => x.name.startsWith(VERSION_LABEL_PREFIX)))
      parts.push(`${l.name.slice(VERSION_LABEL_PREFIX.length)} ${l.value}`);
    facts[`board ${board}`] = parts.filter(Boolean).join("; ");
  }
  const param = (name: string) =>
    uniq(results.flatMap((r) => r.parameters.filter((p) => p.name === name).map((p) => p.value)));
  const seeds = param("seed");
  if (seeds) facts.seed = seeds;
  const faults = param("faults");
  if (faults) facts.faults = faults;
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  facts.results = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return facts;
}

/** Harness version, git commit (when in a checkout) and Node version. */
export async function toolFacts(root: string): Promise<Record<string, string>> {
  const facts: Record<string, string> = {};
  try {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
      name?: string;
      version?: string;
    };
    facts.harness = `${pkg.name ?? "update-hil"} ${pkg.version ?? "?"}`;
  } catch {
    // no package.json: leave it out
  }
  try {
    const { stdout } = await promisify(execFile)("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root });
    const { stdout: dirty } = await promisify(execFile)(
      "git",
      ["status", "--porcelain", "--untracked-files=no"],
      {
        cwd: root,
      },
    );
    facts.commit = `${stdout.trim()}${dirty.trim() ? " (modified)" : ""}`;
  } catch {
    // not a git checkout (an unpacked archive): leave it out
  }
  facts.node = process.version;
  return facts;
}

/** Java-properties text (as Allure's environment.properties), keys and values escaped. */
export function toProperties(facts: Record<string, string>): string {
  const esc = (s: string, key: boolean) =>
    s
      .replace(/\\/g, "\\\\")
      .replace(/\n/g, "\\n")
      .replace(/[=:]/g, (c) => (key ? `\\${c}` : c))
      .replace(key ? / /g : /^ /, (c) => `\\${c}`);
  return Object.entries(facts)
    .map(([k, v]) => `${esc(k, true)}=${esc(v, false)}\n`)
    .join("");
}
