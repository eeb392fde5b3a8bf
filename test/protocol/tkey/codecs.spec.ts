import { blake2s } from "@noble/hashes/blake2.js";
import { expect } from "chai";
import fc from "fast-check";
import {
  APP_MAX_SIZE,
  appDigest,
  CHUNK_SIZE,
  cdiBellatrix,
  cdiCastor,
  chunkCount,
  decodeFrame,
  decodeFwResponse,
  decodeHeader,
  decodeLoadAppCmd,
  decodeUdi,
  defaultUssMode,
  Endpoint,
  encodeAppNokReply,
  encodeAppUnknownCmdReply,
  encodeFrame,
  encodeGetUdiCmd,
  encodeGetUdiRsp,
  encodeHeader,
  encodeLoadAppCmd,
  encodeLoadAppDataCmd,
  encodeLoadAppDataReadyRsp,
  encodeNameVersionCmd,
  encodeNameVersionRsp,
  encodeStatusRsp,
  encodeUdi,
  FRAME_LENGTHS,
  FwRsp,
  isTKeyUsbId,
  lengthCodeOf,
  STATUS_BAD,
  STATUS_OK,
  splitApp,
  TKeyFrameError,
  udsBytes,
  ussFromSecret,
  ussOnWire,
} from "../../../harness/protocol/tkey/index.js";
import { fromHex, toHex } from "../../../harness/transport/hex.js";

const DOC = "TKey framing protocol / firmware protocol";

describe(`protocol/tkey: framing (${DOC})`, () => {
  it("decodes the documented header examples", () => {
    expect(decodeHeader(0x13)).to.include({ id: 0, endpoint: Endpoint.firmware, nok: false, length: 128 });
    expect(decodeHeader(0x1a)).to.include({ id: 0, endpoint: Endpoint.app, nok: false, length: 32 });
    expect(decodeHeader(0x14)).to.include({ id: 0, endpoint: Endpoint.firmware, nok: true, length: 1 });
    expect(decodeHeader(0x1b)).to.include({ id: 0, endpoint: Endpoint.app, nok: false, length: 128 });
    expect(decodeHeader(0x93).reservedBit).to.equal(true);
  });

  it("encodes tkeyclient's firmware headers with frame ID 2: 0x50, 0x53 out; 0x52, 0x51, 0x53 back", () => {
    expect(toHex(encodeNameVersionCmd())).to.equal("5001");
    expect(toHex(encodeGetUdiCmd())).to.equal("5008");
    expect(encodeLoadAppCmd({ size: 1 })[0]).to.equal(0x53);
    expect(encodeLoadAppDataCmd(new Uint8Array(1))[0]).to.equal(0x53);
    expect(encodeNameVersionRsp({ name0: "tk1 ", name1: "mkdf", version: 5 })[0]).to.equal(0x52);
    expect(encodeGetUdiRsp(STATUS_OK, [0, 0])[0]).to.equal(0x52);
    expect(encodeStatusRsp(FwRsp.LOAD_APP, STATUS_OK)[0]).to.equal(0x51);
    expect(encodeLoadAppDataReadyRsp(STATUS_OK, new Uint8Array(32))[0]).to.equal(0x53);
  });

  it("a whole response is a whole frame, zero-padded: FW_RSP_LOAD_APP = 51 04 00 00 00", () => {
    expect(toHex(encodeStatusRsp(FwRsp.LOAD_APP, STATUS_OK))).to.equal("5104000000");
    expect(toHex(encodeStatusRsp(FwRsp.LOAD_APP_DATA, STATUS_BAD))).to.equal("5106010000");
  });

  it("the app's answer to a firmware probe with ID 2 is 54 00; an unknown app command gets 0xff", () => {
    expect(toHex(encodeAppNokReply(2))).to.equal("5400");
    expect(toHex(encodeAppUnknownCmdReply(2))).to.equal("58ff");
  });

  it("refuses lengths other than 1/4/32/128, IDs and endpoints outside 0..3, oversize payloads", () => {
    expect(() => lengthCodeOf(64)).to.throw(TKeyFrameError, /1, 4, 32 or 128/);
    expect(() => encodeHeader({ id: 4, endpoint: 2, nok: false, length: 1 })).to.throw(TKeyFrameError);
    expect(() => encodeHeader({ id: 0, endpoint: 4 as 2, nok: false, length: 1 })).to.throw(TKeyFrameError);
    expect(() => encodeFrame({ id: 0, endpoint: 2, nok: false, length: 4 }, new Uint8Array(5))).to.throw(
      TKeyFrameError,
    );
    expect(() => decodeFrame(Uint8Array.of(0x51, 0))).to.throw(TKeyFrameError, /announces 4/);
  });

  it("property: every header byte decodes, and re-encodes to itself when bit 7 is clear", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (byte) => {
        const h = decodeHeader(byte);
        expect(FRAME_LENGTHS).to.include(h.length);
        expect(encodeHeader(h) | (h.reservedBit ? 0x80 : 0)).to.equal(byte);
      }),
    );
  });

  it("property: frames round-trip and are zero-padded to their length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.constantFrom(...FRAME_LENGTHS),
        fc.uint8Array({ maxLength: 128 }),
        (id, endpoint, nok, length, data) => {
          const payload = data.subarray(0, length);
          const frame = encodeFrame({ id, endpoint: endpoint as Endpoint, nok, length }, payload);
          expect(frame.length).to.equal(1 + length);
          const back = decodeFrame(frame);
          expect(back.header).to.include({ id, endpoint, nok, length, reservedBit: false });
          expect(back.payload.subarray(0, payload.length)).to.deep.equal(payload);
          expect(back.payload.subarray(payload.length).every((b) => b === 0)).to.equal(true);
        },
      ),
    );
  });
});

describe(`protocol/tkey: firmware commands and responses (${DOC})`, () => {
  it("FW_RSP_NAME_VERSION: 'tk1 ' 'mkdf' then the version LE, zeros after", () => {
    const rsp = encodeNameVersionRsp({ name0: "tk1 ", name1: "mkdf", version: 5 });
    expect(rsp.length).to.equal(33);
    expect(toHex(rsp.subarray(0, 14))).to.equal(`5202${toHex(new TextEncoder().encode("tk1 mkdf"))}05000000`);
    expect(rsp.subarray(14).every((b) => b === 0)).to.equal(true);
    expect(decodeFwResponse(rsp.subarray(1))).to.deep.equal({
      rsp: FwRsp.NAME_VERSION,
      nameVersion: { name0: "tk1 ", name1: "mkdf", version: 5 },
    });
  });

  it("FW_CMD_LOAD_APP: size at frame[2..5] LE, flag at frame[6], USS at frame[7..38], zeros after", () => {
    const uss = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const frame = encodeLoadAppCmd({ size: 0x12345, uss });
    expect(frame.length).to.equal(129);
    expect(toHex(frame.subarray(0, 7))).to.equal("53034523010001");
    expect(frame.subarray(7, 39)).to.deep.equal(uss);
    expect(frame.subarray(39).every((b) => b === 0)).to.equal(true);
    const noUss = encodeLoadAppCmd({ size: 1 });
    expect(noUss[6]).to.equal(0);
    expect(decodeLoadAppCmd(frame.subarray(1))).to.deep.equal({ size: 0x12345, ussProvided: true, uss });
  });

  it("the firmware takes any nonzero flag byte as 'USS provided'", () => {
    const frame = encodeLoadAppCmd({ size: 10, uss: new Uint8Array(32), ussFlag: 0x7f });
    expect(decodeLoadAppCmd(frame.subarray(1)).ussProvided).to.equal(true);
  });

  it("FW_CMD_LOAD_APP_DATA: 127 data bytes after the code, the last chunk zero-padded", () => {
    const frame = encodeLoadAppDataCmd(Uint8Array.of(0xaa, 0xbb));
    expect(toHex(frame.subarray(0, 4))).to.equal("5305aabb");
    expect(frame.length).to.equal(129);
    expect(() => encodeLoadAppDataCmd(new Uint8Array(128))).to.throw(RangeError);
  });

  it("FW_RSP_LOAD_APP_DATA_READY: status then the 32-byte digest, 94 zeros", () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
    const rsp = encodeLoadAppDataReadyRsp(STATUS_OK, digest);
    expect(toHex(rsp.subarray(0, 3))).to.equal("530700");
    expect(rsp.subarray(3, 35)).to.deep.equal(digest);
    expect(rsp.subarray(35).every((b) => b === 0)).to.equal(true);
    expect(rsp.length).to.equal(129);
  });

  it("chunks: ceil(size/127) of them, concatenating back to the app", () => {
    expect(CHUNK_SIZE).to.equal(127);
    expect(APP_MAX_SIZE).to.equal(0x20000);
    expect([1, 127, 128, 254, 255, APP_MAX_SIZE].map(chunkCount)).to.deep.equal([1, 1, 2, 2, 3, 1033]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (app) => {
        const chunks = splitApp(app);
        expect(chunks.length).to.equal(chunkCount(app.length));
        expect(Buffer.concat(chunks)).to.deep.equal(Buffer.from(app));
      }),
    );
  });

  it("property: every encoded response decodes to what was encoded", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff)),
        (status, digest, words) => {
          expect(decodeFwResponse(encodeLoadAppDataReadyRsp(status, digest).subarray(1))).to.deep.equal({
            rsp: FwRsp.LOAD_APP_DATA_READY,
            status,
            digest,
          });
          expect(decodeFwResponse(encodeGetUdiRsp(status, words).subarray(1))).to.deep.equal({
            rsp: FwRsp.GET_UDI,
            status,
            words,
          });
        },
      ),
    );
  });

  it("property: bad input to the response decoder is a RangeError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 130 }), (bytes) => {
        try {
          decodeFwResponse(bytes);
        } catch (error) {
          expect(error).to.be.instanceOf(RangeError);
        }
      }),
    );
  });

  it("property: LOAD_APP encodes and decodes any u32 size and USS", () => {
    fc.assert(
      fc.property(
        fc.nat(0xffffffff),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
        (size, uss) => {
          const back = decodeLoadAppCmd(encodeLoadAppCmd({ size, uss: uss ?? undefined }).subarray(1));
          expect(back.size).to.equal(size);
          expect(back.ussProvided).to.equal(uss !== null);
          expect(back.uss).to.deep.equal(uss ?? new Uint8Array(32));
        },
      ),
    );
  });
});

describe("protocol/tkey: UDI bit fields (firmware protocol FW_RSP_GET_UDI)", () => {
  it("decodes the QEMU machine's fixed UDI: vendor 0x0010, product 8, revision 3, serial 0x04050607", () => {
    expect(decodeUdi(0x00010203, 0x04050607)).to.deep.equal({
      reserved: 0,
      vendorId: 0x0010,
      productId: 8,
      revision: 3,
      serial: 0x04050607,
    });
  });

  it("words travel little-endian after the status byte", () => {
    const rsp = encodeGetUdiRsp(STATUS_OK, [0x00010203, 0x04050607]);
    expect(toHex(rsp.subarray(0, 11))).to.equal("5209000302010007060504");
  });

  it("property: encodeUdi and decodeUdi are inverse on every valid field set", () => {
    fc.assert(
      fc.property(
        fc.record({
          reserved: fc.nat(15),
          vendorId: fc.nat(0xffff),
          productId: fc.nat(63),
          revision: fc.nat(63),
          serial: fc.nat(0xffffffff),
        }),
        (udi) => {
          const [w0, w1] = encodeUdi(udi);
          expect(decodeUdi(w0, w1)).to.deep.equal(udi);
        },
      ),
    );
    expect(() =>
      encodeUdi({ reserved: 0, vendorId: 0x10000, productId: 0, revision: 0, serial: 0 }),
    ).to.throw(RangeError);
  });
});

describe("protocol/tkey: digest and CDI (firmware: BLAKE2s-256; CDI per Bellatrix and Castor)", () => {
  it("the app digest is plain BLAKE2s-256 (RFC 7693 Appendix B vector for 'abc')", () => {
    expect(toHex(appDigest(new TextEncoder().encode("abc")))).to.equal(
      "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
    );
  });

  it("the UDS words are fed in memory (LE) byte order", () => {
    const words = [0x80818283, 1, 2, 3, 4, 5, 6, 0xf4f5f6f7];
    const bytes = udsBytes(words);
    expect(toHex(bytes.subarray(0, 4))).to.equal("83828180");
    expect(toHex(bytes.subarray(28))).to.equal("f7f6f5f4");
  });

  const uds = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const digest = appDigest(new TextEncoder().encode("app"));
  const uss = ussFromSecret("secret");

  it("Bellatrix: CDI = BLAKE2s(UDS ‖ digest ‖ [USS]), unkeyed", () => {
    expect(cdiBellatrix({ uds, digest })).to.deep.equal(blake2s(Buffer.concat([uds, digest])));
    expect(cdiBellatrix({ uds, digest, uss })).to.deep.equal(blake2s(Buffer.concat([uds, digest, uss])));
  });

  it("Castor: CDI = BLAKE2s(key=UDS; domain ‖ digest or measured id ‖ [USS]), domain 0..3", () => {
    const keyed = (domain: number, body: Uint8Array, tail: Uint8Array[] = []) =>
      blake2s(Buffer.concat([Uint8Array.of(domain), body, ...tail]), { key: uds });
    const measured = appDigest(Uint8Array.of(9));
    expect(cdiCastor({ uds, digest })).to.deep.equal(keyed(0, digest));
    expect(cdiCastor({ uds, digest, uss })).to.deep.equal(keyed(1, digest, [uss]));
    expect(cdiCastor({ uds, digest, measuredId: measured })).to.deep.equal(keyed(2, measured));
    expect(cdiCastor({ uds, digest, uss, measuredId: measured })).to.deep.equal(keyed(3, measured, [uss]));
    expect(cdiCastor({ uds, digest })).to.not.deep.equal(cdiBellatrix({ uds, digest }));
  });

  it("USS on the wire: full, tkeyclient v1.3's 31-byte form, and the ≤ v1.2.0 flag bug", () => {
    const u = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(ussOnWire(u, "full")).to.deep.equal({ flag: 1, field: u });
    const compat = ussOnWire(u, "compat31");
    expect(compat.flag).to.equal(1);
    expect(compat.field).to.deep.equal(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 0 : i + 1)));
    expect(ussOnWire(u, "legacy").flag).to.equal(0); // uss[0] == 0: the firmware ignores the USS
    expect(defaultUssMode(3)).to.equal("full");
    expect(defaultUssMode(2)).to.equal("compat31");
    expect(defaultUssMode(8)).to.equal("compat31");
  });

  it("property: the CDI depends on every input bit (UDS, digest, USS presence and value)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(255),
        fc.nat(7),
        fc.constantFrom(cdiBellatrix, cdiCastor),
        (uds32, uss32, at, bit, cdi) => {
          const flip = (b: Uint8Array) => {
            const c = b.slice();
            c[at % 32]! ^= 1 << bit;
            return c;
          };
          const base = cdi({ uds: uds32, digest, uss: uss32 });
          expect(cdi({ uds: flip(uds32), digest, uss: uss32 })).to.not.deep.equal(base);
          expect(cdi({ uds: uds32, digest: flip(digest), uss: uss32 })).to.not.deep.equal(base);
          expect(cdi({ uds: uds32, digest, uss: flip(uss32) })).to.not.deep.equal(base);
          expect(cdi({ uds: uds32, digest })).to.not.deep.equal(base);
        },
      ),
    );
  });
});

describe("protocol/tkey: USB identity (tkeyclient ports.go)", () => {
  it("knows 1207:8887 and 1209:8885 and nothing else", () => {
    expect(isTKeyUsbId(0x1207, 0x8887)).to.equal(true);
    expect(isTKeyUsbId(0x1209, 0x8885)).to.equal(true);
    expect(isTKeyUsbId(0x1209, 0x8887)).to.equal(false);
  });
});
