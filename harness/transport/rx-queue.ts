/**
 * The receive side shared by every ByteStream implementation: a FIFO of bytes, one
 * pending exact-length read timed by a Clock, flowing-mode listeners for emulators, and
 * a close that fails the pending read at once. Keeping this in one place means the
 * in-memory pair and the real serial port have the same read semantics to the byte.
 */
import type { Clock } from "./clock.js";
import { ReadTimeoutError, type StreamClosedError } from "./errors.js";

/** A small listener set; `add` returns the matching unsubscribe. */
export class Listeners<T> {
  readonly #set = new Set<(value: T) => void>();

  get size(): number {
    return this.#set.size;
  }

  add(listener: (value: T) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(value: T): void {
    for (const listener of [...this.#set]) listener(value);
  }
}

interface PendingRead {
  n: number;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
  /** Aborting ends the timeout sleep early, so a served read leaves no timer behind. */
  stopTimer: AbortController;
}

export class RxQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #pending: PendingRead | undefined;
  #closed: StreamClosedError | undefined;
  readonly #data = new Listeners<Uint8Array>();
  readonly #close = new Listeners<StreamClosedError>();

  constructor(
    readonly name: string,
    readonly clock: Clock,
  ) {}

  get closed(): StreamClosedError | undefined {
    return this.#closed;
  }

  /** Bytes from the far end. Copied, since callers may reuse their buffers. Dropped after close: the line is gone. */
  push(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const copy = bytes.slice();
    if (this.#data.size > 0) {
      // Delivered as I/O would be, never inside the writer's call stack; microtasks keep the order.
      queueMicrotask(() => this.#deliver(copy));
      return;
    }
    this.#buffer(copy);
  }

  read(n: number, timeoutMs: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0)
      return Promise.reject(new RangeError(`"n" expected an integer >= 0, got ${n}`));
    if (!(timeoutMs >= 0))
      return Promise.reject(new RangeError(`"timeoutMs" expected >= 0, got ${timeoutMs}`));
    if (this.#data.size > 0)
      return Promise.reject(new Error(`${this.name}: read() while onData listeners consume the input`));
    if (this.#pending)
      return Promise.reject(new Error(`${this.name}: overlapping read(); await the previous one first`));
    if (this.#closed) return Promise.reject(this.#closed.withPartial(this.#take(this.#length)));
    if (this.#length >= n) return Promise.resolve(this.#take(n));
    return new Promise((resolve, reject) => {
      const pending: PendingRead = { n, resolve, reject, stopTimer: new AbortController() };
      this.#pending = pending;
      this.clock.sleep(timeoutMs, pending.stopTimer.signal).then(
        () => {
          if (this.#pending !== pending) return;
          this.#pending = undefined;
          reject(new ReadTimeoutError(this.name, n, timeoutMs, this.#take(this.#length)));
        },
        (error: unknown) => {
          if (this.#pending === pending) this.#pending = undefined;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Everything buffered now. After close it throws, like read(), carrying the leftovers. */
  drain(): Uint8Array {
    if (this.#closed) throw this.#closed.withPartial(this.#take(this.#length));
    return this.#take(this.#length);
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }

  /** Flowing mode: while listeners exist, input bypasses the buffer. What was buffered goes to the first listener. */
  onData(listener: (bytes: Uint8Array) => void): () => void {
    if (this.#pending) throw new Error(`${this.name}: onData() while a read() is pending`);
    const unsubscribe = this.#data.add(listener);
    if (this.#data.size === 1 && this.#length > 0) {
      const backlog = this.#take(this.#length);
      queueMicrotask(() => this.#deliver(backlog));
    }
    return unsubscribe;
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    const closed = this.#closed;
    if (closed) {
      queueMicrotask(() => listener(closed));
      return () => {};
    }
    return this.#close.add(listener);
  }

  /** First close wins; later calls are ignored. Leftover bytes stay for the next read's error. */
  close(reason: StreamClosedError): void {
    if (this.#closed) return;
    this.#closed = reason;
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      pending.stopTimer.abort();
      pending.reject(reason.withPartial(this.#take(this.#length)));
    }
    // After the pending read's own rejection handlers, so a recorder logs its partial bytes before the close.
    queueMicrotask(() => this.#close.emit(reason));
  }

  #deliver(bytes: Uint8Array): void {
    // A listener that unsubscribed meanwhile must not lose bytes: fall back to the buffer.
    if (this.#data.size > 0) this.#data.emit(bytes);
    else if (!this.#closed) this.#buffer(bytes);
  }

  #buffer(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
    const pending = this.#pending;
    if (pending && this.#length >= pending.n) {
      this.#pending = undefined;
      pending.stopTimer.abort();
      pending.resolve(this.#take(pending.n));
    }
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#chunks[0]!;
      const used = Math.min(head.length, n - filled);
      out.set(head.subarray(0, used), filled);
      filled += used;
      if (used === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(used);
    }
    this.#length -= n;
    return out;
  }
}
