import { expect } from "chai";
import fc from "fast-check";
import {
  crc16Xmodem,
  decodeBody,
  decodeMessage,
  decodeSmpHeader,
  duplicateKey,
  encodeBody,
  encodeIndefinite,
  encodeMessage,
  encodeSerialFrame,
  encodeSmpHeader,
  ImgMgmtErr,
  imgErrToV1,
  imgMgmtErrName,
  MgmtErr,
  SerialFrameDecoder,
  SmpCborError,
  SmpGroup,
  SmpOp,
  topLevelKeys,
} from "../../../harness/protocol/smp/index.js";

const hdr = { op: SmpOp.WRITE, version: 1, flags: 0, group: SmpGroup.IMAGE, seq: 42, id: 1 } as const;

describe("protocol/smp: header (smp_protocol.rst)", () => {
  it("packs res/ver/op into byte 0 and length/group big-endian", () => {
    const b = encodeSmpHeader({ ...hdr, length: 0x1234 });
    expect([...b]).to.deep.equal([0x0a, 0, 0x12, 0x34, 0, 1, 42, 1]);
    expect(decodeSmpHeader(b)).to.deep.equal({ ...hdr, length: 0x1234 });
  });

  it("round-trips any header (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          op: fc.constantFrom(0, 1, 2, 3),
          version: fc.nat({ max: 3 }),
          flags: fc.nat({ max: 255 }),
          length: fc.nat({ max: 0xffff }),
          group: fc.nat({ max: 0xffff }),
          seq: fc.nat({ max: 255 }),
          id: fc.nat({ max: 255 }),
        }),
        (h) => {
          expect(decodeSmpHeader(encodeSmpHeader(h as never))).to.deep.equal(h);
        },
      ),
    );
  });
});

describe("protocol/smp: CBOR bodies", () => {
  it("byte strings are major type 2 without tags; text keys", () => {
    const b = encodeBody({ data: Uint8Array.of(1, 2) });
    expect([...b]).to.deep.equal([0xa1, 0x64, 0x64, 0x61, 0x74, 0x61, 0x42, 1, 2]);
  });

  it("Zephyr's indefinite-length maps and lists decode to the same values", () => {
    const body = { images: [{ slot: 0, hash: new Uint8Array(32).fill(7), active: true }], splitStatus: 0 };
    const indef = encodeIndefinite(body);
    expect(indef[0]).to.equal(0xbf);
    expect(decodeBody(indef)).to.deep.equal(body);
    expect(decodeBody(Uint8Array.of(0xbf, 0xff))).to.deep.equal({});
  });

  it("refuses a body that is not a map, and garbage", () => {
    expect(() => decodeBody(Uint8Array.of(0x01))).to.throw(SmpCborError);
    expect(() => decodeBody(Uint8Array.of(0xbf, 0x61))).to.throw(SmpCborError);
  });
});

describe("protocol/smp: error tables (mgmt_defines.h, img_mgmt.h)", () => {
  it("names image-group codes and translates them for v1 requests, losing detail", () => {
    expect(imgMgmtErrName(8)).to.equal("HASH_NOT_FOUND");
    expect(imgErrToV1(ImgMgmtErr.IMAGE_ALREADY_PENDING)).to.equal(MgmtErr.EBADSTATE);
    expect(imgErrToV1(ImgMgmtErr.INVALID_OFFSET)).to.equal(MgmtErr.EINVAL);
    expect(imgErrToV1(ImgMgmtErr.IMAGE_CONFIRMATION_DENIED)).to.equal(MgmtErr.EUNKNOWN);
    expect(imgErrToV1(ImgMgmtErr.NO_IMAGE)).to.equal(MgmtErr.ENOENT);
  });
});

describe("protocol/smp: serial framing (smp_transport.rst, boot_serial)", () => {
  it("CRC-16/XMODEM check value", () => {
    expect(crc16Xmodem(new TextEncoder().encode("123456789"))).to.equal(0x31c3);
  });

  it("frames: 06 09 first line, 04 14 continuations, lines <= 127 bytes, base64 per line in 4s", () => {
    const msg = encodeMessage({ header: hdr, body: { data: new Uint8Array(300).fill(0xaa), off: 0 } });
    const frame = encodeSerialFrame(msg);
    const lines = Buffer.from(frame).toString("latin1").split("\n").slice(0, -1);
    expect(lines.length).to.be.above(2);
    expect(lines[0]!.charCodeAt(0)).to.equal(6);
    expect(lines[0]!.charCodeAt(1)).to.equal(9);
    for (const l of lines.slice(1)) expect([l.charCodeAt(0), l.charCodeAt(1)]).to.deep.equal([4, 0x14]);
    for (const l of lines) {
      expect(l.length + 1).to.be.at.most(127);
      expect((l.length - 2) % 4).to.equal(0);
    }
    const packet = Buffer.from(lines.map((l) => l.slice(2)).join(""), "base64");
    expect(packet.readUInt16BE(0)).to.equal(msg.length + 2);
    expect(crc16Xmodem(packet.subarray(2))).to.equal(0);
  });

  it("round-trips any message split at any points (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          d: fc.string({ maxLength: 200 }),
          off: fc.nat(),
          data: fc.uint8Array({ maxLength: 400 }),
        }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 6 }),
        (body, cuts) => {
          const frame = encodeSerialFrame(encodeMessage({ header: hdr, body }));
          const dec = new SerialFrameDecoder();
          const pts = [...new Set(cuts.map((c) => c % (frame.length + 1)))].sort((a, b) => a - b);
          const got = [];
          let from = 0;
          for (const p of [...pts, frame.length]) {
            got.push(...dec.push(frame.subarray(from, p)));
            from = p;
          }
          expect(got).to.have.length(1);
          expect(decodeMessage(got[0]!)).to.deep.equal({ header: hdr, body });
        },
      ),
    );
  });

  it("drops corrupted frames silently, then decodes the next good one", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const frame = encodeSerialFrame(encodeMessage({ header: hdr, body: { off: 5 } }));
        const bad = frame.slice();
        const i = 2 + (at % (frame.length - 3)); // inside the base64, not the markers/newline
        bad[i] = (bad[i]! ^ x) & 0x7f;
        if (bad[i] === 0x0a) bad[i] = 0x21;
        const dec = new SerialFrameDecoder();
        const first = dec.push(bad);
        const good = dec.push(frame);
        // A flip that decodes to the same bytes (base64 padding bits) may survive intact.
        for (const p of first) expect(decodeMessage(p).body).to.deep.equal({ off: 5 });
        expect(good.map((p) => decodeMessage(p).body)).to.deep.equal([{ off: 5 }]);
      }),
    );
  });

  it("names why: bad CRC, continuation without start, non-base64", () => {
    const frame = encodeSerialFrame(encodeMessage({ header: hdr, body: {} }));
    const text = Buffer.from(frame).toString("latin1");
    const dec = new SerialFrameDecoder();
    dec.push(Buffer.from(`\x04\x14AAAA\n`, "latin1"));
    dec.push(Buffer.from(`\x06\x09A*AA\n`, "latin1"));
    const raw = Buffer.from(text.slice(2, -1), "base64");
    raw[raw.length - 1]! ^= 1;
    dec.push(Buffer.concat([Buffer.of(6, 9), Buffer.from(raw.toString("base64")), Buffer.of(10)]));
    expect(dec.dropped).to.deep.equal(["orphan-continuation", "bad-base64", "bad-crc"]);
  });
});

describe("protocol/smp: top-level keys (duplicates are EINVAL in zcbor_map_decode_bulk)", () => {
  it("lists keys of definite and indefinite maps; finds a repeated key", () => {
    expect(topLevelKeys(encodeBody({ off: 1, data: Uint8Array.of(1, 2), len: 9 }))).to.deep.equal([
      "off",
      "data",
      "len",
    ]);
    expect(topLevelKeys(encodeIndefinite({ images: [{ slot: 0 }], splitStatus: 0 }))).to.deep.equal([
      "images",
      "splitStatus",
    ]);
    // {"off": 0, "off": 5}
    const dup = Uint8Array.of(0xa2, 0x63, 0x6f, 0x66, 0x66, 0x00, 0x63, 0x6f, 0x66, 0x66, 0x05);
    expect(duplicateKey(dup)).to.equal("off");
    expect(topLevelKeys(Uint8Array.of(0x01))).to.equal(undefined);
    expect(topLevelKeys(Uint8Array.of(0xa1, 0x61))).to.equal(undefined);
  });

  it("agrees with the decoder on the keys of any map (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 8 }),
          fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.boolean()),
        ),
        fc.boolean(),
        (body, indefinite) => {
          const bytes = indefinite ? encodeIndefinite(body) : encodeBody(body);
          expect(topLevelKeys(bytes)).to.deep.equal(Object.keys(decodeBody(bytes)));
          expect(duplicateKey(bytes)).to.equal(undefined);
        },
      ),
    );
  });
});
