import { decodeBody, encodeBody, encodeIndefinite, type SmpBody } from "./cbor.js";
import { encodeSmpHeader, SMP_HEADER_SIZE, type SmpHeader } from "./header.js";
import type { SmpPacket } from "./serial.js";

export interface SmpMessage {
  header: Omit<SmpHeader, "length">;
  body: SmpBody;
}

/** Header + CBOR body bytes, the header's length filled in. */
export function encodeMessage(m: SmpMessage, opts: { indefinite?: boolean } = {}): Uint8Array {
  const body = opts.indefinite ? encodeIndefinite(m.body) : encodeBody(m.body);
  const out = new Uint8Array(SMP_HEADER_SIZE + body.length);
  out.set(encodeSmpHeader({ ...m.header, length: body.length }));
  out.set(body, SMP_HEADER_SIZE);
  return out;
}

export function decodeMessage(p: SmpPacket): SmpMessage {
  const { length: _length, ...header } = p.header;
  return { header, body: decodeBody(p.body) };
}
