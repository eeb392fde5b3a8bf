import { rcName } from "../../protocol/smp/index.js";
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
