/**
 * The receive side shared by every ByteStream implementation: a FIFO of bytes, one
 * pending exact-length read timed by a Clock, flowing-mode listeners for emulators, and
 * a close that fails the pending read at once. Keeping this in one place means the
 * in-memory pair and the real serial port have the same read semantics to the byte.
 */
import { cancellableSleep } from "../seams/clock.js";
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
  timeoutMs: number;
  /** Clock time by which all `n` bytes must be in. */
  deadline: number;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/** The one armed timeout sleep; `due` is the deadline it was armed for. */
interface ArmedTimer {
  due: number;
  stop(): void;
}

export class RxQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #pending: PendingRead | undefined;
  #timer: ArmedTimer | undefined;
  #idleCheck = false;
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

  /**
   * Bytes from the far end. Copied, since callers may reuse their buffers, unless `owned`
   * says the buffer is this queue's from now on. Dropped after close: the line is gone.
   */
  push(bytes: Uint8Array, opts: { owned?: boolean } = {}): void {
    if (this.#closed || bytes.length === 0) return;
    const copy = opts.owned ? bytes : bytes.slice();
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
      this.#pending = { n, timeoutMs, deadline: this.clock.now() + timeoutMs, resolve, reject };
      this.#arm(this.#pending.deadline, timeoutMs);
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
    this.#disarm();
    if (pending) {
      this.#pending = undefined;
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
      this.#served();
      pending.resolve(this.#take(pending.n));
    }
  }

  // ---- timeouts --------------------------------------------------------------------------
  // A read-ACK-write protocol reads thousands of times a second. An AbortController per
  // read (created, listened to, aborted) cost a third of a pty round trip, so on wall time
  // one armed sleep serves consecutive reads: a read whose deadline is not before the
  // armed one keeps it, and when it fires early for the read then pending it is armed
  // again for the rest. Virtual clocks still lose the timer as soon as a read is served:
  // a stray sleep there would let virtual time jump.

  /** Makes sure a sleep fires no later than `deadline`, which is `ms` from now. */
  #arm(deadline: number, ms = Math.max(0, deadline - this.clock.now())): void {
    const armed = this.#timer;
    if (armed && armed.due <= deadline) return;
    if (armed) armed.stop();
    const sleep = cancellableSleep(this.clock, ms);
    const timer: ArmedTimer = { due: deadline, stop: sleep.cancel };
    this.#timer = timer;
    sleep.done.then(
      () => this.#fired(timer),
      (error: unknown) => {
        if (this.#timer === timer) this.#timer = undefined;
        const pending = this.#pending;
        if (!pending) return;
        this.#pending = undefined;
        pending.reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  #fired(timer: ArmedTimer): void {
    if (this.#timer !== timer) return; // disarmed or replaced
    this.#timer = undefined;
    const pending = this.#pending;
    if (!pending) return;
    if (timer.due < pending.deadline) {
      // Armed for an earlier read: this one still has time left.
      this.#arm(pending.deadline);
      return;
    }
    this.#pending = undefined;
    pending.reject(new ReadTimeoutError(this.name, pending.n, pending.timeoutMs, this.#take(this.#length)));
  }

  /** A read was served: on wall time keep the sleep for the next read, unless none comes this turn. */
  #served(): void {
    if (!this.#timer || this.#idleCheck) return;
    if (this.clock.kind !== "wall") {
      this.#disarm();
      return;
    }
    this.#idleCheck = true;
    // After the promise work this read starts (a tick queued from a microtask runs once the
    // microtask queue is empty): the reader has asked for its next read by then, if it
    // will. setImmediate would do too, but costs a zero-timeout poll per read.
    queueMicrotask(() => process.nextTick(this.#idle));
  }

  readonly #idle = (): void => {
    this.#idleCheck = false;
    if (!this.#pending) this.#disarm();
  };

  #disarm(): void {
    this.#timer?.stop();
    this.#timer = undefined;
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
