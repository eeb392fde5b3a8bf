/**
 * Test helpers for the transport specs. ManualClock moves only when told to, so timeout
 * tests are exact and instant (the emulator's virtual clock lives in harness/sim/;
 * transport tests stay independent of it).
 */
import type { Clock } from "../../harness/transport/clock.js";

interface Timer {
  at: number;
  resolve(): void;
}

export class ManualClock implements Clock {
  readonly kind = "virtual" as const;
  #now = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.#now + ms, resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Moves time forward and wakes every sleeper that is due, then lets their continuations run. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.at <= this.#now);
    this.#timers = this.#timers.filter((t) => t.at > this.#now);
    for (const t of due) t.resolve();
    await settle();
  }

  /** Sleeps not yet due: a served read must leave none behind. */
  get pendingTimers(): number {
    return this.#timers.length;
  }
}

/** Lets queued promise continuations run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, got a resolution");
}
