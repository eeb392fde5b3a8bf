/**
 * The emulated Zephyr app's SMP bootloader information (smp_group_0.rst, group 0 command 8):
 * the reply bytes as zcbor writes them, per MCUboot mode and downgrade prevention, the
 * document's errors, an app built without the command; then the SMP client reading it.
 */
import { expect } from "chai";
import { SmpClient, SmpError, SmpReplyError } from "../../../harness/clients/smp/index.js";
import type { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { handlerKey, SmpSerialServer } from "../../../harness/devices/nrf52840-mcuboot/smp-server.js";
import {
  decodeBody,
  encodeSerialFrame,
  MgmtErr,
  OsCommand,
  OsMgmtErr,
  SerialFrameDecoder,
  SmpGroup,
  SmpOp,
  type SmpPacket,
} from "../../../harness/protocol/smp/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { createBytePair } from "../../../harness/transport/byte-pair.js";
import { app, board } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const ascii = (s: string) => [...Buffer.from(s, "latin1")];

/** Sends one request with `body` (CBOR bytes) as written by hand; the replies' packets. */
async function ask(
  dev: Nrf52840McubootDevice,
  body: number[],
  opts: { op?: number; version?: number; seq?: number } = {},
): Promise<SmpPacket[]> {
  const { op = SmpOp.READ, version = 1, seq = 7 } = opts;
  const packets: SmpPacket[] = [];
  const decoder = new SerialFrameDecoder();
  const stop = dev.port("console").onData((b) => packets.push(...decoder.push(b)));
  const header = [(version << 3) | op, 0, 0, body.length, 0, SmpGroup.OS, seq, OsCommand.BOOTLOADER_INFO];
  await dev.port("console").write(encodeSerialFrame(Uint8Array.from([...header, ...body])));
  await dev.clock.sleep(100);
  stop();
  return packets;
}

const bytesOf = (p: SmpPacket) => [
  ...Uint8Array.of(
    (p.header.version << 3) | p.header.op,
    p.header.flags,
    p.header.length >> 8,
    p.header.length & 0xff,
    p.header.group >> 8,
    p.header.group & 0xff,
    p.header.seq,
    p.header.id,
  ),
  ...p.body,
];

describe("devices/nrf52840-mcuboot: SMP bootloader information", () => {
  it("without query: {bootloader: MCUboot}, read-rsp of group 0 command 8, zcbor's indefinite map", async () => {
    const { dev } = await board(v1);
    const [reply, more] = await ask(dev, [0xa0]);
    expect(more).to.equal(undefined);
    const body = [0xbf, 0x6a, ...ascii("bootloader"), 0x67, ...ascii("MCUboot"), 0xff];
    expect(bytesOf(reply!)).to.deep.equal([0x09, 0, 0, body.length, 0, 0, 7, 8, ...body]);
  });

  it('"mode": 3 for swap-using-move, 1 for swap-using-scratch, 2 for overwrite-only', async () => {
    const query = [0xa1, 0x65, ...ascii("query"), 0x64, ...ascii("mode")];
    for (const [mode, n] of [
      [undefined, 3],
      ["scratch", 1],
      ["overwrite-only", 2],
    ] as const) {
      const { dev } = await board(v1, 5, mode);
      const [reply] = await ask(dev, query);
      expect([...reply!.body], String(mode)).to.deep.equal([0xbf, 0x64, ...ascii("mode"), n, 0xff]);
    }
  });

  it('"no-downgrade": true follows the mode when MCUboot prevents downgrades, and only then', async () => {
    const { dev } = await board(v1, 5, "overwrite-only", { downgradePrevention: true });
    const [reply] = await ask(dev, [0xa1, 0x65, ...ascii("query"), 0x64, ...ascii("mode")]);
    expect([...reply!.body]).to.deep.equal([
      ...[0xbf, 0x64, ...ascii("mode"), 0x02],
      ...[0x6c, ...ascii("no-downgrade"), 0xf5, 0xff],
    ]);
  });

  it("another query has no answer: OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER in v2, ENOENT to a v1 request", async () => {
    const { dev } = await board(v1);
    const query = [0xa1, 0x65, ...ascii("query"), 0x67, ...ascii("version")];
    const [v2] = await ask(dev, query);
    expect(decodeBody(v2!.body)).to.deep.equal({
      err: { group: SmpGroup.OS, rc: OsMgmtErr.QUERY_YIELDS_NO_ANSWER },
    });
    const [old] = await ask(dev, query, { version: 0 });
    expect(old!.header.version).to.equal(0);
    expect(decodeBody(old!.body)).to.deep.equal({ rc: MgmtErr.ENOENT });
  });

  it("a query that is not text is EINVAL; other keys are ignored; a write is ENOTSUP", async () => {
    const { dev } = await board(v1);
    const [notText] = await ask(dev, [0xa1, 0x65, ...ascii("query"), 0x01]);
    expect(decodeBody(notText!.body)).to.deep.equal({ rc: MgmtErr.EINVAL });
    const [other] = await ask(dev, [0xa1, 0x61, ...ascii("q"), 0x61, ...ascii("m")]);
    expect(decodeBody(other!.body)).to.deep.equal({ bootloader: "MCUboot" });
    const [write] = await ask(dev, [0xa0], { op: SmpOp.WRITE });
    expect(write!.header.op).to.equal(SmpOp.WRITE + 1);
    expect(decodeBody(write!.body)).to.deep.equal({ rc: MgmtErr.ENOTSUP });
  });

  it("an app built without the command (bootloaderInfo: false) answers MGMT_ERR_ENOTSUP", async () => {
    const { dev } = await board(v1, 5, undefined, { bootloaderInfo: false });
    const [reply] = await ask(dev, [0xa0]);
    expect(decodeBody(reply!.body)).to.deep.equal({ rc: MgmtErr.ENOTSUP });
  });
});

describe("clients/smp: bootloaderInfo()", () => {
  it("names MCUboot and its mode, per emulated mode, with downgrade prevention", async () => {
    for (const [mode, name] of [
      [undefined, "swap-using-move"],
      ["scratch", "swap-using-scratch"],
      ["overwrite-only", "overwrite-only"],
    ] as const) {
      const { client } = await board(v1, 5, mode);
      expect(await client.bootloaderInfo(), name).to.deep.equal({
        name: "MCUboot",
        mode: { "swap-using-move": 3, "swap-using-scratch": 1, "overwrite-only": 2 }[name],
        modeName: name,
        noDowngrade: false,
      });
    }
    const { client } = await board(v1, 5, undefined, { downgradePrevention: true });
    expect(await client.bootloaderInfo()).to.include({ modeName: "swap-using-move", noDowngrade: true });
  });

  it("v1 requests too: the same answers", async () => {
    const { dev, clock } = await board(v1, 5, "scratch");
    const client = new SmpClient(dev.port("console"), clock, { version: 0 });
    expect(await client.bootloaderInfo()).to.include({ name: "MCUboot", modeName: "swap-using-scratch" });
  });

  it("an app without the command: SmpError MGMT_ERR_ENOTSUP", async () => {
    const { client } = await board(v1, 5, undefined, { bootloaderInfo: false });
    const e = (await client.bootloaderInfo().catch((x) => x)) as SmpError;
    expect(e).to.be.instanceOf(SmpError);
    expect(e.rcName).to.equal("MGMT_ERR_ENOTSUP (8)");
  });

  /** A Zephyr SMP server whose command 8 answers as `answer` says. */
  function server(answer: (query: unknown) => Record<string, unknown> | { groupRc: number }) {
    const clock = new VirtualClock();
    const pair = createBytePair({ clock });
    const key = handlerKey(SmpGroup.OS, OsCommand.BOOTLOADER_INFO, SmpOp.READ);
    const handlers = new Map([
      [
        key,
        async (req: { body: Record<string, unknown> }) => {
          const a = answer(req.body.query);
          return "groupRc" in a ? { groupRc: a.groupRc as number } : { body: a };
        },
      ],
    ]);
    const failures: unknown[] = [];
    new SmpSerialServer(pair.device, handlers, 384, (e) => failures.push(e)).start();
    return { client: new SmpClient(pair.host, clock), failures };
  }

  it("another bootloader: its name alone, the mode not asked", async () => {
    const queries: unknown[] = [];
    const { client } = server((q) => {
      queries.push(q);
      return { bootloader: "nRF5 SDK" };
    });
    expect(await client.bootloaderInfo()).to.deep.equal({ name: "nRF5 SDK" });
    expect(queries).to.deep.equal([undefined]);
  });

  it("an MCUboot whose app does not answer the mode query: the name alone", async () => {
    const { client } = server((q) =>
      q === undefined ? { bootloader: "MCUboot" } : { groupRc: OsMgmtErr.QUERY_YIELDS_NO_ANSWER },
    );
    expect(await client.bootloaderInfo()).to.deep.equal({ name: "MCUboot" });
  });

  it("a reply without the documented form is SmpReplyError naming the field", async () => {
    const { client } = server((q) => (q === undefined ? { bootloader: "MCUboot" } : { mode: "move" }));
    const e = (await client.bootloaderInfo().catch((x) => x)) as SmpReplyError;
    expect(e).to.be.instanceOf(SmpReplyError);
    expect(e.message).to.match(
      /bootloader info mode: bootloader info: "mode" should be an integer, got string/,
    );
    const named = server(() => ({ name: "MCUboot" }));
    expect(String(await named.client.bootloaderInfo().catch((x) => x))).to.match(
      /"bootloader" should be a text string/,
    );
  });
});
