import { freePtyPath, PtyPathTakenError } from "../expose/pty-link.js";
import { parseSeed } from "../rig/rig.js";
import { UsageError } from "./usage-error.js";

/** `--seed N` of `hil emulate`: 1 when absent, a usage error when malformed. */
export function emulatorSeed(text: string | undefined): number {
  try {
    return parseSeed(text) ?? 1;
  } catch (e) {
    throw new UsageError(`--seed: ${(e as Error).message}`);
  }
}

/**
 * `--option KEY=VALUE`... as a map. With `allowed`, any other key is a usage error that
 * lists the allowed ones (a typo must not silently fall back to a default).
 */
export function emulatorOptions(
  pairs: readonly string[] | undefined,
  allowed?: readonly string[],
): Record<string, string> {
  const options: Record<string, string> = {};
  for (const kv of pairs ?? []) {
    const m = /^([A-Za-z][\w.-]*)=(.*)$/.exec(kv);
    if (!m || (allowed && !allowed.includes(m[1]!)))
      throw new UsageError(
        allowed
          ? `--option '${kv}': expected KEY=VALUE with KEY one of ${allowed.join(", ")}`
          : `--option '${kv}': expected KEY=VALUE`,
      );
    options[m[1]!] = m[2]!;
  }
  return options;
}

/**
 * Dotted keys of `--option` (`dfu.l4EraseStall=true`) set a nested option, as the rig file's
 * `emulated.options: { dfu: { l4EraseStall: true } }` does; their values true, false and
 * numbers are parsed. Plain keys stay strings (each emulator reads its own).
 */
export function nestOptions(flat: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(flat)) {
    const path = key.split(".");
    if (path.length === 1) {
      if (typeof out[key] === "object")
        throw new UsageError(`--option '${key}=${text}': ${key} already has dotted options`);
      out[key] = text;
      continue;
    }
    if (path.some((p) => p === "")) throw new UsageError(`--option '${key}=${text}': empty part in the key`);
    let at = out;
    for (const part of path.slice(0, -1)) {
      const next = at[part];
      if (next !== undefined && (typeof next !== "object" || next === null))
        throw new UsageError(`--option '${key}=${text}': ${part} is already a plain value`);
      if (next === undefined) at[part] = {};
      at = at[part] as Record<string, unknown>;
    }
    at[path.at(-1)!] = optionValue(text);
  }
  return out;
}

function optionValue(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^(0x[0-9a-fA-F]+|-?\d+(\.\d+)?)$/.test(text)) return Number(text);
  return text;
}

/**
 * `--uart-pty PATH`, before anything is started: a stale link of an earlier run is removed
 * (said on stderr); anything else at PATH is a usage error and stays as it is (pty-link.ts).
 */
export async function freeUartPtyPath(link: string): Promise<void> {
  try {
    const stale = await freePtyPath(link);
    if (stale) console.error(`hil emulate: removed ${link}, a stale link to ${stale} (gone)`);
  } catch (e) {
    if (e instanceof PtyPathTakenError) throw new UsageError(`--uart-pty: ${e.message}`);
    throw e;
  }
}
