/**
 * Typed failures of the TKey client. Each carries the session transcript, and the message
 * ends with its last entries, so a device that went silent or vanished shows the bytes
 * that led there right in the test output.
 */
import type { Transcript } from "../../transport/transcript.js";

const TAIL_ENTRIES = 6;

export class TKeyError extends Error {
  override name = "TKeyError";
  constructor(
    message: string,
    /** What the client was doing: "FW_CMD_NAME_VERSION", "FW_CMD_LOAD_APP_DATA 12/80", ... */
    readonly operation: string,
    readonly transcript: Transcript,
    options?: ErrorOptions,
  ) {
    super(`${operation}: ${message}${tail(transcript)}`, options);
  }
}

function tail(transcript: Transcript): string {
  return transcript.entries.length === 0 ? "" : `\n${transcript.renderTail(TAIL_ENTRIES)}`;
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
  override name = "TKeyGoneError";
  constructor(operation: string, transcript: Transcript, cause: unknown) {
    super(`serial port closed (${(cause as Error).message})`, operation, transcript, { cause });
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
  override name = "TKeyInputError";
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
