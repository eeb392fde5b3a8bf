import { crc32 as zlibCrc32 } from "node:zlib";
import { expect } from "chai";
import fc from "fast-check";
import ihex from "nrf-intel-hex";
import {
  appendSuffix,
  buildDfuseFile,
  type DfuseTarget,
  dfuCrc32,
  ImageFileError,
  loadImage,
  parseDfuseFile,
  readSuffix,
} from "../../../harness/protocol/dfu/index.js";

const MemoryMap =
  (ihex as unknown as { default?: typeof ihex.default }).default ?? (ihex as unknown as typeof ihex.default);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("protocol/dfu: DFU suffix CRC", () => {
  it("is the bitwise NOT of zlib's crc32 (no final XOR)", () => {
    expect(dfuCrc32(ascii("123456789"))).to.equal(~0xcbf43926 >>> 0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(dfuCrc32(b)).to.equal(~zlibCrc32(b) >>> 0);
      }),
    );
  });

  it("reads back what appendSuffix wrote; a flipped bit anywhere fails at the dwCRC offset", () => {
    const suffix = { bcdDevice: 0x2200, idProduct: 0xdf11, idVendor: 0x0483, bcdDfu: 0x0100 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(7), (body, where, bit) => {
        const file = appendSuffix(body, suffix);
        expect(readSuffix(file, "f.bin")).to.deep.equal(suffix);
        const at = where % (file.length - 4);
        if (at >= file.length - 16 + 8 && at < file.length - 4) return; // signature/bLength have their own errors
        const bad = file.slice();
        bad[at]! ^= 1 << bit;
        expect(() => readSuffix(bad, "f.bin")).to.throw(ImageFileError, `dwCRC at offset ${file.length - 4}`);
      }),
    );
  });
});

const target = (elements: DfuseTarget["elements"], name?: string): DfuseTarget =>
  name === undefined ? { alt: 0, elements } : { alt: 0, name, elements };

describe("protocol/dfu: DfuSe .dfu files (UM0391)", () => {
  it("lays out prefix, target prefix, element and suffix at the documented offsets", () => {
    const file = buildDfuseFile([
      target([{ address: 0x08000000, data: Uint8Array.of(1, 2, 3, 4) }], "ST..."),
    ]);
    expect(file.length).to.equal(11 + 274 + 8 + 4 + 16);
    expect(new TextDecoder().decode(file.subarray(0, 5))).to.equal("DfuSe");
    expect(file[5]).to.equal(1);
    const view = new DataView(file.buffer);
    expect(view.getUint32(6, true)).to.equal(file.length);
    expect(file[10]).to.equal(1);
    expect(new TextDecoder().decode(file.subarray(11, 17))).to.equal("Target");
    expect(view.getUint32(11 + 266, true)).to.equal(12);
    expect(view.getUint32(11 + 270, true)).to.equal(1);
    expect(view.getUint32(285, true)).to.equal(0x08000000);
    expect(view.getUint16(file.length - 10, true)).to.equal(0x011a);
  });

  it("round-trips targets and elements, in both DFUImageSize conventions", () => {
    const element = fc.record({ address: fc.nat(0x7fffffff), data: fc.uint8Array({ maxLength: 64 }) });
    const targetArb = fc.record({
      alt: fc.nat(255),
      elements: fc.array(element, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(targetArb, { maxLength: 3 }), fc.boolean(), (targets, withSuffix) => {
        const imageSize = withSuffix ? "with-suffix" : "without-suffix";
        const file = buildDfuseFile(targets, { imageSize });
        const parsed = parseDfuseFile(file, "x.dfu");
        expect(parsed.imageSize).to.equal(imageSize);
        expect(parsed.targets).to.deep.equal(targets);
      }),
    );
  });

  it("refuses every truncation with an error naming an offset", () => {
    const file = buildDfuseFile([target([{ address: 0x08000000, data: new Uint8Array(100).fill(7) }])]);
    for (let n = 0; n < file.length; n++) {
      expect(() => parseDfuseFile(file.subarray(0, n), "t.dfu"), `first ${n} bytes`).to.throw(
        ImageFileError,
        /^t\.dfu: .*at offset \d+/,
      );
    }
  });

  it("checks the structure once the CRC matches, naming the field and offset", () => {
    // Correct CRC over wrong contents: the structural checks must catch it.
    const reSuffix = (body: Uint8Array) =>
      appendSuffix(body, { bcdDevice: 0xffff, idProduct: 0xdf11, idVendor: 0x0483, bcdDfu: 0x011a });
    const good = buildDfuseFile([target([{ address: 0x08000000, data: new Uint8Array(8) }])]);
    const body = good.slice(0, good.length - 16);
    const sized = (mutate: (b: Uint8Array) => void) => {
      const b = body.slice();
      mutate(b);
      return reSuffix(b);
    };
    expect(() =>
      parseDfuseFile(
        sized((b) => new DataView(b.buffer).setUint32(6, 5, true)),
        "a.dfu",
      ),
    ).to.throw("a.dfu: DfuSe prefix DFUImageSize at offset 6");
    expect(() =>
      parseDfuseFile(
        sized((b) => (b[5] = 2)),
        "a.dfu",
      ),
    ).to.throw("bVersion at offset 5");
    expect(() =>
      parseDfuseFile(
        sized((b) => (b[11] = 0x74)),
        "a.dfu",
      ),
    ).to.throw("target 0 szSignature at offset 11");
    expect(() =>
      parseDfuseFile(
        sized((b) => new DataView(b.buffer).setUint32(289, 9, true)),
        "a.dfu",
      ),
    ).to.throw(/target 0 element 0 dwElementSize at offset 293/);
    const plainSuffix = appendSuffix(body, {
      bcdDevice: 0xffff,
      idProduct: 0xdf11,
      idVendor: 0x0483,
      bcdDfu: 0x0100,
    });
    expect(() => parseDfuseFile(plainSuffix, "a.dfu")).to.throw("bcdDFU");
  });
});

describe("protocol/dfu: firmware image inputs", () => {
  it("a .bin needs an address; .hex and .dfu refuse one", () => {
    expect(() => loadImage("app.bin", new Uint8Array(4))).to.throw(ImageFileError, "app.bin: address");
    expect(loadImage("app.bin", Uint8Array.of(1, 2), { address: 0x08000000 }).segments).to.deep.equal([
      { address: 0x08000000, data: Uint8Array.of(1, 2) },
    ]);
    expect(() => loadImage("app.hex", new Uint8Array(0), { address: 0 })).to.throw(ImageFileError);
    expect(() => loadImage("app.elf", new Uint8Array(4))).to.throw("extension");
  });

  it("reads Intel HEX with extended linear addresses into joined segments", () => {
    const map = new MemoryMap([
      [0x08000000, Uint8Array.from({ length: 40 }, (_, i) => i)],
      [0x08010000, Uint8Array.of(0xaa, 0xbb)],
    ]);
    const img = loadImage("app.hex", ascii(map.asHexString()));
    expect(img.format).to.equal("hex");
    expect(img.segments.map((s) => [s.address, s.data.length])).to.deep.equal([
      [0x08000000, 40],
      [0x08010000, 2],
    ]);
  });

  it("refuses a HEX record with a bad checksum naming its line", () => {
    const text = ":020000040800F2\n:0400000001020304F1\n:00000001FF\n";
    expect(() => loadImage("bad.hex", ascii(text))).to.throw(
      ImageFileError,
      /^bad\.hex: Intel HEX record at line 2:/,
    );
  });

  it("reads one-target .dfu files and their USB identity", () => {
    const file = buildDfuseFile([
      target([
        { address: 0x08000800, data: Uint8Array.of(3) },
        { address: 0x08000000, data: Uint8Array.of(1, 2) },
      ]),
    ]);
    const img = loadImage("fw.dfu", file);
    expect(img).to.deep.include({ format: "dfu", alt: 0, vendorId: 0x0483, productId: 0xdf11 });
    expect(img.segments.map((s) => s.address)).to.deep.equal([0x08000000, 0x08000800]);
    const two = buildDfuseFile([target([]), target([])]);
    expect(() => loadImage("two.dfu", two)).to.throw("bTargets at offset 10");
  });
});
