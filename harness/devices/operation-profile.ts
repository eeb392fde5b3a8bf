/**
 * The emulators' timing profile per operation, under the names report/operation-timing.ts
 * gives client operations: what an emulated board of the family charges per unit, for the
 * timing report's "emulator" column. Operations an emulator does not time give undefined.
 */

import { MAX_BLOCK } from "../protocol/stm32-usart/constants.js";
import {
  byteMsAt,
  DEFAULT_LINE_BAUD,
  readMemoryLineBytes,
  writeMemoryLineBytes,
} from "../protocol/stm32-usart/line-bytes.js";
import { PROFILES } from "./stm32/profiles.js";

/** `baudRate`: the board's serial line rate (USART line time is charged at it; 115200 when absent). */
export function emulatorOperationMs(
  board: { readonly family?: string | undefined; readonly baudRate?: number | undefined },
  op: string,
): number | undefined {
  const profile = Object.values(PROFILES).find((p) => p.family === board.family);
  if (!profile) return undefined;
  switch (op) {
    case "page erase":
      return profile.timing.pageEraseMs;
    case "mass erase":
      return profile.timing.massEraseMs;
    // Per 256-byte command: the bytes on the line (8E1), and for Write Memory its 32 double words.
    case "USART write memory":
      return (
        writeMemoryLineBytes(MAX_BLOCK) * byteMsAt(board.baudRate ?? DEFAULT_LINE_BAUD) +
        (MAX_BLOCK / 8) * profile.timing.doubleWordProgramMs
      );
    case "USART read memory":
      return readMemoryLineBytes(MAX_BLOCK) * byteMsAt(board.baudRate ?? DEFAULT_LINE_BAUD);
    default:
      return undefined;
  }
}
