/**
 * The Unique Device Identifier: two LE words in FW_RSP_GET_UDI. Word 0 packs
 * reserved (bits 31..28), vendor ID (27..12), product ID (11..6) and revision (5..0);
 * word 1 is the serial number.
 */

export interface Udi {
  reserved: number;
  vendorId: number;
  productId: number;
  revision: number;
  serial: number;
}

/** Product IDs as tkeyclient names them. */
export const PRODUCT_NAMES: Readonly<Record<number, string>> = {
  0: "engineering sample",
  1: "Acrab",
  2: "Bellatrix",
  3: "Castor",
  8: "Bellatrix Unlocked",
};

export function decodeUdi(word0: number, word1: number): Udi {
  return {
    reserved: (word0 >>> 28) & 0xf,
    vendorId: (word0 >>> 12) & 0xffff,
    productId: (word0 >>> 6) & 0x3f,
    revision: word0 & 0x3f,
    serial: word1 >>> 0,
  };
}

export function encodeUdi(udi: Udi): [number, number] {
  const field = (name: keyof Udi, bits: number) => {
    const v = udi[name];
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
      throw new RangeError(`UDI ${name} must fit ${bits} bits, got ${v}`);
    return v;
  };
  const word0 =
    ((field("reserved", 4) << 28) |
      (field("vendorId", 16) << 12) |
      (field("productId", 6) << 6) |
      field("revision", 6)) >>>
    0;
  return [word0, field("serial", 32)];
}
