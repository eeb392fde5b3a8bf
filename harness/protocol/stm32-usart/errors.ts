/**
 * Codec errors. Encoders refuse bad arguments before a byte is produced; decoders name the
 * byte (offset and value) that does not fit, so a transcript can be read next to the message.
 */
import { type ErrorCategory, HilError } from "../../seams/errors.js";

export class UsartCodecError extends HilError {
  static override readonly category: ErrorCategory = "device";
  override name = "UsartCodecError";
  constructor(
    /** The argument or frame field at fault: "address", "count", "checksum", ... */
    readonly field: string,
    message: string,
    /** Offset of the offending byte in the frame, when the error is about received bytes. */
    readonly offset?: number,
  ) {
    super(`${field}: ${message}`);
  }
}

export function hex8(n: number): string {
  return `0x${n.toString(16).padStart(2, "0").toUpperCase()}`;
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0").toUpperCase()}`;
}
