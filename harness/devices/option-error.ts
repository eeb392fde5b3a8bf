/**
 * A bad emulator option (`hil emulate --option KEY=VALUE`, a rig file's `emulated.options`):
 * the user's input, named by its key, so the CLI prints one line and exits 2 instead of a
 * stack trace.
 */
export class EmulatorOptionError extends Error {
  override name = "EmulatorOptionError";
  readonly category = "usage";
  constructor(
    readonly key: string,
    expected: string,
    got: unknown,
  ) {
    super(`emulator option ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  }
}
