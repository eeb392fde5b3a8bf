/**
 * How every client command (dfu, usart, fus, tkey, smp) prints a failure the device or the
 * link caused: one line naming the command and the error, then the transcript tail in the
 * one format all client errors share (harness/clients/errors.ts).
 */
import { ClientError } from "../clients/errors.js";

/**
 * Prints `e` after `prefix` ("hil dfu") if it is a client's error and returns true; false
 * for anything else.
 */
export function printClientFailure(prefix: string, e: unknown): e is ClientError {
  if (!(e instanceof ClientError)) return false;
  console.error(`${prefix}: ${e.message}`);
  if (e.transcriptTail) console.error(e.transcriptTail);
  return true;
}
