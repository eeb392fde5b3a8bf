/**
 * The mocha side of board selection. `describe` callbacks are synchronous, so suites get
 * the rig before defining tests (`getRig()` builds it once per process) and hand it in:
 *
 * ```ts
 * import { getRig } from "../../harness/rig/rig.js";
 * import { forEachBoard } from "../../harness/mocha/suite.js";
 *
 * const rig = getRig();
 *
 * describe("sim-nor: power interruption", () => {
 *   forEachBoard(rig, { family: "sim-nor", capabilities: ["power-cut"] }, (board) => {
 *     it("keeps slot A bootable when power fails during the swap", async () => {
 *       await board.power.cycle();
 *     });
 *   });
 * });
 * ```
 */
import * as allure from "allure-js-commons";
import { observeOperations } from "../clients/operation.js";
import { clause, declaringTests } from "../report/clause.js";
import type { DeclaredTest } from "../report/declared.js";
import { markEvidence, wrapTestsWithEvidence } from "../report/evidence.js";
import { skipWithReason } from "../report/skip.js";
import { allureOperationSteps, steppedBoard } from "../report/steps.js";
import type { Board } from "../rig/board.js";
import { reportIdentity } from "../rig/identify-report.js";
import { type BoardNeed, boardLabels, LABEL_NAMES, type RigView, selectBoards } from "../rig/select.js";
import { boardLinkHooks } from "./board-link-hooks.js";
import { fenceTests, leaseHooks } from "./lease-hooks.js";
import { recheckHooks } from "./recheck-hooks.js";
import { timeOperationsOn, timingOperations } from "./timing-hooks.js";
import { collectingTranscripts, wrapTestsForTwin } from "./twin-hooks.js";

/**
 * Inside a `describe`: for each board of `rig` that meets `need`, a
 * `describe("<id> (<family>)")` holding what `body` defines, with the board's labels
 * ({@link boardLabels}) put on every test by a `beforeEach`.
 *
 * Every power, boot and reset call on the board is a timed Allure step ({@link steppedBoard}),
 * and so is every client operation ({@link allureOperationSteps}), whose client transcript
 * is attached when the test fails.
 * A failed test gets the `failure` label (infrastructure / firmware-device / harness) and, on
 * an emulated board, the device log, the fault plan with its seed, and the state timeline
 * picture; a passed one on an emulated board keeps the timeline picture too.
 *
 * A lab board is leased for the `describe` ({@link leaseHooks}); one that stays leased by
 * another run skips its tests with the holder named. Ports a test left open are closed after
 * it ({@link boardLinkHooks}); a test failing for the lab has the board checked again, and a
 * board failing that check skips the rest of the run with the finding ({@link recheckHooks}).
 *
 * Every result carries its labels and the clauses its test declared (`covers` in report/clause.ts), put on
 * before the lease hook may skip it: a quarantined or lease-timed-out board's results still
 * say which rig, board, family and clauses they are, with the reason.
 *
 * When no board meets `need`, one test titled `skipped: <reason>` that skips itself:
 * pending in the spec reporter, skipped in Allure (with the rig label and the reason as its
 * description), never passed.
 */
const declaredTests: DeclaredTest[] = [];

/** Every test forEachBoard has defined in this process, with its family and declared clauses. */
export function declaredClauses(): readonly DeclaredTest[] {
  return declaredTests;
}

/** Puts `labels` and the test's declared clauses (with severity and citations) on each result. */
function labelHooks(
  labels: readonly { name: string; value: string }[],
  declared: (test: Mocha.Test) => readonly string[] | undefined,
): void {
  beforeEach(async function () {
    await allure.labels(...labels);
    const refs = this.currentTest ? declared(this.currentTest) : undefined;
    if (refs?.length) await clause(...refs);
  });
}

export function forEachBoard(rig: RigView, need: BoardNeed, body: (board: Board) => void): void {
  // Client operations (erase, download, FUS poll, ...) become nested steps of these tests.
  // ... and the transcripts they ran on are collected for twin comparisons.
  // ... and each is timed on the board's clock for the night's timing history.
  observeOperations(timingOperations(collectingTranscripts(allureOperationSteps)));
  const selection = selectBoards(rig.boards, need, rig.name);
  if (selection.skipReason !== undefined) {
    const reason = selection.skipReason;
    // The families it wanted: the matrix reads their clauses as not run, with this reason.
    const families = typeof need.family === "string" ? [need.family] : need.family;
    it(`skipped: ${reason}`, async function () {
      await allure.label(LABEL_NAMES.rig, rig.name);
      await allure.labels(...families.map((value) => ({ name: LABEL_NAMES.family, value })));
      await skipWithReason(this, reason);
    });
    return;
  }
  // Lab boards whose emulated twin runs the same tests next (harness/mocha/twin-hooks.ts).
  const twinned = new Set(selection.boards.map((b) => b.twinOf).filter((id) => id !== undefined));
  for (const board of selection.boards) {
    // allure-mocha adds its own host label (honouring ALLURE_HOST_NAME); one is enough.
    const labels = boardLabels(rig, board).filter((label) => label.name !== LABEL_NAMES.host);
    describe(`${board.id} (${board.family})`, function () {
      let declared = new Map<Mocha.Test, readonly string[]>();
      // First, so a test the lease hook skips is labelled too.
      labelHooks(labels, (test) => declared.get(test));
      // A twin is an emulator: nothing to lease, no ports, no lab to recheck.
      if (!board.twinOf) {
        // A lab board is leased for these tests, so no other run or worker drives it meanwhile.
        leaseHooks(board);
        // Ports a failed test left open are closed, so the next test (and run) can open them.
        boardLinkHooks(board);
        // A failure for the lab is checked again; a board that fails the check sits out the run.
        recheckHooks(board);
      }
      let marks = markEvidence(board);
      beforeEach(async () => {
        // Faults injected into the whole run (`hil run --fault`): part of what reproduces it.
        if (process.env.HIL_FAULTS) await allure.parameter("faults", process.env.HIL_FAULTS);
        // The seed replays the scenario: `hil run --seed` reproduces every random choice.
        if (board.emulator) await allure.parameter("seed", String(board.seed));
        // What the run's health check read from the board (bootloader, PID, firmware, ...).
        await reportIdentity(board);
        marks = markEvidence(board);
        timeOperationsOn(board);
      });
      afterEach(() => timeOperationsOn(undefined));
      declared = declaringTests(() => body(steppedBoard(board)));
      for (const [test, clauses] of declared)
        declaredTests.push({ test: test.fullTitle(), family: board.family, clauses });
      // Inside the evidence: a test stopped by a lost lease is recorded as that (infrastructure).
      fenceTests(this, board);
      wrapTestsWithEvidence(this, board, () => marks);
      if (board.twinOf || twinned.has(board.id))
        wrapTestsForTwin(this, board, (test) => declared.get(test) ?? []);
    });
  }
}
