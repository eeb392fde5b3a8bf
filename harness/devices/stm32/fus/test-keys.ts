/**
 * ST's signature and encryption cannot be reproduced. The emulated FUS verifies "ST
 * signatures" against this emulator-only P-256 key instead, and the fixture generator signs
 * with it. TEST ONLY: derived from a public label, it protects nothing; a real STM32WB
 * rejects every image signed with it.
 *
 * Signed message (emulator convention, not ST's): the 20-byte image footer followed by the
 * last 32 bytes of the body, which carry SHA-256 of the rest of the body (the stand-in for
 * the integrity of ST's encrypted payload). ECDSA P-256 over SHA-256, 64-byte r‖s. A
 * customer signature signs the same message with the customer's key (AN5185 §4).
 */
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { VerdictMemo } from "../../../seams/verdict-memo.js";

const LABEL = "update-hil emulated STM32WB FUS: ST test signing key (not ST's)";

export const ST_TEST_SECRET: Uint8Array = sha256(new TextEncoder().encode(LABEL));
/** Uncompressed point without the 0x04 prefix: X‖Y, the 64 bytes FUS_UPDATE_AUTH_KEY carries too. */
export const ST_TEST_PUBLIC: Uint8Array = p256.getPublicKey(ST_TEST_SECRET, false).slice(1);

/** A deterministic customer key pair for fixtures and suites (test only). */
export function customerTestKey(label: string): { secret: Uint8Array; publicKey: Uint8Array } {
  const secret = sha256(new TextEncoder().encode(`update-hil customer test key: ${label}`));
  return { secret, publicKey: p256.getPublicKey(secret, false).slice(1) };
}

export function signFus(message: Uint8Array, secret: Uint8Array): Uint8Array {
  return p256.sign(message, secret);
}

const verdicts = new VerdictMemo();

/** Verdicts are remembered (see {@link VerdictMemo}): FUS checks the same image after every cut of a sweep. */
export function verifyFus(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 64) return false;
  return verdicts.check([signature, message, publicKey], () => verifyOnce(signature, message, publicKey));
}

function verifyOnce(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return p256.verify(signature, message, Uint8Array.of(0x04, ...publicKey));
  } catch {
    return false;
  }
}

/** The bytes a FUS signature covers: image footer ‖ body digest trailer. */
export function signedMessage(imageFooter: Uint8Array, digestTrailer: Uint8Array): Uint8Array {
  return Uint8Array.of(...imageFooter, ...digestTrailer);
}

export const DIGEST_SIZE = 32;

export function bodyDigest(bodyWithoutTrailer: Uint8Array): Uint8Array {
  return sha256(bodyWithoutTrailer);
}
