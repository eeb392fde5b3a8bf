/**
 * Typed failures of the USART bootloader client. Each carries the transcript of the
 * session so far, so a failed update shows the bytes that led to it.
 */
import type { Transcript } from "../../transport/transcript.js";
import { linkClosedClass, replyTimeoutClass, SerialClientError } from "../errors.js";

export class UsartError extends SerialClientError {
  static override readonly source: string = "usart client";
  override name = "UsartError";
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
export class UsartTimeoutError extends replyTimeoutClass(UsartError) {
  override name = "UsartTimeoutError";
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
export class LinkClosedError extends linkClosedClass(UsartError, "serial link") {
  override name = "LinkClosedError";
}

/** The bootloader did not list the command in its Get reply. */
export class UnsupportedCommandError extends UsartError {
  override name = "UnsupportedCommandError";
}
