/**
 * Loading rig files: YAML text → validated {@link RigFile}, or one {@link RigFileError}
 * listing every problem as `rigs/lab.yaml:14 boards[2].power.port: expected integer, got string "3"`
 * (file as given, 1-based line of the offending node, field path, readable message).
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLError } from "yaml";
import type { z } from "zod";
import { type ErrorCategory, HilError } from "../seams/errors.js";
import { projectRoot, workRoot } from "../seams/paths.js";
import { type DuplicateIdParams, type RigFile, RigFileSchema } from "./schema.js";

/** One problem in a rig file. `line` is 1-based and inside the file; absent when the file could not be read. */
export interface RigProblem {
  readonly line: number | undefined;
  /** Field path such as `boards[2].power.port`; `(root)` for the whole document, `(yaml)` for syntax errors. */
  readonly path: string;
  readonly message: string;
}

/** Every problem found in one rig file. */
export class RigFileError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  override readonly name = "RigFileError";

  constructor(
    /** The file path as the caller gave it. */
    readonly file: string,
    readonly problems: readonly RigProblem[],
    options?: ErrorOptions,
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `invalid rig file ${file} (${count}):\n${problems.map((p) => formatProblem(file, p)).join("\n")}`,
      options,
    );
  }
}

/** `file:line path: message`, the form editors and CI annotations link from. */
export function formatProblem(file: string, problem: RigProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`;
  return `${where} ${problem.path}: ${problem.message}`;
}

/** Reads and validates a rig file. @throws {RigFileError} listing every problem. */
export async function loadRigFile(path: string): Promise<RigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw unreadable(path, cause);
  }
  return parseRigFile(text, path);
}

/** {@link loadRigFile} for callers that cannot await (suite files while mocha loads them). */
export function loadRigFileSync(path: string): RigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw unreadable(path, cause);
  }
  return parseRigFile(text, path);
}

function unreadable(path: string, cause: unknown): RigFileError {
  const message = `cannot read: ${(cause as Error).message}`;
  return new RigFileError(path, [{ line: undefined, path: "(file)", message }], { cause });
}

/** Validates rig file text; `file` is used in messages only. @throws {RigFileError} */
export function parseRigFile(text: string, file: string): RigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true });
  const lastLine = countLines(text);
  const lineAt = (offset: number) => clamp(lineCounter.linePos(offset).line, 1, lastLine);

  // A rig file must be clean YAML: warnings (an unknown !tag, ...) count as problems too.
  const yamlProblems = [...doc.errors, ...doc.warnings].map((e) => yamlProblem(e, lineAt));
  if (yamlProblems.length > 0) throw new RigFileError(file, sortProblems(yamlProblems));

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (cause) {
    // Alias expansion past maxAliasCount (a "billion laughs" file), ...
    const message = lowerFirst((cause as Error).message);
    throw new RigFileError(file, [{ line: 1, path: "(yaml)", message }], { cause });
  }

  const knownKeys = new Map<string, readonly string[]>();
  const result = RigFileSchema.safeParse(data, { error: (iss) => readableMessage(iss, knownKeys) });
  const locate = (path: readonly PropertyKey[]) => lineAt(offsetOf(doc.contents, path));
  if (result.success) {
    // Each board knows where its fields are, so a health finding can point at the line.
    const boards = result.data.boards.map((board, i) => ({
      ...board,
      where: (field: readonly (string | number)[]) => {
        const path = ["boards", i, ...field];
        return `${file}:${locate(path)} ${formatPath(path)}`;
      },
    }));
    return { ...result.data, boards };
  }

  const problems = result.error.issues.flatMap((issue): RigProblem[] => {
    if (issue.code === "unrecognized_keys") {
      const allowed = knownKeys.get(pathKey(issue.path)) ?? [];
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return { line: locate(path), path: formatPath(path), message: unknownKeyMessage(key, allowed) };
      });
    }
    const params =
      issue.code === "custom" ? (issue.params as Partial<DuplicateIdParams> | undefined) : undefined;
    const message =
      params?.rule === "duplicate-board-id" && params.firstIndex !== undefined
        ? `duplicate board id ${JSON.stringify(params.id)}, first used by boards[${params.firstIndex}] at line ${locate(["boards", params.firstIndex, "id"])}`
        : issue.message;
    return [{ line: locate(issue.path), path: formatPath(issue.path), message }];
  });
  throw new RigFileError(file, sortProblems(problems));
}

// ---------------------------------------------------------------------------------------
// Rig path

/**
 * Where the rig file is: the `--rig` value, else `HIL_RIG`, else `rigs/emulated.yaml` of the
 * project at hand (a team's own, as `hil init` writes it), else update-hil's.
 */
export function resolveRigPath(cliFlag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (cliFlag) return cliFlag;
  if (env.HIL_RIG) return env.HIL_RIG;
  const own = join(workRoot(), "rigs", "emulated.yaml");
  return existsSync(own) ? own : join(projectRoot(), "rigs", "emulated.yaml");
}

// Moved to harness/seams (reports need it without importing the rig); re-exported.
export { projectRoot };

// ---------------------------------------------------------------------------------------
// Lines

function countLines(text: string): number {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return Math.max(1, lines.length);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), hi);
}

/**
 * Offset of the node a path names: the key of a map entry (so a block value is reported on
 * its key's line), or the item of a list. Where the path leaves the document (a missing key,
 * a key brought in by a `<<` merge) the deepest node that exists stands for it: a missing
 * key is reported at its parent.
 */
function offsetOf(root: Node | null, path: readonly PropertyKey[]): number {
  let node: unknown = root;
  let offset = root?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isAlias(node)) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const at = (pair.key as Node | null)?.range?.[0] ?? (pair.value as Node | null)?.range?.[0];
      if (at !== undefined) offset = at;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      if (item.range) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

// ---------------------------------------------------------------------------------------
// Messages

function yamlProblem(error: YAMLError, lineAt: (offset: number) => number): RigProblem {
  // prettyErrors appends " at line L, column C:" and a source excerpt; the line goes in front instead.
  const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "");
  return { line: lineAt(error.pos[0]), path: "(yaml)", message: lowerFirst(message) };
}

function sortProblems(problems: RigProblem[]): RigProblem[] {
  const seen = new Set<string>();
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i)
    .map(({ p }) => p)
    .filter((p) => {
      const key = `${p.line} ${p.path} ${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** `boards[2].power.port`; keys that are not plain words are quoted: `info["fw version"]`. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][\w-]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed);
  const quoted = JSON.stringify(key);
  if (guess) return `unknown key ${quoted} (did you mean "${guess}"?)`;
  return allowed.length > 0
    ? `unknown key ${quoted}; allowed: ${allowed.join(", ")}`
    : `unknown key ${quoted}`;
}

/** The first closest candidate within edit distance 2 (1 for words of up to 4 letters) of `word`. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: edits, with a swap of neighbours (`prot` → `port`) as one. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/** What a value is, for "got ..." (YAML words: mapping, list). */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = { object: "a mapping", array: "a list", int: "integer" };

type RawIssue = z.core.$ZodRawIssue;

/**
 * Default messages for issues whose schema gave none: short, in the rig file's words, with
 * what was found. Unknown keys are split per key by the caller; their allowed keys are
 * recorded in `knownKeys` here, where the object schema is still at hand.
 */
function readableMessage(iss: RawIssue, knownKeys: Map<string, readonly string[]>): string | undefined {
  const input = iss.input;
  const missing = input === undefined;
  switch (iss.code) {
    case "invalid_type": {
      const isInt = (iss.inst as { isInt?: boolean } | undefined)?.isInt === true;
      const expected = isInt ? "integer" : (EXPECTED[iss.expected] ?? iss.expected);
      if (missing) return `missing (expected ${expected})`;
      // `version: 1.10` is the number 1.1 to YAML; `usbSerial: 12345678` is a number too.
      const quote =
        iss.expected === "string" && typeof input === "number" ? " (quote it: YAML read a number)" : "";
      return `expected ${expected}, got ${describe(input)}${quote}`;
    }
    case "invalid_value": {
      const options = iss.values.map((v) => (typeof v === "string" ? v : String(v)));
      const expected = options.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${options.join(", ")}`;
      if (missing) return `missing (expected ${expected})`;
      const guess = typeof input === "string" ? closest(input, options) : undefined;
      return `expected ${expected}, got ${describe(input)}${guess ? ` (did you mean ${guess}?)` : ""}`;
    }
    case "invalid_union": {
      if (iss.discriminator === undefined) return `does not match any allowed form, got ${describe(input)}`;
      const options = ((iss as { options?: readonly unknown[] }).options ?? []).map(String);
      const value = (input as Record<string, unknown> | undefined)?.[iss.discriminator];
      if (value === undefined) return `missing (expected one of ${options.join(", ")})`;
      const guess = typeof value === "string" ? closest(value, options) : undefined;
      return `expected one of ${options.join(", ")}, got ${describe(value)}${guess ? ` (did you mean ${guess}?)` : ""}`;
    }
    case "unrecognized_keys": {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
        ?.def?.shape;
      if (shape && iss.path) knownKeys.set(pathKey(iss.path), Object.keys(shape));
      return undefined;
    }
    case "invalid_key": {
      const key = iss.path?.at(-1);
      return `invalid key ${JSON.stringify(String(key))}: ${iss.issues[0]?.message ?? "not allowed"}`;
    }
    case "too_small":
    case "too_big": {
      const bound = iss.code === "too_small" ? iss.minimum : iss.maximum;
      if (iss.origin === "array") {
        return iss.code === "too_small"
          ? `needs at least ${bound} item(s)`
          : `allows at most ${bound} item(s)`;
      }
      if (iss.origin === "string") {
        return iss.code === "too_small"
          ? `needs at least ${bound} character(s)`
          : `allows at most ${bound} character(s)`;
      }
      const op = iss.code === "too_small" ? (iss.inclusive ? ">=" : ">") : iss.inclusive ? "<=" : "<";
      return `expected ${op} ${bound}, got ${describe(input)}`;
    }
    default:
      return undefined;
  }
}
