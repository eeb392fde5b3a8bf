/**
 * Mocha hooks that lease a lab board for the tests of one `describe` (forEachBoard adds
 * them for every lab board): `before` leases it, waiting up to HIL_LEASE_TIMEOUT_MS
 * (default 10 minutes) while another run or a `--parallel` worker holds it; `after`
 * releases it. A board that stays leased skips its tests with the holder named, never fails
 * them. A board the run's health check quarantined (HIL_QUARANTINE), or a re-check after one
 * of its tests failed for the lab (recheck-hooks.ts), skips its tests with the finding. Emulated boards are objects of this process: nothing to lease.
 */

import { SkipScenario } from "../lab/errors.js";
import { acquireLease, type Lease } from "../lab/lease.js";
import { skipWithReason } from "../report/skip.js";
import type { Board } from "../rig/board.js";
import { quarantineReason } from "../rig/health.js";
import { noteLeasedAway } from "../rig/untested.js";

export const DEFAULT_LEASE_TIMEOUT_MS = 10 * 60_000;

export function leaseTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.HIL_LEASE_TIMEOUT_MS;
  if (text === undefined || text === "") return DEFAULT_LEASE_TIMEOUT_MS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`HIL_LEASE_TIMEOUT_MS must be a whole number of ms, got '${text}'`);
  return n;
}

export function leaseHooks(board: Board): void {
  if (board.emulated) return;
  let lease: Lease | undefined;
  let skipReason: string | undefined;
  const quarantined = (): string | undefined => {
    const why = quarantineReason(board.id);
    return why === undefined ? undefined : `board ${board.id} is quarantined for this run: ${why}`;
  };
  before(async function () {
    skipReason = quarantined();
    if (skipReason !== undefined) {
      console.warn(`hil: skipping the tests of board ${board.id}: ${skipReason}`);
      return;
    }
    const timeoutMs = leaseTimeoutMs();
    this.timeout(timeoutMs + 30_000);
    try {
      lease = await acquireLease(board.id, { timeoutMs, clock: board.clock });
    } catch (error) {
      if (!(error instanceof SkipScenario)) throw error;
      skipReason = error.message;
      noteLeasedAway(board.id, skipReason);
      console.warn(`hil: skipping the tests of board ${board.id}: ${skipReason}`);
    }
  });
  beforeEach(async function () {
    // Quarantined before the board's tests, or by a failed re-check during them.
    const reason = skipReason ?? quarantined();
    if (reason === undefined) return;
    await skipWithReason(this, reason);
  });
  after(async () => {
    await lease?.release();
  });
}
