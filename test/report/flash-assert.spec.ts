import * as chai from "chai";
import { AssertionError, expect } from "chai";
import fc from "fast-check";
import { flashChai } from "../../harness/report/flash-assert.js";
import { Flash } from "../../harness/sim/flash.js";

chai.use(flashChai);

const BASE = 0x0800_0000;
const SECTOR = 2048;

function flashHolding(content: Uint8Array): Flash {
  const f = new Flash(
    { base: BASE, sectors: [{ size: SECTOR, count: 8 }], programUnit: 8 },
    { name: "l432 flash" },
  );
  f.load(BASE, content);
  return f;
}

/** The message of the AssertionError `check` throws. */
function failure(check: () => void): string {
  try {
    check();
  } catch (e) {
    expect(e).to.be.instanceOf(AssertionError);
    expect((e as { showDiff?: boolean }).showDiff).to.equal(false);
    return (e as Error).message;
  }
  throw new Error("expected the assertion to fail");
}

describe("report: flash assertions that say where", () => {
  const image = Uint8Array.from({ length: 4 * SECTOR }, (_, i) => (i * 7) & 0xff);

  it("hold: the headline is the first differing address, the byte count and the sector", () => {
    const got = image.slice();
    got[0xda2] = 0xdb;
    const flash = flashHolding(got);
    const msg = failure(() => expect(flash).to.hold({ address: BASE, bytes: image }, "v2"));
    expect(msg).to.equal(
      `l432 flash: 1 byte of v2 at 0x08000000 (8192 B) differs, in sector 1; first at 0x08000da2: flash 0xdb, image 0x${image[0xda2]!.toString(16).padStart(2, "0")}`,
    );
    expect(msg).not.to.include("Uint8Array");
  });

  it("hold: an erased sector and several torn ones are named, count over all of them", () => {
    const got = image.slice();
    got.fill(0xff, SECTOR, 2 * SECTOR);
    got[3 * SECTOR + 1] = 0x5a;
    const msg = failure(() => expect(flashHolding(got)).to.hold({ address: BASE, bytes: image }));
    expect(msg).to.match(
      /^l432 flash: \d+ bytes of the image at 0x08000000 \(8192 B\) differ, in sectors 1 \(erased\), 3; first at 0x08000800: /,
    );
    expect(() => expect(flashHolding(image)).to.hold({ address: BASE, bytes: image })).not.to.throw();
    expect(
      failure(() => expect(flashHolding(image)).not.to.hold({ address: BASE, bytes: image })),
    ).to.include("every byte matches");
  });

  it("equalBytes: count, first and last difference at their addresses, length, the assertion's own message", () => {
    const got = image.slice();
    got[10] = 0;
    got[4000] = 1;
    expect(failure(() => expect(got, "read back").to.equalBytes(image, { address: BASE }))).to.equal(
      `read back: 2 bytes of 8192 differ from the expected bytes; first at 0x0800000a: got 0x00, want 0x${image[10]!.toString(16).padStart(2, "0")}; last at 0x08000fa0`,
    );
    expect(failure(() => expect(image.subarray(0, 8)).to.equalBytes(image.subarray(0, 9)))).to.equal(
      "got 8 bytes, want 9",
    );
    expect(() => expect(image.slice()).to.equalBytes(image)).not.to.throw();
  });

  it("equalBytes agrees with a byte-by-byte comparison (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const same = a.length === b.length && a.every((x, i) => x === b[i]);
        let threw = false;
        try {
          expect(a).to.equalBytes(b);
        } catch {
          threw = true;
        }
        return threw === !same;
      }),
    );
  });
});
