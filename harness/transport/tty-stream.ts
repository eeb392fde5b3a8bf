/**
 * ByteStream over a Linux pseudo-terminal through node's own tty handle (epoll, no worker
 * threads): the fast path to an emulator served on a pty (harness/expose/). A pty has no
 * baud rate and refuses parity, so there is nothing to configure but raw mode; real serial
 * ports go through serial-port-stream.ts, which sets baud rate and parity.
 */
import { closeSync, constants, openSync, realpathSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import type { EventedByteStream, ReadOptions } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { StreamClosedError } from "./errors.js";
import { RxQueue } from "./rx-queue.js";

/** Whether `path` is (a link to) a Linux pseudo-terminal; false when it does not resolve. */
export function isPty(path: string): boolean {
  try {
    return realpathSync(path).startsWith("/dev/pts/");
  } catch {
    return false;
  }
}

/** @throws {Error} naming `path` when it is not a pty or cannot be opened. */
export function openPty(path: string, opts: { clock?: Clock } = {}): PtyStream {
  let readFd: number;
  let writeFd: number;
  try {
    realpathSync(path); // a missing path is named with its own error
    if (!isPty(path)) throw new Error("not a pty (/dev/pts/N)");
    readFd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY);
    try {
      writeFd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY);
    } catch (e) {
      closeSync(readFd);
      throw e;
    }
  } catch (cause) {
    throw new Error(`cannot open pty ${path}: ${(cause as Error).message}`, { cause });
  }
  return new PtyStream(readFd, writeFd, path, opts.clock ?? new WallClock());
}

export class PtyStream implements EventedByteStream {
  readonly #rx: RxQueue;
  readonly #in: ReadStream;
  /**
   * Blocking writes straight to the fd, as node's tty WriteStream does too, minus its
   * stream machinery (a write wrap and a callback tick per frame): a frame of at most a
   * few hundred bytes goes into the pty buffer at once, and the protocol waits for its
   * reply before writing again.
   */
  readonly #writeFd: number;
  /** libuv reads from a reopened copy of this fd and closes only that one: this one is ours to close. */
  readonly #readFd: number;
  #released = false;

  constructor(readFd: number, writeFd: number, path: string, clock: Clock) {
    this.#rx = new RxQueue(path, clock);
    this.#writeFd = writeFd;
    this.#readFd = readFd;
    this.#in = new ReadStream(readFd);
    this.#in.setRawMode(true);
    // A stream hands each "data" chunk over for good (only an explicit onread buffer is reused): no copy.
    this.#in.on("data", (chunk: Buffer) => this.#rx.push(chunk, { owned: true }));
    const gone = (why: string) => () =>
      this.#rx.close(new StreamClosedError(path, { reason: why, disconnected: true }));
    // EIO on read: the pty master (socat) went away.
    this.#in.on("error", gone("pty gone (read error)"));
    this.#in.on("end", gone("pty gone (end of input)"));
  }

  get name(): string {
    return this.#rx.name;
  }

  get closed(): boolean {
    return this.#rx.closed !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#rx.closed) throw this.#rx.closed;
    try {
      for (let done = 0; done < bytes.length; )
        done += writeSync(this.#writeFd, bytes, done, bytes.length - done);
    } catch (cause) {
      // EIO: the pty master (socat) went away.
      const reason = `pty gone (write error: ${(cause as Error).message})`;
      this.#rx.close(new StreamClosedError(this.name, { reason, disconnected: true, cause }));
      throw this.#rx.closed;
    }
  }

  read(n: number, opts: ReadOptions): Promise<Uint8Array> {
    return this.#rx.read(n, opts.timeoutMs);
  }

  readAvailable(): Uint8Array {
    return this.#rx.drain();
  }

  async flush(): Promise<void> {
    this.#rx.clear();
  }

  async close(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#rx.close(new StreamClosedError(this.name, { reason: "closed by host", disconnected: false }));
    // Also after the pty went away: the fds are still ours to release.
    if (!this.#in.destroyed) {
      this.#in.setRawMode(false);
      this.#in.destroy();
    }
    closeSync(this.#writeFd);
    closeSync(this.#readFd);
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    return this.#rx.onClose(listener);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.#rx.onData(listener);
  }
}
