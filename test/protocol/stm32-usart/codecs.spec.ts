import { expect } from "chai";
import fc from "fast-check";
import {
  ACK,
  commandFrame,
  commandName,
  countFrame,
  decodeCountFrame,
  decodeCrcReply,
  decodeErase,
  decodeExtendedErase,
  decodeGetReply,
  decodeIdReply,
  decodeSpecialOpcode,
  decodeSpecialPacket,
  decodeU32Frame,
  decodeVersionReply,
  decodeWriteData,
  decodeWriteProtect,
  encodeCrcReply,
  encodeErase,
  encodeExtendedErase,
  encodeGetReply,
  encodeIdReply,
  encodeSpecialOpcode,
  encodeSpecialPacket,
  encodeVersionReply,
  encodeWriteData,
  encodeWriteProtect,
  extendedEraseHead,
  isCommandFrame,
  stm32Crc,
  UsartCodecError,
  u32Frame,
  xor,
} from "../../../harness/protocol/stm32-usart/index.js";

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** CRC-32/MPEG-2 over a byte stream, bit by bit: the catalogue definition, written independently. */
function mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc = (crc ^ (b << 24)) >>> 0;
    for (let i = 0; i < 8; i++) crc = (crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1) >>> 0;
  }
  return crc;
}

function expectCodecError(fn: () => unknown, field: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(UsartCodecError);
  expect((error as UsartCodecError).field).to.match(field);
}

describe("protocol/stm32-usart codecs (AN3155)", () => {
  it("frames a command as code and complement (AN3155 §2)", () => {
    expect(commandFrame(0x11)).to.deep.equal(Uint8Array.of(0x11, 0xee));
    expect(commandFrame(0x00)).to.deep.equal(Uint8Array.of(0x00, 0xff));
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), (c) => isCommandFrame(commandFrame(c))));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b) => {
        expect(isCommandFrame(Uint8Array.of(a, b))).to.equal((a ^ b) === 0xff);
      }),
    );
    expect(commandName(0x92)).to.equal("ReadoutUnprotect (0x92)");
    expectCodecError(() => commandFrame(256), /^command$/);
  });

  it("sends addresses MSB first with an XOR checksum, and names a bad checksum byte", () => {
    expect(u32Frame(0x08000000)).to.deep.equal(Uint8Array.of(0x08, 0x00, 0x00, 0x00, 0x08));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => {
        const f = u32Frame(a);
        expect(xor(f)).to.equal(0);
        expect(decodeU32Frame(f)).to.equal(a);
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 255 }),
        (a, at, flip) => {
          const f = u32Frame(a);
          f[at]! ^= flip;
          expectCodecError(() => decodeU32Frame(f), /checksum/);
        },
      ),
    );
    expectCodecError(() => u32Frame(-1), /^address$/);
    expectCodecError(() => u32Frame(2 ** 32), /^address$/);
  });

  it("counts N−1 with its complement for Read Memory, 1..256", () => {
    expect(countFrame(256)).to.deep.equal(Uint8Array.of(0xff, 0x00));
    fc.assert(fc.property(fc.integer({ min: 1, max: 256 }), (n) => decodeCountFrame(countFrame(n)) === n));
    expectCodecError(() => countFrame(0), /^count$/);
    expectCodecError(() => countFrame(257), /^count$/);
    expect(decodeCountFrame(Uint8Array.of(0x03, 0xfb))).to.equal(undefined);
  });

  it("round-trips Get, Get Version and Get ID replies", () => {
    const get = {
      version: 0x31,
      commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92],
    };
    const enc = encodeGetReply(get);
    expect(enc[0]).to.equal(11); // N = number of codes = following bytes − 1
    expect(decodeGetReply(enc)).to.deep.equal(get);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 255 }),
        (version, commands) => {
          expect(decodeGetReply(encodeGetReply({ version, commands }))).to.deep.equal({ version, commands });
        },
      ),
    );
    expectCodecError(() => decodeGetReply(Uint8Array.of(5, 0x31, 0)), /^N$/);
    expect(decodeVersionReply(encodeVersionReply({ version: 0x31, option1: 0, option2: 0 }))).to.deep.equal({
      version: 0x31,
      option1: 0,
      option2: 0,
    });
    expect(encodeIdReply(0x435)).to.deep.equal(Uint8Array.of(0x01, 0x04, 0x35));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (pid) => decodeIdReply(encodeIdReply(pid)) === pid),
    );
    expectCodecError(() => encodeIdReply(0x10000), /^pid$/);
  });

  it("round-trips Write Memory data and names the failing checksum byte", () => {
    fc.assert(
      fc.property(bytes(1, 256), (data) => {
        const f = encodeWriteData(data);
        expect(f.length).to.equal(data.length + 2);
        expect(f[0]).to.equal(data.length - 1);
        expect(xor(f)).to.equal(0);
        expect(decodeWriteData(f)).to.deep.equal(data);
      }),
    );
    fc.assert(
      fc.property(bytes(1, 256), fc.nat(), fc.integer({ min: 1, max: 255 }), (data, pick, flip) => {
        const f = encodeWriteData(data);
        const at = 1 + (pick % (f.length - 1)); // any byte but N−1 (that changes the length)
        f[at]! ^= flip;
        let error: UsartCodecError | undefined;
        try {
          decodeWriteData(f);
        } catch (e) {
          error = e as UsartCodecError;
        }
        expect(error?.field).to.equal("checksum");
        expect(error?.offset).to.equal(f.length - 1);
      }),
    );
    expectCodecError(() => encodeWriteData(new Uint8Array(0)), /^data$/);
    expectCodecError(() => encodeWriteData(new Uint8Array(257)), /^data$/);
  });

  it("encodes Erase (0x43): global 0xFF 0x00, pages N−1 + list + XOR; 0xFF + non-zero is no erase", () => {
    expect(encodeErase({ kind: "global" })).to.deep.equal(Uint8Array.of(0xff, 0x00));
    expect(decodeErase(Uint8Array.of(0xff, 0x00))).to.deep.equal({ kind: "global" });
    expect(decodeErase(Uint8Array.of(0xff, 0x01))).to.deep.equal({ kind: "none" });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 255 }), (pages) => {
        expect(decodeErase(encodeErase({ kind: "pages", pages }))).to.deep.equal({ kind: "pages", pages });
      }),
    );
    expectCodecError(() => encodeErase({ kind: "pages", pages: [] }), /^pages$/);
    expectCodecError(() => encodeErase({ kind: "pages", pages: [256] }), /^pages\[0\]$/);
  });

  it("encodes Extended Erase (0x44): special codes and 16-bit page lists, MSB first", () => {
    expect(encodeExtendedErase({ kind: "special", code: 0xffff })).to.deep.equal(
      Uint8Array.of(0xff, 0xff, 0x00),
    );
    expect(encodeExtendedErase({ kind: "special", code: 0xfffe })).to.deep.equal(
      Uint8Array.of(0xff, 0xfe, 0x01),
    );
    expect(encodeExtendedErase({ kind: "special", code: 0xfffd })).to.deep.equal(
      Uint8Array.of(0xff, 0xfd, 0x02),
    );
    expect(encodeExtendedErase({ kind: "pages", pages: [1, 0x102] })).to.deep.equal(
      Uint8Array.of(0x00, 0x01, 0x00, 0x01, 0x01, 0x02, 0x03),
    ); // 00^01^00^01^01^02
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 600 }),
        (pages) => {
          const f = encodeExtendedErase({ kind: "pages", pages });
          expect(extendedEraseHead(f)).to.deep.equal({ pages: pages.length });
          expect(decodeExtendedErase(f)).to.deep.equal({ kind: "pages", pages });
        },
      ),
    );
    expectCodecError(() => encodeExtendedErase({ kind: "special", code: 0xfff0 }), /^code$/);
    expectCodecError(() => encodeExtendedErase({ kind: "pages", pages: [0x10000] }), /^pages\[0\]$/);
    expectCodecError(() => decodeExtendedErase(Uint8Array.of(0xff, 0xff, 0x01)), /checksum/);
  });

  it("encodes Write Protect sector lists", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 256 }), (s) => {
        expect(decodeWriteProtect(encodeWriteProtect(s))).to.deep.equal(s);
      }),
    );
  });

  it("frames Special 0x50 / Extended Special 0x51 opcodes and packets (size MSB first + XOR)", () => {
    expect(encodeSpecialOpcode(0x0102)).to.deep.equal(Uint8Array.of(0x01, 0x02, 0x03));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        (op) => decodeSpecialOpcode(encodeSpecialOpcode(op)) === op,
      ),
    );
    fc.assert(
      fc.property(bytes(0, 1024), (data) => {
        const f = encodeSpecialPacket(data, 1024);
        expect(xor(f)).to.equal(0);
        expect(decodeSpecialPacket(f, 1024)).to.deep.equal(data);
      }),
    );
    expectCodecError(() => encodeSpecialPacket(new Uint8Array(129)), /^data$/);
    expectCodecError(
      () => decodeSpecialPacket(Uint8Array.of(0x00, 0x81, ...new Uint8Array(129), 0x81)),
      /^size$/,
    );
  });

  it("computes the CRC unit's CRC-32/MPEG-2 over little-endian words (Get Checksum)", () => {
    expect(mpeg2(new TextEncoder().encode("123456789"))).to.equal(0x0376e6e7); // catalogue check value
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 64 }), (words) => {
        const le = new Uint8Array(words.length * 4);
        const be = new Uint8Array(words.length * 4);
        words.forEach((w, i) => {
          new DataView(le.buffer).setUint32(i * 4, w, true);
          new DataView(be.buffer).setUint32(i * 4, w, false);
        });
        expect(stm32Crc(le)).to.equal(mpeg2(be));
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        (crc) => decodeCrcReply(encodeCrcReply(crc)) === crc,
      ),
    );
    expectCodecError(() => stm32Crc(new Uint8Array(3)), /^length$/);
    expect(ACK).to.equal(0x79);
  });

  it("never throws anything but UsartCodecError on arbitrary received frames", () => {
    const decoders = [
      decodeGetReply,
      decodeVersionReply,
      decodeIdReply,
      decodeWriteData,
      decodeErase,
      decodeExtendedErase,
      decodeWriteProtect,
      decodeSpecialOpcode,
      (f: Uint8Array) => decodeSpecialPacket(f),
      decodeCrcReply,
      (f: Uint8Array) => decodeU32Frame(f),
    ];
    fc.assert(
      fc.property(bytes(0, 300), fc.integer({ min: 0, max: decoders.length - 1 }), (frame, which) => {
        try {
          decoders[which]!(frame);
        } catch (e) {
          expect(e).to.be.instanceOf(UsartCodecError);
        }
      }),
    );
  });
});
