/**
 * Calibration overlays: a lab board's measured operation times (the hil history's `timing`
 * sections, report/operation-timing.ts) turned into the emulator's timing figures for that
 * board (`hil calibrate`), each with where it came from. An emulated board loads one with
 * `emulated: { calibration: FILE }` or `hil emulate --calibration FILE`.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { type ErrorCategory, HilError } from "../seams/errors.js";
import type { NightRecord } from "./night-history.js";
import { type BoardTimingNight, median } from "./operation-timing.js";

export const CALIBRATION_FORMAT = "update-hil/calibration@1";

/** The DfuSe ROM's wTransferSize: one "block program" is this many bytes. */
export const DFU_BLOCK_BYTES = 2048;

export interface Calibration {
  readonly format: typeof CALIBRATION_FORMAT;
  readonly board: string;
  readonly family?: string | undefined;
  readonly identity?: Readonly<Record<string, string>> | undefined;
  /** The history file and the nights the figures are medians over. */
  readonly history: string;
  readonly nights: number;
  readonly from: string;
  readonly to: string;
  /** Emulator timing figures (harness/devices/stm32/profiles.ts Stm32Timing keys), ms. */
  readonly timing: Readonly<Record<string, number>>;
  /** Per figure: which operation, over how many nights and units. */
  readonly sources: Readonly<Record<string, string>>;
}

/**
 * What the emulator's DFU path adds to a figure per unit, on the device clock: the USB
 * transfers and GETSTATUS exchanges around each page erase and block (the erase stall's
 * second poll included). A measured time per unit is the figure plus this, so the figure is
 * the measurement less this, in whole ms: the ROM reports a wait as a whole bwPollTimeout,
 * and the host waits that long. test/report/calibration.spec.ts checks these against the
 * emulator.
 */
export const DFU_PATH_OVERHEAD_MS: Readonly<Record<string, number>> = {
  "page erase": 3.017,
  "block program": 5.106,
};

/** Emulator figure ← operation, and how many ms of the figure one unit of the operation is. */
const FIGURES: readonly { key: string; op: string; perUnit: (blockBytes: number) => number; unit: string }[] =
  [
    { key: "pageEraseMs", op: "page erase", perUnit: () => 1, unit: "pages" },
    { key: "doubleWordProgramMs", op: "block program", perUnit: (b) => b / 8, unit: "blocks" },
    { key: "massEraseMs", op: "mass erase", perUnit: () => 1, unit: "mass erases" },
    { key: "usbConnectMs", op: "re-enumeration after reset", perUnit: () => 1, unit: "re-enumerations" },
  ];

/** A history without the board's figures, or a calibration file that is not one: the user's input. */
export class CalibrationError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "CalibrationError";
}

/** The overlay for `board` from the nights of `history` (the last `lastNights` that timed it, default all). */
export function buildCalibration(
  nights: readonly NightRecord[],
  board: string,
  history: string,
  opts: { lastNights?: number; blockBytes?: number } = {},
): Calibration {
  const timed = nights
    .map((n) => ({ at: n.at, b: (Array.isArray(n.timing) ? n.timing : []).find((t) => t.board === board) }))
    .filter((n): n is { at: string; b: BoardTimingNight } => n.b !== undefined)
    .slice(-(opts.lastNights ?? Number.MAX_SAFE_INTEGER));
  if (timed.length === 0)
    throw new CalibrationError(
      `${history}: no night timed board '${board}' (hil run on it, then hil report)`,
    );
  const blockBytes = opts.blockBytes ?? DFU_BLOCK_BYTES;
  const timing: Record<string, number> = {};
  const sources: Record<string, string> = {};
  for (const f of FIGURES) {
    const points = timed.flatMap((n) => {
      const s = n.b.ops[f.op];
      return s ? [{ at: n.at, msPerUnit: s.msPerUnit, units: s.units }] : [];
    });
    if (points.length === 0) continue;
    const measured = median(points.map((p) => p.msPerUnit));
    const overhead = DFU_PATH_OVERHEAD_MS[f.op];
    const perUnit = overhead === undefined ? measured : Math.max(1, Math.round(measured - overhead));
    timing[f.key] = Math.round((perUnit / f.perUnit(blockBytes)) * 1e6) / 1e6;
    const units = points.reduce((n, p) => n + p.units, 0);
    sources[f.key] =
      `median of "${f.op}" per unit on ${board} over ${points.length} nights (${points[0]?.at} – ${points[points.length - 1]?.at}), ${units} ${f.unit}` +
      (overhead === undefined
        ? ""
        : `, less the emulator's ${overhead} ms DFU path per unit, in whole ms (${Math.round(measured * 1000) / 1000} → ${perUnit})`) +
      (f.key === "doubleWordProgramMs"
        ? `, ${blockBytes}-byte blocks of ${blockBytes / 8} double words`
        : "");
  }
  if (Object.keys(timing).length === 0)
    throw new CalibrationError(
      `${history}: board '${board}' has no operation the emulator's timing takes (${FIGURES.map((f) => f.op).join(", ")})`,
    );
  const last = timed[timed.length - 1]!.b;
  return {
    format: CALIBRATION_FORMAT,
    board,
    family: last.family,
    identity: last.identity,
    history,
    nights: timed.length,
    from: timed[0]!.at,
    to: timed[timed.length - 1]!.at,
    timing,
    sources,
  };
}

/** A calibration file's timing figures. @throws CalibrationError naming the file and what is wrong. */
export async function readCalibration(path: string): Promise<Calibration> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CalibrationError(`${path}: cannot read the calibration file: ${(e as Error).message}`);
  }
  return parseCalibration(text, path);
}

/** As {@link readCalibration}, for the rig loader, which builds boards synchronously. */
export function readCalibrationSync(path: string): Calibration {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CalibrationError(`${path}: cannot read the calibration file: ${(e as Error).message}`);
  }
  return parseCalibration(text, path);
}

export function parseCalibration(text: string, path: string): Calibration {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CalibrationError(`${path}: not JSON: ${(e as Error).message}`);
  }
  const c = value as Partial<Calibration>;
  if (c?.format !== CALIBRATION_FORMAT)
    throw new CalibrationError(
      `${path}: format: expected "${CALIBRATION_FORMAT}", got ${JSON.stringify(c?.format)}`,
    );
  if (typeof c.timing !== "object" || c.timing === null || Array.isArray(c.timing))
    throw new CalibrationError(`${path}: timing: expected an object of figures`);
  for (const [key, v] of Object.entries(c.timing))
    if (typeof v !== "number" || !(v > 0))
      throw new CalibrationError(
        `${path}: timing.${key}: expected a positive number, got ${JSON.stringify(v)}`,
      );
  return c as Calibration;
}
