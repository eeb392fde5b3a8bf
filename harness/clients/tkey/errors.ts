/**
 * Typed failures of the TKey client. Each carries the session transcript, and its stack
 * ends with the last entries (ClientError), so a device that went silent or vanished shows
 * the bytes that led there right in the test output.
 */
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { ClientError, linkGoneDetail } from "../errors.js";

export class TKeyError extends ClientError {
  override name = "TKeyError";
  declare readonly transcript: Transcript;
  constructor(
    message: string,
    /** What the client was doing: "FW_CMD_NAME_VERSION", "FW_CMD_LOAD_APP_DATA 12/80", ... */
    operation: string,
    transcript: Transcript,
    options?: ErrorOptions & { category?: ErrorCategory },
  ) {
    super({
      message: `${operation}: ${message}`,
      operation,
      transcript,
      cause: options?.cause,
      category: options?.category,
      source: "tkey client",
    });
  }
}

/** No (complete) frame within the timeout: a halted firmware, a hung app, a cut line. */
export class TKeySilentError extends TKeyError {
  override name = "TKeySilentError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly timeoutMs: number,
    readonly partial: Uint8Array,
    cause: unknown,
  ) {
    super(
      `no reply within ${timeoutMs} ms (got ${partial.length} byte(s)); a TKey that saw a bad frame stays silent until unplugged`,
      operation,
      transcript,
      { cause },
    );
  }
}

/** The serial port closed under the client: the TKey was unplugged or lost power. */
export class TKeyGoneError extends TKeyError {
  static override readonly category: ErrorCategory = "infrastructure";
  override name = "TKeyGoneError";
  constructor(operation: string, transcript: Transcript, cause: unknown) {
    super(linkGoneDetail("serial port", cause), operation, transcript, { cause });
  }
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
