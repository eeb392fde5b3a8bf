/**
 * ByteStream to a serial port served by an RFC 2217 server (ser2net's
 * `telnet(rfc2217)` accepter, labgrid exporters): the client sets baud rate, data size,
 * parity and stop bits on the remote port, drives DTR/RTS and purges buffers, exactly as
 * it would on a local port, so the USART bootloader client asks 8E1 on a rack three hosts
 * away. Every setting waits for the server's reply (command + 100) and checks the value:
 * a refused baud rate, data size or stop size, or no answer in time, is an error naming
 * host and port; a parity the server answers with another value is a warning and the line
 * carries on, as serial-port-stream.ts does where a local pty drops parity.
 */
import type { Socket } from "node:net";
import type { SerialSignals } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import {
  ComPort,
  type ComPortReply,
  Control,
  comPortName,
  decodeComPortReply,
  encodeComPortRequest,
  PARITY_CODES,
  type Parity,
  Purge,
  STOP_CODES,
  type StopBits,
} from "./rfc2217-codec.js";
import {
  CONNECT_TIMEOUT_MS,
  connectTcp,
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  RemotePortError,
  SocketStream,
} from "./tcp-stream.js";
import {
  DO,
  DONT,
  encodeNegotiation,
  escapeIac,
  type NegotiationVerb,
  OPT_BINARY,
  OPT_COM_PORT,
  OPT_SGA,
  TelnetDecoder,
  WILL,
  WONT,
} from "./telnet-codec.js";

export interface Rfc2217Options {
  baudRate: number;
  /** Default "none". */
  parity?: Parity;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 1. */
  stopBits?: StopBits;
  /** Default a WallClock. */
  clock?: Clock;
  /** Time to connect, and for each of the server's answers. Default 3000 ms. */
  timeoutMs?: number;
}

/** The server refused a setting or did not answer it in time. */
export class Rfc2217Error extends RemotePortError {}

/** What we are willing to do ourselves (WILL) and to have the server do (DO). */
const WE_WILL = new Set([OPT_BINARY, OPT_SGA, OPT_COM_PORT]);
const THEY_MAY = new Set([OPT_BINARY, OPT_SGA]);

interface Waiter {
  command: number;
  resolve(reply: ComPortReply): void;
  reject(error: Error): void;
}

export class Rfc2217Stream extends SocketStream {
  /** What the server did not honour (parity), for transcripts and reports. */
  readonly warnings: string[] = [];
  /** The server's SIGNATURE, when it sent one. */
  signature: string | undefined;
  /** The last NOTIFY-MODEMSTATE value (CTS, DSR, RI, CD bits), when the server sent one. */
  modemState: number | undefined;
  readonly #decoder = new TelnetDecoder();
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #where: string;
  /** Options enabled on our side (we said WILL and they said DO, or the other way round). */
  readonly #ours = new Set<number>();
  readonly #theirs = new Set<number>();
  /** Settles when the server says DO (or DONT) COM-PORT-OPTION, before or after our WILL. */
  readonly #comPortAgreed: Promise<void>;
  #agree: () => void = () => {};
  #refuse: (error: Error) => void = () => {};
  #willComPortSent = false;
  readonly #waiters: Waiter[] = [];
  #signals: Required<SerialSignals> = { dtr: true, rts: true };

  constructor(socket: Socket, endpoint: Endpoint, clock: Clock, timeoutMs: number) {
    super(socket, `rfc2217:${formatEndpoint(endpoint)}`, clock);
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#where = `rfc2217 ${formatEndpoint(endpoint)}`;
    this.#comPortAgreed = new Promise<void>((resolve, reject) => {
      this.#agree = resolve;
      this.#refuse = reject;
    });
    this.#comPortAgreed.catch(() => {});
    this.onClose((reason) => {
      for (const w of this.#waiters.splice(0)) w.reject(reason);
      this.#refuse(reason);
    });
  }

  /** Asks to use COM-PORT-OPTION and waits until the server agrees (DO 44). */
  async negotiate(): Promise<void> {
    if (!this.#willComPortSent) {
      this.#willComPortSent = true;
      await this.send(encodeNegotiation(WILL, OPT_COM_PORT));
    }
    await this.#wait(this.#comPortAgreed, "WILL COM-PORT-OPTION (44)");
  }

  /** Sets the line; each value checked against the server's answer. */
  async configure(opts: Omit<Rfc2217Options, "clock" | "timeoutMs">): Promise<void> {
    await this.#set(ComPort.setBaudRate, opts.baudRate, `baud rate ${opts.baudRate}`);
    await this.#set(ComPort.setDataSize, opts.dataBits ?? 8, `data size ${opts.dataBits ?? 8}`);
    const parity = opts.parity ?? "none";
    const reply = await this.#request(ComPort.setParity, PARITY_CODES[parity], `parity ${parity}`);
    if (reply.value !== PARITY_CODES[parity]) {
      const got =
        Object.entries(PARITY_CODES).find(([, code]) => code === reply.value)?.[0] ?? `code ${reply.value}`;
      this.warnings.push(
        `${this.#where}: ${parity} parity refused by the server (it answered ${got}), line runs without it`,
      );
    }
    const stop = opts.stopBits ?? 1;
    await this.#set(ComPort.setStopSize, STOP_CODES.get(stop)!, `${stop} stop bit(s)`);
    await this.#set(ComPort.setControl, Control.noFlowControl, "no flow control");
  }

  async setSignals(change: SerialSignals): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    if (change.dtr !== undefined) {
      await this.#set(
        ComPort.setControl,
        change.dtr ? Control.dtrOn : Control.dtrOff,
        `DTR ${change.dtr ? "on" : "off"}`,
      );
      this.#signals = { ...this.#signals, dtr: change.dtr };
    }
    if (change.rts !== undefined) {
      await this.#set(
        ComPort.setControl,
        change.rts ? Control.rtsOn : Control.rtsOff,
        `RTS ${change.rts ? "on" : "off"}`,
      );
      this.#signals = { ...this.#signals, rts: change.rts };
    }
  }

  /** DTR/RTS as last set (both asserted on open, as a local tty raises them). */
  get signals(): Readonly<Required<SerialSignals>> {
    return this.#signals;
  }

  /** PURGE-DATA both ways; input that arrived before the server's answer is discarded. */
  override async flush(): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    await this.#set(ComPort.purgeData, Purge.both, "purge");
  }

  protected encode(bytes: Uint8Array): Uint8Array {
    return escapeIac(bytes);
  }

  protected receive(chunk: Uint8Array): void {
    for (const event of this.#decoder.push(chunk)) {
      switch (event.kind) {
        case "data":
          this.rx.push(event.bytes, { owned: true });
          break;
        case "negotiation":
          this.#negotiation(event.verb, event.option);
          break;
        case "subnegotiation":
          if (event.option === OPT_COM_PORT) this.#comPort(event.payload);
          break;
        case "command":
          break; // NOP, GA, ...: nothing to do
      }
    }
  }

  /** Answers the server's WILL/DO once per change of state (RFC 854's loop rule). */
  #negotiation(verb: NegotiationVerb, option: number): void {
    const reply = (v: NegotiationVerb) => void this.send(encodeNegotiation(v, option)).catch(() => {});
    if (verb === DO) {
      if (option === OPT_COM_PORT) this.#agree();
      if (this.#ours.has(option)) return;
      if (WE_WILL.has(option)) {
        this.#ours.add(option);
        // A WILL COM-PORT of ours already out (negotiate()) is the answer; never say it twice.
        if (option === OPT_COM_PORT && this.#willComPortSent) return;
        if (option === OPT_COM_PORT) this.#willComPortSent = true;
        reply(WILL);
      } else reply(WONT);
    } else if (verb === DONT) {
      if (option === OPT_COM_PORT)
        this.#refuse(
          new Rfc2217Error(
            `${this.#where}: the server refuses COM-PORT-OPTION (not an RFC 2217 port: use tcp:)`,
          ),
        );
      if (!this.#ours.delete(option)) return;
      reply(WONT);
    } else if (verb === WILL) {
      if (this.#theirs.has(option)) return;
      if (THEY_MAY.has(option)) {
        this.#theirs.add(option);
        reply(DO);
      } else reply(DONT);
    } else if (this.#theirs.delete(option)) reply(DONT);
  }

  #comPort(payload: Uint8Array): void {
    let reply: ComPortReply;
    try {
      reply = decodeComPortReply(payload);
    } catch {
      return; // a client's code echoed by a confused server: nothing waits for it
    }
    if (reply.command === ComPort.notifyModemState) {
      this.modemState = reply.value;
      return;
    }
    if (reply.command === ComPort.signature) this.signature = Buffer.from(reply.data).toString("latin1");
    const at = this.#waiters.findIndex((w) => w.command === reply.command);
    if (at === -1) return;
    const [waiter] = this.#waiters.splice(at, 1);
    // Input before the purge answer was on its way before the purge: it goes with it.
    if (reply.command === ComPort.purgeData) this.rx.clear();
    waiter!.resolve(reply);
  }

  /** Sends one request; resolves with the server's answer to that command. */
  async #request(command: number, value: number, what: string): Promise<ComPortReply> {
    if (this.rx.closed) throw this.rx.closed;
    const answered = new Promise<ComPortReply>((resolve, reject) =>
      this.#waiters.push({ command, resolve, reject }),
    );
    await this.send(encodeComPortRequest(command, value));
    return this.#wait(answered, `${comPortName(command)} (${what})`, () => {
      const at = this.#waiters.findIndex((w) => w.command === command);
      if (at !== -1) this.#waiters.splice(at, 1);
    });
  }

  /** A request whose answer must carry the value asked for. */
  async #set(command: number, value: number, what: string): Promise<void> {
    const reply = await this.#request(command, value, what);
    if (reply.value !== value)
      throw new Rfc2217Error(
        `${this.#where}: the server refused ${comPortName(command)} ${what} (it answered ${reply.value})`,
      );
  }

  async #wait<T>(work: Promise<T>, what: string, abandon?: () => void): Promise<T> {
    const stop = new AbortController();
    const timer = this.#clock.sleep(this.#timeoutMs, stop.signal).then(() => undefined);
    try {
      const result = await Promise.race([work.then((value) => ({ value })), timer]);
      if (result === undefined) {
        work.catch(() => {});
        abandon?.();
        throw new Rfc2217Error(`${this.#where}: no answer to ${what} within ${this.#timeoutMs} ms`);
      }
      return result.value;
    } finally {
      stop.abort();
    }
  }
}

/**
 * Connects to an RFC 2217 server at "host:port", agrees on COM-PORT-OPTION and sets the
 * line (baud rate, data size, parity, stop bits, no flow control).
 * @throws {RemotePortError} when it does not connect; {@link Rfc2217Error} when the server
 *   refuses a setting or does not answer in time. The connection is closed on failure.
 */
export async function openRfc2217(address: string, opts: Rfc2217Options): Promise<Rfc2217Stream> {
  const endpoint = parseEndpoint(address);
  const clock = opts.clock ?? new WallClock();
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const socket = await connectTcp(endpoint, { what: "rfc2217", clock, timeoutMs });
  const stream = new Rfc2217Stream(socket, endpoint, clock, timeoutMs);
  try {
    await stream.negotiate();
    await stream.configure(opts);
  } catch (error) {
    await stream.close();
    throw error;
  }
  return stream;
}
