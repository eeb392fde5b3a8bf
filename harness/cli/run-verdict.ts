/**
 * How `hil run` ends: the boards it could not test named with why (rig/untested.ts), and
 * the exit code. A run whose boards sat out must not look like a pass: with no failed test
 * it exits {@link EXIT_UNTESTED}; a failed test still exits 1 (it says more).
 */
import { type UntestedBoard, untestedBoards } from "../rig/untested.js";

/** `hil run`: no test failed, but a board was quarantined or left leased, so not everything was tested. */
export const EXIT_UNTESTED = 4;

export interface RunVerdict {
  readonly lines: readonly string[];
  readonly exitCode: number;
}

export function runVerdict(
  failures: number,
  untested: readonly UntestedBoard[] = untestedBoards(),
): RunVerdict {
  const lines = untested.map(describeUntested);
  if (untested.length > 0) {
    const n = untested.length === 1 ? "1 board" : `${untested.length} boards`;
    lines.push(
      `hil run: ${n} could not be tested (infrastructure)${failures > 0 ? "" : `: exit code ${EXIT_UNTESTED}`}`,
    );
  }
  return { lines, exitCode: failures > 0 ? 1 : untested.length > 0 ? EXIT_UNTESTED : 0 };
}

function describeUntested(u: UntestedBoard): string {
  switch (u.why) {
    case "start":
      return `hil run: board ${u.board} was quarantined at the start of the run (infrastructure): its health check failed (${u.detail})`;
    case "during":
      return `hil run: board ${u.board} was quarantined during the run (infrastructure): ${u.detail}`;
    case "leased":
      return `hil run: board ${u.board} was not tested (infrastructure): ${u.detail}`;
  }
}
