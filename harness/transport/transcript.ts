/**
 * What went over the wire, with times: every serial write and read, every USB control
 * transfer, and notes from the harness ("power cut", "state dfuIDLE"). Reports attach it
 * as an annotated hex dump and as JSON, and the JSON plus the seed replays a scenario.
 */
import type {
  SetupPacket,
  TranscriptAnnotator,
  TranscriptDir,
  TranscriptEntry,
  TransferStatus,
} from "../seams/transcript.js";
import type { ByteStream, EventedByteStream, ReadOptions, SerialSignals } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { ReadTimeoutError, StreamClosedError } from "./errors.js";
import { fromHex, type HexDumpOptions, hexDump, toHex } from "./hex.js";
import { intercept } from "./intercept.js";
import { Listeners } from "./rx-queue.js";

export type { SetupPacket, TranscriptAnnotator, TranscriptDir, TranscriptEntry, TransferStatus };

export interface TranscriptJson {
  format: typeof FORMAT;
  entries: Array<Omit<TranscriptEntry, "bytes"> & { hex?: string }>;
}

const FORMAT = "update-hil/transcript@1";
const DIRS: readonly TranscriptDir[] = ["tx", "rx", "event", "ctrl-out", "ctrl-in"];
const STATUSES: readonly TransferStatus[] = ["ok", "stall", "babble", "error"];
const SETUP_FIELDS: readonly (keyof SetupPacket)[] = [
  "bmRequestType",
  "bRequest",
  "wValue",
  "wIndex",
  "wLength",
];
const ARROWS: Record<TranscriptDir, string> = {
  tx: ">>",
  "ctrl-out": ">>",
  rx: "<<",
  "ctrl-in": "<<",
  event: "--",
};

export type RenderOptions = HexDumpOptions;

export class Transcript {
  readonly clock: Clock;
  readonly #entries: TranscriptEntry[] = [];
  /** How entries read in protocol terms (see {@link TranscriptAnnotator}); none by default. */
  annotator: TranscriptAnnotator | undefined;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? new WallClock();
  }

  get entries(): readonly TranscriptEntry[] {
    return this.#entries;
  }

  /** Appends an entry stamped now (unless `t` is given). Bytes and setup are copied; absent fields stay absent. */
  record(entry: Omit<TranscriptEntry, "t"> & { t?: number }): TranscriptEntry {
    const stored: TranscriptEntry = { t: entry.t ?? this.clock.now(), dir: entry.dir };
    if (entry.bytes) stored.bytes = entry.bytes.slice();
    if (entry.note !== undefined) stored.note = entry.note;
    if (entry.setup) {
      const { bmRequestType, bRequest, wValue, wIndex, wLength } = entry.setup;
      stored.setup = { bmRequestType, bRequest, wValue, wIndex, wLength };
    }
    if (entry.status) stored.status = entry.status;
    this.#entries.push(stored);
    return stored;
  }

  /**
   * Appends an entry as it is, for a recorder that built it from its own private copies
   * (a USB recorder copies each 2 KB block once; `record` would copy it again).
   */
  adopt(entry: TranscriptEntry): TranscriptEntry {
    this.#entries.push(entry);
    return entry;
  }

  note(text: string): void {
    this.record({ dir: "event", note: text });
  }

  /** One block per entry: time, arrow, what, then a hex dump of its bytes. */
  render(opts: RenderOptions = {}): string {
    const lines: string[] = [];
    for (const entry of this.#entries) {
      const annotation = this.annotator?.(entry)?.text;
      lines.push(annotation ? `${header(entry)} [${annotation}]` : header(entry));
      if (entry.bytes) lines.push(...hexDump(entry.bytes, opts));
    }
    return lines.map((l) => `${l}\n`).join("");
  }

  /**
   * One line per exchange in the protocol's terms, replies chained onto their requests
   * ("  877.916 ms DNLOAD blk=2 len=2048 → GETSTATUS dfuDNBUSY poll=3ms → GETSTATUS
   * dfuDNLOAD-IDLE"); entries the annotator does not read keep their header line. The last
   * `tail` lines only, under a line saying how many came before, when given.
   */
  renderAnnotated(opts: { tail?: number } = {}): string {
    const lines: string[] = [];
    let chainable = false; // the last line is the annotator's, so a reply may chain onto it
    for (const entry of this.#entries) {
      const a = this.annotator?.(entry);
      if (a?.follows && chainable) lines[lines.length - 1] += ` → ${a.text}`;
      else lines.push(a ? `${entry.t.toFixed(3).padStart(10)} ms ${a.text}` : header(entry));
      chainable = a !== undefined;
    }
    const shown = opts.tail === undefined ? lines : lines.slice(-opts.tail);
    const heading = shown.length < lines.length ? `(last ${shown.length} of ${lines.length} lines)\n` : "";
    return `${heading}${shown.map((l) => `${l}\n`).join("")}`;
  }

  /**
   * The last `count` entries rendered as `render()` does, under a line saying how many
   * came before: what an error message carries, since a 128 KiB load would bury the
   * failing exchange.
   */
  renderTail(count: number, opts: RenderOptions = {}): string {
    const total = this.#entries.length;
    if (total === 0) return "";
    const tail = new Transcript({ clock: this.clock });
    tail.annotator = this.annotator;
    for (const entry of this.#entries.slice(-count)) tail.record(entry);
    const shown = tail.entries.length;
    const heading = shown < total ? `transcript (last ${shown} of ${total} entries):` : "transcript:";
    return `${heading}\n${tail.render(opts)}`;
  }

  toJSON(): TranscriptJson {
    return {
      format: FORMAT,
      entries: this.#entries.map(({ bytes, ...rest }) =>
        bytes ? { ...rest, hex: toHex(bytes) } : { ...rest },
      ),
    };
  }

  /** @throws {TypeError} naming the first malformed field. */
  static fromJSON(json: unknown, opts: { clock?: Clock } = {}): Transcript {
    const doc = json as Partial<TranscriptJson> | null;
    if (doc?.format !== FORMAT || !Array.isArray(doc.entries)) {
      throw new TypeError(`transcript JSON expected format "${FORMAT}" with an entries array`);
    }
    const transcript = new Transcript(opts);
    doc.entries.forEach((raw, i) => {
      const { hex, ...entry } = raw;
      const bad = (what: string) =>
        new TypeError(`transcript entry ${i}: ${what}, got ${JSON.stringify(raw)}`);
      if (typeof entry.t !== "number" || !Number.isFinite(entry.t)) throw bad('"t" expected a finite number');
      if (!DIRS.includes(entry.dir)) throw bad(`"dir" expected one of ${DIRS.join("|")}`);
      if (entry.note !== undefined && typeof entry.note !== "string") throw bad('"note" expected a string');
      if (entry.status !== undefined && !STATUSES.includes(entry.status)) throw bad('"status" unknown');
      if (entry.setup !== undefined && !SETUP_FIELDS.every((f) => Number.isInteger(entry.setup?.[f]))) {
        throw bad(`"setup" expected integer ${SETUP_FIELDS.join(", ")}`);
      }
      transcript.record(hex === undefined ? entry : { ...entry, bytes: fromHex(hex) });
    });
    return transcript;
  }
}

function header(entry: TranscriptEntry): string {
  const parts = [`${entry.t.toFixed(3).padStart(10)} ms`, ARROWS[entry.dir]];
  if (entry.dir === "event") return [...parts, entry.note ?? ""].join(" ");
  parts.push(entry.dir);
  if (entry.setup) parts.push(setupText(entry.setup));
  if (entry.status) {
    const status = entry.status === "ok" ? "-> ok" : `-> *** ${entry.status.toUpperCase()} ***`;
    parts.push(entry.bytes ? `${status},` : status);
  }
  if (entry.bytes) parts.push(`${entry.bytes.length} byte${entry.bytes.length === 1 ? "" : "s"}`);
  if (entry.note) parts.push(`(${entry.note})`);
  return parts.join(" ");
}

function setupText(s: SetupPacket): string {
  const h = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, "0")}`;
  return `bmRequestType=${h(s.bmRequestType, 2)} bRequest=${h(s.bRequest, 2)} wValue=${h(s.wValue, 4)} wIndex=${h(s.wIndex, 4)} wLength=${s.wLength}`;
}

export interface RecordStreamOptions {
  /** Which end the wrapped stream is. On "device" its writes are device-to-host ("rx"). Default "host". */
  side?: "host" | "device";
}

/**
 * The same stream, recording every write, every read (with the partial bytes of a failed
 * read), flushes, DTR/RTS changes and the close into `transcript`.
 */
export function recordStream<S extends ByteStream>(
  stream: S,
  transcript: Transcript,
  opts: RecordStreamOptions = {},
): S {
  const [out, inb]: [TranscriptDir, TranscriptDir] = opts.side === "device" ? ["rx", "tx"] : ["tx", "rx"];
  stream.onClose((reason) =>
    transcript.note(`${stream.name} ${reason.disconnected ? "disconnected" : "closed"}: ${reason.reason}`),
  );
  const overrides: Partial<EventedByteStream> = {
    async write(bytes: Uint8Array) {
      transcript.record({ dir: out, bytes });
      try {
        await stream.write(bytes);
      } catch (error) {
        transcript.note(`write failed: ${(error as Error).message}`);
        throw error;
      }
    },
    async read(n: number, readOpts: ReadOptions) {
      try {
        const bytes = await stream.read(n, readOpts);
        transcript.record({ dir: inb, bytes });
        return bytes;
      } catch (error) {
        if (error instanceof ReadTimeoutError) {
          transcript.record({
            dir: inb,
            bytes: error.partial,
            note: `timeout after ${error.timeoutMs} ms, wanted ${n}`,
          });
        } else if (error instanceof StreamClosedError) {
          transcript.record({ dir: inb, bytes: error.partial, note: `read of ${n} ended: ${error.message}` });
        }
        throw error;
      }
    },
    readAvailable() {
      const bytes = stream.readAvailable();
      if (bytes.length > 0) transcript.record({ dir: inb, bytes });
      return bytes;
    },
    async flush() {
      transcript.note(`flush ${stream.name}`);
      await stream.flush();
    },
  };
  if (stream.setSignals) {
    const setSignals = stream.setSignals.bind(stream);
    overrides.setSignals = async (signals: SerialSignals) => {
      const lines = Object.entries(signals).map(([line, on]) => `${line}=${on ? 1 : 0}`);
      transcript.note(`signals ${lines.join(" ")}`);
      await setSignals(signals);
    };
  }
  const evented = stream as Partial<EventedByteStream>;
  if (evented.onData) overrides.onData = recordOnData(evented.onData.bind(stream), transcript, inb);
  return intercept(stream, overrides as Partial<S>);
}

/** One inner subscription records each chunk once, however many listeners the wrapper has. */
function recordOnData(
  innerOnData: (l: (bytes: Uint8Array) => void) => () => void,
  transcript: Transcript,
  dir: TranscriptDir,
) {
  const listeners = new Listeners<Uint8Array>();
  let unsubscribeInner: (() => void) | undefined;
  return (listener: (bytes: Uint8Array) => void) => {
    const unsubscribe = listeners.add(listener);
    unsubscribeInner ??= innerOnData((bytes) => {
      transcript.record({ dir, bytes });
      listeners.emit(bytes);
    });
    return () => {
      unsubscribe();
      if (listeners.size === 0) {
        unsubscribeInner?.();
        unsubscribeInner = undefined;
      }
    };
  };
}
