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
  /** Device time the emulator adds once per run of the operation, whatever its units (a CPU start). */
  readonly overheadPerRunMs?: number;
  /** What that overhead is, for `sources`. */
  readonly overheadOf?: string;
  /** The device reports the wait in whole ms (a bwPollTimeout), so the figure is too. */
  readonly wholeMs?: boolean;
  /** More words for `sources`. */
  readonly note?: string;
  /**
   * Another operation whose median time per run is taken off each run of this one first:
   * what the two share (a swap is a reset that also moves sectors).
   */
  readonly lessPerRunOf?: string;
  /** Figure units each run spends besides its per-unit ones (a swap's two trailer-sector erases). */
  readonly perRun?: number;
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
 * What the emulator's FUS path adds to a figure on the device clock, seen from a host on USB
 * DFU: after the verify (or FW_DELETE's and START_WS's preparation), the reset and the way
 * back on the bus (bootloader start, USB connect, the re-enumeration); per program run, CPU2's
 * start after the reset; per sector, the flash's own page erase and program of the sector
 * (22 + 512 × 0.082 ms; a FUS upgrade erases the staged copy too); around the stack's first
 * answer, the GET_STATE exchange. test/report/fus-calibration.spec.ts checks these against
 * the emulator.
 */
export const FUS_PATH_OVERHEAD_MS = {
  verify: 302.384,
  programPerRun: 50,
  installPerSector: 63.984,
  fusUpgradePerSector: 85.984,
  stackStart: 6.024,
} as const;

/** STM32WB FUS (devices/stm32/fus/timing.ts FUS_OVERLAY_KEYS) from an install's phases as the host saw them. */
function fusFigures(): CalibrationFigure[] {
  const o = FUS_PATH_OVERHEAD_MS;
  const fusPath = { overheadOf: "FUS path" } as const;
  const program = {
    perUnit: 1,
    unit: "4 KB sectors",
    overheadPerRunMs: o.programPerRun,
    ...fusPath,
    note: "the flash's page erase and program at the profile's figures",
  } as const;
  return [
    {
      key: "fusVerifyMs",
      op: "FUS install: verify and first reset",
      perUnit: 1,
      unit: "installs",
      overheadMs: o.verify,
      ...fusPath,
      note: "the reset as the host's GET_STATE poll saw it",
    },
    { key: "fusInstallPerSectorMs", op: "FUS install: program", overheadMs: o.installPerSector, ...program },
    {
      key: "fusUpgradePerSectorMs",
      op: "FUS upgrade: program",
      overheadMs: o.fusUpgradePerSector,
      ...program,
    },
    {
      key: "fusPrepareMs",
      op: "FUS prepare and reset",
      perUnit: 1,
      unit: "FW_DELETE / START_WS",
      overheadMs: o.verify,
      ...fusPath,
      note: "the reset as the host's GET_STATE poll saw it",
    },
    {
      key: "fusFirstGetStateAfterInstallMs",
      op: "FUS stack start",
      perUnit: 1,
      unit: "installs",
      overheadMs: o.stackStart,
      ...fusPath,
    },
  ];
}

/**
 * The nRF52840 emulator's datasheet figures (devices/nrf52840-mcuboot/profile.ts), which
 * the figures below take as what they cannot measure; test/report/calibration-nrf52840.spec.ts
 * checks them against the profile.
 */
export const NRF52840_DATASHEET = { wordWriteMs: 0.041, smpResetDelayMs: 250 } as const;

/** SmpLink's wait after the answer to `os reset` before it asks whether the application is back. */
export const SMP_LINK_RESET_WAIT_MS = 300;

/** Words MCUboot's swap-using-move writes per sector: three 4 KB sector copies and their status entries. */
const SWAP_MOVE_WORDS_PER_SECTOR = 3 * (4096 / 4 + 1);

/**
 * nRF52840 + MCUboot over SMP (Nrf52840Timing keys). The host sees a swap only as a reset
 * that takes longer: the plain reset's time is taken off, and what is left per sector is
 * three page erases (swap-using-move moves every sector up, then swaps it) and their writes,
 * at the datasheet's word time, which host timing cannot tell apart from the erase. An
 * upload's time per KB beyond its writes is the line and the server: uploadByteMs.
 */
function nrf52840Figures(): CalibrationFigure[] {
  const w = NRF52840_DATASHEET.wordWriteMs;
  return [
    {
      key: "pageEraseMs",
      op: "MCUboot swap",
      perUnit: 3,
      perRun: 2,
      unit: "sectors",
      lessPerRunOf: "MCUboot reset",
      overheadMs: Math.round(SWAP_MOVE_WORDS_PER_SECTOR * w * 1e6) / 1e6,
      overheadOf: `sector copies' writes (${SWAP_MOVE_WORDS_PER_SECTOR} words at ${w} ms)`,
      note: "swap-using-move: 3 erases a sector, 2 trailer-sector erases a swap",
    },
    {
      key: "uploadByteMs",
      op: "MCUboot image upload",
      perUnit: 1024,
      unit: "KB",
      overheadMs: Math.round(256 * w * 1e6) / 1e6,
      overheadOf: `flash writes (256 words at ${w} ms)`,
      note: "what is left is the console line and the SMP server, per byte",
    },
    {
      key: "bootloaderMs",
      op: "MCUboot reset",
      perUnit: 1,
      unit: "resets",
      overheadMs: SMP_LINK_RESET_WAIT_MS,
      overheadOf: "host's wait after the reset's answer",
      note: `a boot within that wait (the app's ${NRF52840_DATASHEET.smpResetDelayMs} ms reset delay and MCUboot's start) does not show`,
    },
  ];
}

/**
 * What the emulated TKey's line adds to each LOAD_APP_DATA frame on the device clock: the
 * chunk (header + 128 bytes) and its reply (header + 4) at 10 bit times a byte, 62500 baud.
 * test/report/tkey-calibration.spec.ts checks it against the emulator.
 */
export const TKEY_FRAME_LINE_MS = ((1 + 128 + 1 + 4) * 10) / 62.5;

/** TKey firmware: its time per frame besides the line (TKeyTiming keys). */
function tkeyFigures(): CalibrationFigure[] {
  return [
    {
      key: "frameMs",
      op: "TKey app data",
      perUnit: 1,
      unit: "frames",
      overheadMs: TKEY_FRAME_LINE_MS,
      overheadOf: "line time of a chunk and its reply",
      note: "the hash and the longer last reply of each timed load spread over its frames",
    },
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
    case "stm32wb55":
      // FUS figures come from installs over USB DFU (over USART its phases are not calibrated).
      return [
        ...(opts.link === "usart"
          ? stm32UsartFigures(opts.baudRate ?? DEFAULT_LINE_BAUD)
          : stm32DfuFigures(blockBytes)),
        ...fusFigures(),
      ];
    case "stm32l432":
    // A history written before boards carried their family: STM32 DFU was all there was.
    case undefined:
      return opts.link === "usart"
        ? stm32UsartFigures(opts.baudRate ?? DEFAULT_LINE_BAUD)
        : stm32DfuFigures(blockBytes);
    case "nrf52840":
      return nrf52840Figures();
    case "tkey":
      return tkeyFigures();
    default:
      return [];
  }
}
