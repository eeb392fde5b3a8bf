import { expect } from "chai";
import { SmpError } from "../../../harness/clients/smp/index.js";
import type { Nrf52840Options } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { sweepSwapCuts } from "../../../harness/devices/nrf52840-mcuboot/swap-sweep.js";
import {
  BootFlagState,
  BootMagicState,
  parseImage,
  SwapType,
} from "../../../harness/protocol/mcuboot/index.js";
import { ImgMgmtErr } from "../../../harness/protocol/smp/index.js";
import { app, board, wrongKey } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 13000);
const SECTOR = 0x1000;

const overwriteBoard = (options: Nrf52840Options = {}) => board(v1, 9, "overwrite-only", options);
const rcOf = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as SmpError).rc;

/**
 * v2 uploaded and tested, then the overwrite's boot cut by power loss just before its last
 * flash operation: the secondary's last-page erase (loader.c boot_copy_image). Its header
 * page is erased already, its request (magic, swap_info TEST) is still there; the next boot
 * runs v2.
 */
async function cutBetweenSecondaryErases(options: Nrf52840Options = {}) {
  const { dev, client } = await overwriteBoard(options);
  await client.upload(v2);
  await client.test(parseImage(v2).hash!);
  await dev.power.off();
  const staged = dev.flash.snapshot();
  const ops: { n: number; kind: string; address: number }[] = [];
  const stop = dev.flash.onOperation((op) => ops.push(op));
  await dev.power.on();
  stop();
  const last = ops.at(-1)!;
  const secondaryLast = dev.layout.secondary.offset + dev.layout.secondary.size - SECTOR;
  expect([last.kind, last.address], "the boot's last operation").to.deep.equal(["erase", secondaryLast]);
  expect(ops.at(-2)!.address, "the one before: the secondary's header page").to.equal(
    dev.layout.secondary.offset,
  );
  await dev.power.off();
  dev.flash.restore(staged);
  dev.flash.armCut(last.n);
  await dev.power.on();
  expect(dev.state, "cut during the boot").to.equal("off");
  await dev.power.on();
  return { dev, client };
}

describe("devices/nrf52840-mcuboot: overwrite-only mode (MCUBOOT_OVERWRITE_ONLY)", () => {
  it("copies the tested image over the primary, writes the primary's magic and no flags, erases the secondary's header and trailer sectors; no revert", async () => {
    // Zephyr's CONFIG_BOOT_UPGRADE_ONLY: MCUBOOT_OVERWRITE_ONLY + _FAST (loader.c boot_copy_image).
    const { dev, client } = await overwriteBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.primary.read(0, v2.length)).to.deep.equal(v2);
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      imageOk: BootFlagState.UNSET,
      copyDone: BootFlagState.UNSET,
    });
    const last = dev.primary.size - SECTOR;
    expect(
      dev.primary.read(last, SECTOR - 16).every((b) => b === 0xff),
      "only the magic",
    ).to.equal(true);
    expect(dev.secondary.isErased(0, SECTOR), "header sector").to.equal(true);
    expect(dev.secondary.isErased(last, SECTOR), "trailer sector").to.equal(true);
    expect(dev.secondary.read(SECTOR, v2.length - SECTOR), "the rest is left").to.deep.equal(
      v2.subarray(SECTOR),
    );
    const list = await client.list();
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ version: "2.0.0", active: true, confirmed: true });
    await dev.power.cycle();
    expect(dev.runningVersion, "nothing to revert to").to.equal("2.0.0");
  });

  it("a wrong-key image is erased and the old image keeps running", async () => {
    const { dev, client } = await overwriteBoard();
    const bad = app("2.0.0", 13000, wrongKey);
    await client.upload(bad);
    await client.test(parseImage(bad).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
  });

  it("a cut before any flash operation of the copy ends on the new image after the next boot", async () => {
    const { dev, client } = await overwriteBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const { total, failures } = await sweepSwapCuts(dev, async () => {
      await dev.power.on();
      const ok =
        dev.runningVersion === "2.0.0" &&
        dev.primary.read(0, v2.length).every((b, i) => b === v2[i]) &&
        trailerOf(dev.primary).magic === BootMagicState.GOOD;
      return ok ? undefined : `${dev.state} ${dev.runningVersion}`;
    });
    expect(total).to.be.above(10);
    expect(failures).to.deep.equal([]);
  });

  it("a cut between the secondary's two erases: v2 boots, the request stays over a header-less slot; list, test and confirm as Zephyr's img_mgmt answers them", async () => {
    const { dev, client } = await cutBetweenSecondaryErases();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.primary.read(0, v2.length)).to.deep.equal(v2);
    expect(dev.secondary.isErased(0, SECTOR), "header page").to.equal(true);
    const pending = { magic: BootMagicState.GOOD, imageOk: BootFlagState.UNSET, swapType: SwapType.TEST };
    expect(trailerOf(dev.secondary)).to.include(pending);
    expect(dev.events.map((e) => e.detail)).to.include("No bootable image in the secondary slot");
    const primaryTrailer = () => dev.primary.read(dev.primary.size - SECTOR, SECTOR);
    const before = primaryTrailer();
    // mcuboot_swap_type_multi reads TEST: slot 1 is the next boot, but img_mgmt_read_info
    // finds no header there, so only slot 0 is listed (active, confirmed).
    const list = await client.list();
    expect(list.map((i) => [i.slot, i.version, i.active, i.confirmed, i.pending])).to.deep.equal([
      [0, "2.0.0", true, true, false],
    ]);
    // img_mgmt_set_next_boot_slot with a TEST due: only the same test again is accepted.
    expect(await rcOf(client.confirm()), "confirm").to.equal(ImgMgmtErr.IMAGE_ALREADY_PENDING);
    expect(await rcOf(client.confirm(parseImage(v2).hash!)), "confirm by hash").to.equal(
      ImgMgmtErr.IMAGE_ALREADY_PENDING,
    );
    expect(await rcOf(client.test(parseImage(v2).hash!)), "test the running image").to.equal(
      ImgMgmtErr.IMAGE_SETTING_TEST_TO_ACTIVE_DENIED,
    );
    expect(await rcOf(client.test(parseImage(v1).hash!)), "old image: gone").to.equal(
      ImgMgmtErr.HASH_NOT_FOUND,
    );
    expect(primaryTrailer(), "nothing written").to.deep.equal(before);
    // Overwrite-only never clears it (boot_validate_slot: FIH_NO_BOOTABLE_IMAGE, swap NONE).
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(trailerOf(dev.secondary)).to.include(pending);
    // img_mgmt_erase: slot 1 has no readable image, so no in-use check: erased.
    await client.erase();
    expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
    // Swap type NONE now: a confirm of the running slot is a no-op success (nothing written).
    const after = await client.confirm();
    expect(after.map((i) => [i.slot, i.confirmed])).to.deep.equal([[0, true]]);
    expect(trailerOf(dev.primary)).to.include({ magic: BootMagicState.GOOD, imageOk: BootFlagState.UNSET });
  });

  it("a cut between the secondary's two erases: an upload is accepted (ALLOW_ERASE_PENDING) and its erase drops the stale request; the next update installs", async () => {
    const { dev, client } = await cutBetweenSecondaryErases();
    const v3 = app("3.0.0", 7000);
    await client.upload(v3);
    expect(trailerOf(dev.secondary).magic, "stale request erased with the trailer page").to.equal(
      BootMagicState.UNSET,
    );
    expect((await client.list()).map((i) => [i.slot, i.version, i.pending])).to.deep.equal([
      [0, "2.0.0", false],
      [1, "3.0.0", false],
    ]);
    await client.test(parseImage(v3).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("3.0.0");
  });

  it("the same cut with ALLOW_ERASE_PENDING=n: upload is NO_FREE_SLOT until an image erase clears the slot", async () => {
    const { dev, client } = await cutBetweenSecondaryErases({ allowErasePending: false });
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(trailerOf(dev.secondary).magic).to.equal(BootMagicState.GOOD);
    const v3 = app("3.0.0", 7000);
    const err = (await client.upload(v3).catch((e) => e)) as SmpError;
    expect(err).to.be.instanceOf(SmpError);
    expect(err.rc).to.equal(ImgMgmtErr.NO_FREE_SLOT);
    await client.erase();
    await client.upload(v3);
    await client.test(parseImage(v3).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("3.0.0");
  });
});
