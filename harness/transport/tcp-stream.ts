/**
 * ByteStreams over TCP, for boards on another host: a raw socket (`tcp: "host:port"`, a
 * lab serving a serial port's bytes as they are) and the base of the RFC 2217 stream
 * (./rfc2217-stream.ts). A port that does not connect, or a connection that breaks, is an
 * InfrastructureError naming host and port: a rack host that is down is the lab's fault.
 */
import { connect, type Socket } from "node:net";
import { InfrastructureError } from "../seams/errors.js";
import type { EventedByteStream, ReadOptions } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { StreamClosedError } from "./errors.js";
import { RxQueue } from "./rx-queue.js";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Default time to connect and, on RFC 2217, for each answer to a port setting. */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * "rack3:3001", "127.0.0.1:3001" or "[::1]:3001".
 * @throws {Error} naming the text when it is not host:port with a port of 1..65535.
 */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new Error(`expected host:port (port 1..65535), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** A remote resource that did not connect or answer: the lab's fault, host and port named. */
export class RemotePortError extends InfrastructureError {}

/**
 * Connects to `endpoint` within `timeoutMs`.
 * @throws {RemotePortError} naming `what` and host:port (refused, unreachable, or no answer in time).
 */
export function connectTcp(
  endpoint: Endpoint,
  opts: { what: string; timeoutMs?: number; clock?: Clock },
): Promise<Socket> {
  const where = `${opts.what} ${formatEndpoint(endpoint)}`;
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const clock = opts.clock ?? new WallClock();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const stop = new AbortController();
    const fail = (error: Error) => {
      stop.abort();
      socket.destroy();
      reject(error);
    };
    socket.once("error", (e: NodeJS.ErrnoException) =>
      fail(new RemotePortError(`${where}: cannot connect (${e.code ?? e.message})`, { cause: e })),
    );
    socket.once("connect", () => {
      stop.abort();
      socket.removeAllListeners("error");
      // Request-reply protocols: every frame goes out at once.
      socket.setNoDelay(true);
      resolve(socket);
    });
    void clock.sleep(timeoutMs, stop.signal).then(() => {
      if (!stop.signal.aborted) fail(new RemotePortError(`${where}: no connection within ${timeoutMs} ms`));
    });
  });
}

/**
 * The shared part of a ByteStream on a socket: the receive queue, writes that resolve once
 * the bytes are handed to the OS, and a broken connection failing reads at once. Subclasses
 * say what goes on the wire (`encode`) and what of the input is data (`receive`).
 */
export abstract class SocketStream implements EventedByteStream {
  protected readonly rx: RxQueue;
  protected readonly socket: Socket;

  constructor(socket: Socket, name: string, clock: Clock) {
    this.socket = socket;
    this.rx = new RxQueue(name, clock);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (e: Error) => this.gone(`connection error (${e.message})`, e));
    socket.on("end", () => this.gone("connection closed by the server", undefined));
    socket.on("close", () => this.gone("connection closed", undefined));
  }

  get name(): string {
    return this.rx.name;
  }

  get closed(): boolean {
    return this.rx.closed !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    await this.send(this.encode(bytes));
  }

  read(n: number, opts: ReadOptions): Promise<Uint8Array> {
    return this.rx.read(n, opts.timeoutMs);
  }

  readAvailable(): Uint8Array {
    return this.rx.drain();
  }

  async flush(): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    this.rx.clear();
  }

  async close(): Promise<void> {
    if (this.rx.closed) {
      this.socket.destroy();
      return;
    }
    this.rx.close(new StreamClosedError(this.name, { reason: "closed by host", disconnected: false }));
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end();
      // A server that does not close its side: drop the connection rather than wait.
      setTimeout(() => this.socket.destroy(), 200).unref();
    });
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    return this.rx.onClose(listener);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.rx.onData(listener);
  }

  /** Bytes of the stream as they go on the wire. */
  protected abstract encode(bytes: Uint8Array): Uint8Array;

  /** A chunk from the socket. */
  protected abstract receive(chunk: Uint8Array): void;

  protected send(wire: Uint8Array): Promise<void> {
    if (this.rx.closed) return Promise.reject(this.rx.closed);
    return new Promise((resolve, reject) =>
      this.socket.write(wire, (e) =>
        e ? reject(this.rx.closed ?? this.gone(`write failed (${e.message})`, e)) : resolve(),
      ),
    );
  }

  /** The connection broke: fail reads now; returns the (first) closing reason. */
  protected gone(reason: string, cause: unknown): StreamClosedError {
    this.rx.close(new StreamClosedError(this.name, { reason, disconnected: true, cause }));
    this.socket.destroy();
    return this.rx.closed!;
  }
}

/** Raw TCP: the bytes of the serial line as they are, no port settings, no modem lines. */
export class TcpStream extends SocketStream {
  protected encode(bytes: Uint8Array): Uint8Array {
    return bytes;
  }

  protected receive(chunk: Uint8Array): void {
    this.rx.push(chunk, { owned: true });
  }
}

/**
 * Opens a raw TCP stream to "host:port".
 * @throws {RemotePortError} when it does not connect within the timeout.
 */
export async function openTcpStream(
  address: string,
  opts: { clock?: Clock; timeoutMs?: number } = {},
): Promise<TcpStream> {
  const endpoint = parseEndpoint(address);
  const clock = opts.clock ?? new WallClock();
  const socket = await connectTcp(endpoint, { what: "tcp", clock, ...opts });
  return new TcpStream(socket, `tcp:${formatEndpoint(endpoint)}`, clock);
}
