/**
 * The bootloader's receive side: bytes pushed by the line as they arrive, taken by the
 * command loop with `await take(n)`. Event-driven (no polling); ending the session (reset,
 * power loss, Go) rejects the pending take so the loop unwinds at once.
 */

import { cancellableSleep } from "../../../seams/clock.js";
import { type ErrorCategory, HilError } from "../../../seams/errors.js";
import type { Clock } from "../../../transport/clock.js";

export class SessionEnded extends HilError {
  static override readonly category: ErrorCategory = "harness";
  override name = "SessionEnded";
}

export class ByteSource {
  #buffer: number[] = [];
  #want: { n: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  #arrival: (() => void) | undefined;
  #ended: SessionEnded | undefined;

  push(bytes: Uint8Array): void {
    if (this.#ended) return;
    for (const b of bytes) this.#buffer.push(b);
    this.#arrival?.();
    this.#serve();
  }

  take(n: number): Promise<Uint8Array> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#want = { n, resolve, reject };
      this.#serve();
    });
  }

  /** True once at least one byte is buffered, false if `ms` of `clock` time pass first. */
  async arrivesWithin(clock: Clock, ms: number): Promise<boolean> {
    if (this.#buffer.length > 0) return true;
    if (this.#ended) throw this.#ended;
    const sleep = cancellableSleep(clock, ms);
    let arrived = false;
    this.#arrival = () => {
      arrived = true;
      sleep.cancel();
    };
    await sleep.done;
    // Node runs due timers before it reads ready pipes: after a stall (GC, a starved CPU)
    // the host's bytes may be waiting unread. One turn through the poll phase reads them.
    if (!arrived && clock.kind === "wall") await new Promise<void>((resolve) => setImmediate(resolve));
    this.#arrival = undefined;
    if (this.#ended) throw this.#ended;
    return arrived;
  }

  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = new SessionEnded(reason);
    this.#buffer = [];
    this.#want?.reject(this.#ended);
    this.#want = undefined;
    this.#arrival?.();
  }

  #serve(): void {
    const want = this.#want;
    if (!want || this.#buffer.length < want.n) return;
    this.#want = undefined;
    want.resolve(Uint8Array.from(this.#buffer.splice(0, want.n)));
  }
}
