import { expect } from "chai";
import { fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { publicOf, signMessage, verifyMessage } from "../../../harness/protocol/mcuboot/index.js";

const ecdsa = fixtureKey("test-only-ecdsa-p256");
const ed = fixtureKey("test-only-ed25519");
const wrong = fixtureKey("test-only-wrong-ecdsa-p256");
const digest = Uint8Array.from({ length: 32 }, (_, i) => i * 5);

describe("protocol/mcuboot: signature verdicts", () => {
  // Verdicts are kept between calls: a verdict must never answer for other inputs.
  for (const key of [ecdsa, ed])
    it(`${key.type}: after a signature verified, a changed byte of signature, digest or key still fails`, () => {
      const sig = signMessage(key, digest, true);
      expect(verifyMessage(publicOf(key), digest, sig)).to.equal(true);
      expect(verifyMessage(publicOf(key), digest, sig), "asked again").to.equal(true);
      for (const at of [0, 10, 40, sig.length - 1]) {
        const bad = sig.slice();
        bad[at]! ^= 0x01;
        expect(verifyMessage(publicOf(key), digest, bad), `signature byte ${at}`).to.equal(false);
      }
      const other = digest.slice();
      other[31]! ^= 0x80;
      expect(verifyMessage(publicOf(key), other, sig), "digest").to.equal(false);
      const otherKey = key.type === "ed25519" ? fixtureKey("test-only-ecdsa-p256") : wrong;
      expect(verifyMessage(publicOf(otherKey), digest, sig), "key").to.equal(false);
      expect(verifyMessage(publicOf(key), digest, sig), "and again").to.equal(true);
    });

  it("a verdict for one key type is not taken for the other with the same bytes", () => {
    const sig = signMessage(ed, digest);
    expect(verifyMessage(publicOf(ed), digest, sig)).to.equal(true);
    expect(verifyMessage({ type: "ecdsa-p256", raw: publicOf(ed).raw }, digest, sig)).to.equal(false);
  });

  it("keeps verifying correctly past the number of verdicts it keeps", () => {
    for (let i = 0; i < 300; i++) {
      const d = Uint8Array.from({ length: 32 }, (_, j) => (i + j) & 0xff);
      const sig = signMessage(ed, d);
      expect(verifyMessage(publicOf(ed), d, sig)).to.equal(true);
      d[0]! ^= 1;
      expect(verifyMessage(publicOf(ed), d, sig)).to.equal(false);
    }
  });
});
