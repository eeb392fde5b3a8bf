/**
 * Bounds every transfer of one client with a single timer on the clock, instead of a
 * cancellable timer per transfer (an AbortController each: the largest cost of a
 * 256 KB download on the emulator). The timer sleeps until the deadline of the transfer in
 * flight; on waking it fails that transfer if it is still running, sleeps on if a later
 * one is, and stops when none is. `stop()` ends it at once (a wall clock would otherwise
 * keep the process alive until the last deadline).
 */
import { type Clock, TimeoutError } from "../../transport/clock.js";

interface Inflight {
  deadline: number;
  timeoutMs: number;
  what: string;
  fail: (error: Error) => void;
  /** The transfer ended (either way): nothing left to time out. */
  settled: boolean;
}

export class Watchdog {
  #inflight: Inflight | undefined;
  #watching = false;
  readonly #stop = new AbortController();

  constructor(readonly clock: Clock) {}

  /** `work`, rejected with TimeoutError if it has not settled `timeoutMs` clock-ms from now. */
  bound<T>(timeoutMs: number, what: string, work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Inflight = {
        deadline: this.clock.now() + timeoutMs,
        timeoutMs,
        what,
        fail: reject,
        settled: false,
      };
      this.#inflight = entry;
      // A flag on the entry, not a closure per transfer: this runs for every transfer.
      work.then(
        (value) => {
          entry.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          entry.settled = true;
          reject(error);
        },
      );
      if (!this.#watching) void this.#watch();
    });
  }

  stop(): void {
    this.#stop.abort(null);
  }

  async #watch(): Promise<void> {
    this.#watching = true;
    try {
      while (this.#inflight && !this.#inflight.settled && !this.#stop.signal.aborted) {
        const entry = this.#inflight;
        const left = entry.deadline - this.clock.now();
        if (left <= 0) {
          this.#inflight = undefined;
          entry.fail(new TimeoutError(entry.what, entry.timeoutMs));
          return;
        }
        await this.clock.sleep(left, this.#stop.signal);
      }
    } finally {
      this.#watching = false;
    }
  }
}
