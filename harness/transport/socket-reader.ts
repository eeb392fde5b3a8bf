/** Message framing over a TCP socket: the USB/IP server and client both read with it. */
import type { Socket } from "node:net";

/** Buffers a socket's bytes; `read(n)` and `next(decode)` wait for enough of them. */
export class SocketReader {
  #buffer = new Uint8Array(0);
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      const next = new Uint8Array(this.#buffer.length + chunk.length);
      next.set(this.#buffer);
      next.set(chunk, this.#buffer.length);
      this.#buffer = next;
      this.#wake?.();
    });
    const closed = () => {
      this.#closed = true;
      this.#wake?.();
    };
    socket.on("end", closed);
    socket.on("close", closed);
  }

  /** Exactly `n` bytes. @throws {Error} if the connection closes first. */
  async read(n: number): Promise<Uint8Array> {
    const got = await this.next((b) => (b.length >= n ? { message: b.slice(0, n), size: n } : undefined));
    if (got === undefined) throw new Error(`connection closed while waiting for ${n} bytes`);
    return got;
  }

  /** The next message `decode` finds at the start of the buffer; undefined once the connection closed. */
  async next<T>(decode: (b: Uint8Array) => { message: T; size: number } | undefined): Promise<T | undefined> {
    for (;;) {
      const found = decode(this.#buffer);
      if (found) {
        this.#buffer = this.#buffer.subarray(found.size);
        return found.message;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
