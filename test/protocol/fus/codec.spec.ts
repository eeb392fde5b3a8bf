import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import fc from "fast-check";
import { buildFusImage, v } from "../../../fixtures/fus/build.js";
import {
  DEVICE_INFO_SIZE,
  decodeCommandStatus,
  decodeDeviceInfo,
  decodeMemorySize,
  decodeUserKey,
  decodeVersion,
  encodeCommandStatus,
  encodeDeviceInfo,
  encodeImageFooter,
  encodeMemorySize,
  encodeSignatureFooter,
  encodeUserKey,
  encodeVersion,
  FOOTER_SIZE,
  FusFooterError,
  FusMagic,
  fusStateName,
  parseImageFile,
  parseImageFooter,
  parseSignatureFooter,
} from "../../../harness/protocol/fus/index.js";
import { toHex } from "../../../harness/transport/hex.js";

const version = fc.record({
  major: fc.integer({ min: 0, max: 255 }),
  minor: fc.integer({ min: 0, max: 255 }),
  sub: fc.integer({ min: 0, max: 255 }),
  branch: fc.integer({ min: 0, max: 15 }),
  build: fc.integer({ min: 0, max: 15 }),
});
const memory = fc.record({
  flashSectors: fc.integer({ min: 1, max: 255 }),
  sram2aKb: fc.integer({ min: 0, max: 255 }),
  sram2bKb: fc.integer({ min: 0, max: 255 }),
});
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

describe("protocol/fus", () => {
  it("AN5185 Table 10: state ranges decode by range", () => {
    expect(fusStateName(0x00)).to.equal("IDLE");
    expect(fusStateName(0x12)).to.equal("FW_UPGRD_ONGOING");
    expect(fusStateName(0x2e)).to.equal("FUS_UPGRD_ONGOING");
    expect(fusStateName(0x3f)).to.equal("SERVICE_ONGOING");
    expect(fusStateName(0xff)).to.equal("ERROR");
    expect(fusStateName(0x05)).to.equal(undefined);
    expect(fusStateName(0x40)).to.equal(undefined);
  });

  it("version and memory-size words round-trip (Table 4, Figure 8)", () => {
    fc.assert(
      fc.property(version, (x) => {
        expect(decodeVersion(encodeVersion(x))).to.deep.equal(x);
      }),
    );
    fc.assert(
      fc.property(memory, (m) => {
        expect(decodeMemorySize(encodeMemorySize(m))).to.deep.equal(m);
      }),
    );
    expect(encodeVersion(v(1, 2, 0))).to.equal(0x01020000);
  });

  it("image footers round-trip (Table 12)", () => {
    fc.assert(
      fc.property(
        u32,
        u32,
        memory,
        version,
        fc.constantFrom(FusMagic.WIRELESS_STACK, FusMagic.FUS, FusMagic.OTHER),
        (info1, info2, mem, ver, magic) => {
          const f = parseImageFooter(encodeImageFooter({ info1, info2, memory: mem, version: ver, magic }));
          expect(f).to.deep.include({ info1, info2, memory: mem, version: ver, magic });
        },
      ),
    );
  });

  it("signature footers round-trip (Table 13)", () => {
    fc.assert(
      fc.property(fc.constantFrom("st" as const, "customer" as const), version, (source, ver) => {
        const f = parseSignatureFooter(encodeSignatureFooter({ source, version: ver }));
        expect(f.source).to.equal(source);
        expect(f.version).to.deep.equal(ver);
        expect(f.size).to.equal(64);
      }),
    );
  });

  it("rejects unknown magics, short and misaligned footers naming the offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 64 }), (bytes) => {
        const off = bytes.length - FOOTER_SIZE;
        try {
          parseImageFooter(bytes, off);
        } catch (e) {
          expect(e).to.be.instanceOf(FusFooterError);
          expect((e as FusFooterError).offset).to.be.within(0, bytes.length);
          expect((e as Error).message).to.match(/at offset \d+/);
        }
      }),
    );
    const f = encodeImageFooter({
      info1: 0,
      info2: 0,
      memory: { flashSectors: 1, sram2aKb: 0, sram2bKb: 0 },
      version: v(1, 0, 0),
      magic: 0x11111111,
    });
    expect(() => parseImageFooter(f)).to.throw(FusFooterError, /offset 16/);
    const padded = new Uint8Array(24);
    padded.set(
      encodeImageFooter({
        info1: 0,
        info2: 0,
        memory: { flashSectors: 1, sram2aKb: 0, sram2bKb: 0 },
        version: v(1, 0, 0),
        magic: FusMagic.FUS,
      }),
      2,
    );
    expect(() => parseImageFooter(padded, 2)).to.throw(FusFooterError, /offset 2 .*aligned/);
    expect(() => parseImageFooter(new Uint8Array(10), 0)).to.throw(FusFooterError);
  });

  it("the fixture builder hands out copies: a corrupted one leaves the next build as it was", () => {
    const spec = {
      kind: "fus",
      version: v(2, 0, 0),
      sectors: 1,
      label: "t",
      customerSecret: new Uint8Array(32).fill(7),
    } as const;
    const first = buildFusImage(spec);
    const digest = toHex(sha256(first));
    // Recorded from the builder before it kept its images (9651e6f), so the bytes did not change.
    expect(digest).to.equal("8f4b0d45001a940740a32c2cc3828835c8a15b80f4955500d69c6c174fd3c34c");
    first.fill(0);
    expect(toHex(sha256(buildFusImage(spec)))).to.equal(digest);
    const otherSecret = buildFusImage({ ...spec, customerSecret: new Uint8Array(32).fill(8) });
    expect(toHex(sha256(otherSecret))).to.not.equal(digest);
    expect(toHex(sha256(buildFusImage({ ...spec, label: "u" })))).to.not.equal(digest);
  });

  it("takes a whole image file apart, with and without a customer signature", () => {
    const img = buildFusImage({ kind: "wireless-stack", version: v(1, 2, 3), sectors: 2, label: "t" });
    const layout = parseImageFile(img);
    expect(layout.image.kind).to.equal("wireless-stack");
    // The image (body + image footer) is what the 2 sectors hold; the file ends short of them.
    expect(layout.image.memory.flashSectors).to.equal(2);
    expect(Math.ceil((layout.bodyLength + 20) / 4096)).to.equal(2);
    expect(layout.bodyLength).to.equal(img.length - 104);
    expect(layout.customer).to.equal(undefined);
    const cust = buildFusImage({
      kind: "fus",
      version: v(2, 0, 0),
      sectors: 1,
      label: "t",
      customerSecret: new Uint8Array(32).fill(7),
    });
    const l2 = parseImageFile(cust);
    expect(l2.customer?.footer.source).to.equal("customer");
    expect(l2.image.kind).to.equal("fus");
    expect(() => parseImageFile(img.subarray(0, img.length - 2))).to.throw(FusFooterError, /4-byte multiple/);
    expect(() =>
      parseImageFile(
        buildFusImage({
          kind: "fus",
          version: v(1, 0, 0),
          sectors: 1,
          label: "x",
          defect: "no-st-signature",
        }),
      ),
    ).to.throw(FusFooterError);
  });

  it("device information table round-trips (Table 4)", () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 0, max: 255 }),
        u32,
        u32,
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 0, max: 0xffff }),
        (state, last, fusV, wsV, uid, id) => {
          const t = {
            state,
            lastFusActiveState: last,
            lastWirelessStackState: 1,
            wirelessStackType: 1,
            safeBootVersion: 0x01010100,
            fusVersion: fusV,
            fusMemorySize: 0x04040006,
            wirelessStackVersion: wsV,
            wirelessStackMemorySize: 0xffffffff,
            wirelessFwBleInfo: 0,
            wirelessFwThreadInfo: 0,
            uid64: uid,
            deviceId: id,
          };
          const bytes = encodeDeviceInfo(t);
          expect(bytes.length).to.equal(DEVICE_INFO_SIZE);
          expect(decodeDeviceInfo(bytes)).to.deep.include(t);
        },
      ),
    );
    expect(() => decodeDeviceInfo(new Uint8Array(10))).to.throw(/offset 10/);
  });

  it("bootloader status packets and key payloads (Tables 16–18)", () => {
    expect(decodeCommandStatus(encodeCommandStatus({ ok: true }))).to.deep.equal({ ok: true });
    expect(decodeCommandStatus(Uint8Array.of(1, 0xff, 0x0a))).to.deep.equal({
      ok: false,
      state: 0xff,
      error: 0x0a,
    });
    expect(() => decodeCommandStatus(Uint8Array.of(2))).to.throw(/byte 0/);
    fc.assert(
      fc.property(
        fc.constantFrom("simple" as const, "master" as const),
        fc.constantFrom(16, 32),
        (kind, n) => {
          const key = new Uint8Array(n).fill(9);
          expect(decodeUserKey(encodeUserKey(kind, key))).to.deep.equal({ kind, key });
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        try {
          decodeUserKey(bytes);
        } catch (e) {
          expect((e as Error).message).to.match(/byte \d+/);
        }
      }),
    );
  });
});
