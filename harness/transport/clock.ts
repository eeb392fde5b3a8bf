import { type Clock, cancellableSleep } from "../seams/clock.js";
import { type ErrorCategory, HilError } from "../seams/errors.js";

// The Clock seam itself is a layer-0 type; re-exported so existing imports keep working.
export type { Clock } from "../seams/clock.js";

/** Time as the host sees it: what lab rigs and the CLI use. */
export class WallClock implements Clock {
  readonly kind = "wall" as const;
  readonly #origin = performance.now();

  now(): number {
    return performance.now() - this.#origin;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`sleep: ms must be >= 0, got ${ms}`);
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** Raised by `withTimeout` and by transports when a wait runs out; carries what was being waited for. */
export class TimeoutError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = "TimeoutError";
  }
}

/**
 * A wait of the harness's own lab side that ran out: socat making a pty, an emulator process
 * or a server coming up. Not the device's: no firmware was asked anything yet, so a slow or
 * broken host must not read as a firmware regression.
 */
export class SetupTimeoutError extends TimeoutError {
  static override readonly category: ErrorCategory = "infrastructure";
  constructor(what: string, timeoutMs: number) {
    super(what, timeoutMs);
    this.name = "SetupTimeoutError";
  }
}

/**
 * Races `work` against `timeoutMs` of `clock` time. The loser is not cancelled (promises
 * cannot be); callers that own a resource close it on TimeoutError. `setup`: the wait is the
 * harness's own (see {@link SetupTimeoutError}).
 */
export async function withTimeout<T>(
  clock: Clock,
  timeoutMs: number,
  what: string,
  work: Promise<T>,
  opts: { setup?: boolean } = {},
): Promise<T> {
  const sleep = cancellableSleep(clock, timeoutMs);
  const timer = sleep.done.then(() => undefined);
  try {
    const result = await Promise.race([work.then((value) => ({ value })), timer]);
    if (result === undefined) {
      // Keep an unhandled rejection of the abandoned work from crashing the run.
      work.catch(() => {});
      throw opts.setup ? new SetupTimeoutError(what, timeoutMs) : new TimeoutError(what, timeoutMs);
    }
    return result.value;
  } finally {
    sleep.cancel();
  }
}
