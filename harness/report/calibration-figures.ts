/**
 * Which emulator timing figure `hil calibrate` derives from which timed operation, per
 * family. A figure is the measured time per unit of the operation, less what the emulator's
 * own path adds around it (so the calibrated emulator, adding it back, takes the measured
 * time), divided into the figure's own unit. Each family's rows sit beside the others so a
 * new family is one entry; the emulator that loads the overlay checks its keys.
 */

import { MAX_BLOCK } from "../protocol/stm32-usart/constants.js";
import { byteMsAt, DEFAULT_LINE_BAUD, writeMemoryLineBytes } from "../protocol/stm32-usart/line-bytes.js";

export interface CalibrationFigure {
  /** The emulator's timing key (`emulated.options.timing.<key>`). */
  readonly key: string;
  /** The operation's name in the timing section (report/operation-timing.ts). */
  readonly op: string;
  /** How many of the figure's units one unit of the operation is (a 2 KB block is 256 double words). */
  readonly perUnit: number;
  /** What the operation's units are, for `sources`. */
  readonly unit: string;
  /** Device time the emulator adds per unit around the figure (transfers, status polls). */
  readonly overheadMs?: number;
  /** What that overhead is, for `sources`. */
  readonly overheadOf?: string;
  /** The device reports the wait in whole ms (a bwPollTimeout), so the figure is too. */
  readonly wholeMs?: boolean;
  /** More words for `sources`. */
  readonly note?: string;
}

/** The DfuSe ROM's wTransferSize: one "block program" is this many bytes. */
export const DFU_BLOCK_BYTES = 2048;

/**
 * What the emulator's DFU path adds to a figure per unit, on the device clock: the USB
 * transfers and GETSTATUS exchanges around each page erase and block (the erase stall's
 * second poll included). test/report/calibration.spec.ts checks these against the emulator.
 */
export const DFU_PATH_OVERHEAD_MS: Readonly<Record<string, number>> = {
  "page erase": 3.017,
  "block program": 5.106,
};

/** STM32 ROM DFU: erase, program, mass erase and USB connect (Stm32Timing keys). */
function stm32DfuFigures(blockBytes: number): CalibrationFigure[] {
  const dfuPath = { overheadOf: "DFU path", wholeMs: true } as const;
  return [
    {
      key: "pageEraseMs",
      op: "page erase",
      perUnit: 1,
      unit: "pages",
      overheadMs: DFU_PATH_OVERHEAD_MS["page erase"],
      ...dfuPath,
    },
    {
      key: "doubleWordProgramMs",
      op: "block program",
      perUnit: blockBytes / 8,
      unit: "blocks",
      overheadMs: DFU_PATH_OVERHEAD_MS["block program"],
      ...dfuPath,
      note: `${blockBytes}-byte blocks of ${blockBytes / 8} double words`,
    },
    { key: "massEraseMs", op: "mass erase", perUnit: 1, unit: "mass erases" },
    { key: "usbConnectMs", op: "re-enumeration after reset", perUnit: 1, unit: "re-enumerations" },
  ];
}

/**
 * STM32 ROM over USART (AN3155): the same chip figures from the USART operations, less the
 * line time (8E1) at the rate the board's line was opened at, which the emulator charges
 * itself at its own link's rate. Write Memory in 256-byte blocks of 32 double words; a page
 * erase less its page number's 2 bytes (the command's few own bytes are left in: under 1 %
 * of a page at 115200 for erases of more than a page).
 */
function stm32UsartFigures(baud: number): CalibrationFigure[] {
  const byteMs = byteMsAt(baud);
  const round = (ms: number) => Math.round(ms * 1e6) / 1e6;
  const line = { overheadOf: `line time (8E1 at ${baud} baud)` } as const;
  return [
    {
      key: "pageEraseMs",
      op: "page erase",
      perUnit: 1,
      unit: "pages",
      overheadMs: round(2 * byteMs),
      ...line,
      note: "over USART",
    },
    {
      key: "doubleWordProgramMs",
      op: "USART write memory",
      perUnit: MAX_BLOCK / 8,
      unit: "Write Memory commands",
      overheadMs: round(writeMemoryLineBytes(MAX_BLOCK) * byteMs),
      ...line,
      note: `${MAX_BLOCK}-byte blocks of ${MAX_BLOCK / 8} double words, ${writeMemoryLineBytes(MAX_BLOCK)} bytes on the line each`,
    },
    { key: "massEraseMs", op: "mass erase", perUnit: 1, unit: "mass erases" },
  ];
}

/** The figures for a board of `family` (none for a family no emulator times), timed over `link` (default DFU). */
export function figuresFor(
  family: string | undefined,
  opts: { blockBytes?: number | undefined; link?: "dfu" | "usart"; baudRate?: number | undefined } = {},
): readonly CalibrationFigure[] {
  const blockBytes = opts.blockBytes ?? DFU_BLOCK_BYTES;
  switch (family) {
    case "stm32l432":
    case "stm32wb55":
    // A history written before boards carried their family: STM32 DFU was all there was.
    case undefined:
      return opts.link === "usart"
        ? stm32UsartFigures(opts.baudRate ?? DEFAULT_LINE_BAUD)
        : stm32DfuFigures(blockBytes);
    default:
      return [];
  }
}
