import { expect } from "chai";
import fc from "fast-check";
import { diffFlash, renderFlashDiff, sectorMap } from "../../harness/report/flash-diff.js";
import { Flash } from "../../harness/sim/flash.js";

const BASE = 0x0800_0000;
const SECTOR = 256;

function flashWith(content: Uint8Array): Flash {
  const f = new Flash(
    { base: BASE, sectors: [{ size: SECTOR, count: 8 }], programUnit: 8 },
    { name: "test flash" },
  );
  f.setPowered(true);
  f.load(BASE, content);
  return f;
}

const image = (fill: number, length = 4 * SECTOR) => new Uint8Array(length).fill(fill);

describe("report: flash diff after a fault", () => {
  it("names each differing sector, erased or how many bytes, and the first difference", () => {
    const want = image(0x11);
    const got = want.slice();
    got.fill(0xff, SECTOR, 2 * SECTOR); // sector 1 erased
    got[3 * SECTOR + 5] = 0x10; // one torn byte in sector 3
    const diff = diffFlash(flashWith(got), { address: BASE, bytes: want });
    expect(diff.map((d) => [d.sector.index, d.erased, d.differing, d.first.address])).to.deep.equal([
      [1, true, SECTOR, BASE + SECTOR],
      [3, false, 1, BASE + 3 * SECTOR + 5],
    ]);
    const text = renderFlashDiff(flashWith(got), { address: BASE, bytes: want }, "v2");
    expect(text).to.include("2 sector(s) differ");
    expect(text).to.include(
      "sector 3 @0x08000300 (256 B): 1 byte(s) differ; first at 0x08000305: flash 0x10, image 0x11",
    );
    expect(renderFlashDiff(flashWith(want), { address: BASE, bytes: want })).to.match(/every byte matches$/);
  });

  it("maps sectors to the images they hold: old, new, erased, other", () => {
    const old = image(0x0a);
    const next = image(0x0b);
    const got = new Uint8Array(4 * SECTOR);
    got.set(next.subarray(0, SECTOR), 0);
    got.fill(0xff, SECTOR, 2 * SECTOR);
    got.set(old.subarray(2 * SECTOR, 3 * SECTOR), 2 * SECTOR);
    got.fill(0x42, 3 * SECTOR, 4 * SECTOR);
    const map = sectorMap(
      flashWith(got),
      { address: BASE, length: 4 * SECTOR },
      { O: { address: BASE, bytes: old }, N: { address: BASE, bytes: next } },
    );
    expect(map).to.equal("N.Ox");
  });

  it("a short last page matches when the rest of it is erased", () => {
    const short = image(0x33, SECTOR + 10);
    const f = flashWith(short);
    expect(
      sectorMap(f, { address: BASE, length: short.length }, { N: { address: BASE, bytes: short } }),
    ).to.equal("NN");
  });

  it("a sector map marks a sector with an image's letter only when every byte of it matches (property)", () => {
    // The rule spelled out byte by byte: inside the image its byte, outside it erased.
    const reference = (got: Uint8Array, images: Record<string, { address: number; bytes: Uint8Array }>) => {
      let map = "";
      for (let s = 0; s < 8; s++) {
        const sector = got.subarray(s * SECTOR, (s + 1) * SECTOR);
        let mark = sector.every((b) => b === 0xff) ? "." : "x";
        for (const [letter, img] of Object.entries(images)) {
          const off = BASE + s * SECTOR - img.address;
          if (mark !== "x" || off + SECTOR <= 0 || off >= img.bytes.length) continue;
          if (sector.every((b, i) => b === (img.bytes[off + i] ?? 0xff))) mark = letter;
        }
        map += mark;
      }
      return map;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * SECTOR }),
        fc.integer({ min: 1, max: 4 * SECTOR }),
        fc.uniqueArray(fc.integer({ min: 0, max: 8 * SECTOR - 1 }), { maxLength: 6 }),
        fc.boolean(),
        (at, length, spots, erase) => {
          const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0x7f);
          const got = new Uint8Array(8 * SECTOR).fill(0xff);
          got.set(bytes, at);
          for (const i of spots) got[i] = erase ? 0xff : 0x80;
          const images = {
            N: { address: BASE + at, bytes },
            O: { address: BASE, bytes: got.slice(0, SECTOR) },
          };
          const map = sectorMap(flashWith(got), { address: BASE, length: 8 * SECTOR }, images);
          expect(map).to.equal(reference(got, images));
        },
      ),
    );
  });

  it("finds every changed byte and nothing else (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 8 * SECTOR - 1 }), { maxLength: 20 }), (spots) => {
        const want = image(0x5a, 8 * SECTOR);
        const got = want.slice();
        for (const i of spots) got[i] = 0xa5;
        const diff = diffFlash(flashWith(got), { address: BASE, bytes: want });
        const sectors = [...new Set(spots.map((i) => Math.floor(i / SECTOR)))].sort((a, b) => a - b);
        expect(diff.map((d) => d.sector.index)).to.deep.equal(sectors);
        expect(diff.reduce((n, d) => n + d.differing, 0)).to.equal(spots.length);
      }),
    );
  });
});
