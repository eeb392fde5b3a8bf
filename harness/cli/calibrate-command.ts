/**
 * `hil calibrate --history FILE --board ID [--nights N] [--baud N] [--out FILE]`: a lab
 * board's timing overlay from the nightly history (report/calibration.ts), for an emulated
 * board to load (`emulated: { calibration: FILE }`, `hil emulate --calibration FILE`).
 * `--baud` is the USART rate of nights that record none (default 115200, the harness's).
 */
import { writeFile } from "node:fs/promises";
import { buildCalibration } from "../report/calibration.js";
import { readNights } from "../report/night-history.js";
import { UsageError } from "./usage-error.js";

export const CALIBRATE_OPTIONS = {
  history: { type: "string" },
  board: { type: "string" },
  nights: { type: "string" },
  baud: { type: "string" },
  out: { type: "string" },
} as const;

export interface CalibrateOptions {
  history?: string | undefined;
  board?: string | undefined;
  nights?: string | undefined;
  baud?: string | undefined;
  out?: string | undefined;
}

export async function runCalibrate(opts: CalibrateOptions): Promise<number> {
  if (opts.history === undefined) throw new UsageError("calibrate: --history FILE is required");
  if (opts.board === undefined) throw new UsageError("calibrate: --board ID is required");
  let lastNights: number | undefined;
  if (opts.nights !== undefined) {
    lastNights = Number(opts.nights);
    if (!Number.isInteger(lastNights) || lastNights < 1)
      throw new UsageError(`calibrate: --nights expects a whole number ≥ 1, got '${opts.nights}'`);
  }
  let baudRate: number | undefined;
  if (opts.baud !== undefined) {
    baudRate = Number(opts.baud);
    if (!/^\d+$/.test(opts.baud) || !(baudRate > 0))
      throw new UsageError(`calibrate: --baud expects a baud rate (a whole number), got '${opts.baud}'`);
  }
  const calibration = buildCalibration(await readNights(opts.history), opts.board, opts.history, {
    lastNights,
    baudRate,
  });
  const text = `${JSON.stringify(calibration, null, 2)}\n`;
  if (opts.out === undefined) process.stdout.write(text);
  else {
    await writeFile(opts.out, text);
    console.error(`hil calibrate: wrote ${opts.out} (${Object.keys(calibration.timing).join(", ")})`);
  }
  return 0;
}
