import { sha256 } from "@noble/hashes/sha2.js";
import {
  annotateSmp,
  bootloaderInfoRequest,
  decodeMessage,
  encodeBody,
  encodeMessage,
  encodeSerialFrame,
  ImageCommand,
  MCUBOOT_BOOTLOADER_NAME,
  MgmtErr,
  MODE_QUERY,
  mcubootModeName,
  OsCommand,
  OsMgmtErr,
  parseBootloaderName,
  parseMcubootMode,
  replyError,
  replyNote,
  SerialFrameDecoder,
  type SmpBody,
  SmpCborError,
  SmpGroup,
  SmpOp,
  SmpVersion,
} from "../../protocol/smp/index.js";
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { ReadTimeoutError, StreamClosedError } from "../../transport/errors.js";
import { recordStream, Transcript } from "../../transport/transcript.js";
import { type ClientOptions, type EventsByKind, eventsByKind, type HostClient } from "../contract.js";
import { type OperationHandle, operation } from "../operation.js";
import { SmpError, SmpLinkClosedError, SmpReplyError, SmpTimeoutError } from "./errors.js";

export interface SmpClientOptions {
  /** Per-request timeout (smpclient's 2.5 s). */
  timeoutMs?: number;
  /** The first upload chunk makes the device erase the slot (smpclient allows 40 s). */
  firstChunkTimeoutMs?: number;
  /** Resends after a timeout, per request or chunk. */
  retries?: number;
  /** SMP version of requests: 1 = v2 (group errors), 0 = v1 (legacy). */
  version?: number;
  /** Largest packet (header + CBOR) the device takes; `params()` reports it. */
  mtu?: number;
  /** Serial line length including markers and newline. */
  lineLength?: number;
  /** Where the bytes are recorded (default a new one on the client's clock). */
  transcript?: Transcript;
}

/** Waits in ms of the client's clock (the contract's `timeouts`). */
export interface SmpTimeouts {
  /** Per request (smpclient's 2.5 s). */
  requestMs: number;
  /** The first upload chunk, which makes the device erase the slot (smpclient allows 40 s). */
  firstChunkMs: number;
}

/** {@link SmpClient.open}'s options: the client contract plus the link's SMP parameters. */
export interface SmpOpenOptions extends ClientOptions<SmpTimeouts> {
  retries?: number;
  version?: number;
  mtu?: number;
  lineLength?: number;
}

/** What an SmpClient reports, by `kind`. */
export type SmpEvents = EventsByKind<SmpClientEvent, "kind">;

export interface ImageSlotState {
  image?: number;
  slot: number;
  version: string;
  hash?: Uint8Array;
  bootable?: boolean;
  pending?: boolean;
  confirmed?: boolean;
  active?: boolean;
  permanent?: boolean;
}

/** What the board's bootloader says it is (OS group, bootloader information). */
export interface BootloaderInfo {
  /** "MCUboot", or another bootloader's name. */
  name: string;
  /** MCUboot's mode number (smp_group_0.rst), when it answered the query "mode". */
  mode?: number;
  /** Its name: "swap-using-move", "overwrite-only", ... */
  modeName?: string;
  /** MCUboot refuses images older than the running one. */
  noDowngrade?: boolean;
}

export interface UploadProgress {
  off: number;
  len: number;
}

/**
 * What the client reports as it works, so scenarios and fault plans can act at protocol
 * points ("after upload chunk 12") on lab rigs too, where there is no emulator to hook.
 */
export type SmpClientEvent =
  | { kind: "request"; name: string; group: number; id: number; seq: number; attempt: number }
  | { kind: "response"; name: string; seq: number }
  | { kind: "timeout"; name: string; seq: number; attempt: number }
  | { kind: "chunk"; off: number; len: number };

/**
 * SMP host client over any ByteStream (a serial port, the emulator's byte pair): the
 * mcumgr/smpclient command set with a timeout on every request through the stream's
 * clock, bounded resends, and typed errors with the rc decoded.
 */
export class SmpClient implements HostClient<SmpEvents> {
  readonly #decoder = new SerialFrameDecoder({ maxPacket: 0xffff });
  readonly #listeners = new Set<(e: SmpClientEvent) => void>();
  #seq = 0;
  readonly timeoutMs: number;
  readonly firstChunkTimeoutMs: number;
  readonly retries: number;
  readonly version: number;
  mtu: number;
  readonly lineLength: number;
  /** Every byte both ways, with a note per request: attached to a failed test's report. */
  readonly transcript: Transcript;
  /** The stream as given, recorded into the transcript. */
  readonly stream: ByteStream;
  /** Report steps open around the running request: requests inside an upload are not steps of their own. */
  #stepDepth = 0;
  /** The image state the device answered last (image list, test, confirm), for what the next reset does. */
  lastImages: readonly ImageSlotState[] | undefined;
  /** Size of the last image uploaded completely. */
  lastUploadBytes: number | undefined;

  /** Typed events: `events.on("chunk", fn)`. */
  readonly events = eventsByKind<SmpClientEvent, "kind">((l) => this.#subscribe(l), "kind");

  /** The client contract's entry point (SMP needs no handshake: nothing is sent yet). */
  static async open(stream: ByteStream, opts: SmpOpenOptions): Promise<SmpClient> {
    const { clock, timeouts, ...rest } = opts;
    return new SmpClient(stream, clock, {
      ...rest,
      ...(timeouts?.requestMs === undefined ? {} : { timeoutMs: timeouts.requestMs }),
      ...(timeouts?.firstChunkMs === undefined ? {} : { firstChunkTimeoutMs: timeouts.firstChunkMs }),
    });
  }

  /** Prefer {@link SmpClient.open}. */
  constructor(
    stream: ByteStream,
    /** The clock the stream's read timeouts run on (virtual on emulated rigs). */
    readonly clock: Clock,
    opts: SmpClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 2500;
    this.firstChunkTimeoutMs = opts.firstChunkTimeoutMs ?? 40_000;
    this.retries = opts.retries ?? 2;
    this.version = opts.version ?? SmpVersion.V2;
    this.mtu = opts.mtu ?? 384;
    this.lineLength = opts.lineLength ?? 127;
    this.transcript = opts.transcript ?? new Transcript({ clock });
    this.transcript.annotator ??= annotateSmp;
    this.stream = recordStream(stream, this.transcript);
  }

  /** One operation as reports show it (a step holding the requests it sends). */
  async #step<T>(title: string, body: (op: OperationHandle) => Promise<T>): Promise<T> {
    this.#stepDepth++;
    try {
      return await operation({ kind: "smp", transcript: this.transcript }, title, body);
    } finally {
      this.#stepDepth--;
    }
  }

  /** Ends the session: closes the stream (the port, or the emulator's end of the line). */
  async close(): Promise<void> {
    if (!this.stream.closed) await this.stream.close();
  }

  /** Every client event, for `events` to filter by kind. */
  #subscribe(listener: (e: SmpClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: SmpClientEvent): void {
    for (const l of this.#listeners) l(e);
  }

  /** One request/response; throws SmpError for an error body, SmpTimeoutError when nothing came. */
  async request(
    name: string,
    group: number,
    id: number,
    op: SmpOp,
    body: SmpBody,
    timeoutMs = this.timeoutMs,
  ): Promise<SmpBody> {
    if (this.#stepDepth === 0)
      return this.#step(name, () => this.request(name, group, id, op, body, timeoutMs));
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xff;
    const frame = encodeSerialFrame(
      encodeMessage({ header: { op, version: this.version, flags: 0, group, seq, id }, body }),
      this.lineLength,
    );
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      this.#emit({ kind: "request", name, group, id, seq, attempt });
      this.transcript.note(`${name}: seq ${seq}${attempt > 1 ? `, resend ${attempt - 1}` : ""}`);
      await this.#write(name, frame);
      const reply = await this.#await(name, group, id, seq, op + 1, timeoutMs);
      if (reply) {
        this.#emit({ kind: "response", name, seq });
        this.transcript.note(replyNote(seq, reply));
        return checkReply(name, reply, this.transcript);
      }
      this.#emit({ kind: "timeout", name, seq, attempt });
      this.transcript.note(`${name}: no answer to seq ${seq} within ${timeoutMs} ms`);
    }
    throw new SmpTimeoutError(name, this.retries + 1, timeoutMs, this.transcript);
  }

  async #write(name: string, frame: Uint8Array): Promise<void> {
    try {
      await this.stream.write(frame);
    } catch (e) {
      if (e instanceof StreamClosedError) throw new SmpLinkClosedError(name, this.transcript, e);
      throw e;
    }
  }

  async #await(
    name: string,
    group: number,
    id: number,
    seq: number,
    op: number,
    timeoutMs: number,
  ): Promise<SmpBody | undefined> {
    const deadline = this.clock.now() + timeoutMs;
    for (let left = timeoutMs; left > 0; left = deadline - this.clock.now()) {
      let bytes = this.stream.readAvailable();
      if (bytes.length === 0) {
        try {
          bytes = await this.stream.read(1, { timeoutMs: left });
        } catch (e) {
          if (e instanceof ReadTimeoutError) return undefined;
          if (e instanceof StreamClosedError) throw new SmpLinkClosedError(name, this.transcript, e);
          throw e;
        }
      }
      for (const p of this.#decoder.push(bytes)) {
        const h = p.header;
        if (h.group === group && h.id === id && h.seq === seq && h.op === op) {
          try {
            return decodeMessage(p).body;
          } catch (e) {
            // The answer to this request, but its body is not SMP's CBOR map.
            throw new SmpReplyError(name, `malformed reply: ${(e as Error).message}`, this.transcript, e);
          }
        }
      }
    }
    return undefined;
  }

  async echo(text: string): Promise<string> {
    const r = await this.request("echo", SmpGroup.OS, OsCommand.ECHO, SmpOp.WRITE, { d: text });
    return r.r as string;
  }

  /** Asks for a reset; the device answers first, then reboots (Zephyr: 250 ms later). */
  async reset(): Promise<void> {
    await this.request("reset", SmpGroup.OS, OsCommand.RESET, SmpOp.WRITE, {});
  }

  async params(): Promise<{ bufSize: number; bufCount: number }> {
    const r = await this.request("mcumgr params", SmpGroup.OS, OsCommand.MCUMGR_PARAMS, SmpOp.READ, {});
    return { bufSize: r.buf_size as number, bufCount: r.buf_count as number };
  }

  /** Bootloader information with `query` (or none: the bootloader's name), the reply's body as sent. */
  async bootloaderQuery(query?: string): Promise<SmpBody> {
    const name = query === undefined ? "bootloader info" : `bootloader info ${query}`;
    return this.request(
      name,
      SmpGroup.OS,
      OsCommand.BOOTLOADER_INFO,
      SmpOp.READ,
      bootloaderInfoRequest(query),
    );
  }

  /**
   * The bootloader's name and, for MCUboot, its mode of operation. A bootloader that does
   * not answer the query "mode" (OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER, or ENOENT to a v1
   * request) gives its name alone.
   * @throws {SmpError} MGMT_ERR_ENOTSUP when the app lacks the command.
   * @throws {SmpReplyError} when a reply does not have the documented form.
   */
  async bootloaderInfo(): Promise<BootloaderInfo> {
    return this.#step("bootloader info", async () => {
      const first = await this.bootloaderQuery();
      const name = this.#parse("bootloader info", () => parseBootloaderName(first));
      if (name !== MCUBOOT_BOOTLOADER_NAME) return { name };
      let body: SmpBody;
      try {
        body = await this.bootloaderQuery(MODE_QUERY);
      } catch (e) {
        if (e instanceof SmpError && isNoAnswer(e)) return { name };
        throw e;
      }
      const { mode, noDowngrade } = this.#parse("bootloader info mode", () => parseMcubootMode(body));
      return { name, mode, modeName: mcubootModeName(mode), noDowngrade };
    });
  }

  /** A reply's reading; one without the documented form fails as the device's. */
  #parse<T>(command: string, read: () => T): T {
    try {
      return read();
    } catch (e) {
      if (e instanceof SmpCborError) throw new SmpReplyError(command, e.message, this.transcript, e);
      throw e;
    }
  }

  async list(): Promise<ImageSlotState[]> {
    const r = await this.request("image list", SmpGroup.IMAGE, ImageCommand.STATE, SmpOp.READ, {});
    this.lastImages = (r.images ?? []) as ImageSlotState[];
    return this.lastImages as ImageSlotState[];
  }

  /** Marks the image with `hash` for a test boot (reverted unless confirmed). */
  async test(hash: Uint8Array): Promise<ImageSlotState[]> {
    const r = await this.request("image test", SmpGroup.IMAGE, ImageCommand.STATE, SmpOp.WRITE, {
      hash,
      confirm: false,
    });
    this.lastImages = r.images as ImageSlotState[];
    return r.images as ImageSlotState[];
  }

  /** Confirms the running image (no hash) or makes `hash` permanent. */
  async confirm(hash?: Uint8Array): Promise<ImageSlotState[]> {
    const body: SmpBody = hash ? { hash, confirm: true } : { confirm: true };
    const r = await this.request("image confirm", SmpGroup.IMAGE, ImageCommand.STATE, SmpOp.WRITE, body);
    this.lastImages = r.images as ImageSlotState[];
    return r.images as ImageSlotState[];
  }

  async erase(slot?: number): Promise<void> {
    await this.request(
      "image erase",
      SmpGroup.IMAGE,
      ImageCommand.ERASE,
      SmpOp.WRITE,
      slot === undefined ? {} : { slot },
    );
    // The erased slot's image is gone, and with it any swap it was pending for.
    this.lastImages = this.lastImages?.filter((i) => i.slot !== (slot ?? 1));
  }

  /**
   * Uploads `image` into the update slot. The first request carries len and the file's
   * SHA-256, so a device still holding a session for the same file answers with its offset
   * and the upload resumes there; afterwards the device's `off` always decides the next chunk.
   */
  async upload(
    image: Uint8Array,
    opts: { onProgress?: (p: UploadProgress) => void; upgrade?: boolean; chunkSize?: number } = {},
  ): Promise<void> {
    return this.#step(`image upload ${image.length} bytes`, async (step) => {
      const len = image.length;
      const sha = sha256(image);
      let off = 0;
      let first = true;
      // Replies whose `off` did not move forward, in a row: a device may restart a session
      // (off 0 again), but one that never advances would keep the client sending for ever.
      let stuck = 0;
      while (first || off < len) {
        const size = Math.min(opts.chunkSize ?? this.#chunkSize(off, len, sha), len - off);
        const body: SmpBody = { off, data: image.subarray(off, off + size) };
        if (off === 0) {
          body.len = len;
          body.sha = sha;
          if (opts.upgrade) body.upgrade = true;
        }
        const r = await this.request(
          `image upload off ${off}`,
          SmpGroup.IMAGE,
          ImageCommand.UPLOAD,
          SmpOp.WRITE,
          body,
          first ? this.firstChunkTimeoutMs : this.timeoutMs,
        );
        first = false;
        const next = r.off;
        if (typeof next !== "number" || next > len)
          throw new SmpError("image upload", 3, undefined, `bad off ${String(next)}`, this.transcript);
        stuck = next > off ? 0 : stuck + 1;
        if (stuck > this.retries + 1)
          throw new SmpReplyError(
            "image upload",
            `no progress: off ${next} after ${stuck} replies in a row at or before ${off}`,
            this.transcript,
          );
        off = next;
        this.#emit({ kind: "chunk", off, len });
        opts.onProgress?.({ off, len });
        step.progress?.(off, len);
      }
      this.lastUploadBytes = len;
    });
  }

  /** The largest data chunk whose request still fits the device's buffer. */
  #chunkSize(off: number, len: number, sha: Uint8Array): number {
    const probe: SmpBody = { off, data: new Uint8Array(0) };
    if (off === 0) Object.assign(probe, { len, sha });
    const overhead = 8 + encodeBody(probe).length + 2; // header, body, bstr length growth
    return Math.max(4, Math.floor((this.mtu - overhead) / 4) * 4);
  }
}

/** The query has no answer: the v2 group error, or the ENOENT Zephyr translates it to for v1. */
function isNoAnswer(e: SmpError): boolean {
  if (e.group === SmpGroup.OS) return e.rc === OsMgmtErr.QUERY_YIELDS_NO_ANSWER;
  return e.group === undefined && e.rc === MgmtErr.ENOENT;
}

function checkReply(name: string, body: SmpBody, transcript: Transcript): SmpBody {
  const error = replyError(body);
  if (error) throw new SmpError(name, error.rc, error.group, error.reason, transcript);
  return body;
}

/** Hex of an image hash as mcumgr prints it. */
export function hashHex(hash: Uint8Array | undefined): string {
  return hash ? Buffer.from(hash).toString("hex") : "";
}
