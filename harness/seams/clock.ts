/**
 * The time seam. Every protocol wait in clients and transports goes through a Clock,
 * never through setTimeout directly: emulated rigs use the virtual clock in
 * harness/sim/ (a 40 s FUS install costs milliseconds of wall time but reports its
 * device time), lab rigs use the wall clock in harness/transport/clock.ts.
 */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin of this clock. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time. An aborted signal resolves
   * the sleep early (it never rejects), so a finished race leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: the same sleep, cancelled by calling `cancel()` instead of aborting a signal
   * (which resolves it at once, as an abort would). Transports arm and disarm a timeout per
   * read; an AbortController per read was a tenth of a USART update's allocations.
   */
  timer?(ms: number): CancellableSleep;
  /** "virtual" when time only moves because the program asks it to. */
  readonly kind: "wall" | "virtual";
}

/** A sleep and the way to end it early (see {@link Clock.timer}). */
export interface CancellableSleep {
  readonly done: Promise<void>;
  cancel(): void;
}

/** `clock.timer(ms)`, or the same through `sleep` and an AbortController when the clock has none. */
export function cancellableSleep(clock: Clock, ms: number): CancellableSleep {
  if (clock.timer) return clock.timer(ms);
  const stop = new AbortController();
  return { done: clock.sleep(ms, stop.signal), cancel: () => stop.abort(DISARMED) };
}

/** Why a timer was cancelled (a constant: the default reason builds a DOMException per abort). */
const DISARMED = new Error("timer cancelled");
