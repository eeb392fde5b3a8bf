/**
 * Calibration overlays: a lab board's measured operation times (the hil history's `timing`
 * sections, report/operation-timing.ts) turned into the emulator's timing figures for that
 * board (`hil calibrate`), each with where it came from. An emulated board loads one with
 * `emulated: { calibration: FILE }` or `hil emulate --calibration FILE`.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { DEFAULT_LINE_BAUD } from "../protocol/stm32-usart/line-bytes.js";
import { type ErrorCategory, HilError } from "../seams/errors.js";
import { type CalibrationFigure, figuresFor } from "./calibration-figures.js";
import type { NightRecord } from "./night-history.js";
import { type BoardTimingNight, median } from "./operation-timing.js";

export const CALIBRATION_FORMAT = "update-hil/calibration@1";

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
  /** Emulator timing figures (Stm32Timing with a WB55's fus* keys, Nrf52840Timing keys), ms. */
  readonly timing: Readonly<Record<string, number>>;
  /** Per figure: which operation, over how many nights and units. */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * A board timed over USART: the baud rate its line ran at, whose line time the figures
   * leave out (an emulated board charges line time at its own link's rate), and where that
   * rate came from (the history's record of the rig, `--baud`, or the harness's default).
   */
  readonly usartBaud?: number | undefined;
  readonly usartBaudFrom?: string | undefined;
}

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
  opts: { lastNights?: number; blockBytes?: number; baudRate?: number | undefined } = {},
): Calibration {
  let timed = nights
    .map((n) => ({ at: n.at, b: (Array.isArray(n.timing) ? n.timing : []).find((t) => t.board === board) }))
    .filter((n): n is { at: string; b: BoardTimingNight } => n.b !== undefined)
    .slice(-(opts.lastNights ?? Number.MAX_SAFE_INTEGER));
  if (timed.length === 0)
    throw new CalibrationError(
      `${history}: no night timed board '${board}' (hil run on it, then hil report)`,
    );
  const family = timed[timed.length - 1]!.b.family;
  const usart = usartLine(timed, opts.baudRate);
  // Line time differs with the rate: only the nights at the last night's rate are comparable.
  if (usart) timed = timed.filter((n) => (n.b.baudRate ?? usart.fallback) === usart.baud);
  const figures = figuresFor(family, {
    blockBytes: opts.blockBytes,
    ...(usart ? { link: "usart" as const, baudRate: usart.baud } : {}),
  });
  const timing: Record<string, number> = {};
  const sources: Record<string, string> = {};
  for (const f of figures) {
    const shared = sharedPerRun(f, timed);
    const points = timed.flatMap((n) => {
      const s = n.b.ops[f.op];
      return s ? [{ at: n.at, msPerUnit: perUnitLess(f, s, shared), units: s.units }] : [];
    });
    if (points.length === 0) continue;
    const measured = median(points.map((p) => p.msPerUnit));
    const figure = figureFrom(f, measured);
    const value = figure.value;
    const how = (shared === undefined ? "" : shared.how) + figure.how;
    timing[f.key] = value;
    const units = points.reduce((n, p) => n + p.units, 0);
    sources[f.key] =
      `median of "${f.op}" per unit on ${board} over ${points.length} nights (${points[0]?.at} – ${points[points.length - 1]?.at}), ${units} ${f.unit}` +
      how +
      (f.note ? `, ${f.note}` : "");
  }
  if (Object.keys(timing).length === 0)
    throw new CalibrationError(
      `${history}: board '${board}' has no operation the emulator's timing takes (${figures.map((f) => f.op).join(", ") || `none for family '${family}'`})`,
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
    ...(usart ? { usartBaud: usart.baud, usartBaudFrom: usart.from } : {}),
  };
}

/**
 * Whether the board was timed over USART (Write Memory and no DfuSe block program in its
 * nights: a board timed over both keeps the DFU figures), and at which rate: the last
 * night's record of the rig's `serial.baudRate`, else `baudRate` (`hil calibrate --baud`),
 * else the harness's 115200.
 */
function usartLine(
  timed: readonly { b: BoardTimingNight }[],
  baudRate: number | undefined,
): { baud: number; fallback: number; from: string } | undefined {
  const has = (op: string) => timed.some((n) => n.b.ops[op] !== undefined);
  if (!has("USART write memory") || has("block program")) return undefined;
  const fallback = baudRate ?? DEFAULT_LINE_BAUD;
  const recorded = timed[timed.length - 1]!.b.baudRate;
  if (recorded !== undefined)
    return { baud: recorded, fallback, from: "the history (the rig's serial.baudRate)" };
  return {
    baud: fallback,
    fallback,
    from: baudRate === undefined ? "the harness's default (the history records no rate)" : "--baud",
  };
}

/** The median time per run of the operation `f` takes off each of its runs (lessPerRunOf), if timed. */
function sharedPerRun(
  f: CalibrationFigure,
  timed: readonly { b: BoardTimingNight }[],
): { ms: number; how: string } | undefined {
  if (f.lessPerRunOf === undefined) return undefined;
  const runs = timed.flatMap((n) => {
    const s = n.b.ops[f.lessPerRunOf as string];
    return s ? [s.ms / s.count] : [];
  });
  if (runs.length === 0) return { ms: 0, how: `, with no "${f.lessPerRunOf}" timed to take off` };
  const ms = median(runs);
  return { ms, how: `, less the median "${f.lessPerRunOf}" (${Math.round(ms * 1000) / 1000} ms) per run` };
}

/**
 * A night's time per unit of the figure's operation: the operation's own (the STM32 rows),
 * or, for a figure with per-run parts, the time less the shared part and the emulator's own
 * per-run overhead (a FUS program phase's CPU2 start) per run, over the
 * units with each run's extra figure units spread over them (so `figureFrom`'s division by
 * `perUnit` gives the figure).
 */
function perUnitLess(
  f: CalibrationFigure,
  s: { count: number; units: number; ms: number; msPerUnit: number },
  shared: { ms: number } | undefined,
): number {
  if (shared === undefined && f.perRun === undefined && f.overheadPerRunMs === undefined) return s.msPerUnit;
  if (!(s.units > 0)) return s.msPerUnit;
  const overhead = f.overheadMs ?? 0;
  // Once per run, whatever its units: what the operations share, and what the emulator adds.
  const perRunMs = (shared?.ms ?? 0) + (f.overheadPerRunMs ?? 0);
  const figureMs =
    (s.ms - s.count * perRunMs - s.units * overhead) / (s.units * f.perUnit + s.count * (f.perRun ?? 0));
  return figureMs * f.perUnit + overhead;
}

/** The emulator's figure from a measured time per unit, and how it was derived (for `sources`). */
function figureFrom(f: CalibrationFigure, measured: number): { value: number; how: string } {
  const overhead = f.overheadMs ?? 0;
  const less = measured - overhead;
  const perUnit = f.wholeMs ? Math.max(1, Math.round(less)) : Math.max(Number.MIN_VALUE, less);
  const value = Math.round((perUnit / f.perUnit) * 1e6) / 1e6;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const perRun =
    f.overheadPerRunMs === undefined
      ? ""
      : `, less the emulator's ${f.overheadPerRunMs} ms ${f.overheadOf ?? "path"} per run`;
  const how =
    f.overheadMs === undefined
      ? perRun
      : `${perRun}, less the emulator's ${overhead} ms ${f.overheadOf ?? "path"} per unit${f.wholeMs ? ", in whole ms" : ""} (${round(measured)} → ${round(perUnit)})`;
  return { value, how };
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
