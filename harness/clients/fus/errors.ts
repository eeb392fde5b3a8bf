import { fusErrorName, fusStateName } from "../../protocol/fus/index.js";
import type { FusTraceEntry } from "./trace.js";

export type FusErrorKind =
  /** FUS reported (ERROR, code) or refused the command. */
  | "fus"
  /** No documented end state within the budget. */
  | "timeout"
  /** The operation needs a state the device is not in (e.g. FUS not running). */
  | "state"
  /** Refused by the client before anything was sent (irreversible operation without consent, bad image). */
  | "refused";

export class FusClientError extends Error {
  constructor(
    readonly kind: FusErrorKind,
    readonly operation: string,
    detail: string,
    readonly status?: { state: number; error: number },
    readonly trace: readonly FusTraceEntry[] = [],
  ) {
    super(
      `${operation}: ${detail}${
        status
          ? ` (state 0x${status.state.toString(16)} ${fusStateName(status.state) ?? "?"}, error ${fusErrorName(status.error)})`
          : ""
      }`,
    );
    this.name = "FusClientError";
  }

  /** The Table 11 error name when FUS reported one. */
  get fusError(): string | undefined {
    return this.status ? fusErrorName(this.status.error) : undefined;
  }
}
