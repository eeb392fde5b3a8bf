import { fusErrorName, fusStateName } from "../../protocol/fus/index.js";
import type { ErrorCategory } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { ClientError } from "../errors.js";
import type { FusTraceEntry } from "./trace.js";

export type FusErrorKind =
  /** FUS reported (ERROR, code) or refused the command. */
  | "fus"
  /** No documented end state within the budget. */
  | "timeout"
  /** The operation needs a state the device is not in (e.g. FUS not running). */
  | "state"
  /** The device answered, but not in a form AN5185 allows (a reply cut short). */
  | "reply"
  /** Refused by the client before anything was sent (irreversible operation without consent, bad image). */
  | "refused";

export class FusClientError extends ClientError {
  override name = "FusClientError";
  constructor(
    readonly kind: FusErrorKind,
    operation: string,
    detail: string,
    readonly status?: { state: number; error: number },
    readonly trace: readonly FusTraceEntry[] = [],
    /** The link's transcript (DFU or USART transfers under the FUS commands). */
    transcript?: Transcript,
    cause?: unknown,
  ) {
    super({
      message: `${operation}: ${detail}${
        status
          ? ` (state 0x${status.state.toString(16)} ${fusStateName(status.state) ?? "?"}, error ${fusErrorName(status.error)})`
          : ""
      }`,
      operation,
      transcript,
      cause,
      // Refused by the client before anything was sent: the caller's request, not the device.
      category: kind === "refused" ? ("usage" satisfies ErrorCategory) : undefined,
      source: "fus client",
    });
  }

  /** The Table 11 error name when FUS reported one. */
  get fusError(): string | undefined {
    return this.status ? fusErrorName(this.status.error) : undefined;
  }
}
