/**
 * Boards a run could not test, with why: quarantined by the start-of-run health check
 * (HIL_QUARANTINE) or by a re-check during the run (recheck-hooks.ts), or left leased by
 * another run past the lease wait (lease-hooks.ts). Their tests skip, so the counts alone
 * would read as a pass: `hil run` names each one at its close and exits with its own code.
 */
import { QUARANTINE_ENV, quarantinedDuringRun } from "./health.js";

export interface UntestedBoard {
  readonly board: string;
  /** `start`: its health check failed; `during`: a re-check failed; `leased`: another run kept it. */
  readonly why: "start" | "during" | "leased";
  /** The finding or the lease holder, as the skipped tests say it. */
  readonly detail: string;
}

/** Boards whose tests skipped because another run held them past the wait, with the skip reason. */
const leasedAway = new Map<string, string>();

/** Records that `boardId`'s tests skipped because it stayed leased by another run. */
export function noteLeasedAway(boardId: string, reason: string): void {
  leasedAway.set(boardId, reason);
}

/** Every board this run could not test, quarantined ones first, each board once. */
export function untestedBoards(env: NodeJS.ProcessEnv = process.env): UntestedBoard[] {
  const out = new Map<string, UntestedBoard>();
  for (const [board, detail] of Object.entries(startQuarantine(env)))
    out.set(board, { board, why: "start", detail });
  for (const [board, detail] of quarantinedDuringRun())
    if (!out.has(board)) out.set(board, { board, why: "during", detail });
  for (const [board, detail] of leasedAway)
    if (!out.has(board)) out.set(board, { board, why: "leased", detail });
  return [...out.values()];
}

function startQuarantine(env: NodeJS.ProcessEnv): Record<string, string> {
  const text = env[QUARANTINE_ENV];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}
