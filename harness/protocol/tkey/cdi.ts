/**
 * Digests and the Compound Device Identifier, with BLAKE2s-256 from @noble/hashes.
 *
 * - App digest: unkeyed BLAKE2s-256 over exactly the app's bytes (no padding).
 * - Bellatrix CDI: BLAKE2s-256(UDS ‖ digest ‖ [USS if provided]), unkeyed.
 * - Castor CDI: BLAKE2s-256(key = UDS; domain ‖ digest-or-measured-id ‖ [USS]) where the
 *   domain byte has bit 0 = USS present and bit 1 = measured id.
 * - The UDS is 8 words fed in memory (little-endian) byte order.
 */
import { blake2s } from "@noble/hashes/blake2.js";
import { USS_SIZE } from "./firmware.js";

export type CdiScheme = "bellatrix" | "castor";

export function appDigest(app: Uint8Array): Uint8Array {
  return blake2s(app, { dkLen: 32 });
}

/** The 32 UDS bytes as the CPU reads them: each word little-endian. */
export function udsBytes(words: readonly number[]): Uint8Array {
  if (words.length !== 8) throw new RangeError(`UDS is 8 words, got ${words.length}`);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  for (const [i, w] of words.entries()) view.setUint32(i * 4, w >>> 0, true);
  return out;
}

export interface CdiInput {
  uds: Uint8Array;
  digest: Uint8Array;
  /** The USS field as the firmware stored it; undefined when the flag was 0. */
  uss?: Uint8Array | undefined;
  /** Castor only: a chained app's measured id replaces the digest. */
  measuredId?: Uint8Array | undefined;
}

function need32(name: string, bytes: Uint8Array): void {
  if (bytes.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${bytes.length}`);
}

export function cdiBellatrix({ uds, digest, uss }: CdiInput): Uint8Array {
  need32("UDS", uds);
  need32("digest", digest);
  if (uss) need32("USS", uss);
  const input = new Uint8Array(64 + (uss ? 32 : 0));
  input.set(uds, 0);
  input.set(digest, 32);
  if (uss) input.set(uss, 64);
  return blake2s(input, { dkLen: 32 });
}

export function cdiCastor({ uds, digest, uss, measuredId }: CdiInput): Uint8Array {
  need32("UDS", uds);
  need32("digest", digest);
  if (uss) need32("USS", uss);
  if (measuredId) need32("measured id", measuredId);
  const input = new Uint8Array(33 + (uss ? 32 : 0));
  input[0] = (uss ? 1 : 0) | (measuredId ? 2 : 0);
  input.set(measuredId ?? digest, 1);
  if (uss) input.set(uss, 33);
  return blake2s(input, { key: uds, dkLen: 32 });
}

export function computeCdi(scheme: CdiScheme, input: CdiInput): Uint8Array {
  return scheme === "castor" ? cdiCastor(input) : cdiBellatrix(input);
}

/** tkeyclient's USS: unkeyed BLAKE2s-256 of the secret phrase. */
export function ussFromSecret(secret: string | Uint8Array): Uint8Array {
  return appDigest(typeof secret === "string" ? new TextEncoder().encode(secret) : secret);
}

/**
 * How a client puts a 32-byte USS on the wire, which the CDI then depends on:
 * - "full": all 32 bytes (tkeyclient v1.3 on Castor, or forced)
 * - "compat31": uss[1..31] then 0x00 (tkeyclient v1.3 on other products, backward compatible)
 * - "legacy": tkeyclient ≤ v1.2.0's bug: the flag byte is uss[0] and the field uss[1..31] ‖ 0,
 *   so a USS whose first byte is 0 is ignored by the firmware.
 */
export type UssWireMode = "full" | "compat31" | "legacy";

export interface UssOnWire {
  flag: number;
  field: Uint8Array;
}

export function ussOnWire(uss: Uint8Array, mode: UssWireMode): UssOnWire {
  need32("USS", uss);
  if (mode === "full") return { flag: 1, field: uss.slice() };
  const field = new Uint8Array(USS_SIZE);
  field.set(uss.subarray(1));
  return { flag: mode === "legacy" ? uss[0]! : 1, field };
}

/** tkeyclient v1.3.x picks full USS for Castor (product ID 3) and the 31-byte form otherwise. */
export function defaultUssMode(productId: number): UssWireMode {
  return productId === 3 ? "full" : "compat31";
}
