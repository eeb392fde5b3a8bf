/**
 * ByteStream over a Linux pseudo-terminal through node's own tty handles (epoll, no worker
 * threads): the fast path to an emulator served on a pty (harness/expose/). A pty has no
 * baud rate and refuses parity, so there is nothing to configure but raw mode; real serial
 * ports go through serial-port-stream.ts, which sets baud rate and parity.
 */
import { constants, openSync, realpathSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import type { EventedByteStream, ReadOptions } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { StreamClosedError } from "./errors.js";
import { RxQueue } from "./rx-queue.js";

/** @throws {Error} naming `path` when it is not a pty or cannot be opened. */
export function openPty(path: string, opts: { clock?: Clock } = {}): PtyStream {
  let fd: number;
  try {
    if (!realpathSync(path).startsWith("/dev/pts/")) throw new Error("not a pty (/dev/pts/N)");
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (cause) {
    throw new Error(`cannot open pty ${path}: ${(cause as Error).message}`, { cause });
  }
  return new PtyStream(fd, path, opts.clock ?? new WallClock());
}

export class PtyStream implements EventedByteStream {
  readonly #rx: RxQueue;
  readonly #in: ReadStream;
  readonly #out: WriteStream;

  constructor(fd: number, path: string, clock: Clock) {
    this.#rx = new RxQueue(path, clock);
    this.#in = new ReadStream(fd);
    this.#in.setRawMode(true);
    this.#out = new WriteStream(fd);
    this.#in.on("data", (chunk: Buffer) => this.#rx.push(chunk));
    const gone = (why: string) => () =>
      this.#rx.close(new StreamClosedError(path, { reason: why, disconnected: true }));
    // EIO on read: the pty master (socat) went away.
    this.#in.on("error", gone("pty gone (read error)"));
    this.#in.on("end", gone("pty gone (end of input)"));
    this.#out.on("error", gone("pty gone (write error)"));
  }

  get name(): string {
    return this.#rx.name;
  }

  get closed(): boolean {
    return this.#rx.closed !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#rx.closed) throw this.#rx.closed;
    await new Promise<void>((resolve, reject) =>
      this.#out.write(bytes, (err) => (err ? reject(this.#rx.closed ?? err) : resolve())),
    );
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
    if (this.#rx.closed) return;
    this.#rx.close(new StreamClosedError(this.name, { reason: "closed by host", disconnected: false }));
    this.#in.setRawMode(false);
    this.#in.destroy();
    this.#out.destroy();
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    return this.#rx.onClose(listener);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.#rx.onData(listener);
  }
}
