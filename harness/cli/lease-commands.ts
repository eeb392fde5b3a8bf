/**
 * `hil reserve`, `hil release` and `hil leases`: a developer takes a board of a shared rack
 * for an afternoon, gives it back, and sees who holds what. The leases live where the rig
 * says (lock files on this host, or etcd: rig/lease-config.ts), the same place `hil run`
 * looks, so a run waits for a reserved board and then skips it with the holder named.
 */
import { existsSync } from "node:fs";
import {
  type BoardHolder,
  describeBackend,
  type LeaseBackendConfig,
  listBoardLeases,
  releaseBoard,
  reserveBoard,
} from "../lab/board-lease.js";
import { leaseConfigOf } from "../rig/lease-config.js";
import { loadRigFile, resolveRigPath } from "../rig/load.js";
import type { RigFile } from "../rig/schema.js";
import { InfrastructureError } from "../seams/errors.js";
import { UsageError } from "./usage-error.js";

export const RESERVE_OPTIONS = {
  rig: { type: "string" },
  for: { type: "string" },
  note: { type: "string" },
} as const;
export const RELEASE_OPTIONS = { rig: { type: "string" } } as const;
export const LEASES_OPTIONS = { rig: { type: "string" } } as const;

/** The default reservation: an afternoon. */
export const DEFAULT_RESERVATION = "4h";

const UNITS: Record<string, number> = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `2h`, `1d` (or a sum such as `1h30m`) in ms. @throws {UsageError} */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(min|s|m|h|d)/g)];
  const whole = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || whole !== text)
    throw new UsageError(`--for: expected a duration such as 30m, 2h or 1h30m, got '${text}'`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
  if (ms < 1000) throw new UsageError(`--for: at least 1s, got '${text}'`);
  return ms;
}

async function rigAndLeases(
  rigFlag: string | undefined,
): Promise<{ rig: RigFile | undefined; config: LeaseBackendConfig }> {
  const path = resolveRigPath(rigFlag);
  // No rig file is fine without --rig: the leases come from HIL_LEASE_ETCD or HIL_LEASE_DIR.
  const rig = rigFlag !== undefined || existsSync(path) ? await loadRigFile(path) : undefined;
  return { rig, config: leaseConfigOf(rig) };
}

function oneBoard(positionals: readonly string[], command: string, rig: RigFile | undefined): string {
  if (positionals.length !== 1)
    throw new UsageError(`usage: hil ${command} <board> (try: hil ${command} --help)`);
  const board = positionals[0]!;
  const lab = rig?.boards.filter((b) => b.kind === "lab").map((b) => b.id);
  if (rig && !lab?.includes(board))
    throw new UsageError(
      `board '${board}' is not a lab board of rig '${rig.name}' (lab boards: ${lab?.join(", ") || "none"})`,
    );
  return board;
}

/** A lease service that does not answer (etcd down, TLS refused): one line naming it, exit 1. */
async function reportingLab(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof InfrastructureError)) throw e;
    console.error(`hil ${command}: ${e.message}`);
    return 1;
  }
}

export function runReserve(
  values: { rig?: string | undefined; for?: string | undefined; note?: string | undefined },
  positionals: string[],
): Promise<number> {
  return reportingLab("reserve", () => reserve(values, positionals));
}

export function runRelease(values: { rig?: string | undefined }, positionals: string[]): Promise<number> {
  return reportingLab("release", () => release(values, positionals));
}

export function runLeases(values: { rig?: string | undefined }): Promise<number> {
  return reportingLab("leases", () => leases(values));
}

async function reserve(
  values: { rig?: string | undefined; for?: string | undefined; note?: string | undefined },
  positionals: string[],
): Promise<number> {
  const forMs = parseDuration(values.for ?? DEFAULT_RESERVATION);
  const { rig, config } = await rigAndLeases(values.rig);
  const board = oneBoard(positionals, "reserve", rig);
  const got = await reserveBoard(config, board, forMs, values.note);
  if ("holder" in got) {
    console.error(`hil reserve: board ${board} is held by ${got.holder.text}`);
    return 1;
  }
  console.log(
    `reserved board ${board} until ${iso(got.reserved.until)} (${describeBackend(config)}): ${got.reserved.text}`,
  );
  return 0;
}

async function release(values: { rig?: string | undefined }, positionals: string[]): Promise<number> {
  const { rig, config } = await rigAndLeases(values.rig);
  const board = oneBoard(positionals, "release", rig);
  const was = await releaseBoard(config, board);
  console.log(was ? `released board ${board}, held by ${was.text}` : `board ${board} was not leased`);
  return 0;
}

async function leases(values: { rig?: string | undefined }): Promise<number> {
  const { config } = await rigAndLeases(values.rig);
  const held = await listBoardLeases(config);
  console.log(`leases (${describeBackend(config)}):`);
  if (held.length === 0) console.log("  none");
  for (const h of held) console.log(`  ${formatHolder(h)}`);
  return 0;
}

/** `board  user@host pid N  since ISO  until ISO  note`. */
export function formatHolder(h: BoardHolder): string {
  return [
    h.board.padEnd(16),
    `${h.user}@${h.host} pid ${h.pid}`,
    `since ${iso(h.since)}`,
    `until ${h.until === undefined ? "released (kept alive by its run)" : iso(h.until)}`,
    ...(h.note ? [h.note] : []),
  ].join("  ");
}

const iso = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms) ? "?" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
