/**
 * How many bytes cross the line for one AN3155 command, both ways, and what that takes at
 * a baud rate (8E1: 11 bit times a byte). Timing reports and calibration take the line's
 * share off a USART operation's time to leave the device's own.
 */
import { MAX_BLOCK } from "./constants.js";

/** 8E1: start bit, 8 data bits, even parity, stop bit. */
export const LINE_BITS_PER_BYTE = 11;
/** The harness's USART rate when a rig names none (rig/usart-link.ts). */
export const DEFAULT_LINE_BAUD = 115_200;

/** Milliseconds of line time per byte at `baud`. */
export function byteMsAt(baud: number): number {
  if (!(Number.isInteger(baud) && baud > 0))
    throw new RangeError(`baud rate ${baud} is not a positive whole number`);
  return (LINE_BITS_PER_BYTE * 1000) / baud;
}

/**
 * Write Memory of `n` bytes: 0x31 0xCE, ACK; 4 address bytes and their checksum, ACK;
 * N-1, the data, their checksum, ACK.
 */
export function writeMemoryLineBytes(n = MAX_BLOCK): number {
  return 2 + 1 + 5 + 1 + (1 + n + 1) + 1;
}

/** Read Memory of `n` bytes: 0x11 0xEE, ACK; address and checksum, ACK; N-1 and its complement, ACK; the data. */
export function readMemoryLineBytes(n = MAX_BLOCK): number {
  return 2 + 1 + 5 + 1 + 2 + 1 + n;
}
