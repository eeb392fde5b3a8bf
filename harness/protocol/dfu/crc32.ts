/**
 * The DFU suffix CRC (DFU 1.1 Appendix B, as dfu-util computes it): reflected CRC-32
 * (polynomial 0xEDB88320), initial value 0xFFFFFFFF and no final XOR; so it is the bitwise
 * NOT of the zlib crc32 of the same bytes.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function dfuCrc32(bytes: Uint8Array, init = 0xffffffff): number {
  let crc = init >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}
