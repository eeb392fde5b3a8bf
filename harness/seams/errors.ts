/**
 * The root of the harness's error tree (pyOCD-style: who failed). Every error class the
 * harness exports extends {@link HilError} and says which of four parties failed, so a
 * report sorts a failure without a table of names: the lab (infrastructure), the device
 * under test, our own code (harness), or what the caller asked for (usage).
 * Layer 0: imports nothing from the harness.
 */

export type ErrorCategory =
  /** The lab: board not found, power backend, a port or USB device leaving under its client. */
  | "infrastructure"
  /** The device under test answered against its document, or did not answer in time. */
  | "device"
  /** Our own code: an emulator's internal error escaping, a wait without an owner. */
  | "harness"
  /** What the caller asked for: a bad file, option or argument, refused before anything was sent. */
  | "usage";

export const ERROR_CATEGORY_NAMES: readonly ErrorCategory[] = Object.freeze([
  "infrastructure",
  "device",
  "harness",
  "usage",
]);

export interface HilErrorOptions extends ErrorOptions {
  /** Who failed, when more specific than the class: "dfu client", "rig", "emulator". */
  source?: string;
  /** This instance's category when it differs from its class's (a DFU device leaving the bus). */
  category?: ErrorCategory;
}

/**
 * Base of every exported harness error. A class declares its category once, as the static
 * `category`; an instance may differ (`options.category`, or a getter in the subclass).
 */
export class HilError extends Error {
  /** The category of this class's instances; every subclass sets it (a test checks). */
  static readonly category: ErrorCategory = "harness";
  /** Who failed, when the class alone does not say. */
  readonly source: string | undefined;
  readonly #category: ErrorCategory | undefined;

  constructor(message?: string, options?: HilErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.source = options?.source;
    this.#category = options?.category;
  }

  get category(): ErrorCategory {
    return this.#category ?? (this.constructor as typeof HilError).category;
  }
}

/** The lab failed: board not found, lease timeout, power backend, pty or USB/IP. */
export class InfrastructureError extends HilError {
  // Fixed, not the subclass's: reports that kept only the name still file it.
  override name = "InfrastructureError";
  static override readonly category: ErrorCategory = "infrastructure";
}

/** Our own code failed. */
export class HarnessError extends HilError {
  override name = "HarnessError";
  static override readonly category: ErrorCategory = "harness";
}

/** The caller asked for something malformed or impossible, refused before anything was sent. */
export class UsageError extends HilError {
  override name = "UsageError";
  static override readonly category: ErrorCategory = "usage";
}
