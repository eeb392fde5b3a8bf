/**
 * ByteStream over a real serial port (the `serialport` package): a lab board's USART
 * bootloader behind a USB-serial adapter, or an emulator exposed on a pty. Removal of the
 * device (USB unplug, pty master gone) fails pending reads at once with a
 * StreamClosedError naming the path, instead of letting them run to their timeout.
 */
import type { SerialPort } from "serialport";
import type { EventedByteStream, ReadOptions, SerialSignals } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { StreamClosedError } from "./errors.js";
import { RxQueue } from "./rx-queue.js";
import { isPty } from "./tty-stream.js";

export interface SerialPortOptions {
  baudRate: number;
  /** Default "none". The STM32 USART bootloader wants "even" (AN3155); Linux ptys refuse it. */
  parity?: "none" | "even" | "odd" | "mark" | "space";
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
  /** Times reads out; default a WallClock. */
  clock?: Clock;
}

/**
 * Opens `path` and resolves once the port is open.
 * @throws {Error} naming `path` when the port cannot be opened (cause: the binding's error).
 */
export async function openSerialPort(path: string, opts: SerialPortOptions): Promise<SerialPortStream> {
  // Loaded on demand: the native binding is needed on lab rigs only, never by emulated runs.
  const { SerialPort } = await import("serialport");
  let port: SerialPort;
  try {
    port = new SerialPort({
      path,
      baudRate: opts.baudRate,
      parity: opts.parity ?? "none",
      dataBits: opts.dataBits ?? 8,
      stopBits: opts.stopBits ?? 1,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (cause) {
    throw new Error(`cannot open serial port ${path}: ${(cause as Error).message}`, { cause });
  }
  const stream = new SerialPortStream(port, path, opts.clock ?? new WallClock());
  const parity = opts.parity ?? "none";
  // Linux ptys refuse PARENB (tcsetattr EINVAL) and the binding carries on without it: say so
  // instead of failing, so an emulator behind a pty still serves an 8E1 client (AN3155).
  if (parity !== "none" && isPty(path))
    stream.warnings.push(
      `${path} is a pty: ${parity} parity refused by the kernel, line runs without parity`,
    );
  return stream;
}

/** What a write or ioctl on a removed tty fails with: EIO (hung up), ENXIO, ENODEV. */
const DEVICE_GONE = /^(EIO|ENXIO|ENODEV)$/;

function deviceGone(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? /^(\w+):/.exec(err.message)?.[1] ?? "";
  return DEVICE_GONE.test(code);
}

export class SerialPortStream implements EventedByteStream {
  /** What the port could not honour (parity on a pty), for transcripts and reports. */
  readonly warnings: string[] = [];
  readonly #port: SerialPort;
  readonly #rx: RxQueue;
  /** Linux raises DTR and RTS on open; serialport's set() writes both lines every time, so track them. */
  #signals: Required<SerialSignals> = { dtr: true, rts: true };

  constructor(port: SerialPort, path: string, clock: Clock) {
    this.#port = port;
    this.#rx = new RxQueue(path, clock);
    port.on("data", (chunk: Buffer) => this.#rx.push(chunk));
    // serialport emits close(DisconnectedError) when a read or write fails because the device went away.
    port.on("close", (err?: Error | null) =>
      this.#gone(err ? `device removed (${err.message})` : "port closed", err),
    );
    port.on("error", (err: Error) => this.#gone(`port error (${err.message})`, err));
    // A zero-byte read (EOF) ends the readable side without a close: treat it as removal too.
    port.on("end", () => this.#gone("end of input", undefined));
  }

  get name(): string {
    return this.#rx.name;
  }

  get closed(): boolean {
    return this.#rx.closed !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#rx.closed) throw this.#rx.closed;
    // serialport queues writes to a port that is not open until it opens again: never wait on that.
    if (!this.#port.isOpen) throw this.#gone("port closed", undefined);
    // Resolves once the binding handed the bytes to the OS.
    await this.#call("write", (done) => this.#port.write(Buffer.from(bytes), done));
  }

  read(n: number, opts: ReadOptions): Promise<Uint8Array> {
    return this.#rx.read(n, opts.timeoutMs);
  }

  readAvailable(): Uint8Array {
    return this.#rx.drain();
  }

  async flush(): Promise<void> {
    if (this.#rx.closed) throw this.#rx.closed;
    await this.#call("flush", (done) => this.#port.flush(done));
    this.#rx.clear();
  }

  async close(): Promise<void> {
    if (this.#rx.closed) return;
    this.#rx.close(new StreamClosedError(this.name, { reason: "closed by host", disconnected: false }));
    if (!this.#port.isOpen) return;
    // A close error means the port is gone anyway; there is nothing left to release.
    await new Promise<void>((resolve) => this.#port.close(() => resolve()));
  }

  async setSignals(change: SerialSignals): Promise<void> {
    if (this.#rx.closed) throw this.#rx.closed;
    const next = { dtr: change.dtr ?? this.#signals.dtr, rts: change.rts ?? this.#signals.rts };
    await this.#call("set DTR/RTS on", (done) => this.#port.set(next, done));
    this.#signals = next;
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    return this.#rx.onClose(listener);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.#rx.onData(listener);
  }

  /** The far end went away: fail reads now, release the port, and return the (first) closing reason. */
  #gone(reason: string, cause: unknown): StreamClosedError {
    this.#rx.close(new StreamClosedError(this.name, { reason, disconnected: true, cause }));
    // With a callback a failing close reports there, not as another "error" event.
    if (this.#port.isOpen) this.#port.close(() => {});
    return this.#rx.closed!;
  }

  /** Runs a callback-style port operation; a failure after removal reports the removal. */
  #call(what: string, start: (done: (err: Error | null | undefined) => void) => void): Promise<void> {
    return new Promise((resolve, reject) =>
      start((err) => {
        if (!err) return resolve();
        // The errno of a device that went away (a USB CDC port unplugged): that is the removal.
        if (!this.#rx.closed && deviceGone(err))
          return reject(this.#gone(`device removed (${err.message})`, err));
        reject(this.#rx.closed ?? new Error(`cannot ${what} ${this.name}: ${err.message}`, { cause: err }));
      }),
    );
  }
}
