/**
 * A scripted RFC 2217 server on loopback for what ser2net on a pty cannot show (modem
 * lines: a pty has none, so ser2net leaves SET-CONTROL DTR/RTS unanswered) and for servers
 * that refuse: it says DO COM-PORT-OPTION on connect, answers each request with code + 100
 * and the value `answer` gives (the request's own by default, `undefined`: no answer), and
 * records every byte it received.
 */
import { createServer, type Server, type Socket } from "node:net";
import { decodeComPortReply, SERVER_OFFSET } from "../../harness/transport/rfc2217-codec.js";
import {
  DO,
  DONT,
  encodeNegotiation,
  encodeSubnegotiation,
  escapeIac,
  OPT_COM_PORT,
  TelnetDecoder,
} from "../../harness/transport/telnet-codec.js";

export interface FakeOptions {
  /** Value to answer `command` (1..12) asked with `value`; undefined: stay silent. */
  answer?: (command: number, value: number) => number | undefined;
  /** Say DONT COM-PORT-OPTION instead of DO. */
  refuseComPort?: boolean;
}

export class FakeRfc2217 {
  /** Everything received, raw. */
  readonly wire: number[] = [];
  /** Data bytes received (telnet unescaped). */
  readonly data: number[] = [];
  /** COM-PORT requests received, as [command, value]. */
  readonly requests: [number, number][] = [];
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly opts: FakeOptions = {}) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    this.#server = createServer((socket) => this.#serve(socket));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  /** Sends data to every client, escaped. */
  send(bytes: Uint8Array): void {
    for (const s of this.#sockets) s.write(escapeIac(bytes));
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(encodeNegotiation(this.opts.refuseComPort ? DONT : DO, OPT_COM_PORT));
    const decoder = new TelnetDecoder();
    socket.on("data", (chunk: Buffer) => {
      this.wire.push(...chunk);
      for (const e of decoder.push(chunk)) {
        if (e.kind === "data") this.data.push(...e.bytes);
        if (e.kind !== "subnegotiation" || e.option !== OPT_COM_PORT) continue;
        const command = e.payload[0]!;
        // Parsed with the reply decoder: the same layout, code shifted.
        const { value } = decodeComPortReply(
          Uint8Array.of(command + SERVER_OFFSET, ...e.payload.subarray(1)),
        );
        this.requests.push([command, value ?? 0]);
        const answer = (this.opts.answer ?? ((_c, v) => v))(command, value ?? 0);
        if (answer === undefined) continue;
        const body =
          command === 1
            ? Uint8Array.of(
                command + SERVER_OFFSET,
                answer >>> 24,
                (answer >>> 16) & 0xff,
                (answer >>> 8) & 0xff,
                answer & 0xff,
              )
            : Uint8Array.of(command + SERVER_OFFSET, answer);
        socket.write(encodeSubnegotiation(OPT_COM_PORT, body));
      }
    });
  }
}
