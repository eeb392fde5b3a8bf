import { expect } from "chai";
import { SmpError } from "../../../harness/clients/smp/index.js";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import {
  BOOT_MAGIC_ALIGN8,
  BootFlagState,
  BootMagicState,
  parseImage,
} from "../../../harness/protocol/mcuboot/index.js";
import {
  decodeMessage,
  encodeMessage,
  encodeSerialFrame,
  ImgMgmtErr,
  MgmtErr,
  SerialFrameDecoder,
  SmpGroup,
  SmpOp,
} from "../../../harness/protocol/smp/index.js";
import { app, board, wrongKey } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 11000);
const hashOf = (img: Uint8Array) => parseImage(img).hash!;

async function until(dev: { state: string; clock: { sleep(ms: number): Promise<void> } }, state: string) {
  await dev.clock.sleep(300); // the SMP reset happens 250 ms after its answer
  for (let i = 0; i < 200 && dev.state !== state; i++) await dev.clock.sleep(50);
  expect(dev.state).to.equal(state);
}

describe("devices/nrf52840-mcuboot: boot decisions (MCUboot design.md, bootutil_public.c)", () => {
  it("factory image with an erased trailer boots and lists as active + confirmed (swap type NONE)", async () => {
    const { dev, client } = await board(v1);
    expect(dev.runningVersion).to.equal("1.0.0");
    const list = await client.list();
    expect(list).to.deep.equal([
      {
        slot: 0,
        version: "1.0.0",
        hash: hashOf(v1),
        bootable: true,
        pending: false,
        confirmed: true,
        active: true,
        permanent: false,
      },
    ]);
  });

  it("test → reset: TEST swap; primary trailer {magic GOOD, copy_done SET, image_ok UNSET}, secondary trailer erased", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    const pending = await client.test(hashOf(v2));
    expect(pending[1]).to.include({ slot: 1, pending: true, confirmed: false, permanent: false });
    const sec = trailerOf(dev.secondary);
    expect(sec).to.include({ magic: BootMagicState.GOOD, imageOk: BootFlagState.UNSET, swapType: 2 });
    await client.reset();
    await until(dev, "running");
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      copyDone: BootFlagState.SET,
      imageOk: BootFlagState.UNSET,
    });
    expect(dev.secondary.read(dev.secondary.size - 16, 16).every((b) => b === 0xff)).to.equal(true);
    expect(dev.primary.read(0, v2.length)).to.deep.equal(v2);
    expect(dev.secondary.read(0, v1.length)).to.deep.equal(v1);
  });

  it("a pending image signed with another key is erased at boot and the old image runs", async () => {
    const { dev, client } = await board(v1);
    const bad = app("2.0.0", 11000, wrongKey);
    await client.upload(bad);
    await client.test(hashOf(bad));
    await client.reset();
    await until(dev, "running");
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
    expect(dev.events.map((e) => e.detail).join("\n")).to.match(
      /secondary slot is not valid!.*key hash matches no provisioned key/,
    );
  });

  it("an --pad image is pending test as soon as it lands; --confirm lands permanent", async () => {
    const { dev, client } = await board(v1);
    const { signImage, parseVersion } = await import("../../../harness/protocol/mcuboot/index.js");
    const { goodKey } = await import("./helpers.js");
    const payload = new Uint8Array(5000).fill(0x5a);
    const padded = signImage(payload, {
      key: goodKey,
      version: parseVersion("3.0.0"),
      headerSize: 0x200,
      slotSize: 0x76000,
      padHeader: true,
      confirm: true,
      align: 4,
    });
    expect(padded.subarray(-16)).to.deep.equal(BOOT_MAGIC_ALIGN8);
    await client.upload(padded);
    const list = await client.list();
    expect(list[1]).to.include({ pending: true, permanent: true });
    await client.reset();
    await until(dev, "running");
    expect(dev.runningVersion).to.equal("3.0.0");
    expect((await client.list())[0]).to.include({ active: true, confirmed: true });
  });
});

describe("devices/nrf52840-mcuboot: SMP image group errors (img_mgmt.c, smp_group_1.rst)", () => {
  it("state write: no hash and no confirm → INVALID_HASH; unknown hash → HASH_NOT_FOUND; test of the active slot → 33", async () => {
    const { client } = await board(v1);
    const rc = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as SmpError).rc;
    expect(await rc(client.request("w", SmpGroup.IMAGE, 0, SmpOp.WRITE, { confirm: false }))).to.equal(
      ImgMgmtErr.INVALID_HASH,
    );
    expect(await rc(client.test(new Uint8Array(32)))).to.equal(ImgMgmtErr.HASH_NOT_FOUND);
    expect(await rc(client.test(new Uint8Array(31)))).to.equal(ImgMgmtErr.INVALID_HASH);
    expect(await rc(client.test(hashOf(v1)))).to.equal(ImgMgmtErr.IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
  });

  it("upload: first-chunk checks in order, wrong offset answered with the expected one, overrun refused", async () => {
    const { client } = await board(v1);
    const up = (body: Record<string, unknown>) => client.request("u", SmpGroup.IMAGE, 1, SmpOp.WRITE, body);
    const rc = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as SmpError).rc;
    expect(await rc(up({ data: v2.subarray(0, 64), len: v2.length }))).to.equal(ImgMgmtErr.INVALID_OFFSET);
    expect(await rc(up({ off: 0, data: v2.subarray(0, 16), len: v2.length }))).to.equal(
      ImgMgmtErr.INVALID_IMAGE_HEADER,
    );
    expect(await rc(up({ off: 0, data: v2.subarray(0, 64) }))).to.equal(ImgMgmtErr.INVALID_LENGTH);
    expect(await rc(up({ off: 0, data: new Uint8Array(64), len: 100 }))).to.equal(
      ImgMgmtErr.INVALID_IMAGE_HEADER_MAGIC,
    );
    expect(await rc(up({ off: 0, data: v2.subarray(0, 64), len: 0x77000 }))).to.equal(
      ImgMgmtErr.INVALID_IMAGE_TOO_LARGE,
    );
    expect(
      await rc(up({ off: 0, data: v2.subarray(0, 64), len: 1000, upgrade: true, sha: new Uint8Array(32) })),
    ).to.equal(undefined);
    const low = app("0.9.0", 500);
    expect(await rc(up({ off: 0, data: low.subarray(0, 64), len: low.length, upgrade: true }))).to.equal(
      ImgMgmtErr.CURRENT_VERSION_IS_NEWER,
    );
    expect(await up({ off: 0, data: v2.subarray(0, 100), len: 200 })).to.deep.equal({ off: 100 });
    expect(await up({ off: 40, data: v2.subarray(40, 60) })).to.deep.equal({ off: 100 });
    expect(await rc(up({ off: 100, data: new Uint8Array(101) }))).to.equal(
      ImgMgmtErr.INVALID_IMAGE_DATA_OVERRUN,
    );
    expect(await up({ off: 7, data: new Uint8Array(1) }).then((r) => r.off)).to.equal(100);
  });

  it("upload while a test is pending: accepted (ALLOW_ERASE_PENDING, Zephyr's default), its erase drops the request", async () => {
    // zephyr_img_mgmt.c img_mgmt_get_unused_slot_area_id → img_mgmt_slot_in_use: a slot due
    // for a test is free unless CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING=n.
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(hashOf(v2));
    const v3 = app("3.0.0", 300);
    await client.upload(v3);
    expect(trailerOf(dev.secondary).magic, "request erased with the trailer page").to.equal(
      BootMagicState.UNSET,
    );
    expect((await client.list()).map((i) => [i.slot, i.version, i.pending])).to.deep.equal([
      [0, "1.0.0", false],
      [1, "3.0.0", false],
    ]);
    await dev.power.cycle();
    expect(dev.runningVersion, "nothing pending any more").to.equal("1.0.0");
  });

  it("upload or erase while a test is pending, ALLOW_ERASE_PENDING=n → NO_FREE_SLOT; a revert's slot is never free", async () => {
    const { dev, client } = await board(v1, 5, undefined, { allowErasePending: false });
    await client.upload(v2);
    await client.test(hashOf(v2));
    const err = (await client.upload(app("3.0.0", 300)).catch((e) => e)) as SmpError;
    expect(err).to.be.instanceOf(SmpError);
    expect(err.rc).to.equal(ImgMgmtErr.NO_FREE_SLOT);
    expect(err.group).to.equal(SmpGroup.IMAGE);
    expect(((await client.erase(1).catch((e) => e)) as SmpError).rc).to.equal(ImgMgmtErr.NO_FREE_SLOT);
    expect(trailerOf(dev.secondary).magic, "request kept").to.equal(BootMagicState.GOOD);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    // REVERT due: slot 1 holds the image to go back to.
    const revert = (await client.upload(app("3.0.0", 300)).catch((e) => e)) as SmpError;
    expect(revert.rc).to.equal(ImgMgmtErr.NO_FREE_SLOT);
  });

  it("v1 requests get the translated {rc} form; v2 the {err:{group, rc}} form", async () => {
    const { dev } = await board(v1);
    const replies: unknown[] = [];
    const dec = new SerialFrameDecoder();
    dev.port("console").onData((b) => {
      for (const p of dec.push(b))
        replies.push({ ver: p.header.version, op: p.header.op, ...decodeMessage(p).body });
    });
    for (const version of [0, 1, 2]) {
      const msg = encodeMessage({
        header: { op: SmpOp.WRITE, version, flags: 0, group: SmpGroup.IMAGE, seq: version, id: 0 },
        body: { hash: new Uint8Array(32), confirm: false },
      });
      await dev.port("console").write(encodeSerialFrame(msg));
    }
    await dev.clock.sleep(100);
    expect(replies).to.deep.equal([
      { ver: 0, op: 3, rc: MgmtErr.EUNKNOWN },
      { ver: 1, op: 3, err: { group: 1, rc: ImgMgmtErr.HASH_NOT_FOUND } },
      { ver: 1, op: 3, rc: MgmtErr.UNSUPPORTED_TOO_NEW },
    ]);
  });

  it("a request with a repeated key is EINVAL (zcbor_map_decode_bulk)", async () => {
    const { dev } = await board(v1);
    const replies: unknown[] = [];
    const dec = new SerialFrameDecoder();
    dev.port("console").onData((b) => {
      for (const p of dec.push(b)) replies.push(decodeMessage(p).body);
    });
    // echo {"d": "a", "d": "b"}
    const body = Uint8Array.of(0xa2, 0x61, 0x64, 0x61, 0x61, 0x61, 0x64, 0x61, 0x62);
    const header = Uint8Array.of(0x0a, 0, 0, body.length, 0, 0, 1, 0);
    await dev.port("console").write(encodeSerialFrame(Uint8Array.from([...header, ...body])));
    await dev.clock.sleep(100);
    expect(replies).to.deep.equal([{ rc: MgmtErr.EINVAL }]);
  });

  it("a frame with a bad CRC gets no answer; unknown commands get ENOTSUP; echo echoes", async () => {
    const { dev, client } = await board(v1);
    const msg = encodeMessage({ header: { op: 0, version: 1, flags: 0, group: 0, seq: 9, id: 6 }, body: {} });
    const frame = encodeSerialFrame(msg);
    const raw = Buffer.from(Buffer.from(frame.subarray(2, -1)).toString("latin1"), "base64");
    raw[raw.length - 1]! ^= 0xff;
    await dev
      .port("console")
      .write(Buffer.concat([Buffer.of(6, 9), Buffer.from(raw.toString("base64")), Buffer.of(10)]));
    await dev.clock.sleep(500);
    expect(dev.port("console").readAvailable()).to.have.length(0);
    const err = (await client.request("x", 99, 0, SmpOp.READ, {}).catch((e) => e)) as SmpError;
    expect(err.rc).to.equal(MgmtErr.ENOTSUP);
    expect(await client.echo("hello")).to.equal("hello");
    expect(await client.params()).to.deep.equal({ bufSize: 384, bufCount: 4 });
  });
});
