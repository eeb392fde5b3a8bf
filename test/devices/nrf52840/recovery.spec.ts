import { expect } from "chai";
import { SmpClient, type SmpError } from "../../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { parseImage, publicOf } from "../../../harness/protocol/mcuboot/index.js";
import {
  decodeMessage,
  encodeMessage,
  encodeSerialFrame,
  MgmtErr,
  SerialFrameDecoder,
  SmpGroup,
  SmpOp,
} from "../../../harness/protocol/smp/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { app, appOfTotal, board, goodKey, wrongKey } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const rcOf = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as SmpError).rc;

async function inRecovery(mode?: "scratch" | "overwrite-only") {
  const b = await board(v1, 5, mode);
  await b.dev.selectBoot("bootloader");
  await b.dev.power.cycle();
  expect(b.dev.state).to.equal("recovery");
  return b;
}

describe("devices/nrf52840-mcuboot: serial recovery (MCUboot boot_serial.c, serial_recovery.md)", () => {
  it("lists only fully valid images as {slot, hash, version} with rc 0; state write and other commands are ENOTSUP", async () => {
    const { client } = await inRecovery();
    expect(await client.list()).to.deep.equal([{ slot: 0, hash: parseImage(v1).hash, version: "1.0.0" }]);
    expect(await rcOf(client.test(parseImage(v1).hash!))).to.equal(MgmtErr.ENOTSUP);
    expect(await rcOf(client.erase())).to.equal(MgmtErr.ENOTSUP);
    expect(await client.echo("boot")).to.equal("boot");
    expect(await client.params()).to.deep.equal({ bufSize: 1024, bufCount: 1 });
  });

  it("uploads straight into the primary slot; after release + reset the new image runs", async () => {
    const { dev, client } = await inRecovery();
    const v2 = app("2.0.0", 20000);
    await client.upload(v2);
    expect(dev.primary.read(0, v2.length)).to.deep.equal(v2);
    expect((await client.list())[0]).to.include({ version: "2.0.0" });
    await dev.selectBoot("application");
    await client.reset();
    await dev.clock.sleep(400);
    expect(dev.runningVersion).to.equal("2.0.0");
  });

  it("a wrong-key image uploaded in recovery is not listed, and the board cannot boot it", async () => {
    const { dev, client } = await inRecovery();
    await client.upload(app("2.0.0", 5000, wrongKey));
    expect(await client.list()).to.deep.equal([]);
    await dev.selectBoot("application");
    await dev.power.cycle();
    expect(dev.state).to.equal("no-image");
  });

  it("a power cut during a recovery upload leaves no bootable primary; with recoveryWhenNoImage it waits in recovery", async () => {
    const clock = new VirtualClock();
    const dev = new Nrf52840McubootDevice({
      clock,
      seed: 3,
      options: { keys: [publicOf(goodKey)], recoveryWhenNoImage: true },
    });
    dev.program(dev.layout.primary.offset, v1);
    await dev.selectBoot("bootloader");
    await dev.power.on();
    const client = new SmpClient(dev.port("console"), clock, { timeoutMs: 500, retries: 0 });
    dev.flash.armCut(dev.flash.counters.ops + 5);
    expect(await client.upload(app("2.0.0", 20000)).catch((e) => e.name)).to.equal("SmpTimeoutError");
    await dev.selectBoot("application");
    await dev.power.on();
    expect(dev.state).to.equal("recovery");
    expect(await client.list()).to.deep.equal([]);
  });

  it("echoes the request's ver bits and always answers errors as {rc}", async () => {
    const { dev } = await inRecovery();
    const replies: unknown[] = [];
    const dec = new SerialFrameDecoder();
    dev.port("console").onData((b) => {
      for (const p of dec.push(b)) replies.push({ ver: p.header.version, ...decodeMessage(p).body });
    });
    for (const version of [0, 1, 2])
      await dev.port("console").write(
        encodeSerialFrame(
          encodeMessage({
            header: { op: SmpOp.WRITE, version, flags: 0, group: SmpGroup.IMAGE, seq: 1, id: 5 },
            body: {},
          }),
        ),
      );
    await dev.clock.sleep(100);
    expect(replies).to.deep.equal([
      { ver: 0, rc: 8 },
      { ver: 1, rc: 8 },
      { ver: 2, rc: 8 },
    ]);
  });

  it("lists a valid secondary image too (bs_list walks both slots), each as {slot, hash, version}", async () => {
    const { dev, client } = await board(v1);
    const v2 = app("2.0.0", 11000);
    await client.upload(v2);
    await dev.selectBoot("bootloader");
    await dev.power.cycle();
    expect(dev.state).to.equal("recovery");
    expect(await client.list()).to.deep.equal([
      { slot: 0, hash: parseImage(v1).hash, version: "1.0.0" },
      { slot: 1, hash: parseImage(v2).hash, version: "2.0.0" },
    ]);
  });

  it("an image past bootutil_max_image_size: the upload takes it (len ≤ slot), the list leaves it out, MCUboot will not boot it; swap-using-scratch's larger limit lists it", async () => {
    // 0x75000 bytes: past swap-using-move's 0x74000, within swap-using-scratch's 0x759d0.
    const big = appOfTotal("2.0.0", 0x75000);
    const move = await inRecovery();
    await move.client.upload(big);
    expect(move.dev.primary.read(0, big.length)).to.deep.equal(big);
    expect(await move.client.list()).to.deep.equal([]);
    expect(move.dev.events.map((e) => e.detail).join("\n")).to.match(/TLV beyond image size/);
    await move.dev.selectBoot("application");
    await move.dev.power.cycle();
    expect(move.dev.state).to.equal("no-image");

    const scratch = await inRecovery("scratch");
    await scratch.client.upload(big);
    expect(await scratch.client.list()).to.deep.equal([
      { slot: 0, hash: parseImage(big).hash, version: "2.0.0" },
    ]);
    // The slot's size is the only limit on the upload itself (bs_upload: len > area size → EINVAL).
    const up = (body: Record<string, unknown>) =>
      scratch.client.request("upload", SmpGroup.IMAGE, 1, SmpOp.WRITE, body);
    expect(await rcOf(up({ off: 0, len: 0x76001, data: big.subarray(0, 64) }))).to.equal(MgmtErr.EINVAL);
  });
});
