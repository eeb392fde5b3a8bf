/**
 * The serial seam. Clients (USART bootloader, TKey, SMP over serial) speak to a board
 * only through a ByteStream; a lab rig hands them one over `serialport`
 * (./serial-port-stream.ts), an emulated rig the host end of an in-memory pair
 * (./byte-pair.ts) whose device end is driven by the emulator.
 */
import type { StreamClosedError } from "./errors.js";

export { createBytePair } from "./byte-pair.js";
export { ReadTimeoutError, StreamClosedError, type StreamClosedInit } from "./errors.js";

export interface ReadOptions {
  /** How long to wait, in the stream's Clock time, for all `n` bytes. */
  timeoutMs: number;
}

/** Modem control lines driven by the host. Rigs wire them to BOOT0/NRST (stm32flash, esptool style). */
export interface SerialSignals {
  dtr?: boolean;
  rts?: boolean;
}

export interface ByteStream {
  /** For messages and transcripts: the port path, or "pair:host" / "pair:device". */
  readonly name: string;
  /** True once closed, locally or because the far end went away. */
  readonly closed: boolean;
  /**
   * Sends `bytes` in order. Resolves when the bytes are handed to the OS (or the peer).
   * @throws {StreamClosedError} when the stream is closed.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Resolves with exactly `n` bytes. Only one read may be pending at a time.
   * @throws {ReadTimeoutError} after `timeoutMs`, carrying (and consuming) the bytes that did arrive.
   * @throws {StreamClosedError} as soon as the stream closes, and for any read after close.
   */
  read(n: number, opts: ReadOptions): Promise<Uint8Array>;
  /** Takes whatever is buffered right now, possibly nothing; never waits. */
  readAvailable(): Uint8Array;
  /** Discards pending input (and, on a real port, untransmitted output). */
  flush(): Promise<void>;
  /** Closes both directions; idempotent. Pending reads reject with StreamClosedError. */
  close(): Promise<void>;
  /** Drives DTR/RTS; lines not named keep their state. Absent on streams without modem lines. */
  setSignals?(signals: SerialSignals): Promise<void>;
  /** Called once when the stream closes (at once, asynchronously, if it already has). Returns an unsubscribe. */
  onClose(listener: (reason: StreamClosedError) => void): () => void;
}

/**
 * A stream an event-driven party (an emulator, a pty bridge) consumes without polling.
 * While any `onData` listener is registered, incoming bytes go to the listeners instead of
 * the read buffer, and `read()` is refused.
 */
export interface EventedByteStream extends ByteStream {
  onData(listener: (bytes: Uint8Array) => void): () => void;
}

/** The device end of a byte pair: also sees the host's modem lines. */
export interface DeviceByteStream extends EventedByteStream {
  /** Current DTR/RTS as set by the host; both start asserted, as a Linux tty raises them on open. */
  readonly signals: Readonly<Required<SerialSignals>>;
  onSignals(listener: (signals: Readonly<Required<SerialSignals>>) => void): () => void;
}
