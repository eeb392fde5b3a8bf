import { type ErrorCategory, HilError } from "../../seams/errors.js";

/** A malformed image, with the byte offset where parsing found the problem. */
export class McubootImageError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`image offset 0x${offset.toString(16)}: ${problem}`);
    this.name = "McubootImageError";
  }
}

/** A key file that cannot be used for signing or verifying, with the reason. */
export class McubootKeyError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  constructor(message: string) {
    super(message);
    this.name = "McubootKeyError";
  }
}
