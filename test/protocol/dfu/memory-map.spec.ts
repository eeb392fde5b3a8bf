import { expect } from "chai";
import fc from "fast-check";
import {
  covers,
  DfuPayloadError,
  formatMemoryMap,
  type MemoryMap,
  parseMemoryMap,
  sectorAt,
  sectorsTouched,
} from "../../../harness/protocol/dfu/index.js";

const RW = { readable: true, erasable: true, writable: true };

describe("protocol/dfu: DfuSe memory-map strings", () => {
  it("parses the STM32L432 internal flash string", () => {
    expect(parseMemoryMap("@Internal Flash  /0x08000000/0128*0002Kg")).to.deep.equal({
      name: "Internal Flash",
      regions: [{ address: 0x08000000, segments: [{ count: 128, size: 2048, access: RW }] }],
    });
  });

  it("parses several segments, several regions, a space multiplier and letters a..g", () => {
    const f4 = parseMemoryMap("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
    expect(f4.regions[0]!.segments.map((s) => [s.count, s.size])).to.deep.equal([
      [4, 16384],
      [1, 65536],
      [7, 131072],
    ]);
    const ob = parseMemoryMap("@Option Bytes  /0x1FF00000/01*040 e/0x1FF01000/01*040 e");
    expect(ob.regions.map((r) => r.address)).to.deep.equal([0x1ff00000, 0x1ff01000]);
    expect(ob.regions[0]!.segments[0]).to.deep.equal({
      count: 1,
      size: 40,
      access: { readable: true, erasable: false, writable: true },
    });
    const otp = parseMemoryMap("@OTP Memory /0x1FFF7000/01*0001Ke");
    expect(otp.regions[0]!.segments[0]!.size).to.equal(1024);
    const letters = "abcdefg"
      .split("")
      .map((l) => parseMemoryMap(`@x/0x0/1*1B${l}`).regions[0]!.segments[0]!.access);
    expect(letters.map((a) => `${+a.readable}${+a.erasable}${+a.writable}`)).to.deep.equal([
      "100",
      "010",
      "110",
      "001",
      "101",
      "011",
      "111",
    ]);
    expect(parseMemoryMap("@Internal Flash   /0x08000000/256*04Kg").regions[0]!.segments[0]!.count).to.equal(
      256,
    );
    expect(parseMemoryMap("@M/0x08000000/ 2 * 1 M g").regions[0]!.segments[0]!.size).to.equal(1 << 20);
  });

  it("names the character offset of a bad field", () => {
    expect(() => parseMemoryMap("Internal Flash/0x0/1*1Kg")).to.throw(DfuPayloadError, "character 0");
    expect(() => parseMemoryMap("@Flash/08000000/1*1Kg")).to.throw(DfuPayloadError, "character 7");
    expect(() => parseMemoryMap("@Flash/0x08000000/1*1Kz")).to.throw(DfuPayloadError, "character 18");
    expect(() => parseMemoryMap("@Flash/0x08000000/1*1Kg,0*1Kg")).to.throw(DfuPayloadError, "empty");
    expect(() => parseMemoryMap("@Flash")).to.throw(DfuPayloadError);
  });

  it("finds sectors, touched sectors and access over regions", () => {
    const map = parseMemoryMap("@F/0x08000000/02*016Kg,01*064Ka");
    expect(sectorAt(map, 0x08004001)).to.deep.equal({ start: 0x08004000, size: 16384, access: RW });
    expect(sectorAt(map, 0x08018000)).to.equal(undefined);
    expect(sectorsTouched(map, 0x08003fff, 2)!.map((s) => s.start)).to.deep.equal([0x08000000, 0x08004000]);
    expect(sectorsTouched(map, 0x08017fff, 2)).to.equal(undefined);
    expect(covers(map, 0x08000000, 0x8000, "writable")).to.equal(true);
    expect(covers(map, 0x08000000, 0x8001, "writable")).to.equal(false);
    expect(covers(map, 0x08008000, 0x100, "readable")).to.equal(true);
  });

  it("round-trips: parse(format(map)) equals map", () => {
    const access = fc
      .record({ readable: fc.boolean(), erasable: fc.boolean(), writable: fc.boolean() })
      .filter((a) => a.readable || a.erasable || a.writable);
    const size = fc.oneof(
      fc.integer({ min: 1, max: 999 }),
      fc.integer({ min: 1, max: 999 }).map((k) => k * 1024),
      fc.integer({ min: 1, max: 16 }).map((m) => m << 20),
    );
    const segment = fc.record({ count: fc.integer({ min: 1, max: 9999 }), size, access });
    const region = fc.record({
      address: fc.nat(0xffffffff),
      segments: fc.array(segment, { minLength: 1, maxLength: 4 }),
    });
    const map: fc.Arbitrary<MemoryMap> = fc.record({
      name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,20}[A-Za-z0-9]$/),
      regions: fc.array(region, { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(map, (m) => {
        expect(parseMemoryMap(formatMemoryMap(m))).to.deep.equal(m);
      }),
    );
  });

  it("never throws anything but DfuPayloadError on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseMemoryMap(s);
        } catch (e) {
          expect(e).to.be.instanceOf(DfuPayloadError);
        }
      }),
    );
  });
});
