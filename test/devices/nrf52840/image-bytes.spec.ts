import { expect } from "chai";
import fc from "fast-check";
import { FlashArea } from "../../../harness/devices/nrf52840-mcuboot/flash-area.js";
import { NRF52840_FLASH } from "../../../harness/devices/nrf52840-mcuboot/profile.js";
import { imageBytes, imageInfo } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { parseImage, publicOf, validateImage } from "../../../harness/protocol/mcuboot/index.js";
import { Flash } from "../../../harness/sim/flash.js";
import { app, goodKey } from "./helpers.js";

const SLOT = 0x76000;

/** A slot-sized area holding `content` at its start, the rest erased. */
function slotWith(content: Uint8Array): FlashArea {
  const flash = new Flash({
    base: NRF52840_FLASH.base,
    sectors: [{ size: NRF52840_FLASH.pageSize, count: SLOT / NRF52840_FLASH.pageSize }],
    programUnit: NRF52840_FLASH.writeSize,
  });
  flash.load(NRF52840_FLASH.base, content);
  return new FlashArea(flash, { offset: 0, size: SLOT }, "secondary", async () => {});
}

/** What parsing and validating some bytes comes to, errors by their message. */
function verdicts(bytes: Uint8Array) {
  let parsed: string;
  try {
    const p = parseImage(bytes);
    parsed = JSON.stringify({
      ...p,
      tlvs: p.tlvs.map((t) => [t.type, [...t.value]]),
      hash: p.hash && [...p.hash],
    });
  } catch (e) {
    parsed = `throws ${(e as Error).message}`;
  }
  const v = validateImage(bytes, [publicOf(goodKey)]);
  return { parsed, valid: v.valid, reason: v.valid ? "" : v.reason, total: v.image?.totalSize };
}

describe("nrf52840: a slot's image bytes", () => {
  const image = app("1.2.3", 3000);

  it("end where the image's TLVs end", () => {
    const area = slotWith(image);
    expect(imageBytes(area).length).to.equal(image.length);
    expect(imageInfo(area)?.totalSize).to.equal(image.length);
  });

  // The bootloader judges a slot by these bytes instead of the whole slot: every verdict and
  // every error message must be the same, whatever the header and TLV info say.
  it("parse and validate as the whole slot does, whatever the header sizes and TLV info hold (property)", () => {
    const payloadEnd = 0x200 + 3000;
    // ih_hdr_size, ih_protect_tlv_size, ih_img_size, it_magic, it_tlv_tot, and bytes beyond.
    const spots = [8, 9, 10, 11, 12, 13, 14, 15, payloadEnd, payloadEnd + 1, payloadEnd + 2, payloadEnd + 3];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...spots, image.length, image.length + 3, 0x75ff0), fc.nat(255)), {
          maxLength: 3,
        }),
        (edits) => {
          const content = new Uint8Array(SLOT).fill(0xff);
          content.set(image);
          for (const [at, value] of edits) content[at] = value;
          const area = slotWith(content);
          expect(verdicts(imageBytes(area))).to.deep.equal(verdicts(content));
        },
      ),
      // it_tlv_tot's low byte cleared: a total under the TLV info's own 4 bytes (found once by
      // the property, so always tried).
      { numRuns: 150, examples: [[[[payloadEnd + 2, 0]]]] },
    );
  });

  it("of an erased or foreign slot fail as the whole slot does", () => {
    for (const content of [new Uint8Array(0), Uint8Array.of(0x3d, 0xb8, 0xf3, 0x97), new Uint8Array(64)]) {
      const whole = new Uint8Array(SLOT).fill(0xff);
      whole.set(content);
      expect(verdicts(imageBytes(slotWith(content)))).to.deep.equal(verdicts(whole));
      expect(imageInfo(slotWith(content))).to.equal(undefined);
    }
  });
});
