import { crc16Xmodem } from "./crc16.js";
import { decodeSmpHeader, SMP_HEADER_SIZE, type SmpHeader } from "./header.js";

/**
 * SMP over a serial line (smp_transport.rst, MCUboot boot_serial): the packet
 * `u16 BE len ‖ header ‖ CBOR ‖ u16 BE CRC16` is base64-encoded and cut into lines;
 * the first starts 0x06 0x09, later ones 0x04 0x14, each ends with '\n'. Each line's
 * base64 is a multiple of 4 characters because MCUboot decodes every line on its own.
 */
export const FRAME_START = Uint8Array.of(0x06, 0x09);
export const FRAME_CONTINUE = Uint8Array.of(0x04, 0x14);
/** MCUboot BOOT_MAX_LINE_INPUT_LEN: a line with markers and newline stays under this. */
export const MAX_LINE_LENGTH = 128;

export interface SmpPacket {
  header: SmpHeader;
  /** CBOR body bytes (header.length of them). */
  body: Uint8Array;
}

/** The raw packet bytes: header + body with the length prefix and CRC. */
export function packPacket(headerAndBody: Uint8Array): Uint8Array {
  const total = headerAndBody.length + 2;
  const out = new Uint8Array(2 + total);
  out[0] = total >> 8;
  out[1] = total & 0xff;
  out.set(headerAndBody, 2);
  const crc = crc16Xmodem(headerAndBody);
  out[out.length - 2] = crc >> 8;
  out[out.length - 1] = crc & 0xff;
  return out;
}

/** Frames one SMP message (header + CBOR) into console lines of at most `lineLength` bytes. */
export function encodeSerialFrame(headerAndBody: Uint8Array, lineLength = MAX_LINE_LENGTH - 1): Uint8Array {
  const b64 = Buffer.from(packPacket(headerAndBody)).toString("base64");
  const chunk = Math.floor((lineLength - 3) / 4) * 4;
  if (chunk < 4) throw new RangeError(`line length ${lineLength} leaves no room for base64`);
  const lines: Buffer[] = [];
  for (let at = 0; at < b64.length; at += chunk) {
    const marker = at === 0 ? FRAME_START : FRAME_CONTINUE;
    lines.push(Buffer.concat([marker, Buffer.from(b64.slice(at, at + chunk), "latin1"), Buffer.of(0x0a)]));
  }
  return new Uint8Array(Buffer.concat(lines));
}

export type FrameDrop =
  | "bad-base64"
  | "bad-length"
  | "bad-crc"
  | "too-long"
  | "orphan-continuation"
  | "short-header";

export interface SerialDecoderOptions {
  /** Largest SMP packet (header + CBOR) accepted (MCUboot BOOT_SERIAL_MAX_RECEIVE_SIZE); larger ones are dropped. */
  maxPacket?: number;
  /** Bytes that are not part of a frame (console output on a shared UART). */
  onNoise?: (bytes: Uint8Array) => void;
}

/**
 * Reassembles frames from a byte stream. A bad line or packet is dropped without a word,
 * as the firmware does; `dropped` counts why, for tests and transcripts.
 */
export class SerialFrameDecoder {
  readonly dropped: FrameDrop[] = [];
  #line: number[] = [];
  #packet: Uint8Array | undefined;
  readonly #maxPacket: number;

  constructor(private readonly options: SerialDecoderOptions = {}) {
    this.#maxPacket = options.maxPacket ?? 2048;
  }

  /** Feeds bytes; returns the packets completed by them. */
  push(bytes: Uint8Array): SmpPacket[] {
    const out: SmpPacket[] = [];
    for (const b of bytes) {
      if (b !== 0x0a) {
        this.#line.push(b);
        if (this.#line.length > MAX_LINE_LENGTH * 4) this.#drop("too-long");
        continue;
      }
      const line = Uint8Array.from(this.#line);
      this.#line = [];
      const p = this.#takeLine(line);
      if (p) out.push(p);
    }
    return out;
  }

  /** Forget a half-received frame (the receiver's RAM went away). */
  reset(): void {
    this.#line = [];
    this.#packet = undefined;
  }

  #drop(why: FrameDrop): undefined {
    this.dropped.push(why);
    this.#line = [];
    this.#packet = undefined;
    return undefined;
  }

  #takeLine(line: Uint8Array): SmpPacket | undefined {
    const start = line[0] === FRAME_START[0] && line[1] === FRAME_START[1];
    const cont = line[0] === FRAME_CONTINUE[0] && line[1] === FRAME_CONTINUE[1];
    if (!start && !cont) {
      if (line.length > 0) this.options.onNoise?.(line);
      return undefined;
    }
    if (cont && !this.#packet) return this.#drop("orphan-continuation");
    const text = Buffer.from(line.subarray(2)).toString("latin1").replace(/\r$/, "");
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return this.#drop("bad-base64");
    const data = new Uint8Array(Buffer.from(text, "base64"));
    const prior = start ? new Uint8Array(0) : this.#packet!;
    const packet = new Uint8Array(prior.length + data.length);
    packet.set(prior);
    packet.set(data, prior.length);
    // len prefix and CRC are not part of the SMP packet the limit is about.
    if (packet.length > this.#maxPacket + 4) return this.#drop("too-long");
    this.#packet = packet;
    if (packet.length < 2) return undefined;
    const total = (packet[0]! << 8) | packet[1]!;
    if (packet.length - 2 < total) return undefined;
    this.#packet = undefined;
    if (packet.length - 2 > total) return this.#drop("bad-length");
    const frame = packet.subarray(2);
    if (total < SMP_HEADER_SIZE + 2) return this.#drop("short-header");
    if (crc16Xmodem(frame) !== 0) return this.#drop("bad-crc");
    const headerAndBody = frame.subarray(0, frame.length - 2);
    const header = decodeSmpHeader(headerAndBody);
    if (header.length !== headerAndBody.length - SMP_HEADER_SIZE) return this.#drop("bad-length");
    return { header, body: headerAndBody.slice(SMP_HEADER_SIZE) };
  }
}
