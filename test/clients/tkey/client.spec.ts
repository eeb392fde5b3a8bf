import { expect } from "chai";
import fc from "fast-check";
import {
  TKeyClient,
  type TKeyClientEvent,
  TKeyDigestError,
  TKeyError,
  TKeyGoneError,
  TKeyInputError,
  TKeyNokError,
  TKeyProtocolError,
  TKeySilentError,
  TKeyStatusError,
} from "../../../harness/clients/tkey/index.js";
import { TKeyDevice } from "../../../harness/devices/tkey/index.js";
import {
  APP_MAX_SIZE,
  appDigest,
  cdiBellatrix,
  cdiCastor,
  encodeGetUdiRsp,
  STATUS_BAD,
  STATUS_OK,
  udsBytes,
  ussFromSecret,
} from "../../../harness/protocol/tkey/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { createBytePair } from "../../../harness/transport/byte-pair.js";

const app = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);

async function setup(profile?: string) {
  const clock = new VirtualClock();
  const dev = new TKeyDevice({ clock, seed: 3, profile });
  await dev.power.on();
  const client = new TKeyClient(dev.port("tkey"), { clock });
  return { clock, dev, client };
}

function txBytes(client: TKeyClient): number {
  return client.transcript.entries
    .filter((e) => e.dir === "tx")
    .reduce((n, e) => n + (e.bytes?.length ?? 0), 0);
}

/** A device end that answers every write with `reply` (possibly a broken frame). */
function fakeDevice(reply: (written: Uint8Array) => Uint8Array) {
  const clock = new VirtualClock();
  const pair = createBytePair({ clock, name: "fake" });
  pair.device.onData((bytes) => void pair.device.write(reply(bytes)));
  return { clock, client: new TKeyClient(pair.host, { clock }) };
}

describe("clients/tkey: TKeyClient against the emulated TKey", () => {
  it("probe: firmware mode with name and version; after a load the app answers NOK", async () => {
    const { client } = await setup();
    expect(await client.probe()).to.deep.equal({
      mode: "firmware",
      nameVersion: { name0: "tk1 ", name1: "mkdf", version: 5 },
    });
    await client.loadApp(app(10));
    expect(await client.probe()).to.deep.equal({ mode: "app" });
    const err = await client.getNameVersion().catch((e) => e);
    expect(err).to.be.instanceOf(TKeyNokError).with.property("header", 0x54);
  });

  it("getUdi decodes the bit fields", async () => {
    const { client, dev } = await setup("qemu");
    expect(await client.getUdi()).to.deep.equal({
      reserved: 0,
      vendorId: 0x10,
      productId: 8,
      revision: 3,
      serial: 0x04050607,
    });
    expect(dev.state).to.equal("INITIAL");
  });

  it("loadApp: digest = BLAKE2s(app), progress per chunk, 129 bytes a frame on the wire", async () => {
    const { client, dev } = await setup();
    const image = app(1000);
    const events: TKeyClientEvent[] = [];
    for (const kind of ["probe", "load-started", "chunk", "loaded"] as const)
      client.events.on(kind, (e) => events.push(e));
    const result = await client.loadApp(image);
    expect(result.digest).to.deep.equal(appDigest(image));
    expect(result.chunks).to.equal(8);
    expect(events.filter((e) => e.type === "chunk").map((e) => (e as { index: number }).index)).to.deep.equal(
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    expect(events.at(-1)).to.deep.include({ type: "loaded" });
    expect(txBytes(client)).to.equal(129 * 9);
    expect(dev.state).to.equal("RUN");
  });

  it("with a USS, auto mode asks GET_UDI and sends tkeyclient v1.3's form: 31 bytes on Bellatrix, 32 on Castor", async () => {
    const uss = ussFromSecret("correct horse");
    for (const [profile, scheme] of [
      ["bellatrix", cdiBellatrix],
      ["castor", cdiCastor],
    ] as const) {
      const { client, dev } = await setup(profile);
      const image = app(200);
      const result = await client.loadApp(image, { uss });
      const expectedField =
        profile === "castor" ? uss : Uint8Array.from({ length: 32 }, (_, i) => (i < 31 ? uss[i + 1]! : 0));
      expect(result.uss).to.deep.equal({ flag: 1, field: expectedField });
      const uds = udsBytes(dev.tkeyIdentity.udsWords);
      expect(dev.cdi).to.deep.equal(scheme({ uds, digest: appDigest(image), uss: expectedField }));
    }
  });

  it("refuses ELF, empty and oversize apps before sending a byte", async () => {
    const { client } = await setup();
    const elf = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 1, 1);
    for (const [bad, why] of [
      [elf, /ELF/],
      [new Uint8Array(0), /empty/],
      [new Uint8Array(APP_MAX_SIZE + 1), /at most 131072/],
    ] as const) {
      const err = await client.loadApp(bad).catch((e) => e);
      expect(err).to.be.instanceOf(TKeyInputError);
      expect(err.message).to.match(why);
    }
    expect(txBytes(client)).to.equal(0);
  });

  it("sendLoadApp(0) returns STATUS_BAD; loadApp turns it into TKeyStatusError", async () => {
    const { client } = await setup();
    expect(await client.sendLoadApp(0)).to.equal(STATUS_BAD);
    const other = await setup();
    const small = new TKeyClient(other.dev.port("tkey"), { clock: other.clock, appMaxSize: 1 << 20 });
    const err = await small.loadApp(new Uint8Array(APP_MAX_SIZE + 1)).catch((e) => e);
    expect(err).to.be.instanceOf(TKeyStatusError).with.property("operation", "FW_CMD_LOAD_APP");
  });

  it("a halted TKey: the probe fails with TKeySilentError after the probe timeout, transcript tail in the stack", async () => {
    const { client, clock, dev } = await setup();
    await client.writeRaw(Uint8Array.of(0xd0), "malformed header");
    const t0 = clock.now();
    const err = await client.probe().catch((e) => e);
    expect(err).to.be.instanceOf(TKeySilentError);
    expect(clock.now() - t0).to.be.closeTo(2000, 1);
    expect(err.message).to.match(/no reply within 2000 ms/);
    expect(err.transcriptTail)
      .to.match(/^transcript/)
      .and.match(/>> tx 2 bytes/);
    expect(err.stack).to.include(err.transcriptTail);
    expect(dev.state).to.equal("FAIL");
  });

  it("a TKey unplugged in the middle of a load: TKeyGoneError at once, not at a timeout", async () => {
    const { client, clock, dev } = await setup();
    client.events.on("chunk", (e) => {
      if (e.index === 3) void dev.power.off();
    });
    const t0 = clock.now();
    const err = await client.loadApp(app(2000)).catch((e) => e);
    expect(err).to.be.instanceOf(TKeyGoneError).with.property("operation", "FW_CMD_LOAD_APP_DATA 4/16");
    expect(clock.now() - t0).to.be.below(1000);
  });

  it("a bit flipped in transit: TKeyDigestError with both digests", async () => {
    const { client, dev } = await setup();
    dev.faults.add({
      where: { at: "event", event: "tkey.chunk.received", occurrence: dev.counters.chunks + 1 },
      what: { do: "bit-flip" },
    });
    const image = app(300);
    const err = await client.loadApp(image).catch((e) => e);
    expect(err).to.be.instanceOf(TKeyDigestError);
    expect(err.expected).to.deep.equal(appDigest(image));
    expect(err.actual).to.deep.equal(dev.app!.digest);
  });
});

describe("clients/tkey: TKeyClient against broken devices", () => {
  it("a reply that stops mid-frame times out on the payload read (tkeyclient would block here)", async () => {
    const { client, clock } = fakeDevice(() => encodeGetUdiRsp(STATUS_OK, [1, 2]).subarray(0, 6));
    const t0 = clock.now();
    const err = await client.getUdi().catch((e) => e);
    expect(err).to.be.instanceOf(TKeySilentError);
    expect(err.partial).to.have.length(5);
    expect(clock.now() - t0).to.be.closeTo(2000, 1);
  });

  it("a reply with another frame ID is a protocol error", async () => {
    const { client } = fakeDevice(() => encodeGetUdiRsp(STATUS_OK, [1, 2], 1));
    const err = await client.getUdi().catch((e) => e);
    expect(err).to.be.instanceOf(TKeyProtocolError);
    expect(err.message).to.match(/frame ID 1, sent 2/);
  });

  it("property: whatever a device sends back, the client resolves or fails with a TKeyError in bounded time", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 40 }), async (junk) => {
        const { client, clock } = fakeDevice(() => junk);
        const t0 = clock.now();
        try {
          await client.getUdi();
        } catch (error) {
          expect(error).to.be.instanceOf(TKeyError);
        }
        expect(clock.now() - t0).to.be.at.most(2 * client.timeouts.commandMs);
      }),
      { numRuns: 60 },
    );
  });
});
