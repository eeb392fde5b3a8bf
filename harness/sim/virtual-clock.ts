import type { Clock } from "../transport/clock.js";

interface Timer {
  due: number;
  seq: number;
  fire: () => void;
}

/**
 * Virtual time for emulated rigs. Time only moves when every party is waiting on the
 * clock: the pump lets pending promise work and immediates settle, then jumps to the
 * earliest timer and fires just that one. Timers due at the same instant fire in the
 * order they were set, so a run is deterministic for a given seed.
 *
 * Meant for in-process rigs (emulator and host in one event loop). An emulator behind a
 * real pty or USB/IP talks to outside processes on wall time.
 */
export class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #pumping = false;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`sleep: ms must be >= 0, got ${ms}`);
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        due: this.#now + ms,
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener("abort", cancel);
          resolve();
        },
      };
      const cancel = () => {
        const at = this.#timers.indexOf(timer);
        if (at >= 0) this.#timers.splice(at, 1);
        resolve();
      };
      signal?.addEventListener("abort", cancel, { once: true });
      this.#insert(timer);
      this.#schedulePump();
    });
  }

  /** Number of sleeps not yet due, for tests and for spotting a run that waits on nothing. */
  get pending(): number {
    return this.#timers.length;
  }

  #insert(timer: Timer): void {
    // Keep sorted by (due, seq); new timers usually go near the end.
    let i = this.#timers.length;
    while (i > 0) {
      const prev = this.#timers[i - 1]!;
      if (prev.due < timer.due || (prev.due === timer.due && prev.seq < timer.seq)) break;
      i--;
    }
    this.#timers.splice(i, 0, timer);
  }

  #schedulePump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      while (this.#timers.length > 0) {
        // Two macrotask turns: promise chains and setImmediate work started by the last
        // timer get to run (and maybe set earlier timers) before time jumps.
        await settle();
        await settle();
        const next = this.#timers.shift();
        if (!next) break;
        this.#now = Math.max(this.#now, next.due);
        next.fire();
      }
    } finally {
      this.#pumping = false;
    }
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
