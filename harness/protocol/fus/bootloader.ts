/**
 * FUS over the ROM bootloader (AN5185 §7): USART special read/write status packets
 * (Tables 16–17) and the USB-DFU download/upload mapping (Tables 18–19).
 */

import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { FusBootloaderOpcode } from "./constants.js";

export class FusReplyError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`FUS reply byte ${offset}: ${message}`);
    this.name = "FusReplyError";
  }
}

/** Status packet of a special command: [0x00] OK, [0x01, state, error] KO (Tables 16–17). */
export type FusCommandStatus = { ok: true } | { ok: false; state: number; error: number };

export function encodeCommandStatus(s: FusCommandStatus): Uint8Array {
  return s.ok ? Uint8Array.of(0x00) : Uint8Array.of(0x01, s.state, s.error);
}

/** @throws {FusReplyError} naming the byte of a malformed status packet. */
export function decodeCommandStatus(bytes: Uint8Array): FusCommandStatus {
  if (bytes.length === 0) throw new FusReplyError(0, "empty status packet");
  if (bytes[0] === 0x00) return { ok: true };
  if (bytes[0] !== 0x01)
    throw new FusReplyError(0, `status 0x${bytes[0]!.toString(16)} is neither 0x00 nor 0x01`);
  if (bytes.length < 3) throw new FusReplyError(bytes.length, "KO status needs [0x01, state, error]");
  return { ok: false, state: bytes[1]!, error: bytes[2]! };
}

/** GET_STATE data packet on USART: [0x00, state, error] (Table 16). */
export function encodeUsartStateData(state: number, error: number): Uint8Array {
  return Uint8Array.of(0x00, state, error);
}

/** @throws {FusReplyError} unless 3 bytes starting with 0x00. */
export function decodeUsartStateData(bytes: Uint8Array): { state: number; error: number } {
  if (bytes.length !== 3)
    throw new FusReplyError(bytes.length, `GET_STATE data is 3 bytes, got ${bytes.length}`);
  if (bytes[0] !== 0x00)
    throw new FusReplyError(0, `GET_STATE data starts with 0x00, got 0x${bytes[0]!.toString(16)}`);
  return { state: bytes[1]!, error: bytes[2]! };
}

/** GET_STATE over DFU: UPLOAD 2 bytes at 0xFFFF0054 → [state, error] (Table 19). */
export function decodeDfuState(bytes: Uint8Array): { state: number; error: number } {
  if (bytes.length !== 2)
    throw new FusReplyError(bytes.length, `DFU GET_STATE is 2 bytes, got ${bytes.length}`);
  return { state: bytes[0]!, error: bytes[1]! };
}

/** UPDATE_AUTH_KEY payload: [KeySize, KeyData(64)] (Tables 17–18). */
export function encodeAuthKey(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 64)
    throw new RangeError(`auth key: 64 bytes (P-256 X‖Y), got ${publicKey.length}`);
  return Uint8Array.of(64, ...publicKey);
}

export function decodeAuthKey(data: Uint8Array): Uint8Array {
  if (data.length < 1) throw new FusReplyError(0, "empty auth key packet");
  const n = data[0]!;
  if (n !== 64 || data.length !== 65)
    throw new FusReplyError(0, `auth key size ${n} with ${data.length - 1} bytes; 64 expected`);
  return data.slice(1);
}

export type UserKeyKind = "simple" | "master" | "encrypted";
const KEY_TYPE: Record<UserKeyKind, number> = { simple: 1, master: 2, encrypted: 3 };

/**
 * STORE_USR_KEY payload: [KeyType, KeySize, KeyData]. KeySize counts the key (16/32) and,
 * for encrypted keys, the 12-byte IV appended after it (shci.h: KeyData[32+12]).
 */
export function encodeUserKey(kind: UserKeyKind, key: Uint8Array, iv?: Uint8Array): Uint8Array {
  if (key.length !== 16 && key.length !== 32)
    throw new RangeError(`user key: 16 or 32 bytes, got ${key.length}`);
  const extra = kind === "encrypted" ? (iv ?? new Uint8Array(0)) : new Uint8Array(0);
  if (kind === "encrypted" && extra.length !== 12) throw new RangeError("encrypted key needs a 12-byte IV");
  return Uint8Array.of(KEY_TYPE[kind], key.length + extra.length, ...key, ...extra);
}

export function decodeUserKey(data: Uint8Array): { kind: UserKeyKind; key: Uint8Array; iv?: Uint8Array } {
  if (data.length < 2) throw new FusReplyError(data.length, "user key packet needs type and size");
  const kind = (Object.keys(KEY_TYPE) as UserKeyKind[]).find((k) => KEY_TYPE[k] === data[0]);
  if (!kind) throw new FusReplyError(0, `key type 0x${data[0]!.toString(16)} is not 1, 2 or 3`);
  const size = data[1]!;
  if (data.length !== size + 2) throw new FusReplyError(1, `size ${size} but ${data.length - 2} key bytes`);
  const keyLen = kind === "encrypted" ? size - 12 : size;
  if (keyLen !== 16 && keyLen !== 32) throw new FusReplyError(1, `key length ${keyLen} is not 16 or 32`);
  const key = data.slice(2, 2 + keyLen);
  return kind === "encrypted" ? { kind, key, iv: data.slice(2 + keyLen) } : { kind, key };
}

export { FusBootloaderOpcode };
