/**
 * Which suite files a run loads: the team's own folders (`--suites DIR`, repeatable) and the
 * built-in suites as qualification packs (`--pack stm32-dfu,mcuboot`). `hil run` records
 * the choice beside its results so `hil report` lists the clauses of the same suites.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { isWithin, projectRoot, workRoot } from "../seams/paths.js";
import { UsageError } from "./usage-error.js";

/** Pack names: the built-in suite folders, plus short names for the ones named after a board. */
const PACK_ALIASES: Readonly<Record<string, string>> = { mcuboot: "nrf52840-mcuboot", fus: "stm32-fus" };

/** A suite file: `.spec.ts`/`.spec.js` and their module variants (never a `.d.ts`). */
const SUITE_FILE = /\.spec\.(?:[cm]?js|[cm]?ts)$/;

/** The built-in suites: their TypeScript in a checkout, the compiled pack in an installed package. */
export function builtinSuitesDir(root = projectRoot()): string {
  const source = join(root, "suites");
  return existsSync(join(root, "harness", "index.ts")) && existsSync(source)
    ? source
    : join(root, "dist", "suites");
}

/** The default suites folder: update-hil's own inside it, else ./suites of the team's project. */
export function defaultSuitesDir(): string {
  const root = workRoot();
  return root === projectRoot() ? builtinSuitesDir(root) : join(root, "suites");
}

/** The built-in pack names (`hil run --pack`). */
export async function packNames(): Promise<string[]> {
  const entries = await readdir(builtinSuitesDir(), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The folder of each named pack. @throws {UsageError} naming an unknown pack. */
export async function packDirs(names: readonly string[]): Promise<string[]> {
  const known = await packNames();
  return names.map((name) => {
    const folder = PACK_ALIASES[name] ?? name;
    if (!known.includes(folder))
      throw new UsageError(
        `--pack: no built-in pack '${name}' (known: ${[...known, ...Object.keys(PACK_ALIASES)].sort().join(", ")})`,
      );
    return join(builtinSuitesDir(), folder);
  });
}

export interface SuiteChoice {
  /** `--suites` values, as given. */
  suites?: readonly string[] | undefined;
  /** `--pack` values, each a comma-separated list. */
  pack?: readonly string[] | undefined;
}

/**
 * The folders a run loads suites from: each `--suites DIR` (relative to the current
 * directory), else the default folder; with `--pack`, the packs' folders too (the default
 * folder then only if it exists and is not the packs' own). A folder inside another one
 * listed is dropped, so no file loads twice. @throws {UsageError} on a folder that is missing.
 */
export async function suiteDirs(choice: SuiteChoice): Promise<string[]> {
  const packs = (choice.pack ?? [])
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter(Boolean);
  const dirs: string[] = [];
  if (choice.suites && choice.suites.length > 0) {
    for (const d of choice.suites) {
      const dir = resolve(d);
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new UsageError(`--suites: no folder ${relative(process.cwd(), dir) || dir}`);
      dirs.push(dir);
    }
  } else {
    const dir = defaultSuitesDir();
    if (packs.length === 0 || (existsSync(dir) && dir !== builtinSuitesDir())) dirs.push(dir);
  }
  dirs.push(...(await packDirs(packs)));
  const unique = [...new Set(dirs)];
  return unique.filter((d) => !unique.some((o) => o !== d && isWithin(d, o)));
}

/** The suite files under `dirs`, each folder's sorted, skipping node_modules. @throws {UsageError} when there are none. */
export async function suiteFiles(dirs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const dir of dirs) {
    const names = (await readdir(dir, { recursive: true }).catch(() => [] as string[]))
      .filter((f) => SUITE_FILE.test(f) && !f.split(/[\\/]/).includes("node_modules"))
      .sort();
    files.push(...names.map((f) => join(dir, f)));
  }
  if (files.length === 0)
    throw new UsageError(
      `no suites (*.spec.ts, *.spec.js) found under ${dirs.map((d) => relative(process.cwd(), d) || d).join(", ")}`,
    );
  return files;
}

/** Where `hil run` notes its suite folders for `hil report`: beside the results. */
export function suitesRecordPath(resultsDir: string): string {
  return join(dirname(resultsDir), "suites.json");
}

export async function recordSuiteDirs(resultsDir: string, dirs: readonly string[]): Promise<void> {
  await mkdir(dirname(resultsDir), { recursive: true });
  const note = { results: resolve(resultsDir), dirs };
  await writeFile(suitesRecordPath(resultsDir), `${JSON.stringify(note, null, 2)}\n`);
}

/**
 * The folders the last `hil run` into `resultsDir` loaded, or undefined when it left no note.
 * The note names its results directory: one left beside them by a run into another directory
 * that shares the parent (two temporary result folders under /tmp) is not this run's.
 */
export async function recordedSuiteDirs(resultsDir: string): Promise<string[] | undefined> {
  try {
    const { results, dirs } = JSON.parse(await readFile(suitesRecordPath(resultsDir), "utf8")) as {
      results?: unknown;
      dirs?: unknown;
    };
    if (results !== resolve(resultsDir)) return undefined;
    return Array.isArray(dirs) && dirs.every((d) => typeof d === "string") ? dirs : undefined;
  } catch {
    return undefined;
  }
}
