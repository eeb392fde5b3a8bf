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
  /** "virtual" when time only moves because the program asks it to. */
  readonly kind: "wall" | "virtual";
}
