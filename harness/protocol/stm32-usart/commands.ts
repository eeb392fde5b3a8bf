/**
 * Per-command payloads of AN3155, both directions: what the host sends after the command
 * was ACKed (encoders used by the client, decoders used by the emulator) and what the
 * bootloader answers (encoders used by the emulator, decoders used by the client).
 */
import {
  ACK,
  ExtendedEraseSpecial,
  MAX_BLOCK,
  MAX_ERASE_PAGES,
  MAX_EXTENDED_ERASE_PAGES,
  MAX_EXTENDED_SPECIAL_DATA,
  MAX_SPECIAL_DATA,
} from "./constants.js";
import { hex8, UsartCodecError } from "./errors.js";
import { assertByte, checksumOk, withChecksum, xor } from "./frame.js";

// ---- Get (0x00) -------------------------------------------------------------------------

export interface GetReply {
  /** Protocol version, BCD-ish: 0x31 = V3.1. */
  version: number;
  /** Command codes the bootloader supports, in the order it lists them. */
  commands: number[];
}

/** The bytes between the two ACKs: N (= number of bytes that follow − 1), version, codes. */
export function encodeGetReply(reply: GetReply): Uint8Array {
  assertByte(reply.version, "version");
  if (reply.commands.length < 1 || reply.commands.length > 255)
    throw new UsartCodecError("commands", `expected 1..255 codes, got ${reply.commands.length}`);
  reply.commands.forEach((c, i) => {
    assertByte(c, `commands[${i}]`);
  });
  return Uint8Array.of(reply.commands.length, reply.version, ...reply.commands);
}

/** @param body N, version and the N codes (the client reads N first, then N+1 bytes). */
export function decodeGetReply(body: Uint8Array): GetReply {
  const n = body[0];
  if (n === undefined || body.length !== n + 2)
    throw new UsartCodecError(
      "N",
      `byte 0 says ${n ?? "nothing"} + 1 bytes follow, frame has ${body.length - 1}`,
      0,
    );
  return { version: body[1]!, commands: [...body.subarray(2)] };
}

// ---- Get Version (0x01) -----------------------------------------------------------------

export interface VersionReply {
  version: number;
  /** Two option bytes, 0x00 0x00 on current parts (kept for compatibility). */
  option1: number;
  option2: number;
}

export function encodeVersionReply(v: VersionReply): Uint8Array {
  assertByte(v.version, "version");
  assertByte(v.option1, "option1");
  assertByte(v.option2, "option2");
  return Uint8Array.of(v.version, v.option1, v.option2);
}

export function decodeVersionReply(body: Uint8Array): VersionReply {
  if (body.length !== 3) throw new UsartCodecError("version reply", `expected 3 bytes, got ${body.length}`);
  return { version: body[0]!, option1: body[1]!, option2: body[2]! };
}

// ---- Get ID (0x02) ----------------------------------------------------------------------

/** N = 1, then the PID MSB first (0x04 0x35 for an L43x). */
export function encodeIdReply(pid: number): Uint8Array {
  if (!Number.isInteger(pid) || pid < 0 || pid > 0xffff)
    throw new UsartCodecError("pid", `expected 0..0xFFFF, got ${pid}`);
  return Uint8Array.of(1, pid >> 8, pid & 0xff);
}

/** @param body N followed by N+1 ID bytes; the PID is the big-endian value of the ID bytes. */
export function decodeIdReply(body: Uint8Array): number {
  const n = body[0];
  if (n === undefined || body.length !== n + 2)
    throw new UsartCodecError(
      "N",
      `byte 0 says ${n ?? "nothing"} + 1 bytes follow, frame has ${body.length - 1}`,
      0,
    );
  let pid = 0;
  for (const b of body.subarray(1)) pid = pid * 256 + b;
  return pid;
}

// ---- Write Memory (0x31) ----------------------------------------------------------------

/** N−1, the data, and the XOR of both. Data must be 1..256 bytes (the client pads to 4). */
export function encodeWriteData(data: Uint8Array): Uint8Array {
  if (data.length < 1 || data.length > MAX_BLOCK)
    throw new UsartCodecError("data", `expected 1..${MAX_BLOCK} bytes, got ${data.length}`);
  const body = new Uint8Array(data.length + 1); // no spread: it costs more than the rest of a block's work
  body[0] = data.length - 1;
  body.set(data, 1);
  return withChecksum(body);
}

/**
 * @param frame N−1, N bytes, checksum (the emulator reads N−1 first, then N+1 bytes).
 * @returns the data, or a refusal naming the checksum byte.
 */
export function decodeWriteData(frame: Uint8Array): Uint8Array {
  atLeast(frame, 2, "N");
  const n = frame[0]! + 1;
  if (frame.length !== n + 2)
    throw new UsartCodecError("N", `byte 0 says ${n} data bytes, frame has ${frame.length - 2}`, 0);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "checksum",
      `byte ${n + 1} is ${hex8(frame[n + 1]!)}, expected ${hex8(xor(frame.subarray(0, n + 1)))}`,
      n + 1,
    );
  return frame.slice(1, n + 1);
}

// ---- Erase (0x43) -----------------------------------------------------------------------

export type EraseRequest = { kind: "global" } | { kind: "pages"; pages: number[] };

export function encodeErase(req: EraseRequest): Uint8Array {
  if (req.kind === "global") return Uint8Array.of(0xff, 0x00);
  const { pages } = req;
  if (pages.length < 1 || pages.length > MAX_ERASE_PAGES)
    throw new UsartCodecError("pages", `expected 1..${MAX_ERASE_PAGES} pages, got ${pages.length}`);
  pages.forEach((p, i) => {
    assertByte(p, `pages[${i}]`);
  });
  return withChecksum(Uint8Array.of(pages.length - 1, ...pages));
}

/**
 * @param frame 0xFF 0x00 for global erase; otherwise N−1, N page bytes, checksum.
 * AN3155: 0xFF followed by anything but 0x00 is neither: no erase, yet ACK ("none").
 */
export function decodeErase(frame: Uint8Array): EraseRequest | { kind: "none" } {
  atLeast(frame, 2, "N");
  if (frame[0] === 0xff)
    return frame.length === 2 && frame[1] === 0x00 ? { kind: "global" } : { kind: "none" };
  const n = frame[0]! + 1;
  if (frame.length !== n + 2)
    throw new UsartCodecError("N", `byte 0 says ${n} pages, frame has ${frame.length - 2}`, 0);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "checksum",
      `byte ${n + 1} is ${hex8(frame[n + 1]!)}, expected ${hex8(xor(frame.subarray(0, n + 1)))}`,
      n + 1,
    );
  return { kind: "pages", pages: [...frame.subarray(1, n + 1)] };
}

// ---- Extended Erase (0x44) --------------------------------------------------------------

export type ExtendedEraseRequest = { kind: "special"; code: number } | { kind: "pages"; pages: number[] };

export function encodeExtendedErase(req: ExtendedEraseRequest): Uint8Array {
  if (req.kind === "special") {
    if (!Object.values(ExtendedEraseSpecial).includes(req.code as never))
      throw new UsartCodecError("code", `expected 0xFFFF, 0xFFFE or 0xFFFD, got 0x${req.code.toString(16)}`);
    return withChecksum(Uint8Array.of(req.code >> 8, req.code & 0xff));
  }
  const { pages } = req;
  if (pages.length < 1 || pages.length > MAX_EXTENDED_ERASE_PAGES)
    throw new UsartCodecError("pages", `expected 1..${MAX_EXTENDED_ERASE_PAGES} pages, got ${pages.length}`);
  const out = new Uint8Array(2 + 2 * pages.length);
  out[0] = (pages.length - 1) >> 8;
  out[1] = (pages.length - 1) & 0xff;
  pages.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff)
      throw new UsartCodecError(`pages[${i}]`, `expected 0..0xFFFF, got ${p}`);
    out[2 + 2 * i] = p >> 8;
    out[3 + 2 * i] = p & 0xff;
  });
  return withChecksum(out);
}

/** Reads the first two bytes: a special code (0xFFF0..0xFFFF) or N−1 for N pages. */
export function extendedEraseHead(head: Uint8Array): { special: number } | { pages: number } {
  const v = (head[0]! << 8) | head[1]!;
  return v >= 0xfff0 ? { special: v } : { pages: v + 1 };
}

/**
 * @param frame the complete frame: 2-byte head, then (pages) 2N page bytes, then checksum.
 * @throws {UsartCodecError} naming the checksum byte.
 */
export function decodeExtendedErase(frame: Uint8Array): ExtendedEraseRequest {
  atLeast(frame, 3, "N");
  const head = extendedEraseHead(frame);
  const last = frame.length - 1;
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "checksum",
      `byte ${last} is ${hex8(frame[last]!)}, expected ${hex8(xor(frame.subarray(0, last)))}`,
      last,
    );
  if ("special" in head) {
    if (frame.length !== 3)
      throw new UsartCodecError("code", `special code frame is 3 bytes, got ${frame.length}`);
    return { kind: "special", code: head.special };
  }
  if (frame.length !== 3 + 2 * head.pages)
    throw new UsartCodecError(
      "N",
      `bytes 0..1 say ${head.pages} pages, frame has ${(frame.length - 3) / 2}`,
      0,
    );
  const pages: number[] = [];
  for (let i = 0; i < head.pages; i++) pages.push((frame[2 + 2 * i]! << 8) | frame[3 + 2 * i]!);
  return { kind: "pages", pages };
}

// ---- Write Protect (0x63) ---------------------------------------------------------------

/** N−1, N sector numbers, checksum. AN3155: the sector list is not validated by the bootloader. */
export function encodeWriteProtect(sectors: number[]): Uint8Array {
  if (sectors.length < 1 || sectors.length > 256)
    throw new UsartCodecError("sectors", `expected 1..256 sectors, got ${sectors.length}`);
  sectors.forEach((s, i) => {
    assertByte(s, `sectors[${i}]`);
  });
  return withChecksum(Uint8Array.of(sectors.length - 1, ...sectors));
}

export function decodeWriteProtect(frame: Uint8Array): number[] {
  atLeast(frame, 2, "N");
  const n = frame[0]! + 1;
  if (frame.length !== n + 2)
    throw new UsartCodecError("N", `byte 0 says ${n} sectors, frame has ${frame.length - 2}`, 0);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "checksum",
      `byte ${n + 1} is ${hex8(frame[n + 1]!)}, expected ${hex8(xor(frame.subarray(0, n + 1)))}`,
      n + 1,
    );
  return [...frame.subarray(1, n + 1)];
}

// ---- Special (0x50) / Extended Special (0x51) -------------------------------------------

/** Sub-command: 2 bytes MSB first plus checksum. */
export function encodeSpecialOpcode(opcode: number): Uint8Array {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xffff)
    throw new UsartCodecError("opcode", `expected 0..0xFFFF, got ${opcode}`);
  return withChecksum(Uint8Array.of(opcode >> 8, opcode & 0xff));
}

export function decodeSpecialOpcode(frame: Uint8Array): number {
  if (frame.length !== 3) throw new UsartCodecError("opcode", `expected 3 bytes, got ${frame.length}`);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "opcode checksum",
      `byte 2 is ${hex8(frame[2]!)}, expected ${hex8(frame[0]! ^ frame[1]!)}`,
      2,
    );
  return (frame[0]! << 8) | frame[1]!;
}

/** Host packet: size (2 bytes MSB), data, XOR of size and data. */
export function encodeSpecialPacket(data: Uint8Array, max = MAX_SPECIAL_DATA): Uint8Array {
  if (data.length > max)
    throw new UsartCodecError("data", `expected at most ${max} bytes, got ${data.length}`);
  return withChecksum(Uint8Array.of(data.length >> 8, data.length & 0xff, ...data));
}

/** Size of a special packet from its first two bytes. */
export function specialPacketSize(head: Uint8Array): number {
  return (head[0]! << 8) | head[1]!;
}

export function decodeSpecialPacket(frame: Uint8Array, max = MAX_SPECIAL_DATA): Uint8Array {
  atLeast(frame, 3, "size");
  const n = specialPacketSize(frame);
  if (n > max) throw new UsartCodecError("size", `bytes 0..1 say ${n}, at most ${max} allowed`, 0);
  if (frame.length !== n + 3)
    throw new UsartCodecError("size", `bytes 0..1 say ${n}, frame has ${frame.length - 3}`, 0);
  if (!checksumOk(frame))
    throw new UsartCodecError(
      "checksum",
      `byte ${n + 2} is ${hex8(frame[n + 2]!)}, expected ${hex8(xor(frame.subarray(0, n + 2)))}`,
      n + 2,
    );
  return frame.slice(2, n + 2);
}

export { MAX_EXTENDED_SPECIAL_DATA, MAX_SPECIAL_DATA };

/** Device packet in a Special reply (data, then status): size (2 bytes MSB) and the bytes, no checksum. */
export function encodeReplyPacket(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0xffff) throw new UsartCodecError("reply", `at most 65535 bytes, got ${bytes.length}`);
  return Uint8Array.of(bytes.length >> 8, bytes.length & 0xff, ...bytes);
}

function atLeast(frame: Uint8Array, n: number, field: string): void {
  if (frame.length < n)
    throw new UsartCodecError(field, `frame too short: ${frame.length} bytes, at least ${n} expected`);
}

// ---- ACK helpers --------------------------------------------------------------------------

/** A reply framed by ACKs, as Get / Get Version / Get ID send it: ACK, body, ACK. */
export function ackFramed(body: Uint8Array): Uint8Array {
  return Uint8Array.of(ACK, ...body, ACK);
}
