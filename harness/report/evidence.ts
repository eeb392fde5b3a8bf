/**
 * What a test on a board leaves in its Allure result, written from inside the test (so it
 * lands on the result itself, not on a teardown fixture): on failure the `failure` category
 * label, and on an emulated board the device log, the fault plan with its seed; on an
 * emulated board the state timeline picture, passed or failed.
 */
import * as allure from "allure-js-commons";
import type Mocha from "mocha";
import type { Board } from "../rig/board.js";
import { classifyError, FAILURE_LABEL } from "./categories.js";
import { renderDeviceLog } from "./device-log.js";
import { renderTimelineSvg } from "./timeline.js";

/** A sweep logs thousands of events; the picture keeps the last ones (the log has them all). */
export const MAX_TIMELINE_EVENTS = 400;

/** Where the board's logs stood when the test began. */
export interface EvidenceMarks {
  events: number;
  power: number;
  fired: number;
  wallStart: number;
}

export function markEvidence(board: Board): EvidenceMarks {
  const dev = board.emulator;
  return {
    events: dev?.events.length ?? 0,
    power: dev?.power.history.length ?? 0,
    fired: dev?.faults.fired.length ?? 0,
    wallStart: Date.now(),
  };
}

/** Mocha's skip (this.skip()) travels as a thrown Pending: not a failure. */
function isPending(e: unknown): boolean {
  return typeof e === "object" && e !== null && e.constructor?.name === "Pending";
}

export async function recordEvidence(
  board: Board,
  marks: EvidenceMarks,
  title: string,
  error: { thrown: unknown } | undefined,
): Promise<void> {
  const failed = error !== undefined && !isPending(error.thrown);
  if (failed) await allure.label(FAILURE_LABEL, classifyError(error.thrown));
  const dev = board.emulator;
  if (!dev) return;
  const events = dev.events.slice(marks.events);
  const fired = dev.faults.fired.slice(marks.fired);
  if (failed) {
    await allure.attachment("device log", renderDeviceLog(dev, marks.events), "text/plain");
    const plan = { seed: board.seed, faults: dev.faults.faults, fired };
    await allure.attachment("fault plan", JSON.stringify(plan, null, 2), "application/json");
  }
  if (events.length > 0 || failed) {
    const svg = renderTimelineSvg({
      title: `${board.id}: ${title}`,
      events: events.slice(-MAX_TIMELINE_EVENTS),
      power: dev.power.history.slice(marks.power),
      faults: fired.map((f) => ({ t: f.t, detail: f.detail, what: f.fault.what.do })),
      wallMs: Date.now() - marks.wallStart,
    });
    await allure.attachment("state timeline", svg, "image/svg+xml");
  }
}

/**
 * Wraps every test defined so far in `suite` (and its child suites) so its evidence is
 * recorded when its body ends: `marks()` gives where the logs stood at its start. Tests
 * written with a `done` callback are left as they are.
 */
export function wrapTestsWithEvidence(suite: Mocha.Suite, board: Board, marks: () => EvidenceMarks): void {
  for (const test of suite.tests) {
    const fn = test.fn;
    if (!fn || fn.length > 0) continue;
    const body = fn as (this: Mocha.Context) => unknown;
    test.fn = async function (this: Mocha.Context) {
      let error: { thrown: unknown } | undefined;
      try {
        return await body.call(this);
      } catch (e) {
        error = { thrown: e };
        throw e;
      } finally {
        await recordEvidence(board, marks(), test.title, error).catch(() => {});
      }
    };
  }
  for (const child of suite.suites) wrapTestsWithEvidence(child, board, marks);
}
