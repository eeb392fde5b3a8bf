import { type InspectByKind, type InspectKind, inspectKind } from "../devices/registry.js";
import { skipWithReason } from "../report/skip.js";
import type { Board } from "./board.js";

/** Why a board without white-box access skips: what the test wanted and what would give it. */
export function inspectSkipReason(board: Board, why: string): string {
  return `${board.id}: ${why}: needs the inspect capability (an emulated board; a lab board would need a debug probe)`;
}

/**
 * The board's white-box view of `kind` ("stm32", "tkey", "nrf52840", "sim-nor"), or the
 * running test skipped with the reason (recorded in the report) where it has none.
 * @throws {Error} when the board has a view of another kind (the suite picked a wrong family).
 */
export async function requireInspect<K extends InspectKind>(
  ctx: Mocha.Context,
  board: Board,
  kind: K,
  why: string,
): Promise<InspectByKind[K]> {
  const inspect = board.inspect;
  if (!inspect) return skipWithReason(ctx, inspectSkipReason(board, why));
  if (inspectKind(inspect) !== kind)
    throw new Error(`board ${board.id} is a ${board.family}, not inspectable as ${kind}`);
  return inspect as InspectByKind[K];
}

/** The board's white-box view of `kind` where it has one (optional extra checks), else undefined. */
export function inspectIf<K extends InspectKind>(board: Board, kind: K): InspectByKind[K] | undefined {
  const inspect = board.inspect;
  return inspect && inspectKind(inspect) === kind ? (inspect as InspectByKind[K]) : undefined;
}
