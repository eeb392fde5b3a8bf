import { expect } from "chai";
import fc from "fast-check";
import {
  TKeyAbsentError,
  TKeyDevice,
  TKeyFirmware,
  tkeyProfile,
} from "../../../harness/devices/tkey/index.js";
import {
  APP_MAX_SIZE,
  appDigest,
  cdiBellatrix,
  cdiCastor,
  decodeFrame,
  decodeUdi,
  Endpoint,
  encodeFrame,
  encodeGetUdiCmd,
  encodeLoadAppCmd,
  encodeLoadAppDataCmd,
  encodeNameVersionCmd,
  splitApp,
  udsBytes,
} from "../../../harness/protocol/tkey/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import type { ByteStream } from "../../../harness/transport/byte-stream.js";
import { StreamClosedError } from "../../../harness/transport/errors.js";
import { toHex } from "../../../harness/transport/hex.js";
import { exchange, poweredTKey } from "./helpers.js";

const app = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

async function load(port: ByteStream, image: Uint8Array, uss?: Uint8Array): Promise<Uint8Array[]> {
  const replies: Uint8Array[] = [(await exchange(port, encodeLoadAppCmd({ size: image.length, uss }), 5))!];
  const chunks = splitApp(image);
  for (const [i, chunk] of chunks.entries())
    replies.push((await exchange(port, encodeLoadAppDataCmd(chunk), i === chunks.length - 1 ? 129 : 5))!);
  return replies;
}

describe("devices/tkey: firmware commands (TKey firmware protocol)", () => {
  for (const [profile, version] of [
    ["bellatrix", 5],
    ["engineering-release-2", 4],
    ["castor", 6],
    ["qemu", 1],
  ] as const) {
    it(`${profile}: NAME_VERSION answers 'tk1 ' 'mkdf' version ${version}, a whole 33-byte frame`, async () => {
      const { port } = await poweredTKey({ profile });
      const rsp = await exchange(port, encodeNameVersionCmd(), 33);
      expect(toHex(rsp!.subarray(0, 14))).to.equal(
        `5202746b31206d6b6466${version.toString(16).padStart(2, "0")}000000`,
      );
      expect(rsp!.subarray(14).every((b) => b === 0)).to.equal(true);
    });
  }

  it("GET_UDI: the QEMU machine reports its fixed UDI, a Bellatrix its configured one", async () => {
    const qemu = await poweredTKey({ profile: "qemu" });
    expect(toHex((await exchange(qemu.port, encodeGetUdiCmd(), 33))!.subarray(0, 11))).to.equal(
      "5209000302010007060504",
    );
    const b = await poweredTKey({ options: { udi: { serial: 0x1234 } } });
    const rsp = (await exchange(b.port, encodeGetUdiCmd(), 33))!;
    const view = new DataView(rsp.buffer, rsp.byteOffset);
    expect(decodeUdi(view.getUint32(3, true), view.getUint32(7, true))).to.deep.equal({
      reserved: 0,
      vendorId: 0x1337,
      productId: 2,
      revision: 2,
      serial: 0x1234,
    });
  });

  it("echoes the command's frame ID in the response", async () => {
    const { port } = await poweredTKey();
    for (const id of [0, 1, 2, 3])
      expect((await exchange(port, encodeNameVersionCmd(id), 33))![0]).to.equal((id << 5) | 0x12);
  });

  it("spends 10 bit times at 62500 baud per byte each way: NAME_VERSION round trip = 35 bytes = 5.6 ms", async () => {
    const { clock, port } = await poweredTKey();
    const t0 = clock.now();
    await exchange(port, encodeNameVersionCmd(), 33);
    expect(clock.now() - t0).to.be.closeTo(5.6, 1e-9);
  });
});

describe("devices/tkey: loading an app (TKey firmware protocol: Load an application)", () => {
  for (const size of [1, 127, 128, 300]) {
    it(`${size} bytes: LOAD_APP OK, chunk replies, then LOAD_APP_DATA_READY with BLAKE2s(app); the app runs`, async () => {
      const { dev, port } = await poweredTKey();
      const image = app(size);
      const replies = await load(port, image);
      expect(toHex(replies[0]!)).to.equal("5104000000");
      for (const r of replies.slice(1, -1)) expect(toHex(r)).to.equal("5106000000");
      const last = replies.at(-1)!;
      expect(toHex(last.subarray(0, 3))).to.equal("530700");
      expect(last.subarray(3, 35)).to.deep.equal(appDigest(image));
      expect(last.subarray(35).every((b) => b === 0)).to.equal(true);
      expect(dev.state).to.equal("RUN");
      expect(dev.app!.image).to.deep.equal(image);
    });
  }

  it("the LED is white while waiting and off while loading", async () => {
    const { dev, port } = await poweredTKey();
    expect(dev.firmware!.led).to.equal("white");
    await exchange(port, encodeLoadAppCmd({ size: 200 }), 5);
    expect(dev.firmware!.led).to.equal("black");
    expect(dev.state).to.equal("LOADING");
  });

  it("padding in the last chunk is ignored, not checked", async () => {
    const { port } = await poweredTKey();
    await exchange(port, encodeLoadAppCmd({ size: 3 }), 5);
    const frame = encodeLoadAppDataCmd(Uint8Array.of(1, 2, 3));
    frame.fill(0xee, 5);
    const rsp = (await exchange(port, frame, 129))!;
    expect(rsp.subarray(3, 35)).to.deep.equal(appDigest(Uint8Array.of(1, 2, 3)));
  });

  it("after the load a firmware probe gets NOK (54 00) and an app command the unknown-command reply", async () => {
    const { port } = await poweredTKey();
    await load(port, app(10));
    expect(toHex((await exchange(port, encodeNameVersionCmd(), 2))!)).to.equal("5400");
    expect(toHex((await exchange(port, encodeLoadAppCmd({ size: 1 }), 2))!)).to.equal("5400");
    const appCmd = encodeFrame(
      { id: 1, endpoint: Endpoint.app, nok: false, length: 32 },
      Uint8Array.of(0x01),
    );
    expect(toHex((await exchange(port, appCmd, 2))!)).to.equal("38ff");
  });

  it("a registered app behaviour, keyed by digest, answers app commands and sees its CDI", async () => {
    const { dev, port } = await poweredTKey();
    const image = app(50);
    dev.registerApp(appDigest(image), {
      name: "cdi echo",
      handle: (h, _p, ctx) =>
        encodeFrame({ id: h.id, endpoint: Endpoint.app, nok: false, length: 32 }, ctx.cdi),
    });
    await load(port, image);
    const rsp = (await exchange(
      port,
      encodeFrame({ id: 0, endpoint: 3, nok: false, length: 1 }, Uint8Array.of(9)),
      33,
    ))!;
    expect(rsp.subarray(1)).to.deep.equal(dev.cdi);
  });

  it("Bellatrix CDI = BLAKE2s(UDS ‖ digest ‖ USS) with the USS only when the flag was set", async () => {
    const uds = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const image = app(400);
    const uss = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    for (const withUss of [false, true]) {
      const { dev, port } = await poweredTKey({ options: { uds } });
      await load(port, image, withUss ? uss : undefined);
      const expected = cdiBellatrix({
        uds: Buffer.from(uds, "hex"),
        digest: appDigest(image),
        uss: withUss ? uss : undefined,
      });
      expect(dev.cdi).to.deep.equal(expected);
    }
  });

  it("Castor CDI is the keyed form; its states are WAITCOMMAND, LOADING, START", async () => {
    const { dev, port } = await poweredTKey({ profile: "castor" });
    expect(dev.state).to.equal("WAITCOMMAND");
    const image = app(130);
    await load(port, image);
    expect(dev.state).to.equal("START");
    expect(dev.cdi).to.deep.equal(
      cdiCastor({ uds: udsBytes(dev.tkeyIdentity.udsWords), digest: appDigest(image) }),
    );
  });

  for (const size of [0, APP_MAX_SIZE + 1]) {
    it(`LOAD_APP with size ${size} answers STATUS_BAD, keeps the state, and a retry loads`, async () => {
      const { dev, port } = await poweredTKey();
      expect(toHex((await exchange(port, encodeLoadAppCmd({ size }), 5))!)).to.equal("5104010000");
      expect(dev.state).to.equal("INITIAL");
      const replies = await load(port, app(5));
      expect(replies.at(-1)!.subarray(3, 35)).to.deep.equal(appDigest(app(5)));
    });
  }

  it("accepts exactly the maximum size (128 KiB)", async () => {
    const { port } = await poweredTKey();
    expect(toHex((await exchange(port, encodeLoadAppCmd({ size: APP_MAX_SIZE }), 5))!)).to.equal(
      "5104000000",
    );
  });
});

describe("devices/tkey: halt on a bad frame, silent until power-cycled (firmware: FAIL halts the CPU)", () => {
  const cases: Array<[string, (port: ByteStream) => Promise<void>]> = [
    ["reserved bit 7 set in the header", (p) => p.write(Uint8Array.of(0xd0, 0x01))],
    ["the status bit set in a command header", (p) => p.write(Uint8Array.of(0x54, 0x01))],
    ["a frame for the app endpoint", (p) => p.write(Uint8Array.of(0x58, 0x01))],
    ["a frame for endpoint 0", (p) => p.write(Uint8Array.of(0x40, 0x01))],
    ["NAME_VERSION in a 4-byte frame", (p) => p.write(Uint8Array.of(0x51, 0x01, 0, 0, 0))],
    [
      "LOAD_APP in a 32-byte frame",
      (p) => p.write(encodeFrame({ id: 2, endpoint: 2, nok: false, length: 32 }, Uint8Array.of(3, 1))),
    ],
    ["an unknown command 0x0a", (p) => p.write(Uint8Array.of(0x50, 0x0a))],
    ["a response code sent as a command (0x02)", (p) => p.write(Uint8Array.of(0x50, 0x02))],
    ["LOAD_APP_DATA before LOAD_APP", (p) => p.write(encodeLoadAppDataCmd(new Uint8Array(127)))],
    [
      "NAME_VERSION while loading",
      async (p) => {
        await exchange(p, encodeLoadAppCmd({ size: 500 }), 5);
        await p.write(encodeNameVersionCmd());
      },
    ],
    [
      "LOAD_APP while loading",
      async (p) => {
        await exchange(p, encodeLoadAppCmd({ size: 500 }), 5);
        await p.write(encodeLoadAppCmd({ size: 500 }));
      },
    ],
  ];
  for (const [what, send] of cases) {
    it(`${what}: no byte back, not even to good commands, until a power cycle`, async () => {
      const { dev, port } = await poweredTKey();
      await send(port);
      expect(await exchange(port, encodeNameVersionCmd(), 1)).to.equal(undefined);
      expect(dev.state).to.equal("FAIL");
      expect(dev.firmware!.led).to.equal("red-blinking");
      expect(await exchange(port, encodeGetUdiCmd(), 1)).to.equal(undefined);
      expect(port.readAvailable()).to.have.length(0);
      await dev.power.cycle();
      const fresh = dev.port("tkey");
      expect((await exchange(fresh, encodeNameVersionCmd(), 33))![0]).to.equal(0x52);
    });
  }

  it("qemuTrapRestart (the QEMU machine): the bad frame gets no reply, but the next NAME_VERSION does", async () => {
    // After a bad header byte the restarted firmware reads the frame's next bytes as a new frame.
    for (const [what, send] of cases.filter(([w]) => !/reserved bit|status bit/.test(w))) {
      const { dev, port } = await poweredTKey({ profile: "qemu", options: { qemuTrapRestart: true } });
      await send(port);
      // Nothing for the offending frame; the restarted firmware waits for commands, nothing loaded.
      await dev.clock.sleep(100);
      expect(port.readAvailable(), what).to.have.length(0);
      expect(dev.state, what).to.equal("INITIAL");
      expect(dev.firmware!.loadProgress, what).to.equal(undefined);
      const reply = await exchange(port, encodeNameVersionCmd(), 33);
      expect(toHex(reply?.subarray(0, 14) ?? new Uint8Array()), what).to.equal(
        "5202746b31206d6b646601000000",
      );
    }
    expect(
      () => new TKeyDevice({ clock: new VirtualClock(), seed: 1, options: { qemuTrapRestart: "yes" } }),
    ).to.throw("tkey option qemuTrapRestart must be true or false");
  });

  it("a bad header halts at once, before any payload is read", async () => {
    const { dev, port } = await poweredTKey();
    await port.write(Uint8Array.of(0x93));
    await dev.clock.sleep(1);
    expect(dev.state).to.equal("FAIL");
    expect(dev.firmware!.haltReason).to.match(/reserved bit 7/);
  });

  it("property: any byte sequence leaves the firmware replying whole, well-formed frames, or halted", () => {
    const profile = tkeyProfile("bellatrix");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const fw = new TKeyFirmware(profile, { uds: new Uint8Array(32), udiWords: [1, 2] });
        for (const b of bytes) {
          const out = fw.receive(b);
          if (out?.kind === "reply") {
            const frame = decodeFrame(out.frame);
            expect(frame.header.endpoint).to.equal(Endpoint.firmware);
          }
          if (out?.kind === "halt") expect(fw.role).to.equal("halted");
        }
        if (fw.role === "halted") expect(bytes.some((b) => fw.receive(b) !== undefined)).to.equal(false);
      }),
    );
  });
});

describe("devices/tkey: power and faults", () => {
  it("power off unplugs: the open port fails at once with a disconnect; no port while off", async () => {
    const { dev, port } = await poweredTKey();
    const read = port.read(1, { timeoutMs: 10_000 });
    await dev.power.off();
    const err = await read.catch((e) => e);
    expect(err).to.be.instanceOf(StreamClosedError).with.property("disconnected", true);
    expect(() => dev.port("tkey")).to.throw(TKeyAbsentError);
    expect(dev.state).to.equal("off");
  });

  it("a power cut after chunk k (tkey.chunk.acked) leaves firmware mode on the next power-on", async () => {
    const clock = new VirtualClock();
    const dev = new TKeyDevice({ clock, seed: 1 });
    await dev.power.on();
    const port = dev.port("tkey");
    dev.faults.add({
      where: { at: "event", event: "tkey.chunk.acked", occurrence: dev.counters.chunks + 3 },
      what: { do: "power-cut" },
    });
    const err = await load(port, app(1000)).catch((e) => e);
    expect(err).to.be.instanceOf(StreamClosedError);
    expect(dev.counters.chunks).to.equal(3);
    await dev.power.on();
    const fresh = dev.port("tkey");
    expect(dev.state).to.equal("INITIAL");
    const replies = await load(fresh, app(1000));
    expect(replies.at(-1)!.subarray(3, 35)).to.deep.equal(appDigest(app(1000)));
  });

  it("a bit flipped in chunk k's app data in transit gives a digest that is not BLAKE2s(app)", async () => {
    const { dev, port } = await poweredTKey();
    dev.faults.add({
      where: { at: "event", event: "tkey.chunk.received", occurrence: dev.counters.chunks + 2 },
      what: { do: "bit-flip" },
    });
    const image = app(600);
    const replies = await load(port, image);
    const digest = replies.at(-1)!.subarray(3, 35);
    expect(digest).to.not.deep.equal(appDigest(image));
    expect(digest).to.deep.equal(appDigest(dev.app!.image));
    const diff = image.reduce((n, b, i) => n + (b !== dev.app!.image[i] ? 1 : 0), 0);
    expect(diff).to.equal(1);
  });

  it("a host byte dropped on the line leaves a frame short: the firmware waits, then halts on what follows", async () => {
    const { dev, port } = await poweredTKey();
    const start = dev.counters.rxBytes;
    dev.faults.add({
      where: { at: "event", event: "tkey.rx.byte", occurrence: start + 1 },
      what: { do: "serial-drop" },
    });
    // 0x50 is lost: 0x01 reads as a header (ID 0, endpoint 0, 4 bytes) and takes the next frame's bytes.
    expect(await exchange(port, encodeNameVersionCmd(), 1)).to.equal(undefined);
    expect(await exchange(port, encodeNameVersionCmd(), 1)).to.equal(undefined);
    expect(await exchange(port, encodeNameVersionCmd(), 1)).to.equal(undefined);
    expect(dev.state).to.equal("FAIL");
  });

  it("a device byte corrupted on the line reaches the host changed", async () => {
    const { dev, port } = await poweredTKey();
    dev.faults.add({
      where: { at: "event", event: "tkey.tx.byte", occurrence: dev.counters.txBytes + 1 },
      what: { do: "serial-corrupt" },
    });
    const rsp = (await exchange(port, encodeNameVersionCmd(), 33))!;
    expect(rsp[0]).to.not.equal(0x52);
    expect(dev.faults.fired.map((f) => f.detail)).to.deep.equal(["event tkey.tx.byte #1"]);
  });

  it("rejects unknown options and malformed identities", () => {
    const clock = new VirtualClock();
    expect(() => new TKeyDevice({ clock, seed: 1, options: { color: "red" } })).to.throw(
      /option 'color' unknown/,
    );
    expect(() => new TKeyDevice({ clock, seed: 1, options: { uds: "12" } })).to.throw(/64 hex digits/);
    expect(() => new TKeyDevice({ clock, seed: 1, options: { udi: { productId: 64 } } })).to.throw(
      /productId/,
    );
    expect(() => new TKeyDevice({ clock, seed: 1, profile: "delta" })).to.throw(/unknown tkey profile/);
  });

  it("identity comes from the seed when not configured, so boards differ and replay", () => {
    const clock = new VirtualClock();
    const a = new TKeyDevice({ clock, seed: 1 });
    const b = new TKeyDevice({ clock, seed: 2 });
    expect(new TKeyDevice({ clock, seed: 1 }).tkeyIdentity).to.deep.equal(a.tkeyIdentity);
    expect(a.tkeyIdentity.udsWords).to.not.deep.equal(b.tkeyIdentity.udsWords);
    expect(a.identity()).to.include({ profile: "bellatrix", firmware: "5" });
  });
});
