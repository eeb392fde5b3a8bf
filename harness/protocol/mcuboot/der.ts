/**
 * The little DER this package needs: SubjectPublicKeyInfo (KEYHASH is the SHA-256 of it),
 * PKCS#8 and SEC1 private keys (imgtool's PEM files). Definite lengths only, as DER requires.
 */

import { concatBytes as concat } from "../../seams/bytes.js";

export interface DerNode {
  tag: number;
  /** Contents octets. */
  value: Uint8Array;
  /** Offset of the tag byte in the parsed buffer. */
  offset: number;
}

export function derRead(bytes: Uint8Array, offset = 0): { node: DerNode; next: number } {
  if (offset + 2 > bytes.length) throw new RangeError(`DER: truncated at ${offset}`);
  const tag = bytes[offset]!;
  let len = bytes[offset + 1]!;
  let at = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || at + n > bytes.length) throw new RangeError(`DER: bad length at ${offset + 1}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[at + i]!;
    at += n;
  }
  if (at + len > bytes.length) throw new RangeError(`DER: value at ${at} runs past the end`);
  return { node: { tag, value: bytes.subarray(at, at + len), offset }, next: at + len };
}

/** The children of a constructed node (SEQUENCE, context tags). */
export function derChildren(value: Uint8Array): DerNode[] {
  const out: DerNode[] = [];
  let at = 0;
  while (at < value.length) {
    const { node, next } = derRead(value, at);
    out.push(node);
    at = next;
  }
  return out;
}

export function derEncode(tag: number, value: Uint8Array): Uint8Array {
  const len = value.length;
  const lenBytes =
    len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : len < 0x10000 ? [0x82, len >> 8, len & 0xff] : undefined;
  if (!lenBytes) throw new RangeError("DER: value too long");
  const out = new Uint8Array(1 + lenBytes.length + len);
  out[0] = tag;
  out.set(lenBytes, 1);
  out.set(value, 1 + lenBytes.length);
  return out;
}

export const derSeq = (...parts: Uint8Array[]): Uint8Array => derEncode(0x30, concat(parts));
