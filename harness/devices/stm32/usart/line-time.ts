/**
 * Line time of the USART bootloader: every byte crosses the wire as 11 bit times (8E1:
 * start, 8 data, even parity, stop) at the line's baud rate, charged on the board's clock
 * before the device's reply goes out, as the TKey emulator charges its 62500-baud line.
 * The rate is the host's: the ROM auto-bauds on its 0x7F, so a line that knows the baud it
 * was opened at (an emulated rig's link, a pty's termios) sets it; `usartBaud` is the rate
 * of a line that cannot tell.
 * On virtual time (emulated rigs) always; a board served on wall time (`hil emulate`) only
 * with `pace=realtime`, since its pty already takes real time of its own.
 */
import { DEFAULT_LINE_BAUD, LINE_BITS_PER_BYTE } from "../../../protocol/stm32-usart/line-bytes.js";
import type { Clock } from "../../../seams/clock.js";
import { EmulatorOptionError } from "../../option-error.js";

/** 8E1: start bit, 8 data bits, parity, stop bit. */
export const BITS_PER_BYTE = LINE_BITS_PER_BYTE;
/** The harness's USART baud rate when the rig names none (rig/usart-link.ts). */
export const DEFAULT_USART_BAUD = DEFAULT_LINE_BAUD;

/**
 * Milliseconds of line time per byte for `options` (`usartBaud`, `pace`) on `clock`, at
 * `lineBaud` when the line tells it (else `usartBaud`); 0 when not charged.
 */
export function lineByteMs(
  options: Record<string, unknown> | undefined,
  clock: Pick<Clock, "kind">,
  lineBaud?: number,
): number {
  const pace = options?.pace ?? (clock.kind === "virtual" ? "virtual" : "none");
  if (pace !== "virtual" && pace !== "realtime" && pace !== "none")
    throw new EmulatorOptionError("pace", "realtime, virtual or none", pace);
  const raw = options?.usartBaud ?? DEFAULT_USART_BAUD;
  const baud = typeof raw === "string" ? Number(raw) : raw;
  if (typeof baud !== "number" || !Number.isInteger(baud) || baud <= 0)
    throw new EmulatorOptionError("usartBaud", "a baud rate (a positive whole number)", raw);
  if (pace === "none") return 0;
  if (pace === "realtime" && clock.kind !== "wall")
    throw new EmulatorOptionError("pace", "realtime only on a served board (hil emulate)", pace);
  if (lineBaud !== undefined && !(Number.isInteger(lineBaud) && lineBaud > 0))
    throw new RangeError(`USART line: baud rate ${lineBaud} is not a positive whole number`);
  return (BITS_PER_BYTE * 1000) / (lineBaud ?? baud);
}
