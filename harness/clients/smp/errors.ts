import { rcName } from "../../protocol/smp/index.js";
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { ClientError } from "../errors.js";

/** The device answered with an error: an SMP-level rc (v1 form) or a group rc (v2 `err`). */
export class SmpError extends ClientError {
  override name = "SmpError";
  constructor(
    readonly command: string,
    readonly rc: number,
    /** Set for v2 group errors: which group's table `rc` belongs to. */
    readonly group: number | undefined,
    readonly reason?: string,
    transcript?: Transcript,
  ) {
    super({
      message: `${command}: ${SmpError.rcName(rc, group)}${reason ? ` (${reason})` : ""}`,
      operation: command,
      transcript,
      source: "smp client",
    });
  }

  /** The documented name: img_mgmt names for image-group errors, MGMT_ERR names otherwise. */
  get rcName(): string {
    return SmpError.rcName(this.rc, this.group);
  }

  static rcName(rc: number, group: number | undefined): string {
    return rcName(rc, group);
  }
}

/** No answer within the timeout, after every retry. */
export class SmpTimeoutError extends ClientError {
  override name = "SmpTimeoutError";
  constructor(
    readonly command: string,
    readonly attempts: number,
    readonly timeoutMs: number,
    transcript?: Transcript,
  ) {
    super({
      message: `${command}: no response after ${attempts} attempt(s) of ${timeoutMs} ms`,
      operation: command,
      transcript,
      source: "smp client",
    });
  }
}

/**
 * The device answered, but not in a form SMP allows: a reply to the request (same group,
 * id, seq) whose body is not CBOR, or an upload whose `off` makes no progress.
 */
export class SmpReplyError extends ClientError {
  override name = "SmpReplyError";
  constructor(
    readonly command: string,
    detail: string,
    transcript: Transcript,
    cause?: unknown,
  ) {
    super({ message: `${command}: ${detail}`, operation: command, transcript, cause, source: "smp client" });
  }
}

/** The serial link closed under the client (adapter unplugged, emulator stopped): the lab's. */
export class SmpLinkClosedError extends ClientError {
  static override readonly category: ErrorCategory = "infrastructure";
  override name = "SmpLinkClosedError";
  constructor(
    readonly command: string,
    transcript: Transcript,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super({
      message: `${command}: serial link closed (${why})`,
      operation: command,
      transcript,
      cause,
      source: "smp client",
    });
  }
}
