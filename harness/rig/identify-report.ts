/**
 * The board's identity, as the run's health check read it, on every result of a test on
 * that board: one Allure parameter per field (`bootloader 0x91`, `pid 0x435`, `firmware 5`,
 * ...), so a report shows which unit a failure ran on and one bad unit stands out.
 *
 * The parameters are excluded from Allure's history id: a board with a new bootloader is
 * still the same test, its history continues.
 */
import * as allure from "allure-js-commons";
import type { Board } from "./board.js";
import { type Identity, identityFromEnv } from "./identify.js";

/** Parameter names of identity fields; a field named like a parameter the suites set already gets a prefix. */
const TAKEN = new Set(["seed", "faults"]);

export function identityParameters(identity: Identity): { name: string; value: string }[] {
  return Object.entries(identity).map(([key, value]) => ({
    name: TAKEN.has(key) ? `board.${key}` : key,
    value,
  }));
}

/** Inside a test: the parameters of `board`'s identity from this run's health check, if it was read. */
export async function reportIdentity(board: Board, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const identity = identityFromEnv(board.id, env);
  if (!identity) return;
  for (const p of identityParameters(identity)) await allure.parameter(p.name, p.value, { excluded: true });
}
