/**
 * What a test on a board leaves in its Allure result, written from inside the test (so it
 * lands on the result itself, not on a teardown fixture): on failure the `failure` category
 * label, and on an emulated board the device log, the fault plan with its seed and the flash
 * diff of every flash the test wrote; an `injected-fault` label per fault the test ran under
 * (its failure message names them too); on an emulated board the state timeline picture with
 * the client operations, passed or failed.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import * as allure from "allure-js-commons";
import type Mocha from "mocha";
import type { BoardView as Board } from "../seams/board-view.js";
import { formatFault, formatWhat } from "../seams/faults-format.js";
import type { FlashView as Flash, FlashSnapshotView as FlashSnapshot } from "../seams/flash-view.js";
import { workRoot } from "../seams/paths.js";
import type { Transcript } from "../transport/transcript.js";
import { classifyError, FAILURE_LABEL } from "./categories.js";
import { renderDeviceLog } from "./device-log.js";
import { type PlacedImage, renderFlashDiff } from "./flash-diff.js";
import { type OperationSpan, renderTimelineSvg } from "./timeline.js";

/** A sweep logs thousands of events; the picture keeps the last ones (the log has them all). */
export const MAX_TIMELINE_EVENTS = 400;

/** Where the board's logs stood when the test began. */
export interface EvidenceMarks {
  /** The device's eventCount (survives the log dropping old events). */
  events: number;
  power: number;
  fired: number;
  /** How many faults the board's plan held (faults added later are the test's own). */
  planned?: number;
  wallStart: number;
  /** Each flash of an emulated board as it was (copy-on-write, so cheap) and its operation count. */
  flashes?: readonly { flash: Flash; at: FlashSnapshot; ops: number }[];
}

export function markEvidence(board: Board): EvidenceMarks {
  const dev = board.emulator;
  return {
    events: dev?.eventCount ?? 0,
    power: dev?.power.historyCount ?? 0,
    fired: dev?.faults.firedCount ?? 0,
    planned: dev?.faults.faults.length ?? 0,
    wallStart: Date.now(),
    flashes: (dev?.flashes ?? []).map((flash) => ({ flash, at: flash.snapshot(), ops: flash.counters.ops })),
  };
}

/** Transcripts the running test asked to have reported, by name. */
let watched = new Map<string, Transcript>();

/**
 * Have a client's transcript reported with the running test: when the test fails, the full
 * annotated transcript and its JSON (which replays with the seed) are attached, and the tail
 * goes into the repro bundle. One line in a suite's connect helper:
 * `watchTranscript("dfu", client.transcript)`. A later call with the same name replaces it.
 */
export function watchTranscript(name: string, transcript: Transcript): void {
  watched.set(name, transcript);
}

/** Images the running test expects in flash: diffed into the report after a power cut or a failure. */
let expectedFlash: { flash: Flash; image: PlacedImage; label: string }[] = [];

/**
 * Tell the report what `flash` should hold once the test is done (the image it installs).
 * When power was cut during the test, or the test fails, the result gets a "flash diff"
 * attachment: the sectors that differ from it, erased or how many bytes, first difference.
 */
export function expectFlash(flash: Flash, image: PlacedImage, label = "expected image"): void {
  expectedFlash = expectedFlash.filter((e) => e.flash !== flash || e.image.address !== image.address);
  expectedFlash.push({ flash, image, label });
}

/** The running test's client operations on its board's device clock (emulated boards). */
let operationSpans: OperationSpan[] = [];
let deviceNow: (() => number) | undefined;
let operationDepth = 0;

/**
 * Notes that a client operation starts now, for the timeline's client lane; the returned
 * function ends it with its final title and outcome. Nothing is kept outside a test on an
 * emulated board.
 */
export function operationStarted(title: string): (final: string, outcome: OperationSpan["outcome"]) => void {
  const now = deviceNow;
  if (!now) return () => {};
  const span: OperationSpan = { title, start: now(), end: now(), depth: operationDepth++, outcome: "ok" };
  const spans = operationSpans;
  spans.push(span);
  return (final, outcome) => {
    operationDepth = Math.max(0, operationDepth - 1);
    Object.assign(span, { title: final, end: now(), outcome });
  };
}

/** Lines the running test adds to a named text attachment (e.g. the flash map after each cut). */
let notes = new Map<string, string[]>();

/** Adds `line` to the text attachment `name` of the running test. No Allure call until the test ends. */
export function evidenceNote(name: string, line: string): void {
  const lines = notes.get(name) ?? [];
  lines.push(line);
  notes.set(name, lines);
}

async function attachNotesAndFlash(
  failed: boolean,
  powerWasCut: boolean,
  marks: EvidenceMarks,
): Promise<void> {
  for (const [name, lines] of notes) await allure.attachment(name, lines.join("\n"), "text/plain");
  if (!failed && !powerWasCut) return;
  for (const e of expectedFlash)
    await allure.attachment(
      `flash diff: ${e.label}`,
      renderFlashDiff(e.flash, e.image, e.label),
      "text/plain",
    );
  if (!failed) return;
  // A failed test that wrote a flash nobody said what to expect of: what changed since it began.
  for (const { flash, at, ops } of marks.flashes ?? []) {
    if (flash.counters.ops === ops || expectedFlash.some((e) => e.flash === flash)) continue;
    const start = { address: flash.base, bytes: snapshotBytes(at) };
    await allure.attachment(
      `flash diff: ${flash.name} since the test began`,
      renderFlashDiff(flash, start, "the contents at the start of the test"),
      "text/plain",
    );
  }
}

/** A snapshot's sectors as one array from the flash's base. */
function snapshotBytes(at: FlashSnapshot): Uint8Array {
  const out = new Uint8Array(at.sectors.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const sector of at.sectors) {
    out.set(sector, offset);
    offset += sector.length;
  }
  return out;
}

/** How many exchanges the tail keeps. */
const TAIL_LINES = 24;

async function attachTranscripts(dir: string | undefined): Promise<void> {
  for (const [name, t] of watched) {
    // The exchanges that led to the failure, one line each in protocol terms, first.
    await allure.attachment(
      `${name} transcript (last ${TAIL_LINES} exchanges)`,
      t.renderAnnotated({ tail: TAIL_LINES }),
      "text/plain",
    );
    await allure.attachment(`${name} transcript`, t.render(), "text/plain");
    await allure.attachment(`${name} transcript.json`, JSON.stringify(t.toJSON()), "application/json");
    if (dir)
      await writeFile(
        join(dir, `${name.replace(/[^\w.-]+/g, "_")}.transcript.json`),
        JSON.stringify(t.toJSON()),
      ).catch(() => {});
  }
}

/** Mocha's skip (this.skip()) travels as a thrown Pending: not a failure. */
function isPending(e: unknown): boolean {
  return typeof e === "object" && e !== null && e.constructor?.name === "Pending";
}

/** Where failed scenarios leave their reproduction bundles (HIL_REPRO_DIR moves it). */
export function reproDir(): string {
  return process.env.HIL_REPRO_DIR ?? join(workRoot(), "reports", "repro");
}

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const regexQuote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The command that reruns one test on one board: the same rig, run seed and run faults, the
 * test picked by its full title (which holds the board id).
 */
export function rerunCommand(fullTitle: string, env: NodeJS.ProcessEnv = process.env): string {
  const parts = ["npx hil run"];
  if (env.HIL_RIG) parts.push(`--rig ${shellQuote(relative(workRoot(), env.HIL_RIG) || env.HIL_RIG)}`);
  if (env.HIL_SEED) parts.push(`--seed ${env.HIL_SEED}`);
  for (const f of (env.HIL_FAULTS ?? "").split(",").filter(Boolean)) parts.push(`--fault ${shellQuote(f)}`);
  parts.push(`--grep ${shellQuote(`^${regexQuote(fullTitle)}$`)}`);
  return parts.join(" ");
}

/** Id of a test's bundle: board, a slug of the test's own title, a short hash of its full title. */
export function reproId(boardId: string, fullTitle: string, title = fullTitle): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 48);
  const hash = createHash("sha256").update(fullTitle).digest("hex").slice(0, 8);
  return `${boardId}-${slug}-${hash}`;
}

/** Label on every result of a test run under a fault plan: one per fault, what it is and whether it fired. */
export const INJECTED_FAULT_LABEL = "injected-fault";

/**
 * The faults the test ran under: on an emulated board those that fired during it ("... fired
 * at flash op 37 (program 0x08004000+2048)") and those it armed that did not fire (one an
 * earlier test left armed counts once it fires); on a lab board the run's own (`hil run --fault`).
 */
export function injectedFaults(
  board: Board,
  marks: EvidenceMarks,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const dev = board.emulator;
  if (!dev)
    return (env.HIL_FAULTS ?? "")
      .split(",")
      .filter(Boolean)
      .map((f) => `${f} (run fault)`);
  const fired = dev.faults.firedSince(marks.fired);
  const everFired = new Set(dev.faults.fired.map((f) => f.fault));
  return [
    ...fired.map((f) => `${formatFault(f.fault)} fired at ${f.detail}`),
    ...dev.faults.faults
      .slice(marks.planned ?? dev.faults.faults.length)
      .filter((f) => !everFired.has(f))
      .map((f) => `${formatFault(f)} armed, did not fire`),
  ];
}

/**
 * A failure under injected faults says so under its first line (which `hil replay` compares):
 * "injected fault: flash-op:1=flash-fail fired at flash op 1 (erase 0x0)".
 */
function noteInjectedFaults(thrown: unknown, faults: readonly string[]): void {
  if (faults.length === 0 || !(thrown instanceof Error) || isPending(thrown)) return;
  try {
    thrown.message += faults.map((f) => `\ninjected fault: ${f}`).join("");
  } catch {
    // a frozen error keeps its message; the label still says it
  }
}

export async function recordEvidence(
  board: Board,
  marks: EvidenceMarks,
  title: string,
  error: { thrown: unknown } | undefined,
  fullTitle = title,
): Promise<void> {
  const failed = error !== undefined && !isPending(error.thrown);
  for (const fault of injectedFaults(board, marks)) await allure.label(INJECTED_FAULT_LABEL, fault);
  if (failed) {
    await allure.label(FAILURE_LABEL, classifyError(error.thrown));
    const dir = await writeReproBundle(board, marks, title, fullTitle, error.thrown);
    await attachTranscripts(dir);
  }
  const dev = board.emulator;
  const powerWasCut = (dev?.power.historySince(marks.power) ?? []).some(
    (p) => p.event === "off" || p.event === "lost",
  );
  await attachNotesAndFlash(failed, powerWasCut, marks);
  if (!dev) return;
  const { events } = dev.eventsSince(marks.events);
  const fired = dev.faults.firedSince(marks.fired);
  if (failed) {
    await allure.attachment("device log", renderDeviceLog(dev, marks.events), "text/plain");
    const plan = { seed: board.seed, faults: dev.faults.faults, fired };
    await allure.attachment("fault plan", JSON.stringify(plan, null, 2), "application/json");
  }
  if (events.length > 0 || operationSpans.length > 0 || failed) {
    const svg = renderTimelineSvg({
      title: `${board.id}: ${title}`,
      events,
      maxEvents: MAX_TIMELINE_EVENTS,
      power: dev.power.historySince(marks.power),
      faults: fired.map((f) => ({ t: f.t, detail: f.detail, what: formatWhat(f.fault.what) })),
      operations: operationSpans,
      wallMs: Date.now() - marks.wallStart,
    });
    await allure.attachment("state timeline", svg, "image/svg+xml");
  }
}

/**
 * reports/repro/<id>/: repro.json (test, board, rig, seeds, faults, fault plan, the rerun
 * command, the error) and, on an emulated board, device-log.txt. The rerun command also goes
 * into the Allure result.
 */
async function writeReproBundle(
  board: Board,
  marks: EvidenceMarks,
  title: string,
  fullTitle: string,
  thrown: unknown,
): Promise<string | undefined> {
  const command = rerunCommand(fullTitle);
  await allure.parameter("rerun", command, { excluded: true });
  const dir = join(reproDir(), reproId(board.id, fullTitle, title));
  const dev = board.emulator;
  const err =
    thrown instanceof Error
      ? { name: thrown.name, message: thrown.message, stack: thrown.stack }
      : { value: String(thrown) };
  const bundle = {
    format: "update-hil/repro@1",
    test: fullTitle,
    board: {
      id: board.id,
      family: board.family,
      serial: board.serial,
      emulated: board.emulated,
      info: board.info,
    },
    rig: process.env.HIL_RIG ? relative(workRoot(), process.env.HIL_RIG) || process.env.HIL_RIG : null,
    runSeed: process.env.HIL_SEED ?? null,
    boardSeed: board.seed,
    runFaults: process.env.HIL_FAULTS ?? null,
    faultPlan: dev ? { faults: dev.faults.faults, fired: dev.faults.firedSince(marks.fired) } : null,
    command,
    category: classifyError(thrown),
    error: err,
  };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "repro.json"), `${JSON.stringify(bundle, null, 2)}\n`);
    if (dev) await writeFile(join(dir, "device-log.txt"), `${renderDeviceLog(dev, marks.events)}\n`);
    return dir;
  } catch {
    return undefined; // a read-only checkout still gets the Allure evidence
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
      watched = new Map();
      notes = new Map();
      expectedFlash = [];
      operationSpans = [];
      operationDepth = 0;
      const dev = board.emulator;
      deviceNow = dev ? () => dev.clock.now() : undefined;
      try {
        return await body.call(this);
      } catch (e) {
        error = { thrown: e };
        noteInjectedFaults(e, injectedFaults(board, marks()));
        throw e;
      } finally {
        await recordEvidence(board, marks(), test.title, error, test.fullTitle()).catch(() => {});
        watched = new Map();
        notes = new Map();
        expectedFlash = [];
        operationSpans = [];
        deviceNow = undefined;
      }
    };
  }
  for (const child of suite.suites) wrapTestsWithEvidence(child, board, marks);
}
