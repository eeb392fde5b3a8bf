/**
 * A lab board that fails for the lab mid-run (its hub died, its port vanished, its relay
 * stopped answering) is checked again at once. If the check fails too, the board is
 * quarantined for the rest of the run: its remaining tests skip with the finding, instead of
 * each waiting out its enumeration timeout to fail the same way, and the rest of the rack
 * runs on. A test failing on the device's answer never triggers this: that is the result
 * the run is for. LAVA's health checks take a device offline the same way.
 */
import { classifyError } from "../report/categories.js";
import type { Board } from "../rig/board.js";
import {
  findingOf,
  formatHealth,
  quarantineBoard,
  quarantineReason,
  recheckInfrastructure,
} from "../rig/health.js";
import { DEFAULT_TIMEOUTS } from "../rig/schema.js";

/** Inside a lab board's `describe` (forEachBoard adds it after the board's other hooks). */
export function recheckHooks(board: Board): void {
  if (board.emulated) return;
  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state !== "failed" || classifyError(test.err) !== "infrastructure") return;
    if (quarantineReason(board.id) !== undefined) return;
    const t = { ...DEFAULT_TIMEOUTS, ...board.timeouts };
    // Power read-back, then USB device and serial port each up to their enumeration wait.
    this.timeout(t.commandMs + 2 * (t.enumerateMs + t.settleMs) + 10_000);
    const health = await recheckInfrastructure(board);
    if (health.status !== "failed") {
      console.warn(
        `hil: board ${board.id} failed for the lab in '${test.title}'; its re-check passes, its tests go on`,
      );
      return;
    }
    quarantineBoard(board.id, `its re-check after '${test.title}' failed (${findingOf(health)})`);
    console.warn(`hil: board ${board.id} quarantined for the rest of the run:\n${formatHealth(health)}`);
  });
}
