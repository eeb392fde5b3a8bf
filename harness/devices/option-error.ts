/**
 * A bad emulator option (`hil emulate --option KEY=VALUE`, a rig file's `emulated.options`):
 * the user's input, named by its key, so the CLI prints one line and exits 2 instead of a
 * stack trace.
 */
import { type ErrorCategory, HilError } from "../seams/errors.js";

export class EmulatorOptionError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "EmulatorOptionError";
  constructor(
    readonly key: string,
    expected: string,
    got: unknown,
  ) {
    super(`emulator option ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  }
}
