/**
 * The shape of ST's coprocessor files (measured on STM32CubeWB 1.1.0–1.24.0, see
 * harness/protocol/fus/placement.ts) in the codec, the placement rule and the fixtures.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  buildFusImage,
  ST_SHAPES,
  type StShape,
  shapedImage,
  UNSTATED,
  v,
} from "../../../fixtures/fus/build.js";
import {
  encodeImageFooter,
  encodeSignatureFooter,
  FusFooterError,
  FusMagic,
  imageStart,
  parseImageFile,
  parseImageFooter,
  releaseNotesAddress,
} from "../../../harness/protocol/fus/index.js";
import { toHex } from "../../../harness/transport/hex.js";

const MAGIC_OF: Record<string, number> = {
  fus: FusMagic.FUS,
  "wireless-stack": FusMagic.WIRELESS_STACK,
  "fusv2-stack": FusMagic.WIRELESS_STACK_V2,
  safeboot: FusMagic.SAFEBOOT,
  "safeboot-2.0.0": FusMagic.WIRELESS_STACK,
};

describe("protocol/fus: images of the shape ST ships", () => {
  it("reads every magic of ST's files: FUSv2-only stacks, Safeboot 2.0.1 and Safeboot 2.0.0 by its info1", () => {
    const footer = (magic: number, info1: number) =>
      encodeImageFooter({
        info1,
        info2: 0xabcdabcd,
        memory: { flashSectors: 2, sram2aKb: 0, sram2bKb: 0 },
        version: v(2, 0, 1),
        magic,
      });
    const sb = parseImageFooter(footer(0x927a6741, 0xabcdabcd));
    expect([sb.kind, sb.fusV2Only]).to.deep.equal(["safeboot", false]);
    expect(parseImageFooter(footer(0x23372991, 0x5afeb007)).kind).to.equal("safeboot");
    const v2 = parseImageFooter(footer(0xb10c8b99, 0x040104cd));
    expect([v2.kind, v2.fusV2Only]).to.deep.equal(["wireless-stack", true]);
    const classic = parseImageFooter(footer(0x23372991, 0xabcdabcd));
    expect([classic.kind, classic.fusV2Only]).to.deep.equal(["wireless-stack", false]);
    expect(parseImageFooter(footer(0x32279221, 0xabcdabcd)).kind).to.equal("fus");
  });

  it("an ST signature footer reads 34 12 34 12 | CD AB CD AB | 40 57 FF FF | version | 5E 2C A1 D3", () => {
    const f = encodeSignatureFooter({ source: "st", version: v(1, 24, 0) });
    expect(toHex(f.subarray(0, 12))).to.equal("34123412cdabcdab4057ffff");
    expect(toHex(f.subarray(16))).to.equal("5e2ca1d3");
    expect(
      toHex(encodeSignatureFooter({ source: "customer", version: v(1, 0, 0) }).subarray(8, 10)),
    ).to.equal("4001");
  });

  it("the image starts flash-sectors below the end of the sector holding the image footer's end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 200 }),
        // Last-sector bytes the image (body + image footer) leaves unused, 4-byte steps.
        fc.integer({ min: 0, max: 1023 }),
        (page, sectors, quarter) => {
          const start = page * 4096;
          const imageEnd = start + sectors * 4096 - quarter * 4;
          expect(imageStart(imageEnd, sectors)).to.equal(start);
        },
      ),
    );
  });

  for (const [shape, s] of Object.entries(ST_SHAPES) as [StShape, (typeof ST_SHAPES)[StShape]][]) {
    it(`fixture of ${shape}'s shape: ${s.fileSize} B, ${s.sectors} sectors, both footers, magic, odd tail, release-notes address`, () => {
      const file = shapedImage(shape, shape === "FUS 1.2.0" ? UNSTATED : v(1, 24, 0));
      expect(file.length).to.equal(s.fileSize);
      const layout = parseImageFile(file);
      expect(layout.image.memory.flashSectors).to.equal(s.sectors);
      expect(layout.image.magic).to.equal(MAGIC_OF[s.kind]);
      expect(layout.customer).to.equal(undefined);
      expect(layout.st.footerOffset).to.equal(file.length - 20);
      expect(layout.st.signatureOffset).to.equal(file.length - 84);
      expect(layout.imageFooterOffset).to.equal(file.length - 104);
      expect(layout.st.footer.sourceByte).to.equal(0x57);
      expect(file.length % 4096, "the file does not end on a sector boundary").to.not.equal(0);
      expect((file.length - 84) % 4096, "nor does the image footer").to.not.equal(0);
      expect(
        imageStart(layout.imageFooterOffset + 20, s.sectors),
        "image starts at the file's start",
      ).to.equal(0);
      expect(releaseNotesAddress(layout.image, file.length)).to.equal(s.address);
    });
  }

  it("fixtures of any size keep the shape: sectors = the image rounded up, image start = file start", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        (sectors, quarter, v2) => {
          const unused = quarter * 4 + 4 - 84; // the image leaves 8..4004 bytes unused, the file -76..3920
          const file = buildFusImage({
            kind: v2 ? "fusv2-stack" : "wireless-stack",
            version: v(1, 0, 0),
            sectors,
            unused,
            label: `p${sectors}-${quarter}`,
          });
          const layout = parseImageFile(file);
          expect(layout.image.memory.flashSectors).to.equal(sectors);
          expect(Math.ceil((layout.imageFooterOffset + 20) / 4096)).to.equal(sectors);
          expect(imageStart(layout.imageFooterOffset + 20, sectors)).to.equal(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("an ST-shaped file cut short or with a byte changed in its footers parses or is refused with FusFooterError naming an offset inside it", () => {
    const file = shapedImage("Safeboot 2.0.1", v(2, 0, 1));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 104 }),
        fc.integer({ min: 0, max: 103 }),
        fc.integer({ min: 1, max: 255 }),
        (cut, at, xor) => {
          const bytes = file.slice(0, file.length - cut);
          bytes[Math.max(0, bytes.length - 1 - at)]! ^= xor;
          try {
            parseImageFile(bytes);
          } catch (e) {
            expect(e).to.be.instanceOf(FusFooterError);
            expect((e as FusFooterError).offset).to.be.within(0, bytes.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a spec whose size cannot hold its sectors is refused, naming the label", () => {
    expect(() =>
      buildFusImage({ kind: "fus", version: v(1, 0, 0), sectors: 3, unused: 4096, label: "tight" }),
    ).to.throw(RangeError, /tight: .* not 3/);
    expect(() => buildFusImage({ kind: "fus", version: v(1, 0, 0), fileSize: 1002, label: "odd" })).to.throw(
      RangeError,
      /odd: file size 1002/,
    );
  });
});
