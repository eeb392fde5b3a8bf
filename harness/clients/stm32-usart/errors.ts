/**
 * Typed failures of the USART bootloader client. Each carries the transcript of the
 * session so far, so a failed update shows the bytes that led to it.
 */
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { ClientError, linkGoneDetail } from "../errors.js";

export class UsartError extends ClientError {
  override name = "UsartError";
  declare readonly transcript: Transcript;
  constructor(
    message: string,
    /** What the client was doing: "Write Memory 0x08000100: data", "sync", ... */
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
      source: "usart client",
    });
  }
}

/** The bootloader answered NACK (0x1F). `nacks` counts them: some parts send two under RDP. */
export class NackError extends UsartError {
  override name = "NackError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly nacks: number,
  ) {
    super(`NACK${nacks > 1 ? ` x${nacks}` : ""}`, operation, transcript);
  }
}

/** No (complete) reply within the operation's timeout, in the stream clock's time. */
export class UsartTimeoutError extends UsartError {
  override name = "UsartTimeoutError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly timeoutMs: number,
    readonly partial: Uint8Array,
    cause: unknown,
  ) {
    super(`no reply within ${timeoutMs} ms (got ${partial.length} byte(s))`, operation, transcript, {
      cause,
    });
  }
}

/** A byte that is neither ACK, NACK nor BUSY where one of those was due. */
export class UnexpectedReplyError extends UsartError {
  override name = "UnexpectedReplyError";
  constructor(
    operation: string,
    transcript: Transcript,
    readonly byte: number,
  ) {
    super(
      `expected ACK 0x79 or NACK 0x1F, got 0x${byte.toString(16).padStart(2, "0")}`,
      operation,
      transcript,
    );
  }
}

/** The serial link closed under the client (adapter unplugged, emulator gone). */
export class LinkClosedError extends UsartError {
  static override readonly category: ErrorCategory = "infrastructure";
  override name = "LinkClosedError";
  constructor(operation: string, transcript: Transcript, cause: unknown) {
    super(linkGoneDetail("serial link", cause), operation, transcript, { cause });
  }
}

/** The bootloader did not list the command in its Get reply. */
export class UnsupportedCommandError extends UsartError {
  override name = "UnsupportedCommandError";
}
