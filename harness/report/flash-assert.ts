/**
 * Chai assertions for flash contents whose failure message is the diagnosis, not two 8 KiB
 * arrays printed as `Uint8Array[ 0, 192, … ]` with an empty diff:
 *
 * ```ts
 * chai.use(flashChai);
 * expect(dev.chip.flash).to.hold({ address: base, bytes: image }, "the new application");
 * expect(await client.read(FLASH, n)).to.equalBytes(image, { address: FLASH });
 * ```
 * A failing `hold` also has the full flash diff (every differing sector) attached to the test.
 */
import type { FlashView as Flash } from "../seams/flash-view.js";
import { expectFlash } from "./evidence.js";
import { bytesDiffHeadline, flashDiffHeadline, type PlacedImage } from "./flash-diff.js";

declare global {
  namespace Chai {
    interface Assertion {
      /** The flash holds `image` at its address, byte for byte. */
      hold(image: PlacedImage, label?: string): Assertion;
      /** The bytes equal `expected`; `address` is where the first byte sits (for the message). */
      equalBytes(expected: Uint8Array, where?: { address?: number; label?: string }): Assertion;
    }
  }
}

const isFlash = (v: unknown): v is Flash =>
  typeof v === "object" && v !== null && "peek" in v && "sectors" in v && "erasedValue" in v;

export function flashChai(chai: Chai.ChaiStatic, utils: Chai.ChaiUtils): void {
  utils.addMethod(
    chai.Assertion.prototype,
    "hold",
    function (this: Chai.AssertionStatic, image: PlacedImage, label = "the image") {
      const flash = utils.flag(this, "object") as unknown;
      if (!isFlash(flash)) throw new TypeError(`hold: expected a Flash, got ${utils.inspect(flash)}`);
      const headline = flashDiffHeadline(flash, image, label);
      // The full diff goes with the failed test, whenever in the test this was asserted.
      if (headline !== undefined && !utils.flag(this, "negate")) expectFlash(flash, image, label);
      this.assert(
        headline === undefined,
        headline ?? "",
        `${flash.name}: expected not to hold ${label} at 0x${image.address.toString(16)}, but every byte matches`,
        undefined,
        undefined,
        false, // the arrays would print as an unreadable wall of numbers
      );
      return this;
    },
  );
  utils.addMethod(
    chai.Assertion.prototype,
    "equalBytes",
    function (
      this: Chai.AssertionStatic,
      expected: Uint8Array,
      where: { address?: number; label?: string } = {},
    ) {
      const got = utils.flag(this, "object") as unknown;
      if (!(got instanceof Uint8Array))
        throw new TypeError(`equalBytes: expected a Uint8Array, got ${utils.inspect(got)}`);
      const headline = bytesDiffHeadline(got, expected, where);
      // (chai puts the assertion's own message, `expect(x, "page 0 kept")`, in front.)
      this.assert(
        headline === undefined,
        headline ?? "",
        `expected ${(got as Uint8Array).length} bytes to differ from ${where.label ?? "the expected bytes"}`,
        undefined,
        undefined,
        false,
      );
      return this;
    },
  );
}
