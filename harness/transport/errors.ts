/**
 * Errors raised by byte streams. Both carry the bytes that had arrived for the failed
 * read, so a client (or a transcript) never loses evidence of a half-received frame.
 */

import { type ErrorCategory, HilError } from "../seams/errors.js";
import { TimeoutError } from "./clock.js";

/** A `read(n)` ran out of time; `partial` holds the bytes that did arrive (consumed from the stream). */
export class ReadTimeoutError extends TimeoutError {
  constructor(
    readonly stream: string,
    readonly wanted: number,
    timeoutMs: number,
    readonly partial: Uint8Array,
  ) {
    super(`${wanted} bytes from ${stream} (got ${partial.length})`, timeoutMs);
    this.name = "ReadTimeoutError";
  }
}

export interface StreamClosedInit {
  /** Why: "closed by host", "device removed", "peer closed", ... */
  reason: string;
  /**
   * True when the far end vanished (device removed, emulator powered off, pty gone);
   * false for a deliberate local close. Mirrors serialport's `disconnected` flag.
   */
  disconnected: boolean;
  /** Bytes buffered for the read this error ends (consumed from the stream). */
  partial?: Uint8Array;
  cause?: unknown;
}

/** The stream is closed: pending and later reads/writes reject with this, at once rather than at their timeout. */
export class StreamClosedError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  readonly stream: string;
  readonly reason: string;
  readonly disconnected: boolean;
  readonly partial: Uint8Array;

  constructor(stream: string, init: StreamClosedInit) {
    super(`${stream} closed: ${init.reason}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "StreamClosedError";
    this.stream = stream;
    this.reason = init.reason;
    this.disconnected = init.disconnected;
    this.partial = init.partial ?? new Uint8Array(0);
  }

  /** The same closure seen by one particular read, with that read's partial bytes. */
  withPartial(partial: Uint8Array): StreamClosedError {
    return new StreamClosedError(this.stream, {
      reason: this.reason,
      disconnected: this.disconnected,
      partial,
      cause: this.cause,
    });
  }
}
