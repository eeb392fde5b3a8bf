/**
 * Get Checksum (0xA1): the CRC the bootloader computes with the STM32 CRC unit, and the two
 * forms hosts send (fact sheet §4.4). AN3155 Rev 20: address, length in 32-bit words,
 * polynomial, initial value, then ACK + CRC + checksum. stm32flash: address, length in
 * bytes, then it waits for ACK, ACK and the same 5 bytes, sending no polynomial or init.
 */
import { UsartCodecError } from "./errors.js";
import { checksumOk, readU32be, u32be, withChecksum } from "./frame.js";

/** The CRC unit's reset configuration: CRC-32/MPEG-2 (no reflection, no final XOR). */
export const CRC_DEFAULT_POLY = 0x04c1_1db7;
export const CRC_DEFAULT_INIT = 0xffff_ffff;

/**
 * CRC over `data` fed as little-endian 32-bit words, each word MSB first, as the CRC
 * unit sees words read from memory. `data.length` must be a multiple of 4.
 */
export function stm32Crc(data: Uint8Array, poly = CRC_DEFAULT_POLY, init = CRC_DEFAULT_INIT): number {
  if (data.length % 4 !== 0)
    throw new UsartCodecError("length", `CRC runs over whole words, got ${data.length} bytes`);
  let crc = init >>> 0;
  for (let i = 0; i < data.length; i += 4) {
    const word = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    crc = (crc ^ word) >>> 0;
    for (let bit = 0; bit < 32; bit++) crc = (crc & 0x8000_0000 ? (crc << 1) ^ poly : crc << 1) >>> 0;
  }
  return crc;
}

/** Device reply after the last ACK of the request: CRC (4 bytes MSB first) and its XOR. */
export function encodeCrcReply(crc: number): Uint8Array {
  return withChecksum(u32be(crc >>> 0));
}

export function decodeCrcReply(frame: Uint8Array): number {
  if (frame.length !== 5) throw new UsartCodecError("crc reply", `expected 5 bytes, got ${frame.length}`);
  if (!checksumOk(frame)) throw new UsartCodecError("crc checksum", `byte 4 does not match the CRC bytes`, 4);
  return readU32be(frame);
}
