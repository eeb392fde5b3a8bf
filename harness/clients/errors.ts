/**
 * The base of every host client's errors (DFU, USART, FUS, TKey, SMP): what the client was
 * doing, the transcript of the session, and the one way its last entries are rendered, so a
 * failed step shows the bytes that led to it in the same shape whichever client failed.
 */
import { type ErrorCategory, HilError } from "../seams/errors.js";
import type { Transcript } from "../transport/transcript.js";

/** How many transcript entries a client error keeps. */
export const TAIL_ENTRIES = 8;

export interface ClientErrorInit {
  /** The whole message, as the subclass words it. */
  message: string;
  /** What the client was doing: "DNLOAD", "Write Memory 0x08000100: data", "image upload". */
  operation: string;
  transcript?: Transcript | undefined;
  cause?: unknown;
  /** When this instance's category differs from its class's. */
  category?: ErrorCategory | undefined;
  /** Who failed: "dfu client", "usart client", ... */
  source?: string | undefined;
}

export class ClientError extends HilError {
  static override readonly category: ErrorCategory = "device";
  readonly operation: string;
  /** The session's transcript (live: it keeps growing if the session goes on). */
  readonly transcript: Transcript | undefined;
  /**
   * The last {@link TAIL_ENTRIES} entries before the failure, rendered when the error was
   * made, hex dumps cut to their first and last lines (a 2 KB block must not bury the
   * failing request). Empty when there was no transcript or it was empty. It is also
   * appended to `stack`, so a test runner's output shows it under the message.
   */
  readonly transcriptTail: string;

  constructor(init: ClientErrorInit) {
    super(init.message, { cause: init.cause, category: init.category, source: init.source });
    this.operation = init.operation;
    this.transcript = init.transcript;
    this.transcriptTail = renderTranscriptTail(init.transcript);
    if (this.transcriptTail && this.stack) this.stack = `${this.stack}\n${this.transcriptTail}`;
  }
}

/** What the positional constructors of the serial clients' errors take last. */
export type ClientErrorOptions = ErrorOptions & { category?: ErrorCategory };

/**
 * The base of the serial clients' errors (USART, TKey), positional as their call sites
 * have it, worded "<operation>: <message>". A subclass names its client in `source`.
 */
export class SerialClientError extends ClientError {
  /** Who failed, for every instance of the class: "usart client". */
  static readonly source: string = "serial client";
  declare readonly transcript: Transcript;

  constructor(message: string, operation: string, transcript: Transcript, options?: ClientErrorOptions) {
    const { cause, category } = options ?? {};
    const source = (new.target as typeof SerialClientError).source;
    super({ message: `${operation}: ${message}`, operation, transcript, cause, category, source });
  }
}

type SerialErrorClass<E extends SerialClientError> = abstract new (
  message: string,
  operation: string,
  transcript: Transcript,
  options?: ClientErrorOptions,
) => E;

/**
 * `Base`'s subclass for a serial link that closed under the client (adapter unplugged, TKey
 * gone, emulator stopped): the lab's failure, worded the same for every client.
 */
export function linkClosedClass<E extends SerialClientError>(Base: SerialErrorClass<E>, what: string) {
  class LinkClosed extends (Base as unknown as typeof SerialClientError) {
    static override readonly category: ErrorCategory = "infrastructure";
    constructor(operation: string, transcript: Transcript, cause: unknown) {
      super(linkGoneDetail(what, cause), operation, transcript, { cause });
    }
  }
  return LinkClosed as unknown as new (
    operation: string,
    transcript: Transcript,
    cause: unknown,
  ) => E;
}

/** `Base`'s subclass for no (complete) reply within the timeout, in the stream clock's time. */
export function replyTimeoutClass<E extends SerialClientError>(Base: SerialErrorClass<E>, hint = "") {
  class ReplyTimeout extends (Base as unknown as typeof SerialClientError) {
    constructor(
      operation: string,
      transcript: Transcript,
      readonly timeoutMs: number,
      /** What arrived before the time ran out. */
      readonly partial: Uint8Array,
      cause: unknown,
    ) {
      const got = `no reply within ${timeoutMs} ms (got ${partial.length} byte(s))`;
      super(`${got}${hint}`, operation, transcript, { cause });
    }
  }
  return ReplyTimeout as unknown as new (
    operation: string,
    transcript: Transcript,
    timeoutMs: number,
    partial: Uint8Array,
    cause: unknown,
  ) => E & { readonly timeoutMs: number; readonly partial: Uint8Array };
}

/** The words for a serial link that closed under a client. */
function linkGoneDetail(what: string, cause: unknown): string {
  return `${what} closed (${cause instanceof Error ? cause.message : String(cause)})`;
}

/** The one tail renderer: the last entries, each hex dump cut to its first and last line. */
export function renderTranscriptTail(transcript: Transcript | undefined, entries = TAIL_ENTRIES): string {
  return transcript?.renderTail(entries, { headLines: 1, tailLines: 1 }) ?? "";
}
