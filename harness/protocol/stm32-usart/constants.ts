/**
 * AN3155 (USART protocol used in the STM32 bootloader, Rev 20) byte values and command
 * codes. Fact sheet: reference/stm32-bootloader-dfu-fus.md §4.
 */

/** Host's first byte after reset: the bootloader measures it to set its baud rate. */
export const SYNC = 0x7f;
export const ACK = 0x79;
export const NACK = 0x1f;
/** No-stretch I2C variants answer BUSY while working; stm32flash keeps waiting on it. */
export const BUSY = 0x76;

export const Command = {
  Get: 0x00,
  GetVersion: 0x01,
  GetId: 0x02,
  ReadMemory: 0x11,
  Go: 0x21,
  WriteMemory: 0x31,
  Erase: 0x43,
  ExtendedErase: 0x44,
  Special: 0x50,
  ExtendedSpecial: 0x51,
  WriteProtect: 0x63,
  WriteUnprotect: 0x73,
  ReadoutProtect: 0x82,
  ReadoutUnprotect: 0x92,
  GetChecksum: 0xa1,
} as const;
export type CommandCode = (typeof Command)[keyof typeof Command];

const NAMES = new Map<number, string>(Object.entries(Command).map(([name, code]) => [code, name]));

/** "ReadMemory (0x11)", or "0x5A" for a code AN3155 does not define. */
export function commandName(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, "0").toUpperCase()}`;
  const name = NAMES.get(code);
  return name ? `${name} (${hex})` : hex;
}

/** Extended Erase special codes (2 bytes, MSB first); 0xFFF0..0xFFFC are reserved. */
export const ExtendedEraseSpecial = {
  Mass: 0xffff,
  Bank1: 0xfffe,
  Bank2: 0xfffd,
} as const;
export type ExtendedEraseSpecialCode = (typeof ExtendedEraseSpecial)[keyof typeof ExtendedEraseSpecial];

/** Most bytes one Read/Write Memory moves (the count byte holds N−1). */
export const MAX_BLOCK = 256;
/** Special 0x50 data packet and Extended Special 0x51 first packet. */
export const MAX_SPECIAL_DATA = 128;
/** Extended Special 0x51 second packet. */
export const MAX_EXTENDED_SPECIAL_DATA = 1024;
/** Erase 0x43 carries N−1 in one byte; 0xFF (N = 256) means global erase instead. */
export const MAX_ERASE_PAGES = 255;
/** Extended Erase carries N−1 in two bytes; stm32flash sends at most 512 pages per command. */
export const MAX_EXTENDED_ERASE_PAGES = 0xfff0;
