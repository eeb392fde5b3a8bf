import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import fc from "fast-check";
import { fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { main } from "../../../harness/cli/main.js";
import {
  BOOT_MAGIC_ALIGN8,
  BootFlagState,
  BootMagicState,
  decodeHeader,
  decodeTlvArea,
  encodeHeader,
  encodeSpki,
  encodeUnprotectedTlvs,
  formatVersion,
  IMAGE_MAGIC,
  keyHash,
  McubootImageError,
  McubootKeyError,
  parseImage,
  parsePemKey,
  parseVersion,
  privateKeyPem,
  publicKeyPem,
  publicOf,
  readTrailer,
  type SignOptions,
  signImage,
  TLV_INFO_MAGIC,
  TlvType,
  trailerLayout,
  validateImage,
} from "../../../harness/protocol/mcuboot/index.js";

const good = fixtureKey("test-only-ecdsa-p256");
const goodEd = fixtureKey("test-only-ed25519");
const wrong = fixtureKey("test-only-wrong-ecdsa-p256");
const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) & 0xff);
const base = (o: Partial<SignOptions> = {}): SignOptions => ({
  key: good,
  version: parseVersion("1.2.3+4"),
  headerSize: 0x200,
  slotSize: 0x10000,
  padHeader: true,
  ...o,
});
const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

describe("protocol/mcuboot: image header and TLVs (MCUboot design.md 'Image format')", () => {
  it("lays the 32-byte header out as struct image_header, little-endian", () => {
    const img = signImage(payload, base());
    expect(u32(img, 0)).to.equal(0x96f3b83d);
    expect(u16(img, 8)).to.equal(0x200); // ih_hdr_size
    expect(u16(img, 10)).to.equal(0); // no protected TLVs
    expect(u32(img, 12)).to.equal(payload.length);
    expect(u32(img, 16)).to.equal(0); // ih_flags
    expect([...img.subarray(20, 28)]).to.deep.equal([1, 2, 3, 0, 4, 0, 0, 0]);
    expect(img.subarray(0x200, 0x200 + payload.length)).to.deep.equal(payload);
  });

  it("--pad-header fills the header padding with the erased value (imgtool load): 0xff, or 0 with --erased-val 0", () => {
    const ff = signImage(payload, base());
    expect(ff.subarray(32, 0x200).every((b) => b === 0xff)).to.equal(true);
    const zero = signImage(payload, base({ erasedValue: 0 }));
    expect(zero.subarray(32, 0x200).every((b) => b === 0)).to.equal(true);
    // The padding is hashed: the SHA256 TLVs differ and each matches its own image.
    expect(parseImage(ff).hash).to.not.deep.equal(parseImage(zero).hash);
    for (const img of [ff, zero]) expect(validateImage(img, [publicOf(good)]).valid).to.equal(true);
    expect(() => signImage(payload, base({ erasedValue: 0x55 }))).to.throw(RangeError, /erased value/);
  });

  it("-L sets ih_load_addr and IMAGE_F_RAM_LOAD (0x20) whenever it is non-zero, as imgtool add_header", () => {
    const img = signImage(payload, base({ loadAddr: 0x20000000 }));
    expect(u32(img, 4)).to.equal(0x20000000);
    expect(u32(img, 16)).to.equal(0x20);
    expect(u32(signImage(payload, base({ loadAddr: 0 })), 16)).to.equal(0);
  });

  it("writes SHA256, KEYHASH, then the DER ECDSA signature in the unprotected area; it_tlv_tot counts its header", () => {
    const img = signImage(payload, base());
    const at = 0x200 + payload.length;
    expect(u16(img, at)).to.equal(TLV_INFO_MAGIC);
    expect(u16(img, at + 2)).to.equal(img.length - at);
    const area = decodeTlvArea(img, at, TLV_INFO_MAGIC);
    expect(area.tlvs.map((t) => t.type)).to.deep.equal([TlvType.SHA256, TlvType.KEYHASH, TlvType.ECDSA_SIG]);
    expect(area.tlvs[0]!.value).to.deep.equal(sha256(img.subarray(0, at)));
    expect(area.tlvs[1]!.value).to.deep.equal(sha256(encodeSpki(good)));
    const sig = area.tlvs[2]!.value;
    expect(sig[0]).to.equal(0x30);
    expect(sig.length).to.be.within(70, 72);
  });

  it("--pad-sig pads the P-256 signature to 72 bytes and it still verifies", () => {
    for (let v = 0; v < 6; v++) {
      const img = signImage(
        payload,
        base({ padSig: true, version: { major: 1, minor: 0, revision: v, build: 0 } }),
      );
      const sig = parseImage(img).tlvs.find((t) => t.type === TlvType.ECDSA_SIG)!;
      expect(sig.value.length).to.equal(72);
      expect(validateImage(img, [good]).valid).to.equal(true);
    }
  });

  it("Ed25519: a 64-byte ED25519 TLV over the digest; --pure signs the image and drops the SHA256 TLV", () => {
    const img = signImage(payload, base({ key: goodEd }));
    const types = parseImage(img).tlvs.map((t) => t.type);
    expect(types).to.deep.equal([TlvType.SHA256, TlvType.KEYHASH, TlvType.ED25519]);
    expect(validateImage(img, [publicOf(goodEd)]).valid).to.equal(true);
    const pure = signImage(payload, base({ key: goodEd, pure: true }));
    const parsed = parseImage(pure);
    expect(parsed.tlvs.map((t) => t.type)).to.deep.equal([TlvType.KEYHASH, TlvType.ED25519]);
    expect(parsed.protectedTlvs.map((t) => t.type)).to.deep.equal([TlvType.SIG_PURE]);
    expect(validateImage(pure, [publicOf(goodEd)]).valid).to.equal(true);
  });

  it("protected TLVs (security counter) sit before the 0x6907 area, are counted in ih_protect_tlv_size and are hashed", () => {
    const img = signImage(payload, base({ securityCounter: 7 }));
    const p = parseImage(img);
    expect(p.header.protectTlvSize).to.equal(4 + 4 + 4);
    expect(u16(img, 0x200 + payload.length)).to.equal(0x6908);
    expect(p.protectedTlvs).to.have.length(1);
    expect(u32(p.protectedTlvs[0]!.value, 0)).to.equal(7);
    expect(p.hash).to.deep.equal(sha256(img.subarray(0, p.signedEnd)));
  });

  it("--public-key-format full emits PUBKEY (the SubjectPublicKeyInfo) instead of KEYHASH", () => {
    const img = signImage(payload, base({ publicKeyFormat: "full" }));
    const t = parseImage(img).tlvs.find((x) => x.type === TlvType.PUBKEY)!;
    expect(t.value).to.deep.equal(encodeSpki(good));
    expect(validateImage(img, [good]).valid).to.equal(true);
  });

  it("without --pad-header the input must start with hdr_size zero bytes, which the header replaces", () => {
    const withRoom = new Uint8Array(0x200 + payload.length);
    withRoom.set(payload, 0x200);
    // Zeros are required whatever the erased value, so this equals --pad-header --erased-val 0.
    const signed = signImage(withRoom, base({ padHeader: false }));
    expect(signed).to.deep.equal(signImage(payload, base({ erasedValue: 0 })));
    expect(signed.subarray(32, 0x200).every((b) => b === 0)).to.equal(true);
    expect(() => signImage(payload, base({ padHeader: false }))).to.throw(RangeError, /--pad-header/);
  });

  it("refuses an image that does not leave room for the trailer in the slot", () => {
    expect(() => signImage(payload, base({ slotSize: 4000 }))).to.throw(RangeError, /trailer/);
  });
});

describe("protocol/mcuboot: validation as bootutil_img_validate", () => {
  it("accepts the right key, refuses another key (KEYHASH matches none) and a changed byte (hash)", () => {
    const img = signImage(payload, base());
    expect(validateImage(img, [good])).to.include({ valid: true, keyIndex: 0 });
    expect(validateImage(img, [wrong, good])).to.include({ valid: true, keyIndex: 1 });
    expect(validateImage(img, [wrong])).to.deep.include({
      valid: false,
      reason: "key hash matches no provisioned key",
    });
    const other = signImage(payload, base({ key: wrong }));
    expect(validateImage(other, [good]).valid).to.equal(false);
    const bad = img.slice();
    bad[0x300]! ^= 1;
    expect(validateImage(bad, [good])).to.deep.include({
      valid: false,
      reason: "SHA256 TLV does not match the image",
    });
  });

  it("a signature made by another key under the right KEYHASH does not verify", () => {
    const img = signImage(payload, base());
    const forged = signImage(payload, base({ key: wrong }));
    const p = parseImage(img);
    const sigAt = p.tlvs.find((t) => t.type === TlvType.ECDSA_SIG)!.offset!;
    const f = parseImage(forged).tlvs.find((t) => t.type === TlvType.ECDSA_SIG)!;
    const spliced = new Uint8Array([...img.subarray(0, sigAt), ...forged.subarray(f.offset!)]);
    const tot = spliced.length - p.signedEnd;
    spliced[p.signedEnd + 2] = tot & 0xff;
    spliced[p.signedEnd + 3] = tot >> 8;
    expect(validateImage(spliced, [good])).to.deep.include({
      valid: false,
      reason: "signature does not verify",
    });
  });
});

describe("protocol/mcuboot: malformed images name the offset", () => {
  const img = signImage(payload, base());
  it("names the magic, the sizes and the TLV info", () => {
    const err = (b: Uint8Array) => {
      try {
        parseImage(b);
      } catch (e) {
        return e as McubootImageError;
      }
      throw new Error("parsed");
    };
    const m = img.slice();
    m[0] = 0x3c;
    expect(err(m))
      .to.include({ offset: 0 })
      .and.property("message")
      .match(/legacy V1/);
    const s = img.slice();
    s.set([0xff, 0xff, 0xff, 0x00], 12);
    expect(err(s)).to.include({ offset: 12 });
    const t = img.slice();
    t[0x200 + payload.length] = 0;
    expect(err(t))
      .to.include({ offset: 0x200 + payload.length })
      .and.property("message")
      .match(/TLV info magic/);
    expect(err(img.subarray(0, 20))).to.include({ offset: 20 });
  });

  it("every truncation fails with McubootImageError at an offset inside the image (property)", () => {
    const total = parseImage(img).totalSize;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: total - 1 }), (n) => {
        try {
          parseImage(img.subarray(0, n));
          return false;
        } catch (e) {
          return e instanceof McubootImageError && e.offset <= n;
        }
      }),
    );
  });

  it("random corruption is either refused with an offset or fails validation, never accepted (property)", () => {
    const total = parseImage(img).totalSize;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: total - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = img.slice(0, total);
        b[at]! ^= x;
        // Header padding bytes (32..hdr_size) are hashed too, so every byte matters.
        try {
          return !validateImage(b, [good]).valid;
        } catch (e) {
          return e instanceof McubootImageError;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("protocol/mcuboot: codecs round-trip (property)", () => {
  it("header", () => {
    fc.assert(
      fc.property(
        fc.record({
          loadAddr: fc.nat({ max: 0xffffffff }),
          hdrSize: fc.integer({ min: 32, max: 0xffff }),
          protectTlvSize: fc.nat({ max: 0xffff }),
          imgSize: fc.nat({ max: 0xffffffff }),
          flags: fc.nat({ max: 0xffffffff }),
          version: fc.record({
            major: fc.nat({ max: 255 }),
            minor: fc.nat({ max: 255 }),
            revision: fc.nat({ max: 0xffff }),
            build: fc.nat({ max: 0xffffffff }),
          }),
        }),
        (h) => {
          const full = { magic: IMAGE_MAGIC, ...h };
          expect(decodeHeader(encodeHeader(full))).to.deep.equal(full);
        },
      ),
    );
  });

  it("TLV area", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.nat({ max: 0xffff }), value: fc.uint8Array({ maxLength: 80 }) }), {
          maxLength: 8,
        }),
        (tlvs) => {
          const area = decodeTlvArea(encodeUnprotectedTlvs(tlvs), 0, TLV_INFO_MAGIC);
          expect(area.tlvs.map(({ type, value }) => ({ type, value }))).to.deep.equal(tlvs);
        },
      ),
    );
  });

  it("versions: imgtool form in, img_mgmt form out (build only when non-zero)", () => {
    expect(formatVersion(parseVersion("1.2.3"))).to.equal("1.2.3");
    expect(formatVersion(parseVersion("1.2.3+9"))).to.equal("1.2.3.9");
    expect(formatVersion(parseVersion("2"))).to.equal("2.0.0");
    expect(() => parseVersion("256.0.0")).to.throw(RangeError, /major/);
    expect(() => parseVersion("1.2.x")).to.throw(RangeError);
  });

  it("-d / -s: DEPENDENCY and SEC_CNT TLVs decode to what was given, in imgtool's order (property)", () => {
    const version = fc.record({
      major: fc.nat({ max: 0xff }),
      minor: fc.nat({ max: 0xff }),
      revision: fc.nat({ max: 0xffff }),
      build: fc.nat({ max: 0xffffffff }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ imageId: fc.nat({ max: 0xff }), version }), { maxLength: 4 }),
        fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
        (dependencies, counter) => {
          const img = signImage(payload, base({ dependencies, securityCounter: counter, erasedValue: 0 }));
          const tlvs = parseImage(img).protectedTlvs;
          const v = (t: { value: Uint8Array }) => new DataView(t.value.buffer, t.value.byteOffset);
          const decoded = tlvs
            .filter((t) => t.type === TlvType.DEPENDENCY)
            .map((t) => ({
              imageId: t.value[0],
              version: {
                major: t.value[4],
                minor: t.value[5],
                revision: v(t).getUint16(6, true),
                build: v(t).getUint32(8, true),
              },
            }));
          expect(decoded).to.deep.equal(dependencies);
          expect(tlvs.map((t) => t.type)).to.deep.equal([
            ...(counter === undefined ? [] : [TlvType.SEC_CNT]),
            ...dependencies.map(() => TlvType.DEPENDENCY),
          ]);
          if (counter !== undefined) expect(v(tlvs[0]!).getUint32(0, true)).to.equal(counter);
          expect(validateImage(img, [publicOf(good)]).valid).to.equal(true);
        },
      ),
      { numRuns: 40 },
    );
    expect(() =>
      signImage(payload, base({ dependencies: [{ imageId: 256, version: parseVersion("1") }] })),
    ).to.throw(RangeError, /image id 256/);
  });

  it("-s auto is the version's major << 24 | minor << 16 | revision, as imgtool", () => {
    const img = signImage(payload, base({ version: parseVersion("255.2.3+4"), securityCounter: "auto" }));
    const t = parseImage(img).protectedTlvs[0]!;
    expect([t.type, new DataView(t.value.buffer, t.value.byteOffset).getUint32(0, true)]).to.deep.equal([
      TlvType.SEC_CNT,
      0xff020003,
    ]);
  });

  it("sign then parse recovers the version and payload for any input (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.nat({ max: 255 }), (data, minor) => {
        const img = signImage(data, base({ version: { major: 0, minor, revision: 1, build: 0 } }));
        const p = parseImage(img);
        expect(p.header.version.minor).to.equal(minor);
        expect(img.subarray(p.payloadOffset, p.payloadOffset + p.header.imgSize)).to.deep.equal(data);
        expect(validateImage(img, [good]).valid).to.equal(true);
      }),
      { numRuns: 25 },
    );
  });
});

describe("protocol/mcuboot: --pad / --confirm trailers (design.md 'Image trailer')", () => {
  it("--pad fills to the slot with the magic in the last 16 bytes: pending test on arrival", () => {
    const img = signImage(payload, base({ pad: true }));
    expect(img.length).to.equal(0x10000);
    expect(img.subarray(-16)).to.deep.equal(BOOT_MAGIC_ALIGN8);
    const t = readTrailer(img, trailerLayout(0x10000));
    expect(t).to.include({
      magic: BootMagicState.GOOD,
      imageOk: BootFlagState.UNSET,
      copyDone: BootFlagState.UNSET,
    });
  });

  it("--confirm also sets image_ok (end - 24 with max align 8)", () => {
    const img = signImage(payload, base({ confirm: true }));
    expect(img[img.length - 24]).to.equal(1);
    expect(readTrailer(img, trailerLayout(0x10000)).imageOk).to.equal(BootFlagState.SET);
  });

  it("max align 16 uses the u16-align magic form and moves image_ok to end - 32", () => {
    const img = signImage(payload, base({ confirm: true, maxAlign: 16, align: 16 }));
    expect([...img.subarray(-16, -14)]).to.deep.equal([16, 0]);
    expect(img[img.length - 32]).to.equal(1);
  });
});

describe("protocol/mcuboot: keys", () => {
  it("PEM round trip for both types; KEYHASH from the public PEM equals the private key's", () => {
    for (const k of [good, goodEd]) {
      const priv = parsePemKey(privateKeyPem(k));
      expect(priv).to.deep.equal(k);
      expect(keyHash(parsePemKey(publicKeyPem(k)))).to.deep.equal(keyHash(k));
    }
  });

  it("refuses non-PEM, encrypted and unsupported key types with the reason", () => {
    expect(() => parsePemKey("hello", "k.pem")).to.throw(McubootKeyError, /not a PEM/);
    expect(() =>
      parsePemKey("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
    ).to.throw(McubootKeyError, /unsupported PEM type 'RSA PRIVATE KEY'/);
    expect(() =>
      parsePemKey("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
    ).to.throw(McubootKeyError, /encrypted/);
  });
});

describe("hil keygen / hil sign", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-sign-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("keygen writes a key that sign uses; the image validates against that key only", async () => {
    const key = join(dir, "k.pem");
    expect(await main(["keygen", "-t", "ed25519", "-k", key])).to.equal(0);
    expect(await main(["keygen", "-t", "ed25519", "-k", key]), "refuses to overwrite").to.not.equal(0);
    await writeFile(join(dir, "app.bin"), payload);
    const args = ["sign", "-k", key, "--version", "1.0.0", "-H", "0x200", "-S", "0x10000", "--pad-header"];
    expect(await main([...args, join(dir, "app.bin"), join(dir, "app.signed.bin")])).to.equal(0);
    const img = new Uint8Array(await readFile(join(dir, "app.signed.bin")));
    const pub = parsePemKey(await readFile(key, "utf8"));
    expect(validateImage(img, [pub]).valid).to.equal(true);
    expect(validateImage(img, [goodEd]).valid).to.equal(false);
  });

  it("sign refuses a missing option, an unreadable key and a public key with exit code 2", async () => {
    await writeFile(join(dir, "app.bin"), payload);
    const pub = join(dir, "pub.pem");
    await writeFile(pub, publicKeyPem(good));
    const io = [join(dir, "app.bin"), join(dir, "o.bin")];
    expect(await main(["sign", "-k", pub, "-H", "0x200", "-S", "0x10000", ...io])).to.equal(2);
    expect(
      await main(["sign", "-k", join(dir, "nope.pem"), "--version", "1", "-H", "512", "-S", "65536", ...io]),
    ).to.equal(2);
    expect(await main(["sign", "-k", pub, "--version", "1", "-H", "512", "-S", "65536", ...io])).to.equal(2);
    expect(await main(["keygen", "-t", "rsa-2048", "-k", join(dir, "r.pem")])).to.equal(2);
  });

  it("sign refuses --erased-val other than 0/0xff and a malformed -d with exit code 2", async () => {
    await writeFile(join(dir, "app.bin"), payload);
    const key = join(dir, "good.pem");
    await writeFile(key, privateKeyPem(good));
    const common = ["sign", "-k", key, "-v", "1", "-H", "512", "-S", "65536", "--pad-header"];
    const io = [join(dir, "app.bin"), join(dir, "o.bin")];
    expect(await main([...common, "--erased-val", "0x55", ...io])).to.equal(2);
    expect(await main([...common, "-d", "1,1.0.0", ...io])).to.equal(2);
    expect(await main([...common, "-d", "(256,1.0.0)", ...io])).to.equal(2);
    expect(await main([...common, "-d", "(1,1.x)", ...io])).to.equal(2);
    expect(await main([...common, "-d", "(1, 1.0.0), (2,2.0.0+3)", ...io])).to.equal(0);
    const deps = parseImage(new Uint8Array(await readFile(io[1]!))).protectedTlvs;
    expect(deps.map((t) => [t.type, [...t.value]])).to.deep.equal([
      [TlvType.DEPENDENCY, [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]],
      [TlvType.DEPENDENCY, [2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]],
    ]);
  });
});
