/**
 * Frame reader, byte by byte, as the firmware's readcommand does it: the header byte is
 * judged before any payload is read (bit 7 or bit 2 set fails at once), then exactly the
 * announced number of payload bytes is collected.
 */
import { type DecodedHeader, decodeHeader } from "../../protocol/tkey/index.js";

export type ReadStep =
  | { kind: "more" }
  | { kind: "frame"; header: DecodedHeader; payload: Uint8Array }
  | { kind: "bad-header"; header: DecodedHeader; byte: number };

export class FrameReader {
  #header: DecodedHeader | undefined;
  #payload = new Uint8Array(128);
  #have = 0;

  /** Mid-frame: some bytes of a frame arrived, the rest has not. */
  get partial(): boolean {
    return this.#header !== undefined;
  }

  push(byte: number): ReadStep {
    if (!this.#header) {
      const header = decodeHeader(byte);
      if (header.reservedBit || header.nok) return { kind: "bad-header", header, byte };
      this.#header = header;
      this.#have = 0;
      return { kind: "more" };
    }
    this.#payload[this.#have++] = byte;
    if (this.#have < this.#header.length) return { kind: "more" };
    const header = this.#header;
    this.#header = undefined;
    return { kind: "frame", header, payload: this.#payload.slice(0, header.length) };
  }

  reset(): void {
    this.#header = undefined;
    this.#have = 0;
  }
}
