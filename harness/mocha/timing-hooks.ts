/**
 * Per-operation timing in the Mocha glue: while a test runs on a board, every client
 * operation is timed on that board's clock (wall on a lab board, virtual on an emulated
 * one) and written as one JSON line to the run's timing file (HIL_TIMING_SAMPLES), which
 * `hil report` summarises into the night's `timing` section (report/operation-timing.ts).
 * Nested operations are each timed ("download 262144 bytes" and its "erase 128 pages").
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { OperationObserver } from "../clients/operation.js";
import { type OperationSample, operationName } from "../report/operation-timing.js";
import type { Board } from "../rig/board.js";
import { identityFromEnv } from "../rig/identify.js";

/** Where `hil run` has each operation's time written, one JSON line per operation. */
export const TIMING_SAMPLES_ENV = "HIL_TIMING_SAMPLES";

/** A sample as the file holds it: with the family and whether the board is emulated, for the summary. */
export interface TimingLine extends OperationSample {
  readonly family: string;
  readonly emulated: boolean;
  /** The lab board this one is the twin of. */
  readonly twinOf?: string;
  /** On a board's first line of the process: its identity (rig file info and the health check's reading). */
  readonly identity?: Readonly<Record<string, string>>;
  /** The rate its serial line is opened at (rig `serial.baudRate`), where the rig names one: calibration takes USART line time off at it. */
  readonly baudRate?: number;
}

const identified = new Set<string>();

function identityOnce(board: Board): { identity?: Record<string, string> } {
  if (identified.has(board.id)) return {};
  identified.add(board.id);
  return { identity: { ...board.info, ...(identityFromEnv(board.id) ?? {}) } };
}

let current: Board | undefined;

/** The board whose test runs now (forEachBoard sets it around each test). */
export function timeOperationsOn(board: Board | undefined): void {
  current = board;
}

/** `observer` that also times each operation on the running test's board. */
export function timingOperations(
  observer: OperationObserver,
  write: (line: TimingLine) => void = writeToFile,
): OperationObserver {
  return (source, title, body) => {
    const board = current;
    if (!board) return observer(source, title, body);
    const start = board.clock.now();
    let finalTitle = title;
    let deviceMs = 0;
    const done = () => {
      const { op, units } = operationName(finalTitle);
      write({
        board: board.id,
        op,
        units,
        ms: board.clock.now() - start,
        ...(deviceMs > 0 ? { deviceMs } : {}),
        family: board.family,
        emulated: board.emulated,
        ...(board.twinOf ? { twinOf: board.twinOf } : {}),
        ...(board.serialPort?.baudRate ? { baudRate: board.serialPort.baudRate } : {}),
        ...identityOnce(board),
      });
    };
    return observer(source, title, (handle) =>
      body({
        ...handle,
        retitle(t) {
          finalTitle = t;
          handle.retitle(t);
        },
        deviceWait(ms) {
          deviceMs += ms;
          handle.deviceWait?.(ms);
        },
      }),
    ).then(
      (value) => {
        done();
        return value;
      },
      (e: unknown) => {
        // A failed operation's time is not the operation's time: it is left out.
        throw e;
      },
    );
  };
}

function writeToFile(line: TimingLine): void {
  const file = process.env[TIMING_SAMPLES_ENV];
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}
