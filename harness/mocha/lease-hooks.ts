/**
 * Mocha hooks that lease a lab board for the tests of one `describe` (forEachBoard adds
 * them for every lab board): `before` leases it, waiting up to HIL_LEASE_TIMEOUT_MS
 * (default 10 minutes) while another run or a `--parallel` worker holds it; `after`
 * releases it. A board that stays leased skips its tests with the holder named, never fails
 * them. A board the run's health check quarantined (HIL_QUARANTINE), or a re-check after one
 * of its tests failed for the lab (recheck-hooks.ts), skips its tests with the finding. Emulated boards are objects of this process: nothing to lease.
 *
 * The lease lives where the rig says (rig/lease-config.ts: lock files, or etcd for several
 * hosts). An etcd lease can be lost under its holder (keepalives unanswered): then the
 * board's open links are closed at once and the test in progress ends with the
 * LeaseLostError ({@link fenceTests}), so the board is never driven by two hosts.
 */

import { acquireBoard, type HeldBoard, type LeaseBackendConfig } from "../lab/board-lease.js";
import { SkipScenario } from "../lab/errors.js";
import { skipWithReason } from "../report/skip.js";
import type { Board } from "../rig/board.js";
import { closeBoardLinks } from "../rig/board-links.js";
import { quarantineBoard, quarantineReason } from "../rig/health.js";
import { leaseConfigOf } from "../rig/lease-config.js";
import { loadRigFileSync, resolveRigPath } from "../rig/load.js";
import { noteLeasedAway } from "../rig/untested.js";

let runConfig: LeaseBackendConfig | undefined;

/** The lease backend of this run: HIL_LEASE_ETCD, else the rig file's `leases`, else lock files. */
export function runLeaseConfig(): LeaseBackendConfig {
  if (!runConfig) {
    let rig: Parameters<typeof leaseConfigOf>[0];
    try {
      rig = loadRigFileSync(resolveRigPath());
    } catch {
      rig = undefined; // no rig file (a plain mocha run of a fixture): lock files
    }
    runConfig = leaseConfigOf(rig);
  }
  return runConfig;
}

/** The leases this process holds, by board id: what {@link fenceTests} watches. */
const heldBoards = new Map<string, HeldBoard>();

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
  let lease: HeldBoard | undefined;
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
      const held = await acquireBoard(runLeaseConfig(), board.id, { timeoutMs, clock: board.clock });
      lease = held;
      heldBoards.set(board.id, held);
      // Lost under us: stop touching the board now, not when the test's next read times out.
      held.signal.addEventListener("abort", () => {
        const why = (held.signal.reason as Error).message;
        console.warn(`hil: ${why}`);
        // Not ours any more: no re-check touches it, its remaining tests skip with the reason.
        quarantineBoard(board.id, why);
        void closeBoardLinks(board.id, "board");
      });
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
    heldBoards.delete(board.id);
    await lease?.release();
  });
}

/**
 * Wraps the tests defined so far in `suite` (and its children) so a test of `board` whose
 * lease is lost, before or while it runs, ends with the lease's LeaseLostError (an
 * infrastructure failure naming the lease) instead of whatever its client saw of the closed
 * links, and at once. Tests written with a `done` callback are left as they are.
 */
export function fenceTests(suite: Mocha.Suite, board: Board): void {
  if (board.emulated) return;
  for (const test of suite.tests) {
    const fn = test.fn;
    if (!fn || fn.length > 0) continue;
    const body = fn as (this: Mocha.Context) => unknown;
    test.fn = async function (this: Mocha.Context) {
      const signal = heldBoards.get(board.id)?.signal;
      if (!signal) return body.call(this);
      signal.throwIfAborted();
      let onAbort: (() => void) | undefined;
      const lost = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      const run = Promise.resolve().then(() => body.call(this));
      run.catch(() => undefined); // settles after the race is decided: no unhandled rejection
      try {
        return await Promise.race([run, lost]);
      } catch (e) {
        // A client error caused by the links closing under it: the lease is the reason.
        if (signal.aborted) throw signal.reason;
        throw e;
      } finally {
        if (onAbort) signal.removeEventListener("abort", onAbort);
      }
    };
  }
  for (const child of suite.suites) fenceTests(child, board);
}
