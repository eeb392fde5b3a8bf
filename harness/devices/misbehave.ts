/**
 * The `misbehave` emulator personality: a device that now and then answers wrongly, the way
 * real boards, hubs and adapters do in ways no document lists. One seeded engine decides
 * per reply whether and how to misbehave; thin adapters at each family's reply boundary
 * (USB control replies, serial writes, SMP messages) apply the decision. The same seed gives
 * the same misbehaviour, so a failing run replays. Off unless the rig file or
 * `hil emulate --option misbehave=SEED[:RATE]` asks.
 */

import { Random } from "../sim/random.js";
import { EmulatorOptionError } from "./option-error.js";

/** The rig file / `--option` key. */
export const MISBEHAVE_OPTION = "misbehave";

/** How often (share of replies, 0..1] the device misbehaves unless the option says. */
export const DEFAULT_MISBEHAVE_RATE = 0.1;

export interface MisbehaveSetting {
  readonly seed: number;
  /** Share of replies that go wrong, (0, 1]. */
  readonly rate: number;
}

/**
 * Every way a reply can go wrong. Not every boundary can do every one (a USB control IN
 * reply cannot be longer than wLength); each adapter lists those it can.
 */
export type Mischief =
  /** The reply cut short. */
  | "short"
  /** The reply with bytes appended. */
  | "long"
  /** One byte of the reply changed (a wrong length field, checksum or value). */
  | "corrupt"
  /** A protocol-level wrong answer: unexpected state or status code (NACK, error bit, rc). */
  | "status"
  /** The reply of an earlier request instead (a reply to the wrong request). */
  | "stale"
  /** The reply sent twice. */
  | "duplicate"
  /** The reply held back and sent after the next one. */
  | "reorder"
  /** Random bytes instead of the reply (garbage CBOR on SMP). */
  | "garbage"
  /** The request refused at the link level (USB STALL handshake). */
  | "stall"
  /** The reply comes late (a busy device, a slow hub): up to {@link MAX_DELAY_MS}. */
  | "delay"
  /** No reply at all. */
  | "silence"
  /** The device resets in the middle of the reply. */
  | "reset";

export const ALL_MISCHIEF: readonly Mischief[] = [
  "short",
  "long",
  "corrupt",
  "status",
  "stale",
  "duplicate",
  "reorder",
  "garbage",
  "stall",
  "delay",
  "silence",
  "reset",
];

/** The longest a delayed reply waits: beyond every client's per-exchange timeout. */
export const MAX_DELAY_MS = 12_000;

/**
 * Reads the option: "SEED" or "SEED:RATE" (a rig file may also give a number, or
 * `{seed, rate}`). Undefined when absent: the device behaves as documented.
 * @throws {EmulatorOptionError} naming the option and what was given.
 */
export function parseMisbehave(value: unknown): MisbehaveSetting | undefined {
  if (value === undefined || value === false || value === "false" || value === "off") return undefined;
  const expected = "SEED or SEED:RATE (SEED a whole number, RATE in (0, 1])";
  let seedText: unknown;
  let rateText: unknown;
  if (typeof value === "number") seedText = value;
  else if (typeof value === "string") [seedText, rateText] = value.split(":", 2);
  else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    ({ seed: seedText, rate: rateText } = value as { seed?: unknown; rate?: unknown });
  } else throw new EmulatorOptionError(MISBEHAVE_OPTION, expected, value);
  const seed = typeof seedText === "number" ? seedText : Number(String(seedText ?? "").trim() || Number.NaN);
  const rate =
    rateText === undefined
      ? DEFAULT_MISBEHAVE_RATE
      : typeof rateText === "number"
        ? rateText
        : Number(String(rateText).trim() || Number.NaN);
  if (!Number.isSafeInteger(seed) || !(rate > 0 && rate <= 1))
    throw new EmulatorOptionError(MISBEHAVE_OPTION, expected, value);
  return { seed: seed >>> 0, rate };
}

/** The setting of an emulator's options map, if it has one. */
export function misbehaveOf(
  options: Readonly<Record<string, unknown>> | undefined,
): MisbehaveSetting | undefined {
  return parseMisbehave(options?.[MISBEHAVE_OPTION]);
}

/** One decision, for the device log and the tests. */
export interface MischiefRecord {
  /** Which reply of this boundary (0-based). */
  readonly reply: number;
  readonly kind: Mischief;
}

/**
 * The engine: per reply, answer as documented or pick one mischief from those the
 * boundary can do, and supply the random bytes and lengths the mischief needs. A boundary
 * gets its own engine, forked by a label from the seed, so adding one shifts no other.
 */
export class Misbehaviour {
  readonly random: Random;
  #replies = 0;
  readonly #done: MischiefRecord[] = [];

  constructor(
    readonly setting: MisbehaveSetting,
    readonly label: string,
  ) {
    this.random = new Random(setting.seed).fork(label);
  }

  /** The mischief for the next reply, or undefined to answer as documented. */
  next(allowed: readonly Mischief[]): Mischief | undefined {
    const reply = this.#replies++;
    // One draw per reply whatever happens, so a decision depends only on the reply's index.
    const roll = this.random.nextU32() / 0x1_0000_0000;
    const pick = this.random.nextU32();
    if (roll >= this.setting.rate || allowed.length === 0) return undefined;
    const kind = allowed[pick % allowed.length]!;
    this.#done.push({ reply, kind });
    return kind;
  }

  /** Replies seen so far. */
  get replies(): number {
    return this.#replies;
  }

  /** What was done so far (the newest 1000). */
  get done(): readonly MischiefRecord[] {
    if (this.#done.length > 1000) this.#done.splice(0, this.#done.length - 1000);
    return this.#done;
  }

  /** `bytes` cut to a shorter length (possibly empty). */
  shorten(bytes: Uint8Array): Uint8Array {
    return bytes.subarray(0, bytes.length === 0 ? 0 : this.random.below(bytes.length));
  }

  /** `bytes` with 1..16 random bytes appended. */
  lengthen(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes.length + 1 + this.random.below(16));
    out.set(bytes);
    for (let i = bytes.length; i < out.length; i++) out[i] = this.random.byte();
    return out;
  }

  /** A copy of `bytes` with one byte changed (a random non-zero XOR); empty stays empty. */
  corrupt(bytes: Uint8Array): Uint8Array {
    const out = bytes.slice();
    if (out.length === 0) return out;
    const at = this.random.below(out.length);
    out[at] = out[at]! ^ (1 + this.random.below(255));
    return out;
  }

  /** 1..`max` random bytes. */
  garbage(max = 64): Uint8Array {
    return Uint8Array.from({ length: 1 + this.random.below(max) }, () => this.random.byte());
  }

  /** How late a delayed reply comes, in ms: mostly short, sometimes beyond any timeout. */
  delayMs(): number {
    return this.random.below(4) === 0 ? MAX_DELAY_MS : this.random.below(2000);
  }
}

/**
 * What a serial boundary does with a mischief: a device writes its replies through
 * {@link MisbehavingWriter.write} instead of straight to the line.
 */
export interface SerialBoundary {
  /** The line write. */
  write(bytes: Uint8Array): Promise<void>;
  /** Device time. */
  sleep(ms: number): Promise<void>;
  /** Resets the device (mid-reply: after part of it went out). */
  reset(): void;
  /** The protocol's wrong-status version of a reply (NACK for ACK, an error bit); undefined: corrupt it. */
  status?(bytes: Uint8Array, random: Random): Uint8Array | undefined;
  /** Says what was done, in the device's event log. */
  log(detail: string): void;
}

/** Every mischief a byte stream can do (it has no STALL handshake). */
export const SERIAL_MISCHIEF: readonly Mischief[] = ALL_MISCHIEF.filter((m) => m !== "stall");

/**
 * The serial adapter shared by the USART bootloader, the TKey and the SMP console: each
 * reply the device writes goes through the engine.
 */
export class MisbehavingWriter {
  /** The last reply that went out as documented (for "stale"). */
  #previous: Uint8Array | undefined;
  /** A reply held back for "reorder". */
  #held: Uint8Array | undefined;

  constructor(
    readonly engine: Misbehaviour,
    readonly boundary: SerialBoundary,
    readonly allowed: readonly Mischief[] = SERIAL_MISCHIEF,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    const kind = this.engine.next(this.allowed);
    const previous = this.#previous;
    this.#previous = bytes;
    const held = this.#held;
    this.#held = undefined;
    const send = async (b: Uint8Array) => {
      if (b.length > 0) await this.boundary.write(b);
    };
    const out = async (b: Uint8Array) => {
      await send(b);
      if (held) await send(held);
    };
    if (kind === undefined) return out(bytes);
    const e = this.engine;
    this.boundary.log(`misbehave ${kind} on reply ${e.replies - 1} (${bytes.length} byte(s))`);
    switch (kind) {
      case "short":
        return out(e.shorten(bytes));
      case "long":
        return out(e.lengthen(bytes));
      case "corrupt":
        return out(e.corrupt(bytes));
      case "status":
        return out(this.boundary.status?.(bytes, e.random) ?? e.corrupt(bytes));
      case "stale":
        return out(previous ?? e.garbage(bytes.length + 1));
      case "duplicate":
        await out(bytes);
        return send(bytes);
      case "reorder":
        this.#held = bytes;
        if (held) await send(held);
        return;
      case "garbage":
        return out(e.garbage());
      case "stall":
      case "delay":
        await this.boundary.sleep(e.delayMs());
        return out(bytes);
      case "silence":
        return;
      case "reset":
        await send(e.shorten(bytes));
        this.boundary.reset();
        return;
    }
  }
}
