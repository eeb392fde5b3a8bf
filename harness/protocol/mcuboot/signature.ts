import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { VerdictMemo } from "../../seams/verdict-memo.js";
import { TlvType } from "./constants.js";
import type { PrivateKey, PublicKey } from "./keys.js";

/** imgtool `--pad-sig` pads a P-256 DER signature with zeros to this fixed length. */
export const ECDSA_P256_PADDED_SIG_LEN = 72;

export function signatureTlvType(key: PublicKey): number {
  return key.type === "ecdsa-p256" ? TlvType.ECDSA_SIG : TlvType.ED25519;
}

/**
 * Signs what MCUboot verifies: the SHA-256 digest of the image (ECDSA over the digest as the
 * message hash; Ed25519 over the digest bytes), or the image itself for Ed25519 `--pure`.
 * RFC 6979 nonces keep the fixtures reproducible.
 */
export function signMessage(key: PrivateKey, message: Uint8Array, padSig = false): Uint8Array {
  if (key.type === "ed25519") return ed25519.sign(message, key.secret);
  const der = p256.sign(message, key.secret, { prehash: false, format: "der" });
  if (!padSig || der.length >= ECDSA_P256_PADDED_SIG_LEN) return der;
  const out = new Uint8Array(ECDSA_P256_PADDED_SIG_LEN);
  out.set(der);
  return out;
}

/** Pure Ed25519 signs the whole image: only digests and the like are worth remembering. */
const MEMO_MESSAGE_MAX = 64;
const verdicts = new VerdictMemo();

/**
 * True when `sig` is a valid signature; trailing zero padding after the DER is tolerated, as
 * MCUboot's parser does. Verdicts are remembered (see {@link VerdictMemo}): an emulated
 * bootloader checks the same image at every boot.
 */
export function verifyMessage(key: PublicKey, message: Uint8Array, sig: Uint8Array): boolean {
  if (message.length > MEMO_MESSAGE_MAX) return verifyOnce(key, message, sig);
  return verdicts.check([key.type, key.raw, message, sig], () => verifyOnce(key, message, sig));
}

function verifyOnce(key: PublicKey, message: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (key.type === "ed25519") return sig.length === 64 && ed25519.verify(sig, message, key.raw);
    const der = stripDerPadding(sig);
    if (!der) return false;
    return p256.verify(der, message, key.raw, { prehash: false, format: "der", lowS: false });
  } catch {
    return false;
  }
}

function stripDerPadding(sig: Uint8Array): Uint8Array | undefined {
  if (sig.length < 2 || sig[0] !== 0x30 || sig[1]! >= 0x80) return undefined;
  const len = 2 + sig[1]!;
  if (len > sig.length || sig.subarray(len).some((b) => b !== 0)) return undefined;
  return sig.subarray(0, len);
}
