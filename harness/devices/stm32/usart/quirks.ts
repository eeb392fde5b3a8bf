/**
 * Optional behaviours of some parts' USART bootloaders, off unless the rig or the command
 * line asks (emulated board `options`, `hil emulate --option`). The line faults (byte drop,
 * corruption) are fault-plan entries instead: `event:usart.command#3=serial-corrupt`.
 */
import { EmulatorOptionError } from "../../option-error.js";
export interface UsartQuirks {
  /** L412/L422 V13.1: the sync byte is ACKed twice (fact sheet §3). */
  doubleAck: boolean;
  /** Commands refused under RDP are NACKed twice ("some products", fact sheet §4.1). */
  rdpDoubleNack: boolean;
  /** List and answer Get Checksum 0xA1 (AN3155 V3.3+; the WB55 observed list lacks it). */
  getChecksum: boolean;
  /**
   * List Erase 0x43 instead of Extended Erase 0x44, as parts whose bootloader has the
   * one-byte page numbers do (the two are mutually exclusive in Get, fact sheet §4.2).
   */
  legacyErase: boolean;
  /**
   * Get lists Special 0x50 / Extended Special 0x51 where FUS answers them (AN5185 Table 15).
   * A real WB55 was observed listing `00 01 02 11 21 31 44 63 73 82 92` (fact sheet §4.2):
   * `usartGetListsSpecial: false` leaves them out of Get; they are still answered.
   */
  getListsSpecial: boolean;
  /** Quiet time after the Get Checksum length that marks stm32flash's short form, in ms ({@link CHECKSUM_FORM_WINDOW_MS}). */
  checksumFormWindowMs: number;
}

/**
 * The two Get Checksum forms differ only in whether the host sends a polynomial after the
 * length ACK (fact sheet §4.4), so silence decides, in two windows (bootloader.ts
 * #checksumForm): before the ACK stm32flash waits for, and before its CRC. stm32flash reads
 * each with one read of TERMIOS_TIMEOUT_MS = 500 ms (serial_posix.c, stm32.c
 * stm32_crc_memory); half of that leaves it 250 ms of slack per read, and an AN3155 host may
 * be up to 500 ms late with its polynomial (a loaded machine took 410 ms).
 */
export const CHECKSUM_FORM_WINDOW_MS = 250;

const KEYS = {
  usartDoubleAck: "doubleAck",
  usartRdpDoubleNack: "rdpDoubleNack",
  usartGetChecksum: "getChecksum",
  usartLegacyErase: "legacyErase",
  usartGetListsSpecial: "getListsSpecial",
} as const;

/** Reads `usartDoubleAck`, `usartRdpDoubleNack`, `usartGetChecksum`, `usartLegacyErase`, `usartGetListsSpecial` (true/false or "true"/"false"). */
export function quirksFromOptions(options: Record<string, unknown> | undefined): UsartQuirks {
  const quirks: UsartQuirks = {
    doubleAck: false,
    rdpDoubleNack: false,
    getChecksum: false,
    legacyErase: false,
    getListsSpecial: true,
    checksumFormWindowMs: CHECKSUM_FORM_WINDOW_MS,
  };
  for (const [key, field] of Object.entries(KEYS)) {
    const v = options?.[key];
    if (v === undefined) continue;
    if (v !== true && v !== false && v !== "true" && v !== "false")
      throw new EmulatorOptionError(key, "true or false", v);
    quirks[field] = v === true || v === "true";
  }
  return quirks;
}
