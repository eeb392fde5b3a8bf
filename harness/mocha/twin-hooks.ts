/**
 * Twin runs in the Mocha glue: forEachBoard defines a lab board's tests, then the same tests
 * on its emulated twin (rig.ts puts the twin right after its board). Each test on either
 * records the transcripts of the clients it drove (every client operation names its
 * transcript, harness/clients/operation.ts); when the twin's test ends, its record is
 * compared with the lab board's (report/twin-compare.ts) and the finding goes on the twin's
 * result: labels `twin-of` and `lab-equals-emulator`, the divergence as an attachment, and
 * a line in the run's findings file (HIL_TWIN_FINDINGS). A divergence, or the twin failing
 * where the board passed, is a finding about the emulator: the twin's test does not fail.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as allure from "allure-js-commons";
import type Mocha from "mocha";
import type { OperationObserver, OperationSource } from "../clients/operation.js";
import { compareTwin, divergenceLine, renderDivergence, type TwinRecord } from "../report/twin-compare.js";
import type { TranscriptSegment } from "../report/twin-normalise.js";
import type { Board } from "../rig/board.js";
import type { Transcript } from "../transport/transcript.js";

/** Where `hil run` has each twin comparison written, one JSON line per test. */
export const TWIN_FINDINGS_ENV = "HIL_TWIN_FINDINGS";

/** Label on a twin's results: the lab board it is the twin of. */
export const TWIN_OF_LABEL = "twin-of";
/** Label on a twin's results: yes (same exchanges and outcome), no, or "no lab run". */
export const LAB_EQUALS_EMULATOR_LABEL = "lab-equals-emulator";
/** Label on a diverging twin result: the divergence in one line. */
export const TWIN_DIVERGENCE_LABEL = "twin-divergence";
/** The Allure section twin results are grouped under. */
export const TWIN_SECTION = "lab = emulator (twin runs)";

/** One comparison, as the findings file holds it. */
export interface TwinFinding {
  readonly lab: string;
  readonly twin: string;
  /** The test's title below the board's describe: the same on both boards. */
  readonly test: string;
  readonly clauses: readonly string[];
  readonly equal: boolean | "no lab run";
  readonly divergence?: ReturnType<typeof compareTwin>;
}

/** The running test's transcripts, each from where it stood when the test first used it. */
let recording: Map<Transcript, { link: string; from: number }> | undefined;
/** How far each transcript was taken by earlier tests. */
const consumed = new WeakMap<Transcript, number>();

function see(source: OperationSource): void {
  if (!recording || recording.has(source.transcript)) return;
  recording.set(source.transcript, { link: source.kind, from: consumed.get(source.transcript) ?? 0 });
}

/** `observer` that also notes which transcripts the running test drives. */
export function collectingTranscripts(observer: OperationObserver): OperationObserver {
  return (source, title, body) => {
    see(source);
    return observer(source, title, body);
  };
}

function takeSegments(): TranscriptSegment[] {
  const segments: TranscriptSegment[] = [];
  for (const [transcript, { link, from }] of recording ?? []) {
    const json = transcript.toJSON();
    segments.push({ link, entries: json.entries.slice(from) });
    consumed.set(transcript, json.entries.length);
  }
  recording = undefined;
  return segments;
}

/** Lab records by lab board id and test title, waiting for the twin's run of the same test. */
const labRecords = new Map<string, TwinRecord>();

const isPending = (e: unknown) =>
  typeof e === "object" &&
  e !== null &&
  (e as { constructor?: { name?: string } }).constructor?.name === "Pending";
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** The test's title path below the board's describe. */
function testKey(test: Mocha.Runnable, boardSuite: Mocha.Suite): string {
  return test.titlePath().slice(boardSuite.titlePath().length).join(" › ");
}

/**
 * Wraps every test of `boardSuite` (a lab board with a twin, or the twin): records its
 * transcripts; on the twin, compares and reports. `clausesOf` gives a test's declared clauses.
 */
export function wrapTestsForTwin(
  boardSuite: Mocha.Suite,
  board: Board,
  clausesOf: (test: Mocha.Test) => readonly string[],
  opts: { allure?: boolean } = {},
): void {
  wrapSuite(boardSuite, boardSuite, board, clausesOf, opts.allure ?? true);
}

function wrapSuite(
  suite: Mocha.Suite,
  boardSuite: Mocha.Suite,
  board: Board,
  clausesOf: (test: Mocha.Test) => readonly string[],
  withAllure: boolean,
): void {
  for (const test of suite.tests) {
    const fn = test.fn;
    if (!fn || fn.length > 0) continue;
    const body = fn as (this: Mocha.Context) => unknown;
    test.fn = async function (this: Mocha.Context) {
      recording = new Map();
      let outcome: TwinRecord["outcome"] = "passed";
      let error: string | undefined;
      let thrown: { e: unknown } | undefined;
      try {
        await body.call(this);
      } catch (e) {
        outcome = isPending(e) ? "skipped" : "failed";
        error = isPending(e) ? undefined : firstLine(e);
        thrown = { e };
      }
      const record: TwinRecord = {
        board: board.id,
        segments: takeSegments(),
        outcome,
        error,
        deviceState: board.twinOf ? lastDeviceEvent(board) : undefined,
      };
      const key = testKey(test, boardSuite);
      if (!board.twinOf) {
        labRecords.set(`${board.id}\u0000${key}`, record);
        if (thrown) throw thrown.e;
        return;
      }
      await reportTwin(board.twinOf, record, key, clausesOf(test), withAllure);
      // A skip stays a skip; a twin failing where its board did not is a finding, reported above.
      if (thrown && outcome === "skipped") throw thrown.e;
    };
  }
  for (const child of suite.suites) wrapSuite(child, boardSuite, board, clausesOf, withAllure);
}

/** The emulator's last state event (else its last event): where its protocol stood, from the inside. */
function lastDeviceEvent(board: Board): string | undefined {
  const dev = board.emulator;
  if (!dev) return undefined;
  const { events } = dev.eventsSince(Math.max(0, dev.eventCount - 200));
  const last = [...events].reverse().find((e) => e.kind === "state") ?? events[events.length - 1];
  return last ? `${last.kind} ${last.detail}` : undefined;
}

async function reportTwin(
  labId: string,
  twin: TwinRecord,
  key: string,
  clauses: readonly string[],
  withAllure: boolean,
): Promise<void> {
  const lab = labRecords.get(`${labId}\u0000${key}`);
  labRecords.delete(`${labId}\u0000${key}`);
  const divergence = lab ? compareTwin(lab, twin, clauses) : undefined;
  const equal: TwinFinding["equal"] = lab ? divergence === undefined : "no lab run";
  if (withAllure) {
    await allure.label(TWIN_OF_LABEL, labId);
    await allure.label(LAB_EQUALS_EMULATOR_LABEL, equal === true ? "yes" : equal === false ? "no" : equal);
    await allure.parentSuite(TWIN_SECTION);
    if (divergence) {
      await allure.label(TWIN_DIVERGENCE_LABEL, divergenceLine(divergence));
      await allure.attachment("twin divergence", renderDivergence(divergence), "text/plain");
    }
  }
  const finding: TwinFinding = {
    lab: labId,
    twin: twin.board,
    test: key,
    clauses,
    equal,
    ...(divergence ? { divergence } : {}),
  };
  const file = process.env[TWIN_FINDINGS_ENV];
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify(finding)}\n`);
  }
}
