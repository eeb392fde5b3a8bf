/**
 * Host driver for the TKey firmware over any ByteStream (a CDC port on a lab rig, the
 * emulator's pair, a pty). Unlike tkeyclient, every read has a timeout, header and payload
 * alike: a halted or vanished TKey ends in TKeySilentError or TKeyGoneError within
 * bounded time, with the transcript, never in a hang. No retries: a firmware that saw a
 * bad frame answers nothing until it is unplugged, so retrying could only hide that.
 */

import {
  APP_MAX_SIZE,
  annotateTKey,
  appDigest,
  DEFAULT_FRAME_ID,
  decodeFwResponse,
  decodeHeader,
  decodeUdi,
  defaultUssMode,
  Endpoint,
  encodeGetUdiCmd,
  encodeLoadAppCmd,
  encodeLoadAppDataCmd,
  encodeNameVersionCmd,
  FW_RSP_LENGTH,
  type FwResponse,
  FwRsp,
  type NameVersion,
  STATUS_OK,
  splitApp,
  type Udi,
  type UssOnWire,
  type UssWireMode,
  ussOnWire,
} from "../../protocol/tkey/index.js";
import { bytesEqual } from "../../seams/bytes.js";
import type { ByteStream } from "../../transport/byte-stream.js";
import { ReadTimeoutError, StreamClosedError } from "../../transport/errors.js";
import { recordStream, Transcript } from "../../transport/transcript.js";
import { type ClientOptions, type EventsByKind, eventsByKind, type HostClient } from "../contract.js";
import { type OperationHandle, operation } from "../operation.js";
import {
  TKeyDigestError,
  TKeyGoneError,
  TKeyInputError,
  TKeyNokError,
  TKeyProtocolError,
  TKeySilentError,
  TKeyStatusError,
} from "./errors.js";
import type { TKeyClientEvent, TKeyClientListener } from "./events.js";

export interface TKeyTimeouts {
  /** The firmware probe (tkeyclient uses 2 s for the header). */
  probeMs: number;
  /** Every other reply. */
  commandMs: number;
  /** The reply to the last chunk: the firmware hashes up to 128 KiB first. */
  lastChunkMs: number;
}

export const DEFAULT_TKEY_TIMEOUTS: TKeyTimeouts = { probeMs: 2000, commandMs: 2000, lastChunkMs: 5000 };

/**
 * The client contract's options. `clock` stamps the transcript (the stream's own clock times
 * the reads) and is required: a silent WallClock would stamp virtual-time sessions with
 * wall time. The CLI passes a WallClock itself.
 */
export interface TKeyClientOptions extends ClientOptions<TKeyTimeouts> {
  /** Frame ID of every command (tkeyclient: 2). */
  frameId?: number;
  /** Largest app accepted before sending (default 0x20000, the firmware's limit). */
  appMaxSize?: number;
}

export type ProbeResult = { mode: "firmware"; nameVersion: NameVersion } | { mode: "app" };

export interface LoadOptions {
  /** A 32-byte User-Supplied Secret (tkeyclient: BLAKE2s of the secret phrase). */
  uss?: Uint8Array;
  /** How the USS goes on the wire; "auto" asks GET_UDI and does what tkeyclient v1.3 does. */
  ussMode?: UssWireMode | "auto";
}

export interface LoadResult {
  digest: Uint8Array;
  chunks: number;
  /** The USS flag and field as sent, which the CDI depends on; undefined without a USS. */
  uss: UssOnWire | undefined;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** What a TKeyClient reports, by `type`. */
export type TKeyEvents = EventsByKind<TKeyClientEvent, "type">;

export class TKeyClient implements HostClient<TKeyEvents> {
  readonly transcript: Transcript;
  readonly timeouts: TKeyTimeouts;
  readonly #stream: ByteStream;
  readonly #id: number;
  readonly #appMaxSize: number;
  readonly #listeners = new Set<TKeyClientListener>();

  /** Typed progress events: `events.on("chunk", fn)`. Listeners run synchronously. */
  readonly events = eventsByKind<TKeyClientEvent, "type">((l) => this.on(l), "type");

  /** The client contract's entry point (the TKey needs no handshake: nothing is sent yet). */
  static async open(stream: ByteStream, opts: TKeyClientOptions): Promise<TKeyClient> {
    return new TKeyClient(stream, opts);
  }

  /** Prefer {@link TKeyClient.open}. */
  constructor(stream: ByteStream, opts: TKeyClientOptions) {
    this.transcript = opts.transcript ?? new Transcript({ clock: opts.clock });
    this.transcript.annotator ??= annotateTKey;
    this.#stream = recordStream(stream, this.transcript);
    this.timeouts = { ...DEFAULT_TKEY_TIMEOUTS, ...opts.timeouts };
    this.#id = opts.frameId ?? DEFAULT_FRAME_ID;
    this.#appMaxSize = opts.appMaxSize ?? APP_MAX_SIZE;
  }

  /** One operation of this client as reports show it. */
  #op<T>(title: string, body: (op: OperationHandle) => Promise<T>): Promise<T> {
    return operation({ kind: "tkey", transcript: this.transcript }, title, body);
  }

  /** Ends the session: closes the stream (the port, or the emulator's end of the line). */
  async close(): Promise<void> {
    if (!this.#stream.closed) await this.#stream.close();
  }

  /**
   * Subscribe to every progress event; returns the unsubscribe. Listeners run synchronously.
   * @deprecated use `events.on(kind, fn)`.
   * @internal not in the package's types
   */
  on(listener: TKeyClientListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Is the firmware listening? NAME_VERSION to endpoint 2: the firmware answers, a running
   * app answers NOK.
   * @throws {TKeySilentError} when nothing answers (a halted firmware, for one).
   */
  async probe(): Promise<ProbeResult> {
    return this.#op("probe: FW_CMD_NAME_VERSION", async () => {
      try {
        const nameVersion = await this.#nameVersion(this.timeouts.probeMs);
        this.#emit({ type: "probe", mode: "firmware" });
        return { mode: "firmware", nameVersion };
      } catch (error) {
        if (!(error instanceof TKeyNokError)) throw error;
        this.#emit({ type: "probe", mode: "app" });
        return { mode: "app" };
      }
    });
  }

  getNameVersion(): Promise<NameVersion> {
    return this.#op("FW_CMD_NAME_VERSION", () => this.#nameVersion(this.timeouts.commandMs));
  }

  async getUdi(): Promise<Udi> {
    return this.#op("FW_CMD_GET_UDI", async () => {
      const op = "FW_CMD_GET_UDI";
      const rsp = await this.#command(op, encodeGetUdiCmd(this.#id), FwRsp.GET_UDI, this.timeouts.commandMs);
      if (rsp.rsp !== FwRsp.GET_UDI) throw new TKeyProtocolError("unreachable", op, this.transcript);
      if (rsp.status !== STATUS_OK) throw new TKeyStatusError(op, this.transcript, rsp.status);
      return decodeUdi(rsp.words[0], rsp.words[1]);
    });
  }

  /**
   * Loads and starts `app`, then checks the digest the firmware reports against BLAKE2s
   * of the file.
   * @throws {TKeyInputError} before sending anything, for an ELF file or a size of 0 or over the limit.
   * @throws {TKeyDigestError} when the TKey loaded something else (the app runs anyway).
   */
  async loadApp(app: Uint8Array, opts: LoadOptions = {}): Promise<LoadResult> {
    return this.#op(`load app (${app.length} bytes)`, async () => {
      this.#checkApp(app, opts.uss);
      let uss: UssOnWire | undefined;
      if (opts.uss) {
        const mode = opts.ussMode ?? "auto";
        uss = ussOnWire(opts.uss, mode === "auto" ? defaultUssMode((await this.getUdi()).productId) : mode);
      }
      const chunks = splitApp(app);
      this.#emit({ type: "load-started", size: app.length, chunks: chunks.length, uss: uss !== undefined });
      const status = await this.sendLoadApp(app.length, uss);
      if (status !== STATUS_OK) throw new TKeyStatusError("FW_CMD_LOAD_APP", this.transcript, status);
      const digest = await this.#op(`FW_CMD_LOAD_APP_DATA ×${chunks.length}`, async (op) => {
        let sent = 0;
        let last: Uint8Array | undefined;
        for (const [i, chunk] of chunks.entries()) {
          last = await this.sendChunk(chunk, i + 1, chunks.length);
          sent += chunk.length;
          this.#emit({ type: "chunk", index: i + 1, chunks: chunks.length, sent, size: app.length });
          op.progress?.(sent, app.length);
        }
        return last;
      });
      const expected = appDigest(app);
      if (!bytesEqual(digest!, expected))
        throw new TKeyDigestError("FW_RSP_LOAD_APP_DATA_READY", this.transcript, expected, digest!);
      this.#emit({ type: "loaded", digest: digest! });
      return { digest: digest!, chunks: chunks.length, uss };
    });
  }

  /**
   * FW_CMD_LOAD_APP with any size (0 and oversize included, for tests of the firmware's
   * STATUS_BAD). Returns the status byte.
   */
  async sendLoadApp(size: number, uss?: UssOnWire): Promise<number> {
    const op = "FW_CMD_LOAD_APP";
    const frame = encodeLoadAppCmd({ size, uss: uss?.field, ussFlag: uss?.flag }, this.#id);
    const rsp = await this.#command(op, frame, FwRsp.LOAD_APP, this.timeouts.commandMs);
    return (rsp as { status: number }).status;
  }

  /**
   * One FW_CMD_LOAD_APP_DATA; chunk `index` of `total` (1-based). Returns the digest after
   * the last one, undefined before.
   * @throws {TKeyStatusError} on STATUS_BAD.
   */
  async sendChunk(chunk: Uint8Array, index: number, total: number): Promise<Uint8Array | undefined> {
    const last = index === total;
    const op = `FW_CMD_LOAD_APP_DATA ${index}/${total}`;
    const expected = last ? FwRsp.LOAD_APP_DATA_READY : FwRsp.LOAD_APP_DATA;
    const timeout = last ? this.timeouts.lastChunkMs : this.timeouts.commandMs;
    const rsp = await this.#command(op, encodeLoadAppDataCmd(chunk, this.#id), expected, timeout);
    const status = (rsp as { status: number }).status;
    if (status !== STATUS_OK) throw new TKeyStatusError(op, this.transcript, status);
    return rsp.rsp === FwRsp.LOAD_APP_DATA_READY ? rsp.digest : undefined;
  }

  /** Raw bytes on the line (malformed frames for error-injection tests). */
  async writeRaw(bytes: Uint8Array, operation = "raw write"): Promise<void> {
    return this.#op(operation, async () => {
      this.transcript.note(operation);
      await this.#write(operation, bytes);
    });
  }

  async #nameVersion(timeoutMs: number): Promise<NameVersion> {
    const op = "FW_CMD_NAME_VERSION";
    const rsp = await this.#command(op, encodeNameVersionCmd(this.#id), FwRsp.NAME_VERSION, timeoutMs);
    return (rsp as { nameVersion: NameVersion }).nameVersion;
  }

  #checkApp(app: Uint8Array, uss: Uint8Array | undefined): void {
    const op = "load app";
    if (ELF_MAGIC.every((b, i) => app[i] === b))
      throw new TKeyInputError(
        "this is an ELF file; the firmware loads a raw binary (objcopy -O binary)",
        op,
        this.transcript,
      );
    if (app.length === 0) throw new TKeyInputError("the app is empty", op, this.transcript);
    if (app.length > this.#appMaxSize)
      throw new TKeyInputError(
        `the app is ${app.length} bytes, the TKey takes at most ${this.#appMaxSize}`,
        op,
        this.transcript,
      );
    if (uss && uss.length !== 32)
      throw new TKeyInputError(`the USS must be 32 bytes, got ${uss.length}`, op, this.transcript);
  }

  async #command(op: string, frame: Uint8Array, expected: FwRsp, timeoutMs: number): Promise<FwResponse> {
    await this.#write(op, frame);
    return this.#readResponse(op, expected, timeoutMs);
  }

  /** tkeyclient's ReadFrame checks, in its order, but with a timeout on the payload too. */
  async #readResponse(op: string, expected: FwRsp, timeoutMs: number): Promise<FwResponse> {
    const headerByte = (await this.#read(op, 1, timeoutMs))[0]!;
    const header = decodeHeader(headerByte);
    const bad = (what: string) =>
      new TKeyProtocolError(
        `${what} (header 0x${headerByte.toString(16).padStart(2, "0")})`,
        op,
        this.transcript,
      );
    if (header.reservedBit) throw bad("reserved bit 7 set in the response header");
    const payload = await this.#read(op, header.length, timeoutMs);
    if (header.nok) throw new TKeyNokError(op, this.transcript, headerByte, payload);
    if (header.length !== FW_RSP_LENGTH[expected])
      throw bad(`expected a ${FW_RSP_LENGTH[expected]}-byte response`);
    if (header.endpoint !== Endpoint.firmware)
      throw bad(`response from endpoint ${header.endpoint}, not the firmware`);
    if (header.id !== this.#id) throw bad(`response frame ID ${header.id}, sent ${this.#id}`);
    if (payload[0] !== expected)
      throw bad(`response code 0x${payload[0]!.toString(16)}, expected 0x${expected.toString(16)}`);
    return decodeFwResponse(payload);
  }

  async #write(op: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.#stream.write(bytes);
    } catch (error) {
      if (error instanceof StreamClosedError) throw new TKeyGoneError(op, this.transcript, error);
      throw error;
    }
  }

  async #read(op: string, n: number, timeoutMs: number): Promise<Uint8Array> {
    try {
      return await this.#stream.read(n, { timeoutMs });
    } catch (error) {
      if (error instanceof ReadTimeoutError)
        throw new TKeySilentError(op, this.transcript, timeoutMs, error.partial, error);
      if (error instanceof StreamClosedError) throw new TKeyGoneError(op, this.transcript, error);
      throw error;
    }
  }

  #emit(event: TKeyClientEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}
