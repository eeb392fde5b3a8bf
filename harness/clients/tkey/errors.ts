/**
 * Typed failures of the TKey client. Each carries the session transcript, and its stack
 * ends with the last entries (ClientError), so a device that went silent or vanished shows
 * the bytes that led there right in the test output.
 */
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { linkClosedClass, replyTimeoutClass, SerialClientError } from "../errors.js";

export class TKeyError extends SerialClientError {
  static override readonly source: string = "tkey client";
  override name = "TKeyError";
}

/** No (complete) frame within the timeout: a halted firmware, a hung app, a cut line. */
export class TKeySilentError extends replyTimeoutClass(
  TKeyError,
  "; a TKey that saw a bad frame stays silent until unplugged",
) {
  override name = "TKeySilentError";
}

/** The serial port closed under the client: the TKey was unplugged or lost power. */
export class TKeyGoneError extends linkClosedClass(TKeyError, "serial port") {
  override name = "TKeyGoneError";
}

/** A frame with the NOK bit: the firmware never sends one, so an app is running. */
export class TKeyNokError extends TKeyError {
  override name = "TKeyNokError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly header: number,
    readonly payload: Uint8Array,
  ) {
    super(
      `NOK reply (header 0x${header.toString(16).padStart(2, "0")}): not in firmware mode`,
      operation,
      transcript,
    );
  }
}

/** A firmware response with STATUS_BAD. */
export class TKeyStatusError extends TKeyError {
  override name = "TKeyStatusError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly status: number,
  ) {
    super(`STATUS_BAD (status byte ${status})`, operation, transcript);
  }
}

/** A frame that is not the response the command calls for. */
export class TKeyProtocolError extends TKeyError {
  override name = "TKeyProtocolError";
}

/** The digest in FW_RSP_LOAD_APP_DATA_READY is not BLAKE2s of the app sent. */
export class TKeyDigestError extends TKeyError {
  override name = "TKeyDigestError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly expected: Uint8Array,
    readonly actual: Uint8Array,
  ) {
    super(`digests differ: expected ${hex(expected)}, TKey computed ${hex(actual)}`, operation, transcript);
  }
}

/** Refused before anything was sent (ELF file, empty or oversize app, bad USS). */
export class TKeyInputError extends TKeyError {
  static override readonly category: ErrorCategory = "usage";
  override name = "TKeyInputError";
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
