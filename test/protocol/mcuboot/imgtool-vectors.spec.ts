import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../../harness/cli/main.js";
import { parseImage, parsePemKey, TlvType, validateImage } from "../../../harness/protocol/mcuboot/index.js";

// Outputs of MCUboot's imgtool 2.1.0 for each line of cases.txt (fixtures/mcuboot/imgtool-2.1.0/README.md).
const VECTORS = join(import.meta.dirname, "../../../fixtures/mcuboot/imgtool-2.1.0");
const FIXTURES = join(VECTORS, "..");
const cases = readFileSync(join(VECTORS, "cases.txt"), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "" && !l.startsWith("#"))
  .map((l) => {
    const [name, input, ...args] = l.trim().split(/\s+/);
    return { name: name!, input: input!, args };
  });

/** An image with the ECDSA signature TLV left out: the protected part, the other TLVs, and the trailer. */
function withoutSignature(bytes: Uint8Array) {
  const image = parseImage(bytes);
  const tail = bytes.subarray(image.totalSize);
  return {
    signed: bytes.subarray(0, image.signedEnd),
    tlvs: image.tlvs.filter((t) => t.type !== TlvType.ECDSA_SIG).map((t) => [t.type, t.value]),
    tail,
  };
}

describe("hil sign against MCUboot imgtool 2.1.0 (recorded outputs)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-imgtool-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("covers at least 15 option sets", () => {
    expect(cases.length).to.be.at.least(15);
  });

  for (const c of cases) {
    it(`${c.name}: Ed25519 byte for byte`, async () => {
      const out = join(dir, `${c.name}.ed25519.bin`);
      const code = await main([
        "sign",
        "-k",
        join(FIXTURES, "test-only-ed25519.pem"),
        ...c.args,
        join(VECTORS, c.input),
        out,
      ]);
      expect(code).to.equal(0);
      const ours = new Uint8Array(await readFile(out));
      const theirs = new Uint8Array(await readFile(join(VECTORS, "out", `${c.name}.ed25519.bin`)));
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), "identical to imgtool's").to.equal(true);
    });

    it(`${c.name}: ECDSA P-256 identical but for the signature TLV; both signatures verify`, async () => {
      const out = join(dir, `${c.name}.ecdsa.bin`);
      const code = await main([
        "sign",
        "-k",
        join(FIXTURES, "test-only-ecdsa-p256.pem"),
        ...c.args,
        join(VECTORS, c.input),
        out,
      ]);
      expect(code).to.equal(0);
      const ours = new Uint8Array(await readFile(out));
      const theirs = new Uint8Array(await readFile(join(VECTORS, "out", `${c.name}.ecdsa-p256.bin`)));
      const pub = parsePemKey(readFileSync(join(FIXTURES, "test-only-ecdsa-p256.pub.pem"), "utf8"));
      expect(validateImage(theirs, [pub]).valid, "imgtool's signature verifies").to.equal(true);
      expect(validateImage(ours, [pub]).valid, "ours verifies").to.equal(true);
      const a = withoutSignature(ours);
      const b = withoutSignature(theirs);
      expect(Buffer.from(a.signed).equals(Buffer.from(b.signed)), "header, payload, protected TLVs").to.equal(
        true,
      );
      expect(a.tlvs).to.deep.equal(b.tlvs);
      // Padded to the slot: same length; else the image ends with its TLVs.
      if (c.args.includes("--pad") || c.args.includes("--confirm"))
        expect(ours.length).to.equal(theirs.length);
      else expect([a.tail.length, b.tail.length]).to.deep.equal([0, 0]);
      // DER signatures vary in length (70..72 bytes): the padding after the TLVs absorbs it.
      const n = Math.min(a.tail.length, b.tail.length);
      expect(
        Buffer.from(a.tail.subarray(a.tail.length - n)).equals(
          Buffer.from(b.tail.subarray(b.tail.length - n)),
        ),
      ).to.equal(true);
      for (const t of [a.tail, b.tail])
        expect(t.subarray(0, t.length - n).every((x) => x === t[0])).to.equal(true);
    });
  }
});
