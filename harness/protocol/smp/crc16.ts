/** CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final XOR): Zephyr's crc16_itu_t(0, …). */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16Xmodem(data: Uint8Array, crc = 0): number {
  let c = crc & 0xffff;
  for (const b of data) c = ((c << 8) & 0xffff) ^ TABLE[((c >> 8) ^ b) & 0xff]!;
  return c;
}
