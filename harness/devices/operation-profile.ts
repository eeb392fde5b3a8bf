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
import { NRF52840_TIMING } from "./nrf52840-mcuboot/profile.js";
import { FUS_TIMING } from "./stm32/fus/timing.js";
import { PROFILES } from "./stm32/profiles.js";
import { tkeyOperationMs } from "./tkey/operation-ms.js";

/** `baudRate`: the board's serial line rate (USART line time is charged at it; 115200 when absent). */
export function emulatorOperationMs(
  board: { readonly family?: string | undefined; readonly baudRate?: number | undefined },
  op: string,
): number | undefined {
  if (board.family === "nrf52840") return nrf52840OperationMs(op);
  if (board.family === "tkey") return tkeyOperationMs(op);
  const profile = Object.values(PROFILES).find((p) => p.family === board.family);
  if (!profile) return undefined;
  switch (op) {
    case "page erase":
      return profile.timing.pageEraseMs;
    case "mass erase":
      return profile.timing.massEraseMs;
    // FUS install phases (WB55): what CPU2 charges, per sector with the flash's erase and program.
    case "FUS install: verify and first reset":
      return profile.family === "stm32wb55" ? FUS_TIMING.verifyMs : undefined;
    case "FUS install: program":
      return profile.family === "stm32wb55"
        ? FUS_TIMING.installPerSectorMs + fusSectorFlashMs(profile)
        : undefined;
    case "FUS upgrade: program":
      // The staged copy of each sector is erased after the install, too.
      return profile.family === "stm32wb55"
        ? FUS_TIMING.fusUpgradePerSectorMs + fusSectorFlashMs(profile) + profile.timing.pageEraseMs
        : undefined;
    case "FUS prepare and reset":
      return profile.family === "stm32wb55" ? FUS_TIMING.prepareMs : undefined;
    case "FUS stack start":
      return profile.family === "stm32wb55" ? FUS_TIMING.firstGetStateAfterInstallMs : undefined;
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

/** A 4 KB sector FUS moves: one page erase and its double words programmed. */
function fusSectorFlashMs(profile: (typeof PROFILES)[keyof typeof PROFILES]): number {
  return profile.timing.pageEraseMs + (profile.flash.pageSize / 8) * profile.timing.doubleWordProgramMs;
}

/**
 * The nRF52840 emulator per unit: a swap-using-move sector is three 4 KB page erases and
 * copies (1024 words and a status word each); an uploaded KB is 256 word writes and its
 * line time (none unless calibrated); a plain reset is the app's reset delay and MCUboot's
 * start. The slot erase before an upload depends on what the slot held and is left out.
 */
function nrf52840OperationMs(op: string): number | undefined {
  const t = NRF52840_TIMING;
  switch (op) {
    case "MCUboot swap":
      return 3 * t.pageEraseMs + 3 * 1025 * t.wordWriteMs;
    case "MCUboot image upload":
      return 256 * t.wordWriteMs + 1024 * t.uploadByteMs;
    case "MCUboot reset":
      return t.smpResetDelayMs + t.bootloaderMs;
    default:
      return undefined;
  }
}
