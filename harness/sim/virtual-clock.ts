import type { CancellableSleep, Clock } from "../seams/clock.js";

interface Timer {
  due: number;
  seq: number;
  resolve: () => void;
  /** Only for a sleep given an AbortSignal: the listener to remove once it fires. */
  cancel?: () => void;
  signal?: AbortSignal;
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
    if (signal?.aborted) return Promise.resolve();
    // A download sleeps five times per flash operation: no closures beyond the resolver
    // unless the sleep can be aborted.
    let resolve!: () => void;
    const slept = new Promise<void>((r) => {
      resolve = r;
    });
    const timer: Timer = { due: this.#now + ms, seq: this.#seq++, resolve };
    if (signal) {
      timer.signal = signal;
      timer.cancel = () => {
        const at = this.#timers.indexOf(timer);
        if (at >= 0) this.#timers.splice(at, 1);
        resolve();
      };
      signal.addEventListener("abort", timer.cancel, { once: true });
    }
    this.#insert(timer);
    if (!this.#pumping) {
      this.#pumping = true;
      setImmediate(this.#follow);
    }
    return slept;
  }

  /**
   * A sleep ended early by `cancel()`: the timer leaves the queue and the sleep resolves at
   * once, exactly as `sleep(ms, signal)` does when the signal aborts, without the signal.
   */
  timer(ms: number): CancellableSleep {
    if (!(ms >= 0)) throw new RangeError(`sleep: ms must be >= 0, got ${ms}`);
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const timer: Timer = { due: this.#now + ms, seq: this.#seq++, resolve };
    this.#insert(timer);
    if (!this.#pumping) {
      this.#pumping = true;
      setImmediate(this.#follow);
    }
    return {
      done,
      cancel: () => {
        const at = this.#timers.indexOf(timer);
        if (at >= 0) this.#timers.splice(at, 1);
        resolve();
      },
    };
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
    if (i === this.#timers.length) this.#timers.push(timer);
    else this.#timers.splice(i, 0, timer);
  }

  // The pump. Before each jump, promise chains and immediates started by the last timer
  // get to run (and maybe set earlier timers): every timer fires from an immediate queued
  // together with a second one, `follow`, which runs once the microtasks the firing started
  // have settled and queues the next pair behind any immediate that work set. One event
  // loop turn per timer (this runs for every sleep). The first pair is queued by a `follow`
  // too, so a sleep never fires before immediates already set when it was made.
  readonly #fire = (): void => {
    const next = this.#timers.shift();
    if (!next) return;
    this.#now = Math.max(this.#now, next.due);
    if (next.signal) next.signal.removeEventListener("abort", next.cancel!);
    next.resolve();
  };

  readonly #follow = (): void => {
    if (this.#timers.length === 0) {
      this.#pumping = false;
      return;
    }
    setImmediate(this.#fire);
    setImmediate(this.#follow);
  };
}
