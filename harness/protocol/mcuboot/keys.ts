import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes as concat } from "../../seams/bytes.js";
import { derChildren, derEncode, derRead, derSeq } from "./der.js";
import { McubootKeyError } from "./errors.js";

/**
 * Keys as imgtool handles them: PEM files (PKCS#8 or SEC1 "EC PRIVATE KEY" for P-256,
 * PKCS#8 for Ed25519, SubjectPublicKeyInfo "PUBLIC KEY" for either). KEYHASH is the
 * SHA-256 of the public key's DER SubjectPublicKeyInfo.
 */
export type KeyType = "ecdsa-p256" | "ed25519";
export const KEY_TYPES: readonly KeyType[] = ["ecdsa-p256", "ed25519"];

const OID_EC_PUBLIC_KEY = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
const OID_PRIME256V1 = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
const OID_ED25519 = Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70);

export interface PublicKey {
  type: KeyType;
  /** Raw point: 65-byte uncompressed P-256 or 32-byte Ed25519. */
  raw: Uint8Array;
}

export interface PrivateKey extends PublicKey {
  /** 32-byte P-256 scalar or Ed25519 seed. */
  secret: Uint8Array;
}

export function generateKey(type: KeyType, seed?: Uint8Array): PrivateKey {
  if (type === "ecdsa-p256") {
    // A 48-byte seed reduces to a scalar without bias (noble's hash-to-field rule).
    const secret = p256.utils.randomSecretKey(seed ? sha256Stretch(seed, 48) : undefined);
    return { type, secret, raw: p256.getPublicKey(secret, false) };
  }
  const secret = seed ? sha256(seed) : ed25519.utils.randomSecretKey();
  return { type, secret, raw: ed25519.getPublicKey(secret) };
}

function sha256Stretch(seed: Uint8Array, n: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; parts.length * 32 < n; i++) parts.push(sha256(concat([seed, Uint8Array.of(i)])));
  return concat(parts).subarray(0, n);
}

export function publicOf(key: PublicKey): PublicKey {
  return { type: key.type, raw: key.raw };
}

export function encodeSpki(key: PublicKey): Uint8Array {
  const alg = key.type === "ecdsa-p256" ? derSeq(OID_EC_PUBLIC_KEY, OID_PRIME256V1) : derSeq(OID_ED25519);
  return derSeq(alg, derEncode(0x03, concat([Uint8Array.of(0), key.raw])));
}

/** The KEYHASH TLV value (and how MCUboot finds the built-in key). */
export function keyHash(key: PublicKey): Uint8Array {
  return sha256(encodeSpki(key));
}

export function encodePkcs8(key: PrivateKey): Uint8Array {
  const version = derEncode(0x02, Uint8Array.of(0));
  if (key.type === "ed25519")
    return derSeq(version, derSeq(OID_ED25519), derEncode(0x04, derEncode(0x04, key.secret)));
  const ecPrivate = derSeq(
    derEncode(0x02, Uint8Array.of(1)),
    derEncode(0x04, key.secret),
    derEncode(0xa1, derEncode(0x03, concat([Uint8Array.of(0), key.raw]))),
  );
  return derSeq(version, derSeq(OID_EC_PUBLIC_KEY, OID_PRIME256V1), derEncode(0x04, ecPrivate));
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export const privateKeyPem = (key: PrivateKey): string => toPem("PRIVATE KEY", encodePkcs8(key));
export const publicKeyPem = (key: PublicKey): string => toPem("PUBLIC KEY", encodeSpki(key));

/** Reads a PEM key file's text: a private key (signing) or a public key (verifying only). */
export function parsePemKey(text: string, source = "key"): PrivateKey | PublicKey {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new McubootKeyError(`${source}: not a PEM file (no BEGIN/END lines)`);
  const label = m[1]!;
  if (/Proc-Type:\s*4,ENCRYPTED/.test(m[2]!) || label === "ENCRYPTED PRIVATE KEY")
    throw new McubootKeyError(`${source}: encrypted keys are not supported; export it without a password`);
  const der = new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ""), "base64"));
  try {
    if (label === "PUBLIC KEY") return parseSpki(der);
    if (label === "PRIVATE KEY") return parsePkcs8(der);
    if (label === "EC PRIVATE KEY") return parseSec1(der);
  } catch (e) {
    if (e instanceof McubootKeyError) throw new McubootKeyError(`${source}: ${e.message}`);
    throw new McubootKeyError(`${source}: malformed ${label}: ${(e as Error).message}`);
  }
  throw new McubootKeyError(`${source}: unsupported PEM type '${label}' (supported: ecdsa-p256, ed25519)`);
}

function parseSpki(der: Uint8Array): PublicKey {
  const [alg, bits] = derChildren(derRead(der).node.value);
  if (!alg || !bits || bits.tag !== 0x03 || bits.value[0] !== 0) throw new Error("bad SubjectPublicKeyInfo");
  const type = algType(alg.value);
  const raw = bits.value.slice(1);
  checkPoint(type, raw);
  return { type, raw };
}

function parsePkcs8(der: Uint8Array): PrivateKey {
  const [, alg, inner] = derChildren(derRead(der).node.value);
  if (!alg || !inner || inner.tag !== 0x04) throw new Error("bad PKCS#8 structure");
  const type = algType(alg.value);
  if (type === "ed25519") {
    const seed = derRead(inner.value).node.value;
    if (seed.length !== 32) throw new Error("Ed25519 seed is not 32 bytes");
    return { type, secret: seed.slice(), raw: ed25519.getPublicKey(seed) };
  }
  return parseSec1(inner.value);
}

function parseSec1(der: Uint8Array): PrivateKey {
  const parts = derChildren(derRead(der).node.value);
  const d = parts[1];
  if (d?.tag !== 0x04 || d.value.length !== 32) throw new Error("bad EC private key");
  const params = parts.find((p) => p.tag === 0xa0);
  if (params && !bytesEqual(params.value, OID_PRIME256V1))
    throw new McubootKeyError("unsupported EC curve (only P-256 / prime256v1)");
  const secret = d.value.slice();
  return { type: "ecdsa-p256", secret, raw: p256.getPublicKey(secret, false) };
}

function algType(alg: Uint8Array): KeyType {
  const ids = derChildren(alg);
  const oid = ids[0] && derEncode(ids[0].tag, ids[0].value);
  if (oid && bytesEqual(oid, OID_ED25519)) return "ed25519";
  if (oid && bytesEqual(oid, OID_EC_PUBLIC_KEY)) {
    const curve = ids[1] && derEncode(ids[1].tag, ids[1].value);
    if (curve && bytesEqual(curve, OID_PRIME256V1)) return "ecdsa-p256";
    throw new McubootKeyError("unsupported EC curve (only P-256 / prime256v1)");
  }
  throw new McubootKeyError("unsupported key algorithm (supported: ecdsa-p256, ed25519)");
}

function checkPoint(type: KeyType, raw: Uint8Array): void {
  if (type === "ed25519" ? raw.length !== 32 : raw.length !== 65 || raw[0] !== 4)
    throw new Error(`bad ${type} public key length ${raw.length}`);
}

export function isPrivate(key: PublicKey | PrivateKey): key is PrivateKey {
  return "secret" in key;
}
