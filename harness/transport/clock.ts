/**
 * The time seam. Every protocol wait in clients and transports goes through a Clock,
 * never through setTimeout directly: emulated rigs use the virtual clock in
 * harness/sim/ (a 40 s FUS install costs milliseconds of wall time but reports its
 * device time), lab rigs use the wall clock below.
 */
import { type ErrorCategory, HilError } from "../seams/errors.js";

export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin of this clock. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time. An aborted signal resolves
   * the sleep early (it never rejects), so a finished race leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** "virtual" when time only moves because the program asks it to. */
  readonly kind: "wall" | "virtual";
}

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
 * Races `work` against `timeoutMs` of `clock` time. The loser is not cancelled (promises
 * cannot be); callers that own a resource close it on TimeoutError.
 */
export async function withTimeout<T>(
  clock: Clock,
  timeoutMs: number,
  what: string,
  work: Promise<T>,
): Promise<T> {
  const cancelTimer = new AbortController();
  const timer = clock.sleep(timeoutMs, cancelTimer.signal).then(() => undefined);
  try {
    const result = await Promise.race([work.then((value) => ({ value })), timer]);
    if (result === undefined) {
      // Keep an unhandled rejection of the abandoned work from crashing the run.
      work.catch(() => {});
      throw new TimeoutError(what, timeoutMs);
    }
    return result.value;
  } finally {
    cancelTimer.abort();
  }
}
